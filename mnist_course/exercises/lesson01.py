"""Self-checks for the exercises of notebook 01 (loading MNIST): a label header, ink per digit, the size of an IDX
file predicted, an IDX image reader debugged."""

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
        return (
            "little-endian instead of big-endian: IDX stores its integers most significant byte first, so "
            f"{_IDX_HINT} (or struct.unpack('>II', header)), not 'little' or the machine's native order."
        )
    if pair == expected[::-1]:
        return "magic and count are swapped: the magic number comes first, then the count."
    if pair[0] == int.from_bytes(raw_start[:4], "big") != expected[0]:
        return (
            "you read the compressed bytes of a .gz file: open it with gzip.open(path, 'rb'), "
            "and plain files with open(path, 'rb')."
        )
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
                return wrong(
                    ex,
                    f"gzip.open failed on the plain file {file.name}: choose the opener by the name, "
                    "gzip.open for a .gz file, open for the others.",
                )
            hint = _header_hint(got, expected, raw_start)
            if hint:
                return wrong(ex, f"on {file.name}: {hint}")
    if path is None:
        return right(ex, f"magic {LABELS_MAGIC} = 0x{LABELS_MAGIC:08x}: unsigned bytes (08), one dimension (01).")
    return right(
        ex,
        f"magic {LABELS_MAGIC} = 0x{LABELS_MAGIC:08x} (unsigned bytes, one dimension), then the count: "
        f"{cases[-1][1][1]} labels in this file.",
    )


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
        return wrong(
            ex,
            "that is the average image of each digit, shape (10, 28, 28): average over the pixels too, "
            "x[y == digit].mean() with no axis.",
        )
    if got.shape != (10,):
        return wrong(ex, f"expected 10 numbers (digits 0 to 9), got shape {got.shape}.")
    if not np.issubdtype(got.dtype, np.number):
        return wrong(ex, f"expected numbers, got dtype {got.dtype}.")
    got = got.astype(float)
    if np.allclose(got, counts):
        return wrong(ex, "these are the label counts: average the pixel values of each digit's images instead.")
    if np.allclose(got, got[0]):
        return wrong(
            ex, "all ten values are equal: select the images of one digit with x[y == digit] before averaging."
        )
    if np.allclose(got, expected / 255, rtol=1e-4):
        return wrong(ex, "your values are on the [0, 1] scale: the exercise asks for raw pixel values 0..255.")
    if np.allclose(got, sums / counts, rtol=1e-4) or np.allclose(got, sums, rtol=1e-4):
        return wrong(ex, "you summed the pixels: take the mean, over the images of the digit and their 784 pixels.")
    if np.allclose(got, expected * counts / len(y), rtol=1e-4):
        return wrong(
            ex,
            "you divided by the number of all images: divide by the number of images of that digit "
            "(x[y == digit].mean() does it).",
        )
    if not np.allclose(got, expected, rtol=1e-4):
        worst = int(np.abs(got - expected).argmax())
        return wrong(
            ex,
            f"digit {worst}: got {got[worst]:.2f}, expected {expected[worst]:.2f} (mean of all pixels of "
            "all its images).",
        )
    most, least = int(expected.argmax()), int(expected.argmin())
    stroke = ": a 1 is a single stroke" if least == 1 else ""
    return right(
        ex,
        f"digit {most} uses the most ink ({expected[most]:.1f} on average), digit {least} the least "
        f"({expected[least]:.1f}){stroke}.",
    )


def _decompressed_size(path: Path) -> int:
    """The number of bytes of an IDX file once decompressed (a plain file: its size)."""
    if not str(path).endswith(".gz"):
        return path.stat().st_size
    with gzip.open(path, "rb") as f:
        return len(f.read())


def _size_hint(name: str, got: int, expected: int, count: int, dims: int, on_disk: int) -> str | None:
    """The hint for the predicted size ``got`` of an IDX file of ``count`` items with ``dims`` dimensions (``None``
    when right): which part of header + data the prediction left out or counted twice."""
    header = 4 * (1 + dims)
    body = expected - header
    words = {1: "one dimension", 3: "three dimensions"}
    if got == expected:
        return None
    if got == body:
        return (
            f"{name}: {got:,} counts the data only. The file starts with a header: the magic number and "
            f"{words[dims]}, 4 bytes each, so {header} more bytes."
        )
    if got in (body + 8, body + 16) and got - body != header:
        other = got - body
        return (
            f"{name}: {'an' if other == 8 else 'a'} {other}-byte header belongs to a file with "
            f"{words[other // 4 - 1]}; this one has {words[dims]}: 4 bytes for the magic number plus 4 per "
            "dimension."
        )
    if got == on_disk:
        return (
            f"{name}: {got:,} bytes is the size of the .gz file on disk, compressed. The question is about "
            "the bytes once decompressed, which the format itself tells you."
        )
    if got in (header + 4 * body, 4 * body):
        return f"{name}: one byte per value, not four: the data are unsigned bytes (08 in the magic number)."
    if got in (header + 6 * body, 6 * body):
        return f"{name}: that is the training file's count (60,000); the test file holds {count:,} items."
    return f"{name}: you predicted {got:,} bytes, the file has {expected:,}: the header, then one byte per value."


def predicted_sizes(
    function: Callable[[], Any],
    images: str | os.PathLike[str] | None = None,
    labels: str | os.PathLike[str] | None = None,
) -> Feedback:
    """Check ``function() -> (image file bytes, label file bytes)``, a prediction of the decompressed sizes of the
    test set's IDX files, against the files themselves (``images``/``labels``, default: the course's copies)."""
    from mnist_course.data import idx_file_path

    ex = "1.3"
    files = [
        Path(images if images is not None else idx_file_path("x_test")),
        Path(labels if labels is not None else idx_file_path("y_test")),
    ]
    got = _as_pair(call(function))
    if got is None:
        return wrong(ex, "return two whole numbers, `return images_bytes, labels_bytes`.")
    expected = [_decompressed_size(file) for file in files]
    count = len(read_idx(files[1]))
    if got == tuple(expected[::-1]):
        return wrong(ex, "your two numbers are swapped: the image file first, then the label file.")
    for name, guess, size, dims, file in zip(("image file", "label file"), got, expected, (3, 1), files):
        hint = _size_hint(name, guess, size, count, dims, file.stat().st_size)
        if hint:
            return wrong(ex, f"{hint} Run the cell again with a new prediction.")
    return right(
        ex,
        f"your prediction held: {expected[0]:,} = 16 + {count:,} x 28 x 28 bytes of images and "
        f"{expected[1]:,} = 8 + {count:,} bytes of labels. A format with a fixed header and one byte per "
        "value lets you know a file's size before you open it.",
    )


def _image_file(folder: Path, name: str, images: np.ndarray) -> Path:
    """An IDX image file written here with plain bytes (gzip when ``name`` ends in .gz)."""
    from mnist_course.data import IMAGES_MAGIC

    raw = IMAGES_MAGIC.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in images.shape) + images.tobytes()
    file = folder / name
    file.write_bytes(gzip.compress(raw, mtime=0) if name.endswith(".gz") else raw)
    return file


def _reader_error_hint(err: Exception, images: np.ndarray) -> str:
    """The hint when the student's reader raised ``err`` on a file holding ``images``."""
    text = str(err)
    pixels = images.size
    if isinstance(err, gzip.BadGzipFile):
        return (
            "gzip.open failed on a plain file: choose the opener by the file name, gzip.open for .gz, open "
            "for the others."
        )
    if "reshape" in text and f"size {pixels + 16}" in text:
        return (
            "the reshape fails because the 16 header bytes are read as pixels too: start after them, "
            "np.frombuffer(data, np.uint8, offset=16)."
        )
    if "reshape" in text and f"size {pixels + 8}" in text:
        return (
            "8 bytes skipped, but an image file's header is 16: the magic number and three dimensions "
            "(count, rows, columns), 4 bytes each."
        )
    little = [int.from_bytes(n.to_bytes(4, "big"), "little") for n in images.shape]
    if "reshape" in text and str(little[0]) in text:
        return (
            "the dimensions read from the header are huge: they were decoded little-endian. IDX stores them "
            "big-endian, int.from_bytes(header[i:i + 4], 'big')."
        )
    if "reshape" in text and f"size {pixels}" in text:
        return (
            "the pixel count is right, the shape is not: read count, rows and columns from the header "
            "(big-endian) and reshape to exactly those, instead of assuming 28 x 28."
        )
    return f"your function raised {type(err).__name__}: {text[:120]}"


def read_images(function: Callable[[Any], Any], path: str | os.PathLike[str] | None = None) -> Feedback:
    """Check ``function(path) -> (count, rows, cols) uint8 images`` on IDX image files of its own (gzip and plain,
    not 28 x 28) and on ``path`` (a real file)."""
    ex = "1.4"
    rng = np.random.default_rng(14)
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            (_image_file(Path(tmp), "images-idx3-ubyte.gz", rng.integers(0, 256, (3, 5, 4), dtype=np.uint8)),),
            (_image_file(Path(tmp), "images-idx3-ubyte", rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)),),
        ]
        cases = [(file, read_idx(file)) for (file,) in cases]
        if path is not None:
            cases.append((Path(path), read_idx(path)))
        for file, expected in cases:
            try:
                got = call(function, file)
            except (ValueError, OSError, gzip.BadGzipFile) as err:
                return wrong(
                    ex,
                    f"on {file.name} ({expected.shape[0]} images of {expected.shape[1]} x "
                    f"{expected.shape[2]}): {_reader_error_hint(err, expected)}",
                )
            array = as_array(got)
            where = f"on {file.name} ({expected.shape[0]} images of {expected.shape[1]} x {expected.shape[2]})"
            if got is None:
                return wrong(ex, "your function returns None: did you forget `return`?")
            if array is None or array.dtype == object:
                return wrong(ex, "return one NumPy array, np.frombuffer(...).reshape(count, rows, cols).")
            if array.shape != expected.shape:
                if array.size == expected.size:
                    return wrong(
                        ex,
                        f"{where}: shape {array.shape}; reshape to (count, rows, cols) read from the "
                        f"header, here {expected.shape}, not to sizes assumed in advance.",
                    )
                return wrong(ex, f"{where}: shape {array.shape}, expected {expected.shape}.")
            if array.dtype != np.uint8:
                return wrong(ex, f"dtype {array.dtype}: each pixel is one unsigned byte, np.uint8 (0..255).")
            if not np.array_equal(array, expected):
                return wrong(
                    ex,
                    f"{where}: the right shape but other pixels: the data start right after the 16 "
                    "header bytes, image after image, row after row.",
                )
    return right(
        ex,
        "the header says how to read the rest: skip its 16 bytes and reshape to the dimensions it "
        "gives. The old reader worked on one file; this one on any IDX image file.",
    )


__all__ = ["mean_ink_per_digit", "predicted_sizes", "read_images", "read_label_header"]
