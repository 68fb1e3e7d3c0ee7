"""Self-checks for the exercises of notebook 01 (loading MNIST): an IDX file written for any array, ink per digit,
the size of an IDX file predicted, a nearest-image search debugged."""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mnist_course.data import read_idx
from mnist_course.exercises.feedback import NO_RETURN, Feedback, call, commit, predicted, right, whole, wrong
from mnist_course.exercises.lesson01_pixels import mean_ink_per_digit, nearest_image

__all__ = ["mean_ink_per_digit", "nearest_image", "predicted_sizes", "to_idx"]

UBYTE = 0x08  # the third byte of an IDX magic number: the values are unsigned bytes


def _as_pair(value: Any) -> tuple[int, int] | None:
    """``value`` as two Python ints, or ``None`` when it is not two whole numbers (Python or NumPy, not a bool or
    a string)."""
    if isinstance(value, (bytes, bytearray, str)):
        return None
    try:
        first, second = value
    except (TypeError, ValueError):
        return None
    pair = whole(first), whole(second)
    return None if None in pair else pair


def _idx_file(array: np.ndarray) -> bytes:
    """The IDX file of a uint8 array, from the format: 0 0 8 ndim, each dimension big-endian, the values in C order."""
    header = bytes([0, 0, UBYTE, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def _header_hint(got: bytes, array: np.ndarray) -> str:
    """The hint for a file of the right length whose header or values differ from the format's."""
    expected, size = _idx_file(array), 4 + 4 * array.ndim
    magic = int.from_bytes(got[:4], "big")
    if got[4:] == expected[4:]:
        if magic == int.from_bytes(expected[:4], "little"):
            return "the magic number is little-endian: IDX writes every integer most significant byte first, 'big'."
        if got[:3] == expected[:3]:
            return (
                f"magic {magic} = 0x{magic:08x} says {got[3]} dimensions; this array has {array.ndim}: the last "
                f"byte of the magic number counts the dimensions, so 0x{UBYTE << 8 | array.ndim:08x} here."
            )
        return (
            f"magic {magic} = 0x{magic:08x}: the magic number is 0, 0, then 08 (unsigned bytes), then the number "
            f"of dimensions, here 0x{UBYTE << 8 | array.ndim:08x} = {UBYTE << 8 | array.ndim}."
        )
    if got[:size] == expected[:size]:
        if got[size:] == array.tobytes(order="F"):
            return (
                "the values are in column-major order: IDX stores them row after row (C order, the last index "
                "changing fastest), as array.tobytes() gives them."
            )
        return "the header is right, the values after it are not: they are the array's bytes, array.tobytes()."
    little = bytes(reversed(expected[:4])) + b"".join(int(n).to_bytes(4, "little") for n in array.shape)
    if got[:size] == little:
        return "the header is little-endian: IDX writes every integer most significant byte first, 'big'."
    if got[4:size] == b"".join(int(n).to_bytes(4, "big") for n in reversed(array.shape)):
        return f"the dimensions are reversed: write them in the order of array.shape, {array.shape}."
    return (
        f"after the magic number come the {array.ndim} dimensions of {array.shape}, each a 4-byte big-endian "
        "integer, in the order of array.shape."
    )


def _idx_hint(got: Any, array: np.ndarray) -> str | None:
    """The hint for the answer ``got`` to ``to_idx(array)``, or ``None`` when it is the array's IDX file."""
    if got is None:
        return NO_RETURN
    if isinstance(got, str):
        return "that is text: return bytes, e.g. header + array.tobytes(), with int.to_bytes(4, 'big') for numbers."
    if isinstance(got, (bytearray, memoryview)):
        got = bytes(got)
    if not isinstance(got, bytes):
        return f"return the file's content as bytes, e.g. header + array.tobytes(); yours is a {type(got).__name__}."
    expected, size, body = _idx_file(array), 4 + 4 * array.ndim, array.tobytes()
    if got == expected:
        return None
    if got[:2] == b"\x1f\x8b":
        return "these bytes are gzip-compressed: return the plain IDX bytes (compressing is a later, separate step)."
    if len(got) == len(expected):
        return _header_hint(got, array)
    if got == expected[:size]:
        return "only the header: the values follow it, array.tobytes()."
    header = len(got) - len(body)
    if got.endswith(body) and header in (0, 4, 8, 16):
        return (
            f"a header of {header} bytes; an array of {array.ndim} dimension{'s' if array.ndim > 1 else ''} needs "
            f"4 + 4 x {array.ndim} = {size}: the magic number, then one 4-byte integer per dimension."
        )
    if len(got) - size in (2 * len(body), 4 * len(body), 8 * len(body)):
        return (
            f"{(len(got) - size) // len(body)} bytes per value: the array is uint8, one byte per value; write "
            "array.tobytes() without converting it to a wider type."
        )
    return (
        f"{len(got):,} bytes; the IDX file of shape {array.shape} has {len(expected):,}: a header of {size} (the "
        f"magic number and {array.ndim} dimensions, 4 bytes each), then one byte per value."
    )


def to_idx(function: Callable[[np.ndarray], Any]) -> Feedback:
    """Check ``function(array) -> bytes``, the IDX file of a uint8 array of 1 to 4 dimensions, against the format on
    arrays of its own; the course's ``read_idx`` then reads each file back."""
    ex = "1.1"
    rng = np.random.default_rng(11)
    arrays = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in [(7,), (3, 4), (2, 3, 5), (2, 2, 3, 1)]]
    with tempfile.TemporaryDirectory() as tmp:
        for array in arrays:
            given = array.copy()
            got = call(function, given)
            if not np.array_equal(given, array):
                return wrong(ex, "your function changed the array it was given: build new bytes, leave it alone.")
            hint = _idx_hint(got, array)
            if hint:
                return wrong(ex, f"on an array of shape {array.shape}: {hint}")
            file = Path(tmp) / f"array-idx{array.ndim}-ubyte"
            file.write_bytes(bytes(got))
            if not np.array_equal(read_idx(file), array):  # the format's own check, through the course's reader
                return wrong(ex, f"the course's read_idx reads your file of shape {array.shape} as another array.")
    magics = ", ".join(f"0x{UBYTE << 8 | a.ndim:08x}" for a in arrays)
    return right(
        ex,
        f"the magic numbers {magics} count the dimensions, the dimensions follow, then the bytes, and the "
        "course's read_idx reads each file back as the array you wrote. MNIST's label files are the "
        "one-dimensional case, its image files the three-dimensional one.",
    )


def _decompressed_size(path: Path) -> int:
    """The number of bytes of an IDX file once decompressed (a plain file: its size)."""
    if not str(path).endswith(".gz"):
        return path.stat().st_size
    with gzip.open(path, "rb") as f:
        return len(f.read())


def _size_hint(name: str, got: int, expected: int, count: int, dims: int, on_disk: int) -> str | None:
    """Why the predicted size ``got`` of an IDX file of ``count`` items with ``dims`` dimensions did not hold
    (``None`` when it held): which part of header + data the prediction left out or counted twice."""
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
    test set's IDX files, against the files themselves (``images``/``labels``, default: the course's copies).
    The point is for the committed prediction (the first pair of whole numbers checked), held or not."""
    from mnist_course.data import idx_file_path

    ex = "1.3"
    files = [
        Path(images if images is not None else idx_file_path("x_test")),
        Path(labels if labels is not None else idx_file_path("y_test")),
    ]
    answer = call(function)
    got = _as_pair(answer)
    if got is None:
        shown = "None (did you forget `return`?)" if answer is None else f"{answer!r:.60}"
        return wrong(ex, f"return two whole numbers, `return images_bytes, labels_bytes`; yours: {shown}.")
    expected = [_decompressed_size(file) for file in files]
    count = len(read_idx(files[1]))
    if got == tuple(expected[::-1]):
        return wrong(ex, "your two numbers are swapped: the image file first, then the label file.")
    first, changed = commit(ex, got)
    names = ("image file", "label file")
    hints = [
        _size_hint(name, guess, size, count, dims, file.stat().st_size)
        for name, guess, size, dims, file in zip(names, first, expected, (3, 1), files)
    ]
    truth = (
        f"The image file has {expected[0]:,} = 16 + {count:,} x 28 x 28 bytes, the label file "
        f"{expected[1]:,} = 8 + {count:,}: a fixed header (the magic number and one 4-byte integer per dimension), "
        "then one byte per value."
    )
    if not any(hints):
        return predicted(
            ex, True, f"{truth} A format like this lets you know a file's size before you open it.", changed
        )
    parts = [hint or f"{name}: {guess:,} held." for name, guess, hint in zip(names, first, hints)]
    return predicted(ex, False, f"{truth} {' '.join(parts)}", changed)
