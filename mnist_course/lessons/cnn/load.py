"""Notebook 05's shipped results read back: each file checked by the study that writes it (selection or registry)."""

from __future__ import annotations

from typing import Any

from mnist_course.lessons.cnn.registry import check_models
from mnist_course.lessons.cnn.results import FORMAT
from mnist_course.lessons.cnn.selection import check_selection
from mnist_course.shipped import read_results


def load_results(file: str) -> dict[str, Any]:
    """The shipped results ``notebooks/results/<file>`` (on Colab fetched from the repository, see
    :func:`mnist_course.shipped.read_results`), checked by :func:`check_selection` or :func:`check_models`: a
    missing, malformed or hand-edited file raises naming the command that makes it. A models file has its
    ``cpus`` at the top (where files before ``"versions"`` kept it, and notebook 05 reads it)."""
    fix = "make it again with `make results` (or `mnist-course run 05 --results`), or restore it with git"
    doc = read_results(
        file, formats={FORMAT}, fix=fix, check=lambda d: (check_selection if d.has("studies") else check_models)(d)
    )
    if "models" in doc and "cpus" not in doc:
        doc["cpus"] = doc["versions"]["cpus"]
    return doc


__all__ = ["load_results"]
