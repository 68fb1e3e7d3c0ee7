"""The self-checks of notebook 01: the reference solutions pass, each anticipated mistake gets its own hint."""

from __future__ import annotations

import gzip
import re
import struct

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson01 as check


@pytest.fixture(autouse=True)
def _real_copy(real_data_dir, monkeypatch):
    """The checks load their own copy of MNIST: point them at the real one."""
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))


@pytest.fixture(scope="module")
def label_file(tmp_path_factory, real_arrays):
    """The training labels as an IDX file written here with plain bytes (not with the package's writer)."""
    y = real_arrays["y_train"]
    path = tmp_path_factory.mktemp("idx") / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(struct.pack(">II", 2049, len(y)) + y.tobytes()))
    return path


def _open(path):
    return (gzip.open if str(path).endswith(".gz") else open)(path, "rb")


def read_header(path):
    with _open(path) as f:
        header = f.read(8)
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")


def stub(*args):
    raise NotImplementedError("Exercise: write your code here")


# Exercise 1.1 -------------------------------------------------------------------------------------------------------


def test_read_label_header_accepts_the_solution_and_names_the_file(label_file):
    feedback = check.read_label_header(read_header, label_file)
    assert feedback.ok and feedback.message.startswith("correct.")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert "magic 2049" in feedback.message and "60000 labels in this file" in feedback.message
    assert repr(feedback).startswith("✅ Exercise 1.1: correct.")
    assert check.read_label_header(read_header).ok  # the check's own files are enough


def test_read_label_header_accepts_numpy_big_endian_decoding(label_file):
    def with_numpy(path):
        with _open(path) as f:
            return tuple(np.frombuffer(f.read(8), dtype=">u4"))

    assert check.read_label_header(with_numpy, label_file).ok


def little_endian(path):
    with _open(path) as f:
        header = f.read(8)
    return int.from_bytes(header[:4], "little"), int.from_bytes(header[4:], "little")


def native_order(path):
    with _open(path) as f:
        return tuple(np.frombuffer(f.read(8), dtype="<u4"))


def always_gzip(path):
    with gzip.open(path, "rb") as f:
        return struct.unpack(">II", f.read(8))


def never_gzip(path):
    with open(path, "rb") as f:
        return struct.unpack(">II", f.read(8))


def swapped(path):
    magic, count = read_header(path)
    return count, magic


def raw_bytes(path):
    with _open(path) as f:
        return f.read(8)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (little_endian, "little-endian instead of big-endian"),
        (native_order, "little-endian instead of big-endian"),
        (always_gzip, "gzip.open failed on the plain file"),
        (never_gzip, "you read the compressed bytes of a .gz file"),
        (swapped, "magic and count are swapped"),
        (raw_bytes, "you returned the raw bytes"),
        (lambda path: read_header(path)[0], "return a pair of integers"),
        (lambda path: (2049, 60000), "expected (magic, count)"),
    ],
)
def test_read_label_header_mistakes_get_their_hint(answer, phrase, label_file):
    feedback = check.read_label_header(answer, label_file)
    assert not feedback.ok and feedback.message.startswith("not yet.")
    assert phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_read_label_header_lets_the_stub_error_through(label_file):
    with pytest.raises(NotImplementedError):
        check.read_label_header(stub, label_file)


# Exercise 1.2 -------------------------------------------------------------------------------------------------------


def mean_ink(x, y):
    return np.array([x[y == digit].mean() for digit in range(10)])


def test_mean_ink_per_digit_accepts_the_solution_and_names_the_extremes(real_arrays):
    x, y = real_arrays["x_train"], real_arrays["y_train"]
    means = np.array([x[y == d].mean() for d in range(10)])
    feedback = check.mean_ink_per_digit(mean_ink)
    assert feedback.ok and feedback.message.startswith("correct.")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert f"digit {means.argmax()} uses the most ink" in feedback.message
    assert f"digit {means.argmin()} the least" in feedback.message


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda x, y: np.array([x[y == d].mean(axis=0) for d in range(10)]), "average image of each digit"),
        (lambda x, y: np.bincount(y, minlength=10), "these are the label counts"),
        (lambda x, y: np.full(10, x.mean()), "all ten values are equal"),
        (lambda x, y: mean_ink(x, y) / 255, "[0, 1] scale"),
        (lambda x, y: np.array([x[y == d].sum() for d in range(10)]), "you summed the pixels"),
        (lambda x, y: np.array([x[y == d].sum(axis=(1, 2)).mean() for d in range(10)]), "you summed the pixels"),
        (lambda x, y: np.bincount(y, weights=x.mean(axis=(1, 2))) / len(y), "divided by the number of all images"),
        (lambda x, y: mean_ink(x, y)[:9], "expected 10 numbers"),
        (lambda x, y: mean_ink(x, y)[::-1], "(mean of all pixels of all its images)"),
    ],
)
def test_mean_ink_per_digit_mistakes_get_their_hint(answer, phrase):
    feedback = check.mean_ink_per_digit(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_mean_ink_per_digit_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.mean_ink_per_digit(stub)


# Exercise 1.3 -------------------------------------------------------------------------------------------------------

# The decompressed sizes of t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, from the format: 16 + 10000 * 28 * 28
# and 8 + 10000 (literals, not computed by the code under test).
IMAGES_BYTES, LABELS_BYTES = 7_840_016, 10_008


@pytest.fixture(scope="module")
def test_files(real_data_dir):
    return real_data_dir / "t10k-images-idx3-ubyte.gz", real_data_dir / "t10k-labels-idx1-ubyte.gz"


def test_predicted_sizes_accepts_the_right_prediction_and_explains_it(test_files):
    feedback = check.predicted_sizes(lambda: (16 + 10000 * 28 * 28, 8 + 10000), *test_files)
    assert feedback.ok and feedback.message.startswith("correct. your prediction held")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert "7,840,016 = 16 + 10,000 x 28 x 28" in feedback.message and "10,008 = 8 + 10,000" in feedback.message
    assert check.predicted_sizes(lambda: [np.int64(IMAGES_BYTES), LABELS_BYTES], *test_files).ok


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ((IMAGES_BYTES - 16, LABELS_BYTES), "image file: 7,840,000 counts the data only"),
        ((IMAGES_BYTES, LABELS_BYTES - 8), "label file: 10,000 counts the data only"),
        ((IMAGES_BYTES, LABELS_BYTES + 8), "a 16-byte header belongs to a file with three dimensions"),
        ((IMAGES_BYTES - 8, LABELS_BYTES), "an 8-byte header belongs to a file with one dimension"),
        ((16 + 60000 * 784, LABELS_BYTES), "that is the training file's count"),
        ((IMAGES_BYTES, 60_008), "that is the training file's count"),
        ((16 + 4 * 10000 * 784, LABELS_BYTES), "one byte per value, not four"),
        ((LABELS_BYTES, IMAGES_BYTES), "your two numbers are swapped"),
        ((IMAGES_BYTES + 1, LABELS_BYTES), "the file has 7,840,016"),
        (IMAGES_BYTES, "return two whole numbers"),
        (None, "return two whole numbers"),
    ],
)
def test_predicted_sizes_mistakes_get_their_hint(answer, phrase, test_files):
    feedback = check.predicted_sizes(lambda: answer, *test_files)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_predicted_sizes_recognises_the_compressed_size_on_disk(test_files):
    on_disk = test_files[0].stat().st_size
    feedback = check.predicted_sizes(lambda: (on_disk, LABELS_BYTES), *test_files)
    assert not feedback.ok and "size of the .gz file on disk" in feedback.message


def test_predicted_sizes_lets_the_stub_error_through(test_files):
    with pytest.raises(NotImplementedError):
        check.predicted_sizes(stub, *test_files)


# Exercise 1.4 -------------------------------------------------------------------------------------------------------


def _read_all(path):
    with _open(path) as f:
        return f.read()


def read_images(path):
    data = _read_all(path)
    count, rows, cols = struct.unpack(">III", data[4:16])
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)


def the_old_reader(path):  # the broken reader of the exercise
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8).reshape(-1, 28, 28)


def gzip_only(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    count, rows, cols = struct.unpack(">III", data[4:16])
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)


def header_skipped_28(path):
    return np.frombuffer(_read_all(path), np.uint8, offset=16).reshape(-1, 28, 28)


def label_header(path):
    data = _read_all(path)
    count, rows, cols = struct.unpack(">III", data[4:16])
    return np.frombuffer(data, np.uint8, offset=8).reshape(count, rows, cols)


def little_endian_dims(path):
    data = _read_all(path)
    count, rows, cols = struct.unpack("<III", data[4:16])
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)


def test_read_images_accepts_the_solution_on_the_real_file(test_files, real_arrays):
    feedback = check.read_images(read_images, test_files[0])
    assert feedback.ok and feedback.message.startswith("correct. the header says how to read the rest")
    assert feedback.raise_if_wrong() is feedback
    assert check.read_images(read_images).ok  # the check's own files are enough
    assert np.array_equal(read_images(test_files[0]), real_arrays["x_test"])  # the reference really reads MNIST


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (the_old_reader, "the 16 header bytes are read as pixels too"),
        (gzip_only, "gzip.open failed on a plain file"),
        (header_skipped_28, "instead of assuming 28 x 28"),
        (label_header, "8 bytes skipped, but an image file's header is 16"),
        (little_endian_dims, "they were decoded little-endian"),
        (lambda path: read_images(path).astype(np.int8), "dtype int8"),
        (lambda path: read_images(path).reshape(len(read_images(path)), -1), "not to sizes assumed in advance"),
        (lambda path: read_images(path)[:1], "expected (3, 5, 4)"),
        (lambda path: 255 - read_images(path), "the right shape but other pixels"),
        (lambda path: read_images(path).tolist(), "dtype int64"),
        (lambda path: None, "forget `return`"),
    ],
)
def test_read_images_mistakes_get_their_hint(answer, phrase, test_files):
    feedback = check.read_images(answer, test_files[0])
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_read_images_lets_the_stub_error_through(test_files):
    with pytest.raises(NotImplementedError):
        check.read_images(stub, test_files[0])
