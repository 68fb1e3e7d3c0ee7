"""Finding and loading real MNIST: an explicit path, $MNIST_COURSE_DATA, the caches, then a download."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_course import paths
from mnist_course.data.download import fetch
from mnist_course.data.errors import MnistFormatError, MnistNotFoundError, how_to_fix
from mnist_course.data.idx import IMAGES_MAGIC, LABELS_MAGIC, looks_like_html, read_idx
from mnist_course.data.verify import IDX_FILES, SPLITS, verify_arrays

Arrays = dict[str, np.ndarray]
Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Source:
    """Where a copy of MNIST was found: ``path`` (file or folder) and ``origin`` (why this one was chosen)."""

    path: Path
    origin: str


def _idx_candidates(folder: Path, gz_name: str) -> list[Path]:
    plain = gz_name.removesuffix(".gz")
    dotted = plain.replace("-idx", ".idx")  # train-images.idx3-ubyte, a common re-packaging
    return [folder / n for n in (gz_name, plain, dotted + ".gz", dotted)]


def read_folder(folder: Path) -> Arrays:
    """Read a folder holding ``mnist.npz`` or the four IDX files (``.gz`` or not)."""
    if (folder / "mnist.npz").is_file():
        return read_file(folder / "mnist.npz")
    arrays, missing = {}, []
    for split in SPLITS:
        gz_name = IDX_FILES[split][0]
        found = next((p for p in _idx_candidates(folder, gz_name) if p.is_file()), None)
        if found is None:
            missing.append(gz_name)
            continue
        arrays[split] = read_idx(found, IMAGES_MAGIC if split.startswith("x") else LABELS_MAGIC)
    if missing:
        raise MnistNotFoundError(
            f"this folder holds neither mnist.npz nor the IDX files {missing} (plain or .gz)", folder
        )
    return arrays


def read_file(file: Path) -> Arrays:
    """Read an ``mnist.npz`` file (compressed or not) into a dict of arrays, without verifying it."""
    file = Path(file)
    if not file.is_file():
        raise MnistNotFoundError("file not found", file)
    with open(file, "rb") as handle:
        head = handle.read(512)
    if looks_like_html(head):
        raise MnistFormatError("this is an HTML page (an error page saved as data), not MNIST; delete it", file)
    if head[:2] == b"\x1f\x8b" or file.name.endswith(("-ubyte", "-ubyte.gz")):
        raise MnistFormatError(
            "this is a single IDX file; point the course at the folder holding all four IDX files", file
        )
    try:
        with np.load(file, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise MnistFormatError(f"not a readable .npz file, truncated or damaged ({exc}); delete it", file) from exc


def locate(path: str | os.PathLike[str] | None = None) -> Source | None:
    """Pick the copy :func:`load_mnist` would use, in order: ``path``, ``$MNIST_COURSE_DATA``, the course cache,
    Keras' cache. Returns None when no copy exists yet (a download is then needed)."""
    if path is not None:
        return Source(Path(path).expanduser(), "argument")
    env = os.environ.get(paths.DATA_ENV, "").strip()
    if env:
        return Source(Path(env).expanduser(), f"${paths.DATA_ENV}")
    for file, origin in ((paths.data_cache_file(), "course cache"), (paths.keras_cache_file(), "Keras cache")):
        if file.is_file():
            return Source(file, origin)
    return None


def read_source(source: Source) -> Arrays:
    """Read (not verify) the copy at ``source``, a file or a folder."""
    if not source.path.exists():
        hint = f" (from {source.origin})" if source.origin != "argument" else ""
        raise MnistNotFoundError(f"no such file or folder{hint}", source.path)
    return read_folder(source.path) if source.path.is_dir() else read_file(source.path)


def load_arrays(path: str | os.PathLike[str] | None = None, *, download: bool = True,
                verify: bool = True) -> tuple[Arrays, Source]:
    """The verified arrays and where they came from; downloads into the cache only when no copy exists."""
    source = locate(path)
    if source is None:
        if not download:
            raise MnistNotFoundError("no copy of MNIST found and download=False", paths.data_cache_file())
        source = Source(fetch(), "course cache (downloaded)")
    arrays = read_source(source)
    if verify:
        arrays = verify_arrays(arrays, source.path)
    return arrays, source


def load_mnist(path: str | os.PathLike[str] | None = None, *, download: bool = True,
               verify: bool = True) -> tuple[Split, Split]:
    """Real MNIST as ``(x_train, y_train), (x_test, y_test)``, exactly like ``keras.datasets.mnist.load_data()``.

    uint8 arrays of shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,) in the original order.
    ``path`` may name an ``mnist.npz`` or a folder with it or with the four IDX files; without it the copy comes
    from ``$MNIST_COURSE_DATA``, the course cache, Keras' cache, or else a verified download into the cache.
    Every copy is checked by content (shapes, dtypes, labels, per-array sha256) unless ``verify=False``; a bad
    copy raises an error naming the file and the fix, never a silent fallback.
    """
    arrays, _ = load_arrays(path, download=download, verify=verify)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


__all__ = ["Source", "how_to_fix", "load_arrays", "load_mnist", "locate", "read_file", "read_folder", "read_source"]
