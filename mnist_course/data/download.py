"""Downloading MNIST into the course cache through pooch: mirrors in order, each file verified, nothing half-written."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import filelock
import numpy as np
import pooch
import requests

from mnist_course import paths
from mnist_course.data.errors import MnistCacheError, MnistDataError, MnistDownloadError, how_to_fix
from mnist_course.data.idx import IMAGES_MAGIC, LABELS_MAGIC, looks_like_html, read_idx
from mnist_course.data.verify import IDX_FILES, KERAS_NPZ_SHA256, SPLITS, verify_arrays

MIRROR_ENV = "MNIST_COURSE_MIRROR"


@dataclass(frozen=True)
class Mirror:
    """A place to download MNIST from: ``kind`` "npz" (Keras' mnist.npz) or "idx" (the four original .gz files)."""

    kind: str
    base_url: str
    hashes: tuple[tuple[str, str], ...] = ()  # (file name, sha256) pairs that replace the defaults

    def files(self) -> dict[str, str]:
        """File name -> expected sha256 for this mirror's kind (``hashes`` override the official values)."""
        if self.hashes:
            return dict(self.hashes)
        if self.kind == "npz":
            return {"mnist.npz": KERAS_NPZ_SHA256}
        return dict(IDX_FILES.values())


DEFAULT_MIRRORS: tuple[Mirror, ...] = (
    Mirror("npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
    Mirror("idx", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    Mirror("idx", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    Mirror("idx", "https://yann.lecun.com/exdb/mnist/"),
)


def mirrors_from_env() -> list[Mirror]:
    """The default mirrors, preceded by ``$MNIST_COURSE_MIRROR`` (a classroom's own server) when set.

    The variable holds a base URL, optionally prefixed by its kind: ``idx:http://host/mnist/`` (default npz).
    """
    extra = os.environ.get(MIRROR_ENV, "").strip()
    if not extra:
        return list(DEFAULT_MIRRORS)
    kind, _, url = extra.partition(":") if extra.startswith(("idx:", "npz:")) else ("npz", "", extra)
    return [Mirror(kind, url), *DEFAULT_MIRRORS]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return "could not connect (no network, a firewall or a proxy?)"
    if isinstance(exc, MnistDataError):
        return exc.problem
    return f"{type(exc).__name__}: {exc}"


def _download_file(url: str, sha256: str, folder: Path, timeout: float, progress: bool) -> Path:
    """Download one file with pooch into ``folder`` and check it is what we expect."""
    name = url.rsplit("/", 1)[-1]
    file = Path(
        pooch.retrieve(
            url,
            known_hash=None,
            fname=name,
            path=folder,
            progressbar=progress,
            downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=progress),
        )
    )
    with open(file, "rb") as handle:
        head = handle.read(512)
    if looks_like_html(head):
        raise MnistDownloadError("the server sent an HTML page instead of the data", url, fix="")
    digest = pooch.file_hash(str(file), alg="sha256")
    if digest != sha256:
        raise MnistDownloadError(f"wrong sha256 {digest[:12]}... (expected {sha256[:12]}...)", url, fix="")
    return file


def _download_mirror(mirror: Mirror, folder: Path, timeout: float, progress: bool) -> dict[str, np.ndarray]:
    got = {n: _download_file(mirror.base_url + n, h, folder, timeout, progress) for n, h in mirror.files().items()}
    if mirror.kind == "npz":
        with np.load(got["mnist.npz"], allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in SPLITS if k in npz.files}
    else:
        arrays = {
            split: read_idx(got[IDX_FILES[split][0]], IMAGES_MAGIC if split.startswith("x") else LABELS_MAGIC)
            for split in SPLITS
        }
    return verify_arrays(arrays, mirror.base_url)


def save_atomically(arrays: dict[str, np.ndarray], target: Path) -> None:
    """Write an uncompressed npz next to ``target``, flush it, then rename it into place in one step."""
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **{k: arrays[k] for k in SPLITS})
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there, or raise :class:`MnistCacheError`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise MnistCacheError(
            f"the cache folder cannot be written ({exc.strerror or exc})",
            folder,
            fix=f"Set {paths.CACHE_ENV} to a folder you can write, or set {paths.DATA_ENV} to an existing copy.",
        ) from exc


def fetch(
    mirrors: Sequence[Mirror] | None = None,
    target: Path | None = None,
    *,
    timeout: float = 60.0,
    progress: bool = False,
    lock_timeout: float = 600.0,
) -> Path:
    """Download MNIST into the cache (``target``, default the course cache) unless a verified copy is there.

    Mirrors are tried in order; each download goes to a temporary folder beside the cache, is checked by file
    hash and by content, and only then renamed into place. A lock file keeps two processes from downloading at
    once: the second waits and then reuses the first one's copy.
    """
    from mnist_course.data.loader import read_file  # the loader imports this module

    target = Path(target) if target is not None else paths.data_cache_file()
    mirrors = list(mirrors) if mirrors is not None else mirrors_from_env()
    ensure_writable(target.parent)
    logging.getLogger("pooch").setLevel(logging.WARNING)
    with filelock.FileLock(str(target) + ".lock", timeout=lock_timeout):
        if target.exists():
            try:
                verify_arrays(read_file(target), target)
                return target  # another process finished while we waited, or it was already there
            except MnistDataError:
                pass  # replaced below, atomically
        failures = []
        for mirror in mirrors:
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
                try:
                    arrays = _download_mirror(mirror, Path(tmp), timeout, progress)
                except (OSError, ValueError, MnistDataError, requests.exceptions.RequestException) as exc:
                    failures.append(f"  - {mirror.base_url} ({mirror.kind}): {_describe(exc)}")
                    continue
                save_atomically(arrays, target)
                return target
    raise MnistDownloadError(
        "could not download MNIST from any mirror:\n" + "\n".join(failures),
        target,
        fix=how_to_fix(),
    )
