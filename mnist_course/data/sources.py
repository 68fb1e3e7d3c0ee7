"""Where to look for MNIST (argument, $MNIST_COURSE_DATA, the caches) and which files of a folder make a copy."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mnist_course import paths
from mnist_course.data.verify import IDX_FILES, SPLITS

NPZ_NAME = "mnist.npz"


@dataclass(frozen=True)
class Source:
    """Where a copy of MNIST was found: ``path`` (file or folder) and ``origin`` (why this one was chosen)."""

    path: Path
    origin: str


def locate(path: str | os.PathLike[str] | None = None) -> Source | None:
    """Pick the copy :func:`~mnist_course.data.load_mnist` would use, in order: ``path``, ``$MNIST_COURSE_DATA``,
    the course cache, Keras' cache. Returns None when no copy exists yet (a download is then needed).

    Never reads the files and never raises for a bad one: reading and verifying is the loader's job.
    """
    if path is not None:
        return Source(paths.expand(path), "argument")
    env = os.environ.get(paths.DATA_ENV, "").strip()
    if env:
        return Source(paths.expand(env), f"${paths.DATA_ENV}")
    for file, origin in ((paths.data_cache_file(), "course cache"), (paths.keras_cache_file(), "Keras cache")):
        if file.is_file():
            return Source(file, origin)
    return None


def idx_names(split: str) -> list[str]:
    """The names the IDX file of ``split`` goes by: ``.gz`` or not, ``-idx`` or ``.idx`` (a common re-packaging)."""
    gz_name = IDX_FILES[split][0]
    plain = gz_name.removesuffix(".gz")
    dotted = plain.replace("-idx", ".idx")
    return [gz_name, plain, dotted + ".gz", dotted]


def find_idx(folder: Path, split: str) -> Path | None:
    """The IDX file of ``split`` in ``folder`` under one of its usual names, else None."""
    return next((folder / n for n in idx_names(split) if (folder / n).is_file()), None)


def folder_files(folder: Path) -> tuple[Path | None, dict[str, Path], list[str]]:
    """What ``folder`` offers: its ``mnist.npz`` (or None), the IDX file of each split found, the IDX names missing."""
    npz = folder / NPZ_NAME
    found = {split: f for split in SPLITS if (f := find_idx(folder, split)) is not None}
    missing = [IDX_FILES[s][0] for s in SPLITS if s not in found]
    return (npz if npz.is_file() else None), found, missing


def folder_of(source: Source) -> Path:
    """The folder a source lives in (itself when it is a folder)."""
    return source.path if source.path.is_dir() else source.path.parent
