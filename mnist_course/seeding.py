"""One seeding path for the whole course: Python's ``random``, NumPy and the Keras backend from one seed."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int, *, deterministic_ops: bool = False) -> None:
    """Seed Python's ``random``, NumPy and the Keras backend so a run repeats; optionally force deterministic
    TensorFlow kernels (slower, and some GPU kernels then refuse to run)."""
    random.seed(seed)
    np.random.seed(seed)
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic_ops:
        from mnist_course.backend import deterministic_ops as deterministic

        deterministic()
