"""Trained models shared between notebooks: ``.keras`` files plus a JSON sidecar in the course cache."""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mnist_course.paths import models_dir

TrainResult = keras.Model | tuple[keras.Model, dict[str, list[float]], float]


def model_path(name: str, profile: str) -> Path:
    """``<cache>/models/{name}-{profile}.keras`` (``<cache>`` is ``$MNIST_COURSE_CACHE`` or the user cache)."""
    return models_dir() / f"{name}-{profile}.keras"


def info_path(name: str, profile: str) -> Path:
    """The JSON sidecar next to :func:`model_path` (test accuracy, history, training seconds)."""
    return model_path(name, profile).with_suffix(".json")


@contextmanager
def _atomic_target(final: Path) -> Iterator[Path]:
    """Yield a temporary path in ``final``'s folder; move it onto ``final`` only if the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.stem}.", suffix=final.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_model(model: keras.Model, name: str, profile: str, info: dict[str, Any] | None = None) -> Path:
    """Save ``model`` (and ``info`` as the JSON sidecar) atomically; returns the ``.keras`` path."""
    path = model_path(name, profile)
    with _atomic_target(path) as tmp:
        model.save(tmp)
    sidecar = {"name": name, "profile": profile, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "keras_version": keras.__version__, **(info or {})}
    with _atomic_target(info_path(name, profile)) as tmp:
        tmp.write_text(json.dumps(sidecar, indent=1, default=_to_json))
    return path


def _to_json(value: Any) -> Any:
    """JSON fallback for NumPy scalars and arrays."""
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else str(value)


def load_info(name: str, profile: str) -> dict[str, Any] | None:
    """The sidecar of a cached model (``test_accuracy``, ``history``, ``seconds``...), or ``None``."""
    try:
        return json.loads(info_path(name, profile).read_text())
    except (OSError, ValueError):
        return None


def load_model(name: str, profile: str) -> keras.Model | None:
    """The cached model, ``None`` if absent; warns and returns ``None`` if the file cannot be loaded."""
    path = model_path(name, profile)
    if not path.exists():
        return None
    try:
        return keras.models.load_model(path)
    except Exception as err:  # corrupt or incompatible file: any loader error means "train again"
        warnings.warn(f"cached model {path} could not be loaded ({type(err).__name__}: {err}); "
                      "it will be retrained", RuntimeWarning, stacklevel=2)
        return None


def load_or_train(name: str, profile: str, train_fn: Callable[[], TrainResult], *, retrain: bool = False,
                  test_data: tuple[np.ndarray, np.ndarray] | None = None) -> keras.Model:
    """Load the cached model ``name``/``profile``, or call ``train_fn()`` and cache what it returns.

    ``train_fn`` returns a model or ``(model, history_dict, seconds)`` as :func:`mnist_course.models.train`
    does; history and seconds go into the sidecar, with the test accuracy when ``test_data`` is given.
    ``retrain=True`` ignores the cache. A corrupt cached file is reported with a warning and retrained.
    """
    if not retrain:
        model = load_model(name, profile)
        if model is not None:
            return model
    result = train_fn()
    model, info = (result, {}) if isinstance(result, keras.Model) else (
        result[0], {"history": result[1], "seconds": float(result[2])})
    if test_data is not None:
        from mnist_course.evaluation import evaluation_report

        info["test_accuracy"] = evaluation_report(model, *test_data).accuracy
    save_model(model, name, profile, info)
    return model
