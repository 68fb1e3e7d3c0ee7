"""Self-check of notebook 03's exercise 3.3 (build): the backward pass of a two-layer network with a tanh hidden
layer, for a batch, compared with finite differences; each usual slip named by the gradient it gets wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises.feedback import NO_RETURN, Feedback, as_array, call, right, wrong
from mnist_course.lessons.how_a_network_learns.backprop import dense_stack, stack_loss
from mnist_course.lessons.how_a_network_learns.softmax_regression import numerical_gradient, softmax


def _tanh_case(seed: int) -> tuple[np.ndarray, ...]:
    """A small batch for exercise 3.3: x (5, 4), one-hot y (5, 3), W1 (4, 3), b1 (3,), W2 (3, 3), b2 (3,)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, 4))
    y = np.eye(3)[rng.integers(0, 3, size=5)]
    layers = dense_stack([4, 3, 3], seed=seed)
    return (x, y, layers[0].weights * 2, rng.normal(0, 0.3, 3), layers[1].weights * 2, rng.normal(0, 0.3, 3))


def _numerical(x: np.ndarray, y: np.ndarray, *params: np.ndarray) -> list[np.ndarray]:
    """Finite-difference gradients of the tanh network's mean cross-entropy for each of ``params``."""
    layers = dense_stack([4, 3, 3])
    layers[0].weights, layers[0].bias, layers[1].weights, layers[1].bias = (p.copy() for p in params)
    targets = [layers[0].weights, layers[0].bias, layers[1].weights, layers[1].bias]
    return [numerical_gradient(lambda: stack_loss(x, y, layers, "tanh"), t) for t in targets]


def _variant(
    kind: str, x: np.ndarray, y: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
) -> list[np.ndarray]:
    """The gradients an anticipated mistake gives (``kind`` names it)."""
    z1 = x @ w1 + b1
    h = np.tanh(z1)
    p = softmax(h @ w2 + b2)
    d2 = (y - p if kind == "sign" else p - y) / (1 if kind == "sum" else len(x))
    dh = d2 @ w2.T
    d1 = {"no-derivative": dh, "sigmoid-derivative": dh * h * (1 - h), "z-derivative": dh * (1 - z1**2)}.get(
        kind, dh * (1 - h**2)
    )
    return [x.T @ d1, d1.sum(axis=0), h.T @ d2, d2.sum(axis=0)]


_HINTS = {
    "sum": "every gradient is N times too large: the loss is the mean over the N examples, so d loss / d logits is "
    "(P - Y) / N.",
    "sign": "every gradient has the wrong sign: d loss / d logits is P - Y, not Y - P.",
    "no-derivative": "dW2 and db2 are right, but dW1 and db1 are not: on the way back through tanh, multiply "
    "d loss / d h by tanh'(z1) = 1 - h ** 2, entry by entry.",
    "sigmoid-derivative": "dW1 and db1 use h * (1 - h), which is the derivative of the sigmoid; tanh's is 1 - h ** 2.",
    "z-derivative": "dW1 and db1 use 1 - z1 ** 2; the derivative of tanh at z1 is 1 - tanh(z1) ** 2 = 1 - h ** 2.",
}
_NAMES = ("dW1", "db1", "dW2", "db2")


def tanh_backprop(gradients: Callable[..., Any]) -> Feedback:
    """Check ``gradients(x, y, W1, b1, W2, b2)`` -> ``(dW1, db1, dW2, db2)`` against central finite differences."""
    ex = "3.3"
    for seed in (0, 1):
        case = _tanh_case(seed)
        got = call(gradients, *(a.copy() for a in case))
        if got is None:
            return wrong(ex, NO_RETURN)
        if not isinstance(got, (tuple, list)) or len(got) != 4:
            return wrong(ex, "return four arrays, in this order: dW1, db1, dW2, db2.")
        got = [as_array(g) for g in got]
        params = case[2:]
        for name, g, p in zip(_NAMES, got, params):
            if g is None or g.shape != p.shape:
                shape = None if g is None else g.shape
                extra = " (transposed?)" if g is not None and g.shape == p.shape[::-1] != p.shape else ""
                return wrong(
                    ex, f"{name} has shape {shape}{extra}; a gradient has the shape of its parameter, {p.shape}."
                )
        expected = _numerical(case[0], case[1], *params)
        if all(np.allclose(g, e, atol=1e-6) for g, e in zip(got, expected)):
            continue
        for kind, hint in _HINTS.items():
            variant = _variant(kind, *case)
            if all(np.allclose(g, v, atol=1e-8) for g, v in zip(got, variant)):
                return wrong(ex, hint)
        off = [name for name, g, e in zip(_NAMES, got, expected) if not np.allclose(g, e, atol=1e-6)]
        worst = max(float(np.abs(g - e).max()) for g, e in zip(got, expected))
        return wrong(
            ex,
            f"{', '.join(off)} {'differs' if len(off) == 1 else 'differ'} from finite differences by up to "
            f"{worst:.3g}. Go backwards one "
            "step at a time: delta2 = (P - Y) / N, dW2 = h.T @ delta2, then d loss / d h = delta2 @ "
            "W2.T, delta1 = that * (1 - h ** 2), dW1 = x.T @ delta1.",
        )
    return right(
        ex,
        "all four gradients agree with finite differences to 1e-6. The backward pass reuses what the "
        "forward pass computed (h, P), so all the gradients together cost a few matrix products, where "
        "finite differences need two forward passes per weight.",
    )


__all__ = ["tanh_backprop"]
