"""Where the weights of a dense stack start: random, at Glorot's or He's scale or a fixed one, and how the spread of
the activations changes layer by layer under each (notebook 03)."""

from __future__ import annotations

import numpy as np

from mnist_course.lessons.how_a_network_learns.backprop import ACTIVATIONS

SCHEMES = ("glorot", "he")  # the named scales; a number is taken as the weights' standard deviation itself


def weight_std(scheme: str | float, fan_in: int, fan_out: int) -> float:
    """The standard deviation of a layer's starting weights: ``"glorot"`` sqrt(2 / (fan_in + fan_out)) (Keras'
    default), ``"he"`` sqrt(2 / fan_in) (for ReLU), or ``scheme`` itself when it is a positive number."""
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fan_in and fan_out count a layer's inputs and outputs: need >= 1, got {fan_in}, {fan_out}")
    if scheme == "glorot":
        return float(np.sqrt(2 / (fan_in + fan_out)))
    if scheme == "he":
        return float(np.sqrt(2 / fan_in))
    if isinstance(scheme, (int, float)) and not isinstance(scheme, bool) and scheme > 0:
        return float(scheme)
    raise ValueError(f"unknown scale {scheme!r}: use one of {', '.join(SCHEMES)} or a standard deviation > 0")


def init_weights(fan_in: int, fan_out: int, scheme: str | float, rng: np.random.Generator) -> np.ndarray:
    """Weights (fan_in, fan_out), float64, drawn uniformly from +-sqrt(3) * :func:`weight_std`: a uniform draw of
    that width has that standard deviation (``"glorot"`` is Keras' ``glorot_uniform``, ``"he"`` its ``he_uniform``)."""
    limit = np.sqrt(3) * weight_std(scheme, fan_in, fan_out)
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def activation_spreads(
    x: np.ndarray, activation: str, *, depth: int, width: int, scheme: str | float, seed: int = 0
) -> np.ndarray:
    """The standard deviation of the activations after each of ``depth`` hidden layers of ``width`` units (first
    layer first), for the rows of ``x`` sent through a freshly initialised stack (zero biases, no training)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
    if depth < 1 or width < 1:
        raise ValueError(f"need depth >= 1 and width >= 1, got depth={depth}, width={width}")
    f, _ = ACTIVATIONS[activation]
    rng = np.random.default_rng(seed)
    a = np.asarray(x, dtype=np.float64)
    spreads = []
    for _ in range(depth):
        a = f(a @ init_weights(a.shape[1], width, scheme, rng))
        spreads.append(float(a.std()))
    return np.array(spreads)


__all__ = ["SCHEMES", "activation_spreads", "init_weights", "weight_std"]
