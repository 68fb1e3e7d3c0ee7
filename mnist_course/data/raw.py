"""The original IDX files for the lesson on the raw format: found next to the data, else rebuilt in the cache."""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import numpy as np

from mnist_course import paths
from mnist_course.data.loader import load_arrays, locate
from mnist_course.data.verify import IDX_FILES

_UBYTE = 0x08


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8, 1 to 4 dimensions) in the IDX layout: ``0 0 8 ndim``, each dimension as a big-endian
    4-byte integer, then the values row by row (magic 2051 for MNIST's images, 2049 for its labels)."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 4:
        raise ValueError(f"IDX here holds uint8 arrays of 1 to 4 dimensions, got {array.dtype} {array.shape}")
    header = bytes([0, 0, _UBYTE, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx(array: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write ``array`` as an IDX file (gzip when the name ends in ``.gz``), atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(array)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _find_in(folder: Path, gz_name: str) -> Path | None:
    """The IDX file in ``folder`` under its usual names (``.gz`` or not, ``-idx`` or ``.idx``), else None."""
    plain = gz_name.removesuffix(".gz")
    dotted = plain.replace("-idx", ".idx")
    return next((folder / n for n in (gz_name, plain, dotted + ".gz", dotted) if (folder / n).is_file()), None)


def idx_cache_dir() -> Path:
    """Where IDX files rebuilt from the verified arrays are kept: ``<course cache>/idx``."""
    return paths.cache_dir() / "idx"


def idx_file_path(split: str, *, create: bool = True) -> Path | None:
    """The IDX file of ``split`` (``x_train``, ``y_train``, ``x_test`` or ``y_test``).

    Looks in the folder of the copy :func:`~mnist_course.data.locate` picks (e.g. ``$MNIST_COURSE_DATA``), then in
    :func:`idx_cache_dir`. Otherwise, when ``create`` is true, writes it there (gzip, official IDX layout) from the
    verified arrays. Returns None when there is none and it could not or may not be written.
    """
    if split not in IDX_FILES:
        raise ValueError(f"unknown split {split!r}: use one of {list(IDX_FILES)}")
    gz_name = IDX_FILES[split][0]
    source = locate()
    if source is not None:
        folder = source.path if source.path.is_dir() else source.path.parent
        found = _find_in(folder, gz_name)
        if found is not None:
            return found
    found = _find_in(idx_cache_dir(), gz_name)
    if found is not None or not create:
        return found
    arrays, _ = load_arrays()
    try:
        return write_idx(arrays[split], idx_cache_dir() / gz_name)
    except OSError:
        return None


__all__ = ["idx_bytes", "idx_cache_dir", "idx_file_path", "write_idx"]
