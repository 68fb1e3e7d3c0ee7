"""Where the course keeps its files: the cache for MNIST and trained models."""

from __future__ import annotations

import os
from pathlib import Path

import pooch

CACHE_ENV = "MNIST_COURSE_CACHE"
DATA_ENV = "MNIST_COURSE_DATA"


def expand(path: str | os.PathLike[str]) -> Path:
    """``path`` with ``~`` expanded; left as written when ``~user`` names no user (the error then names it)."""
    try:
        return Path(path).expanduser()
    except RuntimeError:
        return Path(path)


def cache_dir() -> Path:
    """The course cache: ``$MNIST_COURSE_CACHE`` when set, else the user cache folder (``~/.cache/mnist-course``)."""
    env = os.environ.get(CACHE_ENV, "").strip()
    return expand(env) if env else Path(pooch.os_cache("mnist-course"))


def data_cache_file() -> Path:
    """The cached, verified ``mnist.npz`` that :func:`mnist_course.data.load_mnist` reuses."""
    return cache_dir() / "data" / "mnist.npz"


def idx_cache_dir() -> Path:
    """Where IDX files rebuilt from the verified arrays are kept (for the lesson on the raw format)."""
    return cache_dir() / "idx"


def keras_cache_file() -> Path:
    """Keras' own cached copy (``$KERAS_HOME/datasets/mnist.npz``, default ``~/.keras``), reused when present."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def models_dir() -> Path:
    """Folder of trained ``.keras`` models shared between notebooks."""
    return cache_dir() / "models"


NOTEBOOKS_ENV = "MNIST_COURSE_NOTEBOOKS"
_CHECKOUT_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _holds_notebooks(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("[0-9][0-9]_*.ipynb"))


def notebooks_dir() -> Path:
    """The course edition's folder: ``$MNIST_COURSE_NOTEBOOKS``, else ``./notebooks``, else the checkout's.

    Works with a plain (non-editable) install run from a clone. Raises ``FileNotFoundError`` naming the fix when
    no folder of ``NN_*.ipynb`` notebooks is found.
    """
    env = os.environ.get(NOTEBOOKS_ENV)
    candidates = [Path(env).expanduser()] if env else [Path.cwd() / "notebooks", Path.cwd(), _CHECKOUT_NOTEBOOKS]
    for folder in candidates:
        if _holds_notebooks(folder):
            return folder.resolve()
    where = f"${NOTEBOOKS_ENV}={env}" if env else "./notebooks, the current folder or the package's checkout"
    raise FileNotFoundError(
        f"no course notebooks (NN_*.ipynb) in {where}: run from the root of a mnist-course clone, "
        f"or set {NOTEBOOKS_ENV} to its notebooks/ folder"
    )


def course_notebooks() -> list[Path]:
    """Resolved paths of every course-edition notebook this installation knows (the checkout's and
    :func:`notebooks_dir`'s), which no command may overwrite except ``mnist-course run --in-place``."""
    folders = {_CHECKOUT_NOTEBOOKS.resolve()}
    try:
        folders.add(notebooks_dir())
    except FileNotFoundError:
        pass
    return sorted({p.resolve() for f in folders if f.is_dir() for p in f.glob("[0-9][0-9]_*.ipynb")})


class CourseEditionError(ValueError):
    """Raised when a command would write onto the course edition's notebooks."""


def refuse_course_targets(targets: list[Path] | tuple[Path, ...], *, command: str, fix: str) -> None:
    """Raise :class:`CourseEditionError` if any of ``targets`` resolves (symlinks, ``..``, working folder) to a
    course notebook, or is a folder that holds course notebooks. ``fix`` says what to do instead."""
    protected = set(course_notebooks())
    protected_dirs = {p.parent for p in protected}
    for target in targets:
        real = Path(target).expanduser().resolve()
        if real in protected or real in protected_dirs:
            folder = real.parent if real in protected else real
            raise CourseEditionError(f"{command} would overwrite the course notebooks in {folder}: {fix}")


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` as a notebook shows it: the home folder written ``~``, so stored outputs name no user's folders."""
    text, home = str(path), str(Path.home())
    return "~" + text[len(home) :] if text == home or text.startswith(home + os.sep) else text
