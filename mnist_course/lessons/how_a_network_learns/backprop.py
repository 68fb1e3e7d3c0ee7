"""Backpropagation through a stack of dense layers in NumPy: the chain rule layer by layer, and the gradient norm
of each layer at initialisation (why sigmoid stacks learn slowly and ReLU stacks do not)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mnist_course.lessons.how_a_network_learns.softmax_regression import log_softmax, softmax


def sigmoid(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))``, computed without overflow for large negative ``z``."""
    z = np.asarray(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)


def _sigmoid_derivative(z: np.ndarray) -> np.ndarray:
    s = sigmoid(z)
    return s * (1 - s)


def _tanh_derivative(z: np.ndarray) -> np.ndarray:
    return 1 - np.tanh(z) ** 2


def _relu_derivative(z: np.ndarray) -> np.ndarray:
    return (np.asarray(z) > 0).astype(np.asarray(z).dtype)


# name -> (activation f, its derivative f'); ReLU's derivative at exactly 0 is taken as 0, as TensorFlow does.
ACTIVATIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "sigmoid": (sigmoid, _sigmoid_derivative),
    "tanh": (np.tanh, _tanh_derivative),
    "relu": (_relu, _relu_derivative),
}


def _activation(name: str) -> tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}") from None


@dataclass
class Layer:
    """One dense layer, ``z = a @ weights + bias``."""

    weights: np.ndarray
    bias: np.ndarray


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Weights drawn uniformly from +-sqrt(6 / (fan_in + fan_out)), float64: Keras' default ``glorot_uniform``."""
    limit = np.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def dense_stack(sizes: Sequence[int], seed: int = 0) -> list[Layer]:
    """Layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with Glorot-uniform weights (seeded) and zero biases."""
    if len(sizes) < 2:
        raise ValueError(f"a stack needs at least an input and an output size, got {list(sizes)}")
    rng = np.random.default_rng(seed)
    return [Layer(glorot_uniform(a, b, rng), np.zeros(b)) for a, b in zip(sizes[:-1], sizes[1:])]


def stack_loss(x: np.ndarray, targets: np.ndarray, layers: Sequence[Layer], activation: str) -> float:
    """The mean cross-entropy of the stack: ``activation`` after every layer but the last, softmax after the last."""
    f, _ = _activation(activation)
    a = np.asarray(x)
    for layer in layers[:-1]:
        a = f(a @ layer.weights + layer.bias)
    logits = a @ layers[-1].weights + layers[-1].bias
    return float(-(targets * log_softmax(logits)).sum(axis=1).mean())


def stack_gradients(
    x: np.ndarray, targets: np.ndarray, layers: Sequence[Layer], activation: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(d loss / d weights, d loss / d bias)`` of every layer for :func:`stack_loss`, by the chain rule.

    Forward, keep each layer's input ``a`` and pre-activation ``z``. Backward, start from d loss / d logits =
    (P - Y) / N; for each layer, d W = a.T @ delta and d b = delta summed over the batch; the layer below gets
    delta @ W.T, multiplied entry by entry by f'(z) of its own pre-activation.
    """
    f, derivative = _activation(activation)
    inputs, pre = [], []
    a = np.asarray(x)
    for i, layer in enumerate(layers):
        inputs.append(a)
        z = a @ layer.weights + layer.bias
        pre.append(z)
        a = f(z) if i < len(layers) - 1 else z
    delta = (softmax(a) - targets) / len(x)
    grads: list[tuple[np.ndarray, np.ndarray]] = []
    for i in range(len(layers) - 1, -1, -1):
        grads.append((inputs[i].T @ delta, delta.sum(axis=0)))
        if i:
            delta = (delta @ layers[i].weights.T) * derivative(pre[i - 1])
    return grads[::-1]


def layer_gradient_norms(
    x: np.ndarray, targets: np.ndarray, activation: str, depth: int, width: int, seed: int = 0
) -> np.ndarray:
    """The norm of d loss / d weights of each of the ``depth`` hidden layers (first layer first) of a freshly
    initialised stack ``inputs -> depth x width (activation) -> classes (softmax)``, on the batch ``x``."""
    sizes = [x.shape[1], *([width] * depth), targets.shape[1]]
    grads = stack_gradients(np.asarray(x, np.float64), targets, dense_stack(sizes, seed), activation)
    return np.array([np.linalg.norm(dw) for dw, _ in grads[:depth]])


__all__ = [
    "ACTIVATIONS",
    "Layer",
    "dense_stack",
    "glorot_uniform",
    "layer_gradient_norms",
    "sigmoid",
    "stack_gradients",
    "stack_loss",
]
