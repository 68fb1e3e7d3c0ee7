"""Importing TensorFlow/Keras without their machine-specific C++ start-up log lines in notebook outputs."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Send file descriptor 2 (where C++ libraries log) to /dev/null for the duration of the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras and initialise the devices now, with their start-up messages (CPU features,
    CUDA probing, oneDNN notes) silenced; TensorFlow's later C++ logs are kept to warnings and errors. A following
    ``import keras`` is then instant and prints nothing; Python warnings and errors still show."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with silenced_stderr():
        import keras  # noqa: F401
        import tensorflow

        tensorflow.zeros(1)  # the first op initialises the devices, which logs its own probing (cuInit, ...)


__all__ = ["import_tensorflow_quietly", "silenced_stderr"]
