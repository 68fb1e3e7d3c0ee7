"""Every results file the course ships (``notebooks/results/*.json``): where it is found (a checkout or Colab), one
way to write it and one way to read it back with its format checked, and the versions record it carries."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from mnist_course.files import write_bytes_atomic, write_text_atomic
from mnist_course.paths import cache_dir, notebooks_dir

URL_ENV = "MNIST_COURSE_RESULTS_URL"
RESULTS_URL = "https://raw.githubusercontent.com/mnist-course/mnist-course/main/notebooks/results/"


def shipped_path(file: str) -> Path:
    """Where ``make results`` writes ``file``: ``notebooks/results/<file>`` of the course edition."""
    return notebooks_dir() / "results" / file


def find_shipped(file: str) -> Path:
    """The shipped results ``file``: from the course's ``notebooks/results/`` or a ``results/`` folder beside the
    running notebook; where neither exists (Colab, a pip install) it is fetched afresh from the repository
    (``$MNIST_COURSE_RESULTS_URL``, default the course's GitHub) into the course cache, so a copy fetched for an older
    version is never reused. Raises one clear error naming the fix when the file cannot be had."""
    candidates = [Path.cwd() / "results" / file]
    try:
        candidates.insert(0, shipped_path(file))
    except FileNotFoundError:  # no course notebooks here (Colab's /content, a pip install)
        pass
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    url = os.environ.get(URL_ENV, "").strip() or RESULTS_URL
    url = url if url.endswith("/") else url + "/"
    import requests

    try:
        response = requests.get(url + file, timeout=30)
        response.raise_for_status()
    except requests.RequestException as error:
        raise FileNotFoundError(
            f"the shipped results {file} are not in notebooks/results/ or ./results/ and could not be fetched from "
            f"{url} ({type(error).__name__}): open the notebook from a checkout of the course, set "
            f"${URL_ENV}, or make them with `mnist-course run --results`"
        ) from None
    return write_bytes_atomic(cache_dir() / "shipped" / file, response.content)


class ShippedResultsError(ValueError):
    """A shipped results file that cannot be used as it is (unreadable, another format, fields missing)."""


def versions() -> dict[str, Any]:
    """The software and machine behind a results file: Python, NumPy, Keras and its backend (with TensorFlow's
    version under that backend) and the CPU count, since timings depend on it."""
    import numpy as np

    from mnist_course.models.key import software

    return {**software(), "python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count()}


def write_results(path: str | os.PathLike[str], doc: dict[str, Any], *, fmt: int) -> Path:
    """Write ``doc`` with ``"format": fmt`` as stable, reviewable JSON (sorted keys, one value per line), atomically:
    a reader never sees half a file. A bare file name goes to ``notebooks/results/``."""
    path = Path(path)
    if path.parent == Path("."):
        path = shipped_path(path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, json.dumps({**doc, "format": fmt}, indent=1, sort_keys=True) + "\n")


def read_results(
    file: str | os.PathLike[str], *, formats: Collection[int], required: Sequence[str] = (), fix: str | None = None
) -> dict[str, Any]:
    """The results ``file`` as a dict: a bare name is looked up by :func:`find_shipped`, a path read as it is.
    Unreadable JSON, another format or a missing top-level field is one :class:`ShippedResultsError` naming the
    file and the command that makes it again (``fix``, when given, says it instead)."""
    path = find_shipped(str(file)) if Path(file).parent == Path(".") else Path(file)
    fix = fix or "make it again with `make results` (or `mnist-course run --results`), or restore it with git"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {fix}")
    try:
        doc = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ShippedResultsError(f"{path} is not valid JSON ({error}): {fix}") from None
    if not isinstance(doc, dict):
        raise ShippedResultsError(f"{path} holds a JSON {type(doc).__name__}, not an object: {fix}")
    if doc.get("format") not in formats:
        raise ShippedResultsError(f"{path}: format {doc.get('format')!r}, expected one of {sorted(formats)}: {fix}")
    missing = [key for key in required if key not in doc]
    if missing:
        raise ShippedResultsError(f"{path} lacks {missing}: {fix}")
    return doc


__all__ = [
    "RESULTS_URL",
    "URL_ENV",
    "ShippedResultsError",
    "find_shipped",
    "read_results",
    "shipped_path",
    "versions",
    "write_results",
]
