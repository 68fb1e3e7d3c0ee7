"""The first code cell of every notebook: on Google Colab or Kaggle it installs the course; elsewhere nothing."""

from __future__ import annotations

REPOSITORY = "git+https://github.com/mnist-course/mnist-course"
KEPT = ("tensorflow", "keras", "ipywidgets")  # the platform's own versions of these are never replaced
KAGGLE_VARIABLE = "KAGGLE_KERNEL_RUN_TYPE"  # set in every Kaggle notebook's kernel ("Interactive" or "Batch")

# The cell cannot import this module (on Colab the course is not installed yet), so its text lives here and
# tests/test_notebook_cells.py checks that every notebook opens with exactly this cell.
CELL = f'''\
# On Google Colab or Kaggle this installs the course (keeping the platform's own TensorFlow, Keras and ipywidgets);
# elsewhere it does nothing. (On Kaggle, switch the notebook's Internet setting on first.)
import importlib.metadata
import os
import sys

if "google.colab" in sys.modules or "{KAGGLE_VARIABLE}" in os.environ:
    with open("/tmp/mnist-course-keep.txt", "w") as keep:
        keep.write("\\n".join(f"{{p}}=={{importlib.metadata.version(p)}}" for p in {KEPT!r}))
    %pip install --quiet --constraint /tmp/mnist-course-keep.txt "mnist-course @ {REPOSITORY}"'''


def cell_for(source: str) -> str:
    """The cell with the course installed from ``source`` instead: a checkout's folder (turned into the
    ``file://`` URL pip needs) or any other pip URL."""
    from pathlib import Path

    if "://" not in source and Path(source).is_dir():
        source = Path(source).resolve().as_uri()
    return CELL.replace(REPOSITORY, source)


__all__ = ["CELL", "KAGGLE_VARIABLE", "KEPT", "REPOSITORY", "cell_for"]
