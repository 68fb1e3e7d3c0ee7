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


@pytest.mark.parametrize("answer, phrase", [
    (little_endian, "little-endian instead of big-endian"),
    (native_order, "little-endian instead of big-endian"),
    (always_gzip, "gzip.open failed on the plain file"),
    (never_gzip, "you read the compressed bytes of a .gz file"),
    (swapped, "magic and count are swapped"),
    (raw_bytes, "you returned the raw bytes"),
    (lambda path: read_header(path)[0], "return a pair of integers"),
    (lambda path: (2049, 60000), "expected (magic, count)"),
])
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


@pytest.mark.parametrize("answer, phrase", [
    (lambda x, y: np.array([x[y == d].mean(axis=0) for d in range(10)]), "average image of each digit"),
    (lambda x, y: np.bincount(y, minlength=10), "these are the label counts"),
    (lambda x, y: np.full(10, x.mean()), "all ten values are equal"),
    (lambda x, y: mean_ink(x, y) / 255, "[0, 1] scale"),
    (lambda x, y: np.array([x[y == d].sum() for d in range(10)]), "you summed the pixels"),
    (lambda x, y: np.array([x[y == d].sum(axis=(1, 2)).mean() for d in range(10)]), "you summed the pixels"),
    (lambda x, y: np.bincount(y, weights=x.mean(axis=(1, 2))) / len(y), "divided by the number of all images"),
    (lambda x, y: mean_ink(x, y)[:9], "expected 10 numbers"),
    (lambda x, y: mean_ink(x, y)[::-1], "(mean of all pixels of all its images)"),
])
def test_mean_ink_per_digit_mistakes_get_their_hint(answer, phrase):
    feedback = check.mean_ink_per_digit(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_mean_ink_per_digit_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.mean_ink_per_digit(stub)


# Exercise 1.3 -------------------------------------------------------------------------------------------------------

def test_digit_shares_accepts_the_solution_and_shows_the_balance(real_arrays):
    shares = np.bincount(real_arrays["y_train"], minlength=10) / len(real_arrays["y_train"])
    feedback = check.digit_shares(lambda y: np.bincount(y, minlength=10) / len(y))
    assert feedback.ok and feedback.message.startswith("correct.")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert f"{shares.min():.1%} (digit {shares.argmin()})" in feedback.message and "nearly balanced" in feedback.message


def test_digit_shares_accepts_a_loop_and_a_list():
    assert check.digit_shares(lambda y: [float(np.mean(y == d)) for d in range(10)]).ok


@pytest.mark.parametrize("answer, phrase", [
    (lambda y: np.bincount(y, minlength=10), "these are counts, not fractions"),
    (lambda y: 100 * np.bincount(y, minlength=10) / len(y), "these are percentages"),
    (lambda y: np.bincount(y, minlength=10) // len(y), "`//` is integer division"),
    (lambda y: np.bincount(y) / len(y), "np.bincount(y, minlength=10)"),
    (lambda y: np.unique(y, return_counts=True)[1] / len(y), "a digit that does not occur"),
    (lambda y: np.sort(np.bincount(y, minlength=10) / len(y)), "the right shares in the wrong order"),
    (lambda y: np.bincount(y, minlength=10) / 10, "sum to 1"),
    (lambda y: {d: float(np.mean(y == d)) for d in range(10)}, "return an array of 10 numbers"),
])
def test_digit_shares_mistakes_get_their_hint(answer, phrase):
    feedback = check.digit_shares(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_digit_shares_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.digit_shares(stub)
