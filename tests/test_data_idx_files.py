"""IDX files for the lesson on the raw format: written in the official layout, found, or rebuilt in the cache."""

import gzip

import numpy as np
import pytest

from mnist_course.data import IMAGES_MAGIC, LABELS_MAGIC, MnistCacheError, idx_file_path, loader, read_idx
from mnist_course.data.cache import write_idx
from mnist_course.data.readers import idx_bytes


def test_idx_bytes_header_is_the_official_layout():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    data = idx_bytes(images)
    assert int.from_bytes(data[:4], "big") == IMAGES_MAGIC
    assert [int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12)] == [2, 3, 4]
    assert data[16:] == images.tobytes()
    assert int.from_bytes(idx_bytes(np.zeros(5, np.uint8))[:4], "big") == LABELS_MAGIC


def test_idx_bytes_refuses_non_uint8():
    with pytest.raises(ValueError, match="uint8"):
        idx_bytes(np.zeros((2, 2), dtype=np.float32))


@pytest.mark.parametrize("name", ["x.idx3-ubyte", "x-idx3-ubyte.gz"])
def test_write_idx_round_trips_through_read_idx(tmp_path, name):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    path = write_idx(images, tmp_path / name)
    assert np.array_equal(read_idx(path, IMAGES_MAGIC), images)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    assert sorted(p.name for p in tmp_path.iterdir()) == [name, name + ".lock"]  # no temporary file left behind


def test_idx_file_path_finds_the_file_next_to_the_data(tmp_path, monkeypatch):
    labels = np.array([5, 0, 4], dtype=np.uint8)
    write_idx(labels, tmp_path / "train-labels-idx1-ubyte")  # plain, not gzip
    monkeypatch.setenv("MNIST_COURSE_DATA", str(tmp_path))
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path / "cache"))
    assert idx_file_path("y_train") == tmp_path / "train-labels-idx1-ubyte"


def test_idx_file_path_rebuilds_missing_files_in_the_cache(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("MNIST_COURSE_DATA", str(data))
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(cache))
    assert idx_file_path("y_test", create=False) is None
    y_test = np.array([7, 2, 1, 0], dtype=np.uint8)
    calls = []

    def fake_load_arrays():
        calls.append(1)
        return {"y_test": y_test}, None

    monkeypatch.setattr(loader, "load_arrays", fake_load_arrays)
    path = idx_file_path("y_test")
    assert path == cache / "idx" / "t10k-labels-idx1-ubyte.gz"
    assert gzip.decompress(path.read_bytes())[:8] == bytes([0, 0, 8, 1, 0, 0, 0, 4])
    assert np.array_equal(read_idx(path, LABELS_MAGIC), y_test)
    assert idx_file_path("y_test") == path and len(calls) == 1  # reused, not rebuilt


def test_idx_file_path_rejects_unknown_split():
    with pytest.raises(ValueError, match="x_train"):
        idx_file_path("train")


def test_rebuilt_file_matches_the_official_idx_content(real_data_dir, isolated, monkeypatch):
    data = isolated / "npz-only"
    data.mkdir()
    (data / "mnist.npz").symlink_to(real_data_dir / "mnist.npz")  # a copy without IDX files: they must be rebuilt
    monkeypatch.setenv("MNIST_COURSE_DATA", str(data))
    path = idx_file_path("y_train")
    assert path == isolated / "cache" / "idx" / "train-labels-idx1-ubyte.gz"
    official = gzip.decompress((real_data_dir / "train-labels-idx1-ubyte.gz").read_bytes())  # checked by sha256
    assert gzip.decompress(path.read_bytes()) == official


def test_idx_file_path_on_an_unwritable_cache_says_so_instead_of_returning_none(isolated, monkeypatch, real_data_dir):
    data = isolated / "npz-only"
    data.mkdir()
    (data / "mnist.npz").symlink_to(real_data_dir / "mnist.npz")
    blocker = isolated / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MNIST_COURSE_DATA", str(data))
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(blocker))
    with pytest.raises(MnistCacheError) as err:
        idx_file_path("y_test")
    assert str(blocker / "idx") in str(err.value) and "MNIST_COURSE_CACHE" in str(err.value)


def test_idx_files_are_found_in_the_real_copys_folder(isolated, monkeypatch, real_data_dir):
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))
    assert idx_file_path("x_test") == real_data_dir / "t10k-images-idx3-ubyte.gz"
    assert not (isolated / "cache").exists()
