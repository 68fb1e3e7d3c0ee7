"""Reading the original IDX files of MNIST (plain or gzip), checking their header as we go."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from mnist_course.data.errors import MnistFormatError, MnistNotFoundError

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension (count)
_UBYTE = 0x08


def looks_like_html(head: bytes) -> bool:
    """True when bytes start like a web page (an error page saved in place of the data)."""
    start = head.lstrip()[:15].lower()
    return start.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body"))


def read_bytes(path: str | Path) -> bytes:
    """The file's content, gunzipped when it is gzip (judged by its first bytes, not its name)."""
    path = Path(path)
    if not path.is_file():
        raise MnistNotFoundError("file not found", path)
    raw = path.read_bytes()
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
    """Read an IDX file (``.gz`` or not) into a uint8 array of the shape its header gives."""
    return parse_idx(read_bytes(path), path, expected_magic)
