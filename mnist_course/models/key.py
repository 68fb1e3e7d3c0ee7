"""What identifies a trained model in the course cache: recipe, architecture, training data, settings and software."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.data import class_ids

KEY_FORMAT = 1  # bump when the layout of the key itself changes
_SOURCE_LOCK = threading.Lock()


def canonical_json(value: Any) -> str:
    """``value`` as JSON with sorted keys and no spaces: the same settings always give the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"cannot put {type(value).__name__} into a cache key")


def digest(key: dict[str, Any], length: int = 12) -> str:
    """The first ``length`` hex digits of the sha256 of the canonical key: the cache file's name tag."""
    return hashlib.sha256(canonical_json(key).encode()).hexdigest()[:length]


def data_fingerprint(x: Any, y: Any) -> dict[str, Any]:
    """Count, pixel dtype and sha256 of images ``x`` and labels ``y`` (labels as class ids, so one-hot rows and
    ids of the same labels match; images as stored, any shape). About 0.03 s for all 60,000 MNIST images."""
    x = np.ascontiguousarray(np.asarray(x))
    y = np.ascontiguousarray(class_ids(np.asarray(y)))
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels: pass matching training arrays")
    h = hashlib.sha256()
    h.update(f"{x.dtype.str}|{y.dtype.str}|".encode())
    h.update(memoryview(x).cast("B"))
    h.update(memoryview(y).cast("B"))
    return {"images": int(len(x)), "dtype": x.dtype.name, "sha256": h.hexdigest()}


def architecture(model: Any) -> list[list[Any]]:
    """The layers of a built Keras model as ``[class name, config without the layer's name]`` pairs, plus the
    parameter count: equal for two models of the same architecture, whatever their (auto-numbered) layer names."""
    config = model.get_config()
    layers = []
    for layer in config.get("layers", []):
        settings = {k: v for k, v in layer.get("config", {}).items() if k != "name"}
        layers.append([layer.get("class_name"), json.loads(canonical_json(settings))])
    return [*layers, ["parameters", int(model.count_params())]]


def architecture_sha256(model: Any) -> str:
    """sha256 of :func:`architecture`: what a cache entry's model must match."""
    return hashlib.sha256(canonical_json(architecture(model)).encode()).hexdigest()


def weights_sha256(model: Any) -> str:
    """sha256 of every weight of ``model`` (shapes, dtypes and values, in layer order)."""
    h = hashlib.sha256()
    for w in model.get_weights():
        w = np.ascontiguousarray(w)
        h.update(f"{w.dtype.str}{w.shape}".encode())
        h.update(memoryview(w).cast("B"))
    return h.hexdigest()


def source_sha256(*functions: Callable[..., Any]) -> str | None:
    """sha256 of the source code of ``functions`` (``None`` if Python cannot show it): edits retrain."""
    try:
        with _SOURCE_LOCK:  # inspect is not thread-safe on every Python 3.11
            text = "\n".join(inspect.getsource(f) for f in functions)
    except (OSError, TypeError):
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def software() -> dict[str, str]:
    """Keras, its backend and the backend library's version (:func:`mnist_course.backend.versions`): a model
    trained on another backend or version is another cache entry, so a new one retrains."""
    from mnist_course.backend import versions

    return versions()


def training_key(
    name: str,
    recipe: Any,
    built: Any,
    train_data: tuple[Any, Any],
    *,
    epochs: int,
    seed: int,
    validation_data: tuple[Any, Any] | None,
    trainer: str,
    code: str | None,
) -> dict[str, Any]:
    """Everything that changes the model trained by ``trainer``: every field of the ``recipe`` dataclass, the
    architecture of ``built`` (a fresh model of the recipe), the training (and validation) data's fingerprints,
    epochs, seed, the training code's hash and the software versions."""
    return {
        "format": KEY_FORMAT,
        "model": name,
        "recipe": dataclasses.asdict(recipe),
        "architecture_sha256": architecture_sha256(built),
        "train_data": data_fingerprint(*train_data),
        "validation_data": None if validation_data is None else data_fingerprint(*validation_data),
        "epochs": int(epochs),
        "seed": int(seed),
        "trainer": trainer,
        "code_sha256": code,
        "software": software(),
    }


def _part(value: Any, field: str) -> dict[str, Any]:
    """``value[field]`` when both are JSON objects, else ``{}``: keys read from files may have any shape."""
    part = value.get(field) if isinstance(value, dict) else None
    return part if isinstance(part, dict) else {}


def _count(value: Any) -> str:
    """``"60,000"`` for a whole number, ``"?"`` for anything else."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "?"


def summary(key: dict[str, Any]) -> str:
    """``"60,000 images, 5 epochs, seed 42"``: the settings a person cares about."""
    return (
        f"{_count(_part(key, 'train_data').get('images'))} images, {key.get('epochs')} epoch(s), seed {key.get('seed')}"
    )


def differences(stored: dict[str, Any], wanted: dict[str, Any]) -> str:
    """How the ``stored`` key differs from the ``wanted`` one, in words ("" when equal), e.g.
    ``"was trained on 1,000 images, this run asks for 60,000"``."""
    said: list[str] = []
    stored = stored if isinstance(stored, dict) else {}
    old, new = _part(stored, "train_data"), _part(wanted, "train_data")
    if old.get("images") != new.get("images"):
        said.append(f"was trained on {_count(old.get('images'))} images, this run asks for {_count(new.get('images'))}")
    elif old != new:
        said.append(f"was trained on other images (also {_count(new.get('images'))})")
    if stored.get("epochs") != wanted.get("epochs"):
        said.append(f"was trained for {stored.get('epochs')} epoch(s), this run asks for {wanted.get('epochs')}")
    if stored.get("seed") != wanted.get("seed"):
        said.append(f"was trained with seed {stored.get('seed')}, this run asks for {wanted.get('seed')}")
    old_recipe, new_recipe = _part(stored, "recipe"), _part(wanted, "recipe")
    changed = sorted(k for k in {*old_recipe, *new_recipe} if old_recipe.get(k) != new_recipe.get(k))
    if changed:
        said.append(f"its recipe has changed since ({', '.join(changed)})")
    plain = {
        "architecture_sha256": "its architecture has changed since",
        "validation_data": "other validation data",
        "trainer": "another training function",
        "code_sha256": "the training code has changed since",
        "format": "an older cache format",
        "model": "another model name",
    }
    said += [text for field, text in plain.items() if stored.get(field) != wanted.get(field)]
    if stored.get("software") != wanted.get("software"):
        said.append(f"software {_versions(stored)}, this run has {_versions(wanted)}")
    return "; ".join(said)


def _versions(key: dict[str, Any]) -> str:
    return " ".join(f"{k} {v}" for k, v in sorted(_part(key, "software").items()))
