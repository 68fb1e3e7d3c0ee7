"""Every bad input to the loader ends in one MnistDataError naming the file and the fix, from every entry point;
and every source gives the same kind of arrays."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from mnist_course.course.cli import main
from mnist_course.course.doctor import DoctorReport, _data_check
from mnist_course.data import (
    Mirror,
    MnistDataError,
    MnistDownloadError,
    MnistFormatError,
    MnistNotFoundError,
    MnistReadError,
    load_arrays,
    load_mnist,
    locate,
    readers,
)
from mnist_course.data.download import mirrors_from_env

SPLITS = ("x_train", "y_train", "x_test", "y_test")


@pytest.fixture
def npy_file(isolated, real_arrays):
    file = isolated / "x_train.npy"
    np.save(file, real_arrays["x_test"])
    return file


def assert_names_npy_and_what_is_accepted(message: str, file) -> None:
    assert str(file) in message and ".npy" in message
    assert "mnist.npz holding x_train, y_train, x_test and y_test" in message and "IDX" in message
    assert "TypeError" not in message


def test_npy_file_as_path_argument_and_as_env_variable(isolated, monkeypatch, npy_file):
    with pytest.raises(MnistFormatError) as err:
        load_mnist(npy_file)
    assert_names_npy_and_what_is_accepted(str(err.value), npy_file)
    monkeypatch.setenv("MNIST_COURSE_DATA", str(npy_file))
    with pytest.raises(MnistFormatError) as err:
        load_mnist()
    assert_names_npy_and_what_is_accepted(str(err.value), npy_file)
    assert locate().path == npy_file  # locating never reads, so doctor's locate() outside its try cannot raise


@pytest.mark.parametrize("command", [["data", "info"], ["data", "verify"], ["data", "fetch", "--from"]])
def test_npy_file_in_every_data_command(isolated, npy_file, capsys, command):
    assert main([*command, str(npy_file)]) == 1
    captured = capsys.readouterr()
    assert_names_npy_and_what_is_accepted(captured.err, npy_file)


def test_npy_file_in_doctor_is_reported_as_a_problem(isolated, monkeypatch, npy_file):
    monkeypatch.setenv("MNIST_COURSE_DATA", str(npy_file))
    report = DoctorReport()
    _data_check(report)
    assert len(report.problems) == 1
    assert_names_npy_and_what_is_accepted(report.problems[0], npy_file)


def test_single_uncompressed_idx_file_and_a_path_through_a_file(isolated, real_data_dir):
    plain = isolated / "labels.bin"
    plain.write_bytes(gzip.decompress((real_data_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    with pytest.raises(MnistFormatError, match="single IDX file; point the course at the folder"):
        load_mnist(plain)
    blocker = isolated / "a-file"
    blocker.write_text("x")
    with pytest.raises(MnistNotFoundError):
        load_mnist(blocker / "mnist.npz")
    with pytest.raises(MnistFormatError, match="does not start like a zip"):
        load_mnist(blocker)


def test_unreadable_file_says_permission_denied(isolated, real_data_dir, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(readers, "open", denied, raising=False)  # tests run as root: chmod would not stop them
    with pytest.raises(MnistReadError, match="permission denied") as err:
        load_mnist(real_data_dir / "mnist.npz")
    assert str(real_data_dir / "mnist.npz") in str(err.value) and "chmod a+r" in str(err.value)


def test_unknown_user_in_a_tilde_path_is_a_missing_file(isolated, monkeypatch):
    monkeypatch.setenv("MNIST_COURSE_DATA", "~no-such-user-here/mnist.npz")
    with pytest.raises(MnistNotFoundError, match=r"from \$MNIST_COURSE_DATA"):
        load_mnist()


def test_verify_false_still_refuses_a_copy_with_a_missing_array(isolated, real_arrays):
    bad = isolated / "three.npz"
    np.savez(bad, **{k: v for k, v in real_arrays.items() if k != "y_test"})
    with pytest.raises(MnistFormatError, match=r"missing arrays \['y_test'\]"):
        load_mnist(bad, verify=False)  # used to be a KeyError


def assert_keras_kind(arrays) -> None:
    for array in arrays:
        assert array.dtype == np.uint8
        assert array.flags.writeable and array.flags.c_contiguous and array.flags.owndata


@pytest.mark.parametrize("verify", [True, False])
def test_every_source_gives_writable_c_contiguous_uint8(isolated, real_data_dir, real_arrays, verify):
    idx_dir = isolated / "idx"
    idx_dir.mkdir()
    for name in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ):
        (idx_dir / name).symlink_to(real_data_dir / name)
    fortran = isolated / "fortran.npz"
    np.savez(fortran, **{k: np.asfortranarray(v) for k, v in real_arrays.items()})
    for source in (real_data_dir / "mnist.npz", idx_dir, fortran):
        (x_train, y_train), (x_test, y_test) = load_mnist(source, verify=verify)
        assert_keras_kind((x_train, y_train, x_test, y_test))
        x_train[0, 0, 0] = 255  # a student may write into the arrays, as with Keras' own
        np.testing.assert_array_equal(x_test, real_arrays["x_test"])


def test_mirror_url_that_is_a_local_folder_or_has_a_bad_kind(isolated, monkeypatch):
    with pytest.raises(MnistDownloadError, match="MNIST_COURSE_DATA=/srv/mnist"):
        Mirror("npz", "/srv/mnist")
    with pytest.raises(MnistDownloadError, match="unknown mirror kind 'zip'"):
        Mirror("zip", "http://host/")
    monkeypatch.setenv("MNIST_COURSE_MIRROR", "/srv/mnist/")
    with pytest.raises(MnistDownloadError, match=r"\$MNIST_COURSE_MIRROR: not a download URL") as err:
        mirrors_from_env()
    assert "unset MNIST_COURSE_MIRROR" in str(err.value)
    with pytest.raises(MnistDataError, match="MNIST_COURSE_MIRROR"):
        load_arrays()  # nothing on disk, so it would download: the bad variable is named, not a pooch error
