"""The course cache of MNIST: verified copies stored compressed and atomically, rebuilt IDX files, stale leftovers."""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock
import numpy as np

from mnist_course import paths
from mnist_course.data.errors import MnistCacheError
from mnist_course.data.readers import idx_bytes
from mnist_course.data.verify import SPLITS
from mnist_course.files import atomic_path, lock_for

NPZ_BYTES = 11_490_519  # a compressed mnist.npz (Keras' file or np.savez_compressed's), the cache's size
DOWNLOAD_PREFIX = ".download-"
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _mb(size: float) -> str:
    return f"{size / 1e6:.0f} MB"


def cache_error(exc: OSError, folder: Path, needed: int, what: str = "storing MNIST") -> MnistCacheError:
    """The :class:`MnistCacheError` for ``exc`` raised while writing in ``folder``: a full disk (or quota) names
    the space ``needed`` and the free space; anything else says the folder cannot be written. Both name
    ``$MNIST_COURSE_CACHE`` as the way out."""
    if exc.errno in _FULL:
        try:
            free = f"{_mb(shutil.disk_usage(folder).free)} are free"
        except OSError:
            free = "the free space is unknown"
        return MnistCacheError(
            f"the disk is full: {what} needs about {_mb(needed)} free in this folder ({free})",
            folder,
            fix=f"Free some space there, or set {paths.CACHE_ENV} to a folder on a disk with room "
            f"(or set {paths.DATA_ENV} to a copy you already have: reading it needs no cache).",
        )
    return MnistCacheError(
        f"the cache folder cannot be written ({exc.strerror or exc})",
        folder,
        fix=f"Set {paths.CACHE_ENV} to a folder you can write, or set {paths.DATA_ENV} to an existing copy.",
    )


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there, or raise :class:`MnistCacheError`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise cache_error(exc, folder, NPZ_BYTES) from exc


def store_arrays(arrays: dict[str, np.ndarray], target: Path) -> Path:
    """Write verified ``arrays`` to ``target`` as a compressed npz (11 MB, not 55), atomically.

    The caller holds :func:`~mnist_course.files.lock_for` ``(target)``. A full disk or an unwritable folder raises
    :class:`MnistCacheError`; ``target`` is then left as it was and no temporary file remains.
    """
    try:
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as out:
                np.savez_compressed(out, **{k: np.ascontiguousarray(arrays[k]) for k in SPLITS})
    except OSError as exc:
        raise cache_error(exc, target.parent, NPZ_BYTES) from exc
    return target


def store_file(file: Path, target: Path, *, move: bool = False) -> Path:
    """Put the verified npz ``file`` (kept byte for byte) at ``target`` atomically, moving it when ``move``
    (a download in the same folder: no second copy on disk), else copying it. The caller holds the lock."""
    try:
        with atomic_path(target) as tmp:
            if move:
                os.replace(file, tmp)
            else:
                shutil.copyfile(file, tmp)
    except OSError as exc:
        raise cache_error(exc, target.parent, Path(file).stat().st_size if Path(file).exists() else NPZ_BYTES) from exc
    return target


def write_idx(array: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write ``array`` as an IDX file (gzip when the name ends in ``.gz``), atomically under its lock.

    Raises :class:`MnistCacheError` when the folder cannot be written or the disk is full.
    """
    path = Path(path)
    data = idx_bytes(array)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)
    try:
        with lock_for(path):
            clean_stale(path)
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
    except OSError as exc:
        raise cache_error(exc, path.parent, len(data), what=f"writing {path.name}") from exc
    return path


def leftovers(target: Path) -> list[Path]:
    """Temporary files and download folders beside ``target`` that a process left when it was killed:
    ``.<name>.*.part`` and ``.<name>.*.tmp`` (atomic writes) and ``.download-*`` (downloads)."""
    folder = target.parent
    if not folder.is_dir():
        return []
    found = [*folder.glob(f".{target.name}.*.part"), *folder.glob(f".{target.name}.*.tmp")]
    if target.name == "mnist.npz":  # downloads happen beside the data file, under its lock
        found += folder.glob(f"{DOWNLOAD_PREFIX}*")
    return sorted(found)


def clean_stale(target: Path) -> list[Path]:
    """Remove :func:`leftovers` of ``target``; call it only while holding ``lock_for(target)``.

    Stale means "not being written": every writer of the package writes these files only while holding the
    lock of their target, and the operating system releases a killed process's lock, so whatever is there while
    we hold the lock belongs to no live process, whatever its age. Returns what was removed.
    """
    removed = []
    for path in leftovers(target):
        try:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
    return removed


def clean_stale_if_idle(target: Path) -> list[Path]:
    """Remove ``target``'s leftovers when there are any and nobody holds its lock (a reader's courtesy: it never
    waits, and skips silently on a cache it may not write)."""
    if not leftovers(target):
        return []
    try:
        with lock_for(target, timeout=0):
            return clean_stale(target)
    except (filelock.Timeout, OSError):
        return []


@contextmanager
def download_folder(target: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``target`` (same disk, so a verified file moves into place without a
    copy), removed afterwards whatever happens. The caller holds the lock of ``target``."""
    folder = Path(tempfile.mkdtemp(dir=target.parent, prefix=DOWNLOAD_PREFIX))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
