"""Self-checks for the exercises of notebook 01 (loading MNIST): the label file's header, ink per digit, shares."""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from mnist_course.data import LABELS_MAGIC, load_mnist, read_idx
from mnist_course.exercises.feedback import Feedback, as_array, call, right, wrong

_IDX_HINT = "decode each 4-byte group with int.from_bytes(header[i:i + 4], 'big')"


@lru_cache(maxsize=1)
def _training_set() -> tuple[np.ndarray, np.ndarray]:
    """The full training set, read-only: the checks use their own copy, whatever the notebook passes around."""
    (x_train, y_train), _ = load_mnist()
    x_train.flags.writeable = y_train.flags.writeable = False
    return x_train, y_train


def _as_pair(value: Any) -> tuple[int, int] | None:
    """``value`` as two Python ints, or ``None`` when it is not two whole numbers."""
    if isinstance(value, (bytes, bytearray, str)):
        return None
    try:
        first, second = value
        return int(first), int(second)
    except (TypeError, ValueError):
        return None


def _header_hint(got: Any, expected: tuple[int, int], raw_start: bytes) -> str | None:
    """The hint for the answer ``got`` to a label file whose header is ``expected`` and whose first bytes on disk
    are ``raw_start`` (compressed for a .gz file); ``None`` when the answer is right."""
    if isinstance(got, (bytes, bytearray)):
        return f"you returned the raw bytes {bytes(got)[:8].hex(' ', 4)}: {_IDX_HINT}."
    pair = _as_pair(got)
    if pair is None:
        return f"return a pair of integers, `return magic, count`; got {got!r}."
    if pair == expected:
        return None
    little = tuple(int.from_bytes(v.to_bytes(4, "big"), "little") for v in expected)
    if pair == little:
        return ("little-endian instead of big-endian: IDX stores its integers most significant byte first, so "
                f"{_IDX_HINT} (or struct.unpack('>II', header)), not 'little' or the machine's native order.")
    if pair == expected[::-1]:
        return "magic and count are swapped: the magic number comes first, then the count."
    if pair[0] == int.from_bytes(raw_start[:4], "big") != expected[0]:
        return ("you read the compressed bytes of a .gz file: open it with gzip.open(path, 'rb'), "
                "and plain files with open(path, 'rb').")
    return f"expected (magic, count) = {expected} for this file, got {pair}."


def read_label_header(function: Callable[[Any], Any], path: str | os.PathLike[str] | None = None) -> Feedback:
    """Check ``function(path) -> (magic, count)`` on label files of its own (gzip and plain) and on ``path``."""
    ex = "1.1"
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for name, count in [("labels-idx1-ubyte.gz", 300), ("labels-idx1-ubyte", 7)]:
            raw = LABELS_MAGIC.to_bytes(4, "big") + count.to_bytes(4, "big") + bytes(i % 10 for i in range(count))
            stored = gzip.compress(raw, mtime=0) if name.endswith(".gz") else raw
            file = Path(tmp) / name
            file.write_bytes(stored)
            cases.append((file, (LABELS_MAGIC, count), stored[:8]))
        if path is not None:
            path = Path(path)
            cases.append((path, (LABELS_MAGIC, len(read_idx(path))), path.read_bytes()[:8]))
        for file, expected, raw_start in cases:
            try:
                got = call(function, file)
            except gzip.BadGzipFile:
                return wrong(ex, f"gzip.open failed on the plain file {file.name}: choose the opener by the name, "
                                 "gzip.open for a .gz file, open for the others.")
            hint = _header_hint(got, expected, raw_start)
            if hint:
                return wrong(ex, f"on {file.name}: {hint}")
    if path is None:
        return right(ex, f"magic {LABELS_MAGIC} = 0x{LABELS_MAGIC:08x}: unsigned bytes (08), one dimension (01).")
    return right(ex, f"magic {LABELS_MAGIC} = 0x{LABELS_MAGIC:08x} (unsigned bytes, one dimension), then the count: "
                     f"{cases[-1][1][1]} labels in this file.")


def mean_ink_per_digit(function: Callable[[np.ndarray, np.ndarray], Any]) -> Feedback:
    """Check ``function(x, y)`` -> the mean pixel value (0..255) of each digit's images, on the training set."""
    ex = "1.2"
    x, y = _training_set()
    got = as_array(call(function, x, y))
    counts = np.bincount(y, minlength=10)
    sums = np.bincount(y, weights=x.sum(axis=(1, 2), dtype=np.int64), minlength=10)
    expected = sums / (counts * 28 * 28)
    if got is None or got.dtype == object:
        return wrong(ex, "return one number per digit, e.g. np.array([... for digit in range(10)]).")
    if got.shape == (10, 28, 28):
        return wrong(ex, "that is the average image of each digit, shape (10, 28, 28): average over the pixels too, "
                         "x[y == digit].mean() with no axis.")
    if got.shape != (10,):
        return wrong(ex, f"expected 10 numbers (digits 0 to 9), got shape {got.shape}.")
    if not np.issubdtype(got.dtype, np.number):
        return wrong(ex, f"expected numbers, got dtype {got.dtype}.")
    got = got.astype(float)
    if np.allclose(got, counts):
        return wrong(ex, "these are the label counts: average the pixel values of each digit's images instead.")
    if np.allclose(got, got[0]):
        return wrong(ex, "all ten values are equal: select the images of one digit with x[y == digit] before "
                         "averaging.")
    if np.allclose(got, expected / 255, rtol=1e-4):
        return wrong(ex, "your values are on the [0, 1] scale: the exercise asks for raw pixel values 0..255.")
    if np.allclose(got, sums / counts, rtol=1e-4) or np.allclose(got, sums, rtol=1e-4):
        return wrong(ex, "you summed the pixels: take the mean, over the images of the digit and their 784 pixels.")
    if np.allclose(got, expected * counts / len(y), rtol=1e-4):
        return wrong(ex, "you divided by the number of all images: divide by the number of images of that digit "
                         "(x[y == digit].mean() does it).")
    if not np.allclose(got, expected, rtol=1e-4):
        worst = int(np.abs(got - expected).argmax())
        return wrong(ex, f"digit {worst}: got {got[worst]:.2f}, expected {expected[worst]:.2f} (mean of all pixels of "
                         "all its images).")
    most, least = int(expected.argmax()), int(expected.argmin())
    stroke = ": a 1 is a single stroke" if least == 1 else ""
    return right(ex, f"digit {most} uses the most ink ({expected[most]:.1f} on average), digit {least} the least "
                     f"({expected[least]:.1f}){stroke}.")


def digit_shares(function: Callable[[np.ndarray], Any]) -> Feedback:
    """Check ``function(y)`` -> the fraction of each digit 0..9 among the labels ``y``, on labels of its own."""
    ex = "1.3"
    _, y_train = _training_set()
    no_nine = np.array([0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 8, 0], dtype=np.uint8)
    for name, y in [("the training labels", y_train), ("labels with no 9", no_nine)]:
        got = as_array(call(function, y))
        counts = np.bincount(y, minlength=10)
        expected = counts / len(y)
        if got is None or got.dtype == object or not got.shape or not np.issubdtype(got.dtype, np.number):
            return wrong(ex, "return an array of 10 numbers, the share of each digit 0..9 (np.bincount counts them).")
        if got.shape != (10,):
            if got.shape == (int(y.max()) + 1,) or got.shape == (len(np.unique(y)),):
                return wrong(ex, f"on {name}: {got.shape[0]} values, but a digit that does not occur still needs "
                                 "its share, 0: np.bincount(y, minlength=10).")
            return wrong(ex, f"on {name}: expected 10 shares, got shape {got.shape}.")
        got = got.astype(float)
        if np.allclose(got, counts):
            return wrong(ex, "these are counts, not fractions: divide them by the number of labels, len(y).")
        if np.allclose(got, 100 * expected):
            return wrong(ex, "these are percentages: return fractions (they sum to 1), counts / len(y).")
        if np.all(got == 0):
            return wrong(ex, "all shares are 0: `//` is integer division, use `/`.")
        if np.allclose(np.sort(got), np.sort(expected)) and not np.allclose(got, expected):
            return wrong(ex, "the right shares in the wrong order: element d must be the share of digit d.")
        if not np.isclose(got.sum(), 1):
            return wrong(ex, f"on {name} your shares sum to {got.sum():.3g}: the shares of the ten digits sum to 1, "
                             "divide the counts by len(y).")
        if not np.allclose(got, expected):
            return wrong(ex, f"on {name}: expected {np.round(expected, 3)}, got {np.round(got, 3)}.")
    shares = np.bincount(y_train, minlength=10) / len(y_train)
    return right(ex, f"the training shares go from {shares.min():.1%} (digit {shares.argmin()}) to {shares.max():.1%} "
                     f"(digit {shares.argmax()}), close to 10% each: nearly balanced.")


__all__ = ["digit_shares", "mean_ink_per_digit", "read_label_header"]
