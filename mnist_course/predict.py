"""Class probabilities from a Keras model: shaped and scaled input, and softmax decided once, from the last layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from mnist_course.data import to_model_input


def to_batch(model: Any, images: np.ndarray) -> np.ndarray:
    """``images`` as a float32 batch of the model's input shape, scaled by :func:`mnist_course.data.to_model_input`
    (integer pixels / 255, floats taken as scaled): one (28, 28) image becomes a batch of one, (N, 28, 28) of N."""
    x = to_model_input(images)
    shape = tuple(model.input_shape[1:])
    if x.size % int(np.prod(shape)):
        raise ValueError(f"images of shape {x.shape} do not fit the model's input shape {shape}")
    return x.reshape((-1, *shape))


def activation_name(layer: Any) -> str:
    """The name of the layer's built-in activation (``"relu"``, ``"softmax"``...), ``"linear"`` when it has none."""
    return getattr(getattr(layer, "activation", None), "__name__", "linear")


def last_layer(model: Any) -> Any:
    """The layer that produces the model's output (looking inside a model nested as the last layer)."""
    layer = model.layers[-1]
    while getattr(layer, "layers", None):
        layer = layer.layers[-1]
    return layer


def ends_with_softmax(model: Any) -> bool:
    """True when the last layer applies a softmax (a ``Softmax`` layer, ``activation="softmax"``): the model outputs
    probabilities. False (e.g. a ``Dense`` with linear activation): it outputs logits."""
    layer = last_layer(model)
    return type(layer).__name__ == "Softmax" or activation_name(layer) == "softmax"


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities ``exp(z) / sum(exp(z))`` along the last axis, in the logits' float dtype (float64 for integers),
    computed stably: each row's maximum is subtracted first (softmax does not change when the same number is
    subtracted from every logit), so ``exp`` never overflows."""
    z = np.asarray(logits)
    z = z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def probabilities(model: Any, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities (N, classes) float64 for raw or prepared images: reshaped to the model's input, scaled
    with ``to_model_input``, run in batches of ``batch_size`` (inference mode); softmax applied only when the last
    layer does not end in one (see :func:`ends_with_softmax`)."""
    import keras

    batch = to_batch(model, x)
    parts = [
        keras.ops.convert_to_numpy(model(batch[i : i + batch_size], training=False))
        for i in range(0, len(batch), batch_size)
    ]
    out = np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, *model.output_shape[1:]))
    return out if ends_with_softmax(model) else softmax(out)


__all__ = ["activation_name", "ends_with_softmax", "last_layer", "probabilities", "softmax", "to_batch"]
