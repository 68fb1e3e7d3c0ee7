"""The errors the data loader raises: each names the file at fault and how to fix it."""

from __future__ import annotations

from pathlib import Path

from mnist_course import paths


def how_to_fix() -> str:
    """The three ways to give the course a good copy of MNIST, with the cache path of this machine."""
    return (
        "Fix it in one of these ways:\n"
        f"  - point the course at a good copy: set {paths.DATA_ENV}=/path/to/mnist.npz "
        "(or a folder holding mnist.npz or the four IDX files)\n"
        "  - download and verify it into the cache: mnist-course data fetch\n"
        f"  - copy a good mnist.npz to the cache path {paths.data_cache_file()}"
    )


class MnistDataError(RuntimeError):
    """Something is wrong with a copy of MNIST (or it cannot be found); the message names the file and the fix."""

    def __init__(self, problem: str, file: str | Path | None = None, fix: str | None = None) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        where = f"{self.file}: " if self.file else ""
        super().__init__(f"{where}{problem}\n{fix if fix is not None else how_to_fix()}")


class MnistNotFoundError(MnistDataError, FileNotFoundError):
    """No copy of MNIST where one was expected."""


class MnistFormatError(MnistDataError, ValueError):
    """A file is not MNIST as it should be: truncated, HTML, wrong magic number, shape, dtype or content."""


class MnistReadError(MnistDataError, PermissionError):
    """A copy exists but this user may not read it."""


class MnistDownloadError(MnistDataError, ConnectionError):
    """Every mirror failed; the message lists why each one did."""


class MnistCacheError(MnistDataError, PermissionError):
    """The cache folder cannot be written: no permission, read-only, or the disk is full."""
