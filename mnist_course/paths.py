"""Where the course keeps its files: the cache for MNIST and trained models."""

from __future__ import annotations

import os
from pathlib import Path

import pooch

CACHE_ENV = "MNIST_COURSE_CACHE"
DATA_ENV = "MNIST_COURSE_DATA"


def cache_dir() -> Path:
    """The course cache: ``$MNIST_COURSE_CACHE`` when set, else the user cache folder (``~/.cache/mnist-course``)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path(pooch.os_cache("mnist-course"))


def data_cache_file() -> Path:
    """The cached, verified ``mnist.npz`` that :func:`mnist_course.data.load_mnist` reuses."""
    return cache_dir() / "data" / "mnist.npz"


def keras_cache_file() -> Path:
    """Keras' own cached copy (``$KERAS_HOME/datasets/mnist.npz``, default ``~/.keras``), reused when present."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def models_dir() -> Path:
    """Folder of trained ``.keras`` models shared between notebooks."""
    return cache_dir() / "models"
