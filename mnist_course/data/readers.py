"""Reading the files MNIST comes in: IDX (plain or gzip) and npz, with a clear error for anything else."""

from __future__ import annotations

import gzip
import zipfile
import zlib
from pathlib import Path

import numpy as np

from mnist_course.data.errors import MnistFormatError, MnistNotFoundError, MnistReadError

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)
_UBYTE = 0x08
ACCEPTED = (
    "the course reads an mnist.npz holding x_train, y_train, x_test and y_test, "
    "or a folder holding mnist.npz or the four IDX files (.gz or not)"
)


def looks_like_html(head: bytes) -> bool:
    """True when bytes start like a web page (an error page saved in place of the data)."""
    start = head.lstrip()[:15].lower()
    return start.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body"))


def _read(path: Path, size: int = -1) -> bytes:
    """The first ``size`` bytes of ``path`` (all when -1), a missing or unreadable file named in the error."""
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except FileNotFoundError as exc:
        raise MnistNotFoundError("file not found", path) from exc
    except NotADirectoryError as exc:
        raise MnistNotFoundError("file not found (a folder in this path is a file)", path) from exc
    except IsADirectoryError as exc:
        raise MnistFormatError(f"this is a folder, not a file; {ACCEPTED}", path) from exc
    except PermissionError as exc:
        raise MnistReadError(
            "cannot be read (permission denied)",
            path,
            fix="Ask its owner to make it readable (chmod a+r), or copy it to a folder of yours and set "
            "MNIST_COURSE_DATA to the copy.",
        ) from exc
    except OSError as exc:
        raise MnistReadError(
            f"cannot be read ({exc.strerror or exc})", path, fix="Check the disk or copy the file again, then retry."
        ) from exc


def read_bytes(path: str | Path) -> bytes:
    """The file's content, gunzipped when it is gzip (judged by its first bytes, not its name)."""
    path = Path(path)
    raw = _read(path)
    if looks_like_html(raw[:512]):
        raise MnistFormatError(
            "this is an HTML page (an error page from a proxy or a mirror), not MNIST data; delete it", path
        )
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise MnistFormatError(f"the gzip file is truncated or damaged ({exc}); delete it", path) from exc


def parse_idx(raw: bytes, source: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Parse IDX bytes into a uint8 array; checks the magic number, the dimensions and the data length."""
    if len(raw) < 8:
        raise MnistFormatError(f"too short to be an IDX file ({len(raw)} bytes)", source)
    magic = int.from_bytes(raw[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise MnistFormatError(
            f"wrong IDX magic number {magic} (expected {expected_magic}: "
            f"{IMAGES_MAGIC} for images, {LABELS_MAGIC} for labels); is this the right file?",
            source,
        )
    if raw[0] != 0 or raw[1] != 0 or raw[2] != _UBYTE or not 1 <= raw[3] <= 4:
        raise MnistFormatError(f"not an unsigned-byte IDX file (magic number {magic})", source)
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistFormatError("the IDX header is cut short", source)
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise MnistFormatError(
            f"header says {dims} = {expected} bytes of data, file holds {len(raw) - header} (truncated?)", source
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or not) into a uint8 array of the shape its header gives (read-only view)."""
    return parse_idx(read_bytes(path), path, expected_magic)


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8, 1 to 4 dimensions) in the IDX layout: ``0 0 8 ndim``, each dimension as a big-endian
    4-byte integer, then the values row by row (magic 2051 for MNIST's images, 2049 for its labels)."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 4:
        raise ValueError(f"IDX here holds uint8 arrays of 1 to 4 dimensions, got {array.dtype} {array.shape}")
    header = bytes([0, 0, _UBYTE, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def is_compressed_npz(file: Path) -> bool:
    """True when ``file`` is a zip whose every member is deflated (as Keras' and ``savez_compressed``'s are)."""
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (OSError, zipfile.BadZipFile):
        return False
    return bool(members) and all(m.compress_type == zipfile.ZIP_DEFLATED for m in members)


def read_npz(file: str | Path) -> dict[str, np.ndarray]:
    """Read an ``mnist.npz`` (compressed or not) into a dict of arrays, without verifying it.

    Anything else (an HTML page, a ``.npy`` array, a single IDX file, a damaged zip) raises
    :class:`MnistFormatError` naming the file and what is accepted.
    """
    file = Path(file)
    head = _read(file, 512)
    if looks_like_html(head):
        raise MnistFormatError("this is an HTML page (an error page saved as data), not MNIST; delete it", file)
    if head[:6] == b"\x93NUMPY":
        raise MnistFormatError(f"this is a single NumPy array (.npy), not MNIST's four arrays; {ACCEPTED}", file)
    if head[:2] == b"\x1f\x8b" or head[:3] == bytes([0, 0, _UBYTE]) or file.name.endswith(("-ubyte", "-ubyte.gz")):
        raise MnistFormatError(
            "this is a single IDX file; point the course at the folder holding all four IDX files", file
        )
    if head[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise MnistFormatError(f"not an .npz file (it does not start like a zip archive); {ACCEPTED}", file)
    try:
        with np.load(file, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except PermissionError:
        _read(file, 1)  # raises the permission message
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        raise MnistFormatError(f"not a readable .npz file, truncated or damaged ({exc}); delete it", file) from exc
