"""Self-check of notebook 05's exercise 5.4 (debug): batch normalisation's forward pass for feature maps, in
training and in inference, compared with Keras' ``BatchNormalization``; each usual slip named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import (
    NO_RETURN,
    Feedback,
    as_array,
    call,
    right,
    wrong,
)

EPSILON = 1e-3  # Keras' default for BatchNormalization, and exercise 5.4's


def _bn_case() -> tuple[np.ndarray, ...]:
    """Exercise 5.4's case: 6 feature maps of 4 x 4 x 3 whose channels differ in mean and spread and whose positions
    differ too (so statistics per position are not those per channel), and per channel a learned scale (one of them
    negative), shift, moving mean and moving variance (one of them small, where epsilon's place shows)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 4, 4, 3)) * [1.0, 2.0, 0.15] + [0.5, -1.0, 2.0] + rng.normal(size=(1, 4, 4, 1))
    gamma, beta = np.array([1.5, 0.5, -1.0]), np.array([0.1, -0.2, 0.3])
    moving_mean, moving_var = np.array([0.4, -0.8, 1.9]), np.array([0.9, 3.5, 0.004])
    return tuple(a.astype("float32") for a in (x, gamma, beta, moving_mean, moving_var))


def _keras_bn(x: np.ndarray, weights: tuple[np.ndarray, ...], training: bool) -> np.ndarray:
    """What ``keras.layers.BatchNormalization(epsilon=EPSILON)`` with these weights outputs for ``x``."""
    layer = keras.layers.BatchNormalization(epsilon=EPSILON)
    layer.build(x.shape)
    layer.set_weights(list(weights))
    return np.asarray(keras.ops.convert_to_numpy(layer(x, training=training)), dtype=np.float64)


def _bn_mistakes(x: np.ndarray, weights: tuple[np.ndarray, ...], training: bool) -> list[tuple[np.ndarray, str]]:
    """The outputs of the usual mistakes in one mode, each with its hint."""
    gamma, beta, moving_mean, moving_var = (w.astype(np.float64) for w in weights)
    x = x.astype(np.float64)
    per_channel, per_position = (x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))), (x.mean(axis=0), x.var(axis=0))
    right = per_channel if training else (moving_mean, moving_var)

    def norm(stats: tuple[np.ndarray, np.ndarray], scale: np.ndarray = gamma, shift: np.ndarray = beta) -> np.ndarray:
        return scale * (x - stats[0]) / np.sqrt(stats[1] + EPSILON) + shift

    mistakes = [
        (
            norm(per_position),
            "statistics per pixel: mean(axis=0) averages each position and channel over the batch only, as for "
            "a dense layer's (N, units). On feature maps BatchNormalization keeps one mean and variance per "
            "channel, over the batch and every position: axis=(0, 1, 2).",
        ),
        (
            norm((x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2), ddof=1))),
            "Keras divides the batch's squared deviations by their number (np.var's default), not by that number − 1.",
        ),
        (
            gamma * (x - right[0]) / (np.sqrt(right[1]) + EPSILON) + beta,
            "epsilon goes inside the square root: (x − mean) / sqrt(var + epsilon).",
        ),
        (
            gamma * (x - right[0]) / (right[1] + EPSILON) + beta,
            "divide by the standard deviation, the square root of var + epsilon, not by the variance.",
        ),
        (norm(right, 1.0, 0.0), "after normalising, apply the learned scale and shift: gamma * x_hat + beta."),
    ]
    if training:
        mistakes.append(
            (
                norm((moving_mean, moving_var)),
                "in training (training=True) BatchNormalization normalises with the batch's own statistics; the "
                "moving averages are for inference.",
            )
        )
    else:
        mistakes += [
            (
                norm(stats),
                "at inference (training=False) BatchNormalization uses the moving averages gathered in training, "
                "moving_mean and moving_var, not the statistics of the batch it is given: with those, an image's "
                "output would depend on the other images of its batch.",
            )
            for stats in (per_channel, per_position)
        ]
    return mistakes


def batch_norm(function: Callable[..., Any]) -> Feedback:
    """Exercise 5.4 (debug): ``function(x, gamma, beta, moving_mean, moving_var, training=...)`` computes what
    ``keras.layers.BatchNormalization()`` outputs for feature maps ``x`` (N, height, width, channels), in training
    and in inference mode; checked against Keras on a batch of 6 maps of 4 x 4 x 3."""
    ex = "5.4"
    x, *weights = _bn_case()
    worst = 0.0
    for training in (True, False):
        mode = f"training={training}"
        answer = call(function, x.copy(), *(w.copy() for w in weights), training=training)
        if answer is None:
            return wrong(ex, NO_RETURN)
        got = as_array(answer)
        if got is None or got.dtype == object or got.shape != x.shape:
            shape = "no array" if got is None else f"shape {got.shape}"
            return wrong(ex, f"with {mode} your function returns {shape}; return the normalised maps, shaped like x.")
        got = got.astype(np.float64)
        want = _keras_bn(x, tuple(weights), training)
        if np.allclose(got, want, atol=1e-4):
            worst = max(worst, float(np.abs(got - want).max()))
            continue
        for output, hint in _bn_mistakes(x, tuple(weights), training):
            if np.allclose(got, output, atol=1e-4):
                return wrong(ex, f"with {mode}: {hint}")
        return wrong(
            ex,
            f"with {mode} your output differs from keras.layers.BatchNormalization's by up to "
            f"{np.abs(got - want).max():.3g}: (x − mean) / sqrt(var + epsilon) * gamma + beta, with the batch's "
            "statistics per channel in training and moving_mean, moving_var at inference.",
        )
    return right(
        ex,
        f"your batch_norm matches keras.layers.BatchNormalization in both modes (largest difference {worst:.1g}). In "
        f"training each channel is normalised over the batch and every position ({x.shape[0]} × {x.shape[1]} × "
        f"{x.shape[2]} = {x[..., 0].size} values per channel here); at inference by the moving averages, so an "
        "image's output no longer depends on the other images of its batch.",
    )


__all__ = ["EPSILON", "batch_norm"]
