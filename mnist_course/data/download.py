"""Downloading MNIST's files from a mirror with pooch: URLs joined properly, known hashes checked, failures named."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pooch
import requests

from mnist_course.data.errors import MnistDownloadError
from mnist_course.data.readers import looks_like_html
from mnist_course.data.verify import IDX_FILES, KERAS_NPZ_SHA256

MIRROR_ENV = "MNIST_COURSE_MIRROR"
KINDS = ("npz", "idx")
SCHEMES = ("http", "https", "ftp", "sftp")
DOWNLOAD_BYTES = {"npz": 11_490_434, "idx": 11_594_722}  # what one mirror's files weigh


def file_names(kind: str) -> list[str]:
    """The files a mirror of ``kind`` serves: ``mnist.npz`` or the four IDX ``.gz`` files."""
    return ["mnist.npz"] if kind == "npz" else [name for name, _ in IDX_FILES.values()]


@dataclass(frozen=True)
class Mirror:
    """A place to download MNIST from: ``kind`` "npz" (an mnist.npz) or "idx" (the four original .gz files).

    ``hashes`` gives the sha256 of files whose exact bytes are known (the official mirrors): pooch checks them.
    Without it (a classroom's server) any file is accepted whose arrays verify by content. ``base_url`` may end
    with or without "/", or name the file itself.
    """

    kind: str
    base_url: str
    hashes: tuple[tuple[str, str], ...] = ()  # (file name, sha256) pairs

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise MnistDownloadError(f"unknown mirror kind {self.kind!r}: use 'npz' or 'idx'", self.base_url, fix="")
        url = self.base_url.strip()
        scheme = urlsplit(url).scheme
        if scheme not in SCHEMES:
            hint = (
                f"for a folder or file on this machine set MNIST_COURSE_DATA={url} instead"
                if not scheme or len(scheme) == 1
                else f"use one of {', '.join(SCHEMES)}"
            )
            raise MnistDownloadError(f"not a download URL (scheme {scheme or 'missing'!r}): {hint}", url, fix="")
        last = url.rstrip("/").rsplit("/", 1)[-1]
        if last in file_names(self.kind):  # the URL of the file itself: keep its folder
            url = url.rstrip("/")[: -len(last)]
        object.__setattr__(self, "base_url", url if url.endswith("/") else url + "/")

    def url(self, name: str) -> str:
        """The URL of file ``name`` on this mirror."""
        return urljoin(self.base_url, name)

    def files(self) -> dict[str, str | None]:
        """File name -> known sha256 (None: not known, the content check decides)."""
        known = dict(self.hashes)
        return {name: known.get(name) for name in file_names(self.kind)}


DEFAULT_MIRRORS: tuple[Mirror, ...] = (
    Mirror("npz", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/", (("mnist.npz", KERAS_NPZ_SHA256),)),
    *(
        Mirror("idx", url, tuple(IDX_FILES.values()))
        for url in (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://yann.lecun.com/exdb/mnist/",
        )
    ),
)


def mirrors_from_env() -> list[Mirror]:
    """The default mirrors, preceded by ``$MNIST_COURSE_MIRROR`` (a classroom's own server) when set.

    The variable holds a base URL, optionally prefixed by its kind: ``idx:http://host/mnist/`` (default npz).
    """
    extra = os.environ.get(MIRROR_ENV, "").strip()
    if not extra:
        return list(DEFAULT_MIRRORS)
    kind, _, url = extra.partition(":") if extra.startswith(("idx:", "npz:")) else ("npz", "", extra)
    try:
        return [Mirror(kind, url), *DEFAULT_MIRRORS]
    except MnistDownloadError as exc:
        fix = f"Correct or unset {MIRROR_ENV}."
        raise MnistDownloadError(f"${MIRROR_ENV}: {exc.problem}", exc.file, fix=fix) from None


@contextmanager
def quiet_pooch() -> Iterator[None]:
    """Silence pooch's info messages (its "Downloading..." and "Use this value as the 'known_hash'" advice):
    the course verifies by content and says itself what it did."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return "could not connect (no network, a firewall or a proxy?)"
    return f"{type(exc).__name__}: {exc}"


class _RefusingHtml:
    """A pooch downloader that refuses an HTML error page before pooch compares hashes."""

    def __init__(self, url: str, timeout: float, progress: bool) -> None:
        self.url = url
        self.inner = pooch.HTTPDownloader(timeout=timeout, progressbar=progress) if url.startswith("http") else None

    def __call__(self, url: str, output_file: str, dataset: object) -> None:
        (self.inner or pooch.choose_downloader(url))(url, output_file, dataset)
        with open(output_file, "rb") as handle:
            if looks_like_html(handle.read(512)):
                raise MnistDownloadError("the server sent an HTML page instead of the data", self.url, fix="")


def download_file(url: str, sha256: str | None, folder: Path, *, timeout: float = 60.0, progress: bool = False) -> Path:
    """Download ``url`` into ``folder`` with pooch; pooch checks ``sha256`` when it is given.

    Raises :class:`MnistDownloadError` (``file`` = the URL requested, ``problem`` = what went wrong) for HTTP
    errors, no connection, an HTML page or a wrong hash. ``OSError`` (e.g. a full disk) propagates unchanged.
    """
    progress = progress and importlib.util.find_spec("tqdm") is not None
    try:
        with quiet_pooch():
            return Path(
                pooch.retrieve(
                    url,
                    known_hash=f"sha256:{sha256}" if sha256 else None,
                    fname=url.rsplit("/", 1)[-1],
                    path=folder,
                    progressbar=progress,
                    downloader=_RefusingHtml(url, timeout, progress),
                )
            )
    except MnistDownloadError:
        raise
    except requests.exceptions.RequestException as exc:
        raise MnistDownloadError(_describe(exc), url, fix="") from exc
    except ValueError as exc:
        if sha256 and "hash" in str(exc).lower():
            raise MnistDownloadError(
                f"wrong sha256 (expected {sha256[:12]}...): a different or cut-short file", url, fix=""
            ) from exc
        raise MnistDownloadError(_describe(exc), url, fix="") from exc


def download_mirror(mirror: Mirror, folder: Path, *, timeout: float = 60.0, progress: bool = False) -> dict[str, Path]:
    """Download every file of ``mirror`` into ``folder``: file name -> local path (not yet verified)."""
    return {
        name: download_file(mirror.url(name), sha, folder, timeout=timeout, progress=progress)
        for name, sha in mirror.files().items()
    }
