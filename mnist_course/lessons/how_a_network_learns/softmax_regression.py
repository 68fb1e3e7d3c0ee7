"""Softmax regression written out in NumPy: cross-entropy, gradient descent and gradient checks (softmax and one-hot
are the toolkit's: :func:`mnist_course.predict.softmax`, :func:`mnist_course.data.one_hot`).

Notebook 03 writes the key lines (the gradient, the loop) in its own cells; this module holds the same ideas for what
reuses them: the learning-rate and batch-size comparisons, the exercises' checks and the unit tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mnist_course.data import NUM_CLASSES, one_hot
from mnist_course.predict import softmax


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``log(softmax(z))`` along the last axis, as ``z - max - log(sum(exp(z - max)))``: finite even where the
    probability itself underflows to 0."""
    z = np.asarray(logits)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(targets: np.ndarray, probabilities: np.ndarray) -> float:
    """The mean over examples of ``-sum_k y_k log p_k`` for target rows ``y`` (one-hot, or any distribution) and
    predicted probability rows ``p`` (N, classes). Raises on mismatched shapes."""
    y, p = np.asarray(targets), np.asarray(probabilities)
    if y.shape != p.shape or y.ndim != 2:
        raise ValueError(
            f"targets {y.shape} and probabilities {p.shape} must both be (N, classes): one-hot targets, "
            "e.g. np.eye(10)[labels]"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, y * np.log(p), 0.0)  # 0 * log 0 counts as 0, as in the definition
    return float(-terms.sum(axis=1).mean())


def cross_entropy_from_logits(targets: np.ndarray, logits: np.ndarray) -> float:
    """:func:`cross_entropy` of ``softmax(logits)``, computed through :func:`log_softmax` (no ``log(0)``)."""
    y, z = np.asarray(targets), np.asarray(logits)
    if y.shape != z.shape or y.ndim != 2:
        raise ValueError(f"targets {y.shape} and logits {z.shape} must both be (N, classes)")
    return float(-(y * log_softmax(z)).sum(axis=1).mean())


def softmax_regression_loss(x: np.ndarray, targets: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> float:
    """The mean cross-entropy of softmax regression, ``logits = x @ weights + bias``, on rows ``x`` (N, features)."""
    return cross_entropy_from_logits(targets, x @ weights + bias)


def accuracy(x: np.ndarray, labels: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> float:
    """The fraction of rows of ``x`` whose largest logit is at their label (labels as integers or one-hot rows)."""
    labels = np.asarray(labels)
    ids = labels.argmax(axis=1) if labels.ndim == 2 else labels
    return float(((x @ weights + bias).argmax(axis=1) == ids).mean())


def numerical_gradient(
    function: Callable[[], float],
    parameter: np.ndarray,
    eps: float = 1e-5,
    indices: list[tuple[int, ...]] | None = None,
) -> np.ndarray:
    """Central finite differences ``(f(w + eps) - f(w - eps)) / (2 eps)`` of ``function()`` (which reads
    ``parameter``) for every entry of ``parameter`` (or only those at ``indices``; the others stay 0). The entries
    are nudged in place and restored. Use float64 parameters: in float32 the differences drown in rounding."""
    if parameter.dtype != np.float64:
        raise TypeError(
            f"numerical_gradient() needs a float64 parameter, got {parameter.dtype}: pass "
            "parameter.astype('float64') (float32 rounding swamps the finite differences)"
        )
    grad = np.zeros_like(parameter)
    for index in np.ndindex(parameter.shape) if indices is None else indices:
        saved = parameter[index]
        parameter[index] = saved + eps
        up = function()
        parameter[index] = saved - eps
        down = function()
        parameter[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


@dataclass
class Descent:
    """What :func:`gradient_descent` returns: the final weights and bias, the loss of each step's batch (measured
    before that step's update), and, when validation data was given, ``(images processed, validation loss)`` pairs."""

    weights: np.ndarray
    bias: np.ndarray
    losses: list[float] = field(default_factory=list)
    checkpoints: list[tuple[int, float]] = field(default_factory=list)

    @property
    def steps(self) -> int:
        """How many updates were made."""
        return len(self.losses)


def gradient_descent(
    x: np.ndarray,
    targets: np.ndarray,
    *,
    learning_rate: float,
    batch_size: int = 128,
    epochs: float = 1.0,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    checkpoints: int = 0,
) -> Descent:
    """Mini-batch gradient descent for softmax regression from zero weights: each epoch visits the rows of ``x`` in
    a fresh order (``np.random.default_rng(seed)``), one update ``w -= learning_rate * gradient`` per batch of
    ``batch_size`` (the last batch of an epoch may be smaller). ``batch_size = len(x)`` is full-batch descent,
    ``1`` is stochastic descent. A fractional ``epochs`` stops after that share of the images. With
    ``validation=(x_val, y_val)`` and ``checkpoints=k``, the validation loss is measured at the start and after
    about every ``1/k`` of the images processed."""
    x = np.asarray(x, dtype=np.float32)
    targets = np.asarray(targets, dtype=np.float32)
    if targets.shape != (len(x), NUM_CLASSES):
        raise ValueError(
            f"targets must be one-hot rows ({len(x)}, {NUM_CLASSES}), got {targets.shape}: use one_hot(labels)"
        )
    if not 1 <= batch_size <= len(x) or epochs <= 0 or learning_rate <= 0:
        raise ValueError(
            f"need 1 <= batch_size <= {len(x)}, epochs > 0 and learning_rate > 0, got batch_size="
            f"{batch_size}, epochs={epochs}, learning_rate={learning_rate}"
        )
    rng = np.random.default_rng(seed)
    lr = np.float32(learning_rate)
    result = Descent(np.zeros((x.shape[1], NUM_CLASSES), np.float32), np.zeros(NUM_CLASSES, np.float32))
    total = int(round(epochs * len(x)))
    marks = [round(total * (i + 1) / checkpoints) for i in range(checkpoints)] if checkpoints else []

    def check(seen: int) -> None:
        if validation is not None:
            result.checkpoints.append((seen, softmax_regression_loss(*validation, result.weights, result.bias)))

    if checkpoints:
        check(0)
    seen = 0
    while seen < total:
        # Full batch: every step sees all rows, in any order. Otherwise a fresh order each epoch, a batch gathered
        # at a time (a shuffled copy of the whole array would double the memory).
        order = None if batch_size >= len(x) else rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            if seen >= total:
                break
            if order is None:
                xb, yb = x, targets
            else:
                rows = order[start : start + batch_size]
                xb, yb = x[rows], targets[rows]
            logits = xb @ result.weights + result.bias
            result.losses.append(cross_entropy_from_logits(yb, logits))
            delta = (softmax(logits) - yb) / np.float32(len(xb))
            result.weights -= lr * (xb.T @ delta)
            result.bias -= lr * delta.sum(axis=0)
            seen += len(xb)
            if marks and seen >= marks[0]:
                while marks and seen >= marks[0]:
                    marks.pop(0)
                check(seen)
    return result


__all__ = [
    "NUM_CLASSES",
    "Descent",
    "accuracy",
    "cross_entropy",
    "cross_entropy_from_logits",
    "gradient_descent",
    "log_softmax",
    "numerical_gradient",
    "one_hot",
    "softmax",
    "softmax_regression_loss",
]
