"""Loading real MNIST: the one module composing the others (locate, read, verify, else download into the cache)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_course import paths
from mnist_course.data import cache, download, readers, sources
from mnist_course.data.errors import MnistCacheError, MnistDataError, MnistDownloadError, MnistNotFoundError, how_to_fix
from mnist_course.data.readers import IMAGES_MAGIC, LABELS_MAGIC
from mnist_course.data.sources import Source, locate
from mnist_course.data.verify import IDX_FILES, SPLITS, verify_arrays
from mnist_course.files import lock_for

Arrays = dict[str, np.ndarray]
Split = tuple[np.ndarray, np.ndarray]


def _magic(split: str) -> int:
    return IMAGES_MAGIC if split.startswith("x") else LABELS_MAGIC


def read_folder(folder: Path) -> Arrays:
    """Read a folder holding ``mnist.npz`` or the four IDX files (``.gz`` or not), without verifying it."""
    npz, idx, missing = sources.folder_files(folder)
    if npz is not None:
        return readers.read_npz(npz)
    if missing:
        raise MnistNotFoundError(
            f"this folder holds neither mnist.npz nor the IDX files {missing} (plain or .gz)", folder
        )
    return {split: readers.read_idx(idx[split], _magic(split)) for split in SPLITS}


def read_source(source: Source) -> Arrays:
    """Read (not verify) the copy at ``source``, a file or a folder."""
    if not source.path.exists():
        hint = f" (from {source.origin})" if source.origin != "argument" else ""
        raise MnistNotFoundError(f"no such file or folder{hint}", source.path)
    return read_folder(source.path) if source.path.is_dir() else readers.read_npz(source.path)


def _as_keras_returns(arrays: Arrays) -> Arrays:
    """The arrays as ``keras.datasets.mnist.load_data()`` gives them, whatever the file: writable, C-contiguous
    uint8 arrays that own their memory (IDX bytes are read-only views; a Fortran-ordered npz is not C order)."""
    return {k: np.require(arrays[k], np.uint8, ["C_CONTIGUOUS", "WRITEABLE", "OWNDATA"]) for k in SPLITS}


def load_arrays(
    path: str | os.PathLike[str] | None = None, *, download: bool = True, verify: bool = True
) -> tuple[Arrays, Source]:
    """The verified arrays and where they came from; downloads into the cache only when no copy exists.

    ``verify=False`` skips only the content hashes: keys, shapes, dtypes and labels are always checked. Every
    bad copy raises a :class:`MnistDataError` naming the file, what is accepted and the fix.
    """
    source = locate(path)
    if source is None:
        if not download:
            raise MnistNotFoundError("no copy of MNIST found and download=False", paths.data_cache_file())
        source = Source(fetch(), "course cache (downloaded)")
    if source.path == paths.data_cache_file():
        cache.clean_stale_if_idle(source.path)
    arrays = verify_arrays(read_source(source), source.path, check_hash=verify)
    return _as_keras_returns(arrays), source


def load_mnist(
    path: str | os.PathLike[str] | None = None, *, download: bool = True, verify: bool = True
) -> tuple[Split, Split]:
    """Real MNIST as ``(x_train, y_train), (x_test, y_test)``, exactly like ``keras.datasets.mnist.load_data()``.

    Writable, C-contiguous uint8 arrays of shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,) in the
    original order, whatever the source. ``path`` may name an ``mnist.npz`` or a folder with it or with the four
    IDX files; without it the copy comes from ``$MNIST_COURSE_DATA``, the course cache, Keras' cache, or else a
    verified download into the cache. Every copy is checked by content (shapes, dtypes, labels, per-array
    sha256; ``verify=False`` skips the hashes); a bad copy raises an error naming the file and the fix.
    """
    arrays, _ = load_arrays(path, download=download, verify=verify)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


@dataclass(frozen=True)
class CacheUpdate:
    """What :func:`update_cache` did: ``path`` of the cached copy and ``action`` in words."""

    path: Path
    action: str


def _holds_verified(target: Path) -> bool:
    try:
        verify_arrays(readers.read_npz(target), target)
        return True
    except MnistDataError:
        return False


def _store(arrays: Arrays, file: Path | None, target: Path, *, move: bool = False) -> None:
    """Keep ``file`` itself when it is a compressed npz (Keras' file, a mirror's re-save), else compress."""
    if file is not None and file.is_file() and readers.is_compressed_npz(file):
        cache.store_file(file, target, move=move)
    else:
        cache.store_arrays(arrays, target)


def _from_mirror(mirror: download.Mirror, target: Path, timeout: float, progress: bool) -> None:
    """Download, read, verify and store one mirror's copy; raises what went wrong with the URL at fault."""
    try:
        with cache.download_folder(target) as folder:
            files = download.download_mirror(mirror, folder, timeout=timeout, progress=progress)
            by_path = {path: mirror.url(name) for name, path in files.items()}
            try:
                if mirror.kind == "npz":
                    arrays = verify_arrays(readers.read_npz(files["mnist.npz"]), files["mnist.npz"])
                    _store(arrays, files["mnist.npz"], target, move=True)
                else:
                    raw = {s: readers.read_idx(files[IDX_FILES[s][0]], _magic(s)) for s in SPLITS}
                    cache.store_arrays(verify_arrays(raw, mirror.base_url), target)
            except MnistCacheError:
                raise
            except MnistDataError as exc:
                where = by_path.get(Path(exc.file or ""), mirror.base_url)
                raise MnistDownloadError(exc.problem, where, fix="") from exc
    except OSError as exc:
        if isinstance(exc, MnistDataError):
            raise
        needed = download.DOWNLOAD_BYTES[mirror.kind] + (cache.NPZ_BYTES if mirror.kind == "idx" else 0)
        raise cache.cache_error(exc, target.parent, needed, what="downloading MNIST") from exc


def update_cache(
    source: str | os.PathLike[str] | None = None,
    mirrors: Sequence[download.Mirror] | None = None,
    target: Path | None = None,
    *,
    timeout: float = 60.0,
    progress: bool = False,
    lock_timeout: float = 600.0,
) -> CacheUpdate:
    """Make the cache (``target``, default the course cache) hold a verified MNIST; say what was done.

    Nothing is written when it already holds one (even on a read-only cache). With ``source`` (a local file or
    folder) that copy is verified and stored; otherwise the mirrors are tried in order. Storing happens under the
    target's lock (a second process waits, then finds the first one's copy), after removing what killed
    processes left there; the cache never holds a half-written or unverified file.
    """
    target = Path(target) if target is not None else paths.data_cache_file()
    arrays = src = None
    if source is not None:
        arrays, src = load_arrays(source, download=False)
    if _holds_verified(target):
        cache.clean_stale_if_idle(target)
        return CacheUpdate(target, "already there, verified: nothing to do")
    cache.ensure_writable(target.parent)
    with lock_for(target, timeout=lock_timeout):
        cache.clean_stale(target)
        if target.exists() and _holds_verified(target):
            return CacheUpdate(target, "already there, verified (another process just stored it)")
        if src is not None:
            npz = sources.folder_files(src.path)[0] if src.path.is_dir() else src.path
            _store(arrays, npz, target)
            return CacheUpdate(target, f"copied the verified data from {src.path}")
        failures = []
        for mirror in list(mirrors) if mirrors is not None else download.mirrors_from_env():
            try:
                _from_mirror(mirror, target, timeout, progress)
            except MnistDownloadError as exc:
                failures.append(f"  - {exc.file} ({mirror.kind}): {exc.problem}")
                continue
            return CacheUpdate(target, f"downloaded and verified from {mirror.base_url}")
    raise MnistDownloadError(
        "could not download MNIST from any mirror:\n" + "\n".join(failures or ["  (no mirror given)"]),
        target,
        fix=how_to_fix(),
    )


def fetch(
    mirrors: Sequence[download.Mirror] | None = None,
    target: Path | None = None,
    *,
    timeout: float = 60.0,
    progress: bool = False,
    lock_timeout: float = 600.0,
) -> Path:
    """Download MNIST into the cache (``target``, default the course cache) unless a verified copy is there;
    returns its path. Mirrors are tried in order (default: ``$MNIST_COURSE_MIRROR``, then the official ones);
    see :func:`update_cache`."""
    return update_cache(None, mirrors, target, timeout=timeout, progress=progress, lock_timeout=lock_timeout).path


def idx_file_path(split: str, *, create: bool = True) -> Path | None:
    """The IDX file of ``split`` (``x_train``, ``y_train``, ``x_test`` or ``y_test``), for the lesson on the format.

    Looks in the folder of the copy :func:`locate` picks (e.g. ``$MNIST_COURSE_DATA``), then in the IDX cache
    (``<course cache>/idx``). Otherwise, when ``create`` is true, writes it there (gzip, official IDX layout) from
    the verified arrays, raising :class:`MnistCacheError` if it cannot; returns None only when ``create`` is false.
    """
    if split not in IDX_FILES:
        raise ValueError(f"unknown split {split!r}: use one of {list(IDX_FILES)}")
    source = locate()
    if source is not None and (found := sources.find_idx(sources.folder_of(source), split)) is not None:
        return found
    found = sources.find_idx(paths.idx_cache_dir(), split)
    if found is not None or not create:
        return found
    arrays, _ = load_arrays()
    return cache.write_idx(arrays[split], paths.idx_cache_dir() / IDX_FILES[split][0])


__all__ = [
    "CacheUpdate",
    "Source",
    "fetch",
    "idx_file_path",
    "load_arrays",
    "load_mnist",
    "locate",
    "read_folder",
    "read_source",
    "update_cache",
]
