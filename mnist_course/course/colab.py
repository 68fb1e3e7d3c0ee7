"""The first code cell of every notebook: on Google Colab it installs the course, elsewhere it does nothing."""

from __future__ import annotations

REPOSITORY = "git+https://github.com/mnist-course/mnist-course"
KEPT = ("tensorflow", "keras", "ipywidgets")  # Colab's own versions of these are never replaced

# The cell cannot import this module (on Colab the course is not installed yet), so its text lives here and
# tests/test_notebook_cells.py checks that every notebook opens with exactly this cell.
CELL = f'''\
# On Google Colab this installs the course (keeping Colab's own TensorFlow, Keras and ipywidgets); elsewhere it
# does nothing.
import importlib.metadata
import sys

if "google.colab" in sys.modules:
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


__all__ = ["CELL", "KEPT", "REPOSITORY", "cell_for"]
