"""Numbers behind notebook 06's pictures: how smooth the learnt kernels are, and what a batch normalisation placed
after a pooling learnt.

A kernel that detects an edge or a stroke is smooth: neighbouring weights are alike, so their correlation is high.
A random kernel's neighbours are unrelated (correlation near 0). :func:`neighbour_correlation` measures it and
:func:`chance_level` gives the level that random kernels of the same size rarely pass. :func:`pool_norm_order`
measures, for a convolution -> max pooling -> batch normalisation -> ReLU block, which statistics the batch
normalisation learnt and whether the other order would give the same maps with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mnist_course.lessons.what_the_cnn_sees.features import intermediate_model
from mnist_course.predict import to_batch


def neighbour_correlation(kernels: np.ndarray) -> np.ndarray:
    """One number per (height, width) kernel of ``kernels`` (k, height, width): the correlation between each weight
    and its right and lower neighbours, pooled. +1: a smooth ramp; about 0: noise; -1: a checkerboard."""
    kernels = np.asarray(kernels, dtype=np.float64)
    if kernels.ndim != 3 or min(kernels.shape[1:]) < 2:
        raise ValueError(f"expected kernels shaped (k, height, width) with height, width >= 2, got {kernels.shape}")
    out = np.empty(len(kernels))
    for i, kernel in enumerate(kernels):
        first = np.concatenate([kernel[:, :-1].ravel(), kernel[:-1, :].ravel()])
        second = np.concatenate([kernel[:, 1:].ravel(), kernel[1:, :].ravel()])
        a, b = first - first.mean(), second - second.mean()
        scale = np.sqrt((a * a).sum() * (b * b).sum())
        out[i] = (a * b).sum() / scale if scale > 0 else 0.0
    return out


def chance_level(shape: tuple[int, int], *, quantile: float = 0.95, draws: int = 2000, seed: int = 0) -> float:
    """The ``quantile`` of :func:`neighbour_correlation` over ``draws`` random kernels of ``shape`` (uniform weights,
    as Keras' default initialiser draws them): a learnt kernel above it is smoother than most random ones."""
    random = np.random.default_rng(seed).uniform(-1.0, 1.0, (draws, *shape))
    return float(np.quantile(neighbour_correlation(random), quantile))


@dataclass(frozen=True)
class PoolNormOrder:
    """What the batch normalisation of a convolution -> max pooling -> batch norm -> ReLU block learnt (means over
    the images, positions and channels) and whether the other order gives the same maps with the same numbers."""

    names: tuple[str, str, str, str]
    channels: int
    negative_scales: int
    mean_full: float
    mean_pooled: float
    running_mean: float
    same_at_inference: bool


def _block(model: Any) -> tuple[Any, Any, Any, Any] | None:
    kinds = ("Conv2D", "MaxPooling2D", "BatchNormalization", "ReLU")
    layers = list(model.layers)
    for i in range(len(layers) - 3):
        if tuple(type(layer).__name__ for layer in layers[i : i + 4]) == kinds:
            return layers[i], layers[i + 1], layers[i + 2], layers[i + 3]
    return None


def pool_norm_order(model: Any, images: np.ndarray) -> PoolNormOrder | None:
    """Measure the model's first convolution -> max pooling -> batch norm -> ReLU block on ``images`` (uint8 or
    scaled): the mean of the convolution's maps before and after the pooling, the running mean the batch
    normalisation learnt in training, how many channels have a negative scale (gamma), and whether ReLU(BN(pool(x)))
    equals pool(ReLU(BN(x))) at inference with the trained numbers. ``None`` when the model has no such block."""
    import keras

    block = _block(model)
    if block is None:
        return None
    conv, pool, norm, relu = block
    x = to_batch(model, images)
    full = intermediate_model(model, [conv.name])(x, training=False)
    pooled = pool(full)
    this_order = relu(norm(pooled, training=False))
    other_order = pool(relu(norm(full, training=False)))
    gamma, _, running_mean, _ = norm.get_weights()
    as_array = keras.ops.convert_to_numpy
    return PoolNormOrder(
        names=(conv.name, pool.name, norm.name, relu.name),
        channels=int(len(gamma)),
        negative_scales=int(np.sum(gamma < 0)),
        mean_full=float(np.mean(as_array(full))),
        mean_pooled=float(np.mean(as_array(pooled))),
        running_mean=float(np.mean(running_mean)),
        same_at_inference=bool(np.allclose(as_array(this_order), as_array(other_order), atol=1e-5)),
    )


__all__ = ["PoolNormOrder", "chance_level", "neighbour_correlation", "pool_norm_order"]
