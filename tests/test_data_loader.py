"""load_mnist on real data: every way of pointing at it, the order of sources, and every bad copy."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnist_course import paths
from mnist_course.data import (
    MnistFormatError,
    MnistNotFoundError,
    load_mnist,
    locate,
)
from mnist_course.data.verify import IDX_FILES

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def assert_is_real_mnist(result, real_arrays) -> None:
    (x_train, y_train), (x_test, y_test) = result
    for name, array in zip(("x_train", "y_train", "x_test", "y_test"), (x_train, y_train, x_test, y_test)):
        assert array.dtype == np.uint8
        np.testing.assert_array_equal(array, real_arrays[name])


def assert_names_fix(message: str) -> None:
    assert "MNIST_COURSE_DATA" in message and "mnist-course data fetch" in message
    assert str(paths.data_cache_file()) in message


def test_env_variable_gives_the_shared_copy_with_documented_facts(isolated, monkeypatch, real_data_dir, real_arrays):
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))
    result = load_mnist()
    assert_is_real_mnist(result, real_arrays)
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS and np.bincount(y_test).tolist() == TEST_COUNTS
    assert round(float(x_train.mean()), 3) == 33.318 and round(float(x_train.std()), 3) == 78.567
    assert not (isolated / "cache").exists(), "reading a given copy must not write the cache"


def test_idx_folder_gz_and_uncompressed(isolated, real_data_dir, real_arrays):
    gz_dir, raw_dir = isolated / "gz", isolated / "raw"
    gz_dir.mkdir(), raw_dir.mkdir()
    for gz_name, _ in IDX_FILES.values():
        (gz_dir / gz_name).symlink_to(real_data_dir / gz_name)
        (raw_dir / gz_name.removesuffix(".gz")).write_bytes(gzip.decompress((real_data_dir / gz_name).read_bytes()))
    assert_is_real_mnist(load_mnist(gz_dir), real_arrays)
    assert_is_real_mnist(load_mnist(raw_dir), real_arrays)


def test_copy_resaved_by_another_tool_still_loads(isolated, real_arrays):
    other = isolated / "resaved.npz"
    np.savez_compressed(
        other,
        x_test=real_arrays["x_test"],
        y_test=real_arrays["y_test"].astype(np.int64),
        x_train=real_arrays["x_train"],
        y_train=real_arrays["y_train"].astype(np.int32),
    )
    assert_is_real_mnist(load_mnist(other), real_arrays)


def test_source_order_path_env_course_cache_keras_cache(isolated, monkeypatch, real_data_dir):
    course = paths.data_cache_file()
    keras_copy = paths.keras_cache_file()
    assert locate() is None
    keras_copy.parent.mkdir(parents=True)
    shutil.copy(real_data_dir / "mnist.npz", keras_copy)
    assert locate().origin == "Keras cache"
    course.parent.mkdir(parents=True)
    shutil.copy(real_data_dir / "mnist.npz", course)
    assert locate().origin == "course cache"
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))
    assert locate().origin == "$MNIST_COURSE_DATA"
    assert locate(isolated / "x.npz").path == isolated / "x.npz"


def test_keras_cache_is_reused_without_download(isolated, real_data_dir, real_arrays):
    keras_copy = paths.keras_cache_file()
    keras_copy.parent.mkdir(parents=True)
    shutil.copy(real_data_dir / "mnist.npz", keras_copy)
    assert_is_real_mnist(load_mnist(download=False), real_arrays)
    assert not paths.data_cache_file().exists()


def _bad_copy(folder: Path, real_arrays, **changes) -> Path:
    arrays = {**real_arrays, **changes}
    target = folder / "bad.npz"
    np.savez(target, **arrays)
    return target


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: {"x_train": a["x_train"][:1000]}, "x_train has shape (1000, 28, 28), expected (60000, 28, 28)"),
        (lambda a: {"y_test": a["y_test"] + 1}, "y_test holds label 10"),
        (lambda a: {"x_test": a["x_test"].astype(np.float32) / 255}, "dtype float32"),
        (
            lambda a: {
                "x_train": np.where(
                    np.arange(a["x_train"].size).reshape(a["x_train"].shape) == 99, 7, a["x_train"]
                ).astype(np.uint8)
            },
            "x_train differs from the official MNIST",
        ),
        (lambda a: {"y_train": a["y_train"][::-1].copy()}, "y_train differs from the official MNIST"),
    ],
    ids=["wrong-shape", "label-range", "float-dtype", "one-pixel-changed", "reordered"],
)
def test_modified_copies_are_refused_with_the_file_and_fix(isolated, real_arrays, change, expected):
    bad = _bad_copy(isolated, real_arrays, **change(real_arrays))
    with pytest.raises(MnistFormatError) as err:
        load_mnist(bad)
    message = str(err.value)
    assert expected in message and str(bad) in message
    assert_names_fix(message)


def test_missing_array(isolated, real_arrays):
    bad = isolated / "three.npz"
    np.savez(bad, **{k: v for k, v in real_arrays.items() if k != "y_test"})
    with pytest.raises(MnistFormatError, match=r"missing arrays \['y_test'\]"):
        load_mnist(bad)


def test_html_page_saved_as_data(isolated):
    page = isolated / "mnist.npz"
    page.write_text("<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head></html>")
    with pytest.raises(MnistFormatError, match="HTML page") as err:
        load_mnist(page)
    assert str(page) in str(err.value)


def test_truncated_npz(isolated, real_data_dir):
    cut = isolated / "mnist.npz"
    cut.write_bytes((real_data_dir / "mnist.npz").read_bytes()[:100_000])
    with pytest.raises(MnistFormatError, match="truncated or damaged"):
        load_mnist(cut)


def test_truncated_gzip_in_idx_folder(isolated, real_data_dir):
    for gz_name, _ in IDX_FILES.values():
        (isolated / gz_name).symlink_to(real_data_dir / gz_name)
    victim = isolated / "t10k-labels-idx1-ubyte.gz"
    data = victim.read_bytes()
    victim.unlink()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(MnistFormatError, match="gzip file is truncated") as err:
        load_mnist(isolated)
    assert str(victim) in str(err.value)


def test_images_and_labels_swapped_gives_magic_error(isolated, real_data_dir):
    for gz_name, _ in IDX_FILES.values():
        (isolated / gz_name).symlink_to(real_data_dir / gz_name)
    (isolated / "t10k-labels-idx1-ubyte.gz").unlink()
    (isolated / "t10k-labels-idx1-ubyte.gz").symlink_to(real_data_dir / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(MnistFormatError, match="wrong IDX magic number 2051 \\(expected 2049"):
        load_mnist(isolated)


def test_missing_file_and_incomplete_folder(isolated, real_data_dir):
    with pytest.raises(MnistNotFoundError, match="no such file or folder") as err:
        load_mnist(isolated / "nowhere.npz")
    assert_names_fix(str(err.value))
    (isolated / "train-images-idx3-ubyte.gz").symlink_to(real_data_dir / "train-images-idx3-ubyte.gz")
    with pytest.raises(MnistNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist(isolated)


def test_env_variable_pointing_nowhere_names_the_variable(isolated, monkeypatch):
    monkeypatch.setenv("MNIST_COURSE_DATA", str(isolated / "typo"))
    with pytest.raises(MnistNotFoundError, match=r"from \$MNIST_COURSE_DATA"):
        load_mnist()


def test_no_copy_and_no_download_allowed(isolated):
    with pytest.raises(MnistNotFoundError, match="download=False"):
        load_mnist(download=False)
