"""The optimizers of notebook 07 as update rules: a few lines of NumPy each, step for step what Keras 3 computes.

Each optimizer is a small object holding its state (velocity, running averages, step count) for one weight array;
``step(w, g)`` returns the new weights for the gradient ``g``, and ``rule`` is the update rule itself, a few lines
(:func:`rule_source` shows them). The rules follow ``keras.optimizers`` exactly, with
Keras' defaults (``tests/test_optimizers.py`` runs them side by side to 1e-6):

=========  ===========================================================================================
SGD        ``w ← w − η·g``
momentum   ``v ← μ·v − η·g``, ``w ← w + v`` (the velocity *is* the step; Nesterov: ``w ← w + μ·v − η·g``)
RMSprop    ``s ← ρ·s + (1 − ρ)·g²``, ``w ← w − η·g / √(s + ε)``
Adagrad    ``a ← a + g²`` (``a`` starts at 0.1), ``w ← w − η·g / √(a + ε)``
Adam       ``m ← β₁·m + (1 − β₁)·g``, ``v ← β₂·v + (1 − β₂)·g²``, ``η_t = η·√(1 − β₂ᵗ) / (1 − β₁ᵗ)``,
           ``w ← w − η_t·m / (√v + ε)``
AdamW      ``w ← w − η·λ·w`` first (decoupled weight decay), then the Adam step
=========  ===========================================================================================
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


class Optimizer:
    """An update rule with its state for one weight array: ``step(w, g)`` returns the new weights."""

    def __init__(self, learning_rate: float) -> None:
        if learning_rate <= 0:
            raise ValueError(f"learning_rate={learning_rate!r}: it must be > 0")
        self.learning_rate = float(learning_rate)
        self.t = 0  # steps taken so far

    def step(self, w: Array, g: Array) -> Array:
        """The weights after one update with gradient ``g``: counts the step ``t`` (from 1), creates the state on
        the first step, then applies :meth:`rule`."""
        if self.t == 0:
            self.start(np.asarray(w, dtype=np.float64))
        self.t += 1
        return self.rule(w, g)

    def start(self, w: Array) -> None:
        """Create the optimizer's state (running averages, velocity) for weights shaped like ``w``."""

    def rule(self, w: Array, g: Array) -> Array:
        """The update rule itself: the new weights from ``w``, the gradient ``g`` and the state."""
        raise NotImplementedError

    def run(self, w: Array, gradients: Iterable[Array]) -> list[Array]:
        """The weights after each of the given gradients, starting from ``w`` (float64 copies)."""
        w, out = np.array(w, dtype=np.float64), []
        for g in gradients:
            w = self.step(w, np.asarray(g, dtype=np.float64))
            out.append(w.copy())
        return out

    def descend(self, w: Array, gradient: Callable[[Array], Array], steps: int) -> Array:
        """The path of ``steps`` updates on a loss whose gradient at ``w`` is ``gradient(w)``: shape (steps + 1, n)."""
        path = [np.array(w, dtype=np.float64)]
        for _ in range(steps):
            path.append(self.step(path[-1], np.asarray(gradient(path[-1]), dtype=np.float64)))
        return np.array(path)


class SGD(Optimizer):
    """Keras' ``SGD``: plain gradient descent, or with momentum ``μ`` (velocity ``v``), optionally Nesterov's."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(learning_rate)
        self.momentum, self.nesterov = float(momentum), nesterov

    def start(self, w: Array) -> None:
        """The velocity starts at 0."""
        self.v = np.zeros_like(w)

    def rule(self, w: Array, g: Array) -> Array:
        """``w − η·g``; with momentum ``v ← μ·v − η·g`` then ``w + v`` (Nesterov: ``w + μ·v − η·g``)."""
        if self.momentum == 0:
            return w - self.learning_rate * g
        self.v = self.momentum * self.v - self.learning_rate * g  # the velocity is the step, minus sign included
        if self.nesterov:
            return w + self.momentum * self.v - self.learning_rate * g  # a look one velocity further ahead
        return w + self.v


class RMSprop(Optimizer):
    """Keras' ``RMSprop`` (``centered=False``, no momentum): the step divided by the root of a running mean of g²."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7) -> None:
        super().__init__(learning_rate)
        self.rho, self.epsilon = rho, epsilon

    def start(self, w: Array) -> None:
        """The running mean of g² starts at 0."""
        self.s = np.zeros_like(w)

    def rule(self, w: Array, g: Array) -> Array:
        """``s ← ρ·s + (1 − ρ)·g²``, then ``w − η·g / √(s + ε)`` (ε inside the root, as in Keras)."""
        self.s = self.rho * self.s + (1 - self.rho) * g**2
        return w - self.learning_rate * g / np.sqrt(self.s + self.epsilon)


class Adagrad(Optimizer):
    """Keras' ``Adagrad``: the step divided by the root of the *sum* of all past g² (starting at 0.1)."""

    def __init__(
        self, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7
    ) -> None:
        super().__init__(learning_rate)
        self.initial, self.epsilon = initial_accumulator_value, epsilon

    def start(self, w: Array) -> None:
        """The sum of g² starts at ``initial_accumulator_value`` (Keras: 0.1)."""
        self.a = np.full_like(w, self.initial)

    def rule(self, w: Array, g: Array) -> Array:
        """``a ← a + g²``, then ``w − η·g / √(a + ε)``: ``a`` only grows, so the steps only shrink."""
        self.a = self.a + g**2
        return w - self.learning_rate * g / np.sqrt(self.a + self.epsilon)


class Adam(Optimizer):
    """Keras' ``Adam``: running means of g (momentum) and g² (RMSprop), corrected for starting at zero."""

    def __init__(
        self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7
    ) -> None:
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def start(self, w: Array) -> None:
        """Both running means start at 0 (hence the bias correction)."""
        self.m, self.v = np.zeros_like(w), np.zeros_like(w)

    def rule(self, w: Array, g: Array) -> Array:
        """``m``, ``v`` updated, bias correction folded into ``η_t``, then ``w − η_t·m / (√v + ε)``."""
        self.m = self.beta_1 * self.m + (1 - self.beta_1) * g
        self.v = self.beta_2 * self.v + (1 - self.beta_2) * g**2
        lr_t = self.learning_rate * np.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        return w - lr_t * self.m / (np.sqrt(self.v) + self.epsilon)


class AdamW(Adam):
    """Keras' ``AdamW``: each step first shrinks the weights by ``η·λ`` (decoupled weight decay), then steps as Adam."""

    def __init__(
        self,
        learning_rate: float = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon)
        self.weight_decay = weight_decay

    def rule(self, w: Array, g: Array) -> Array:
        """``w ← w − η·λ·w`` (the gradient is not involved), then the Adam step with ``g``."""
        w = w - self.learning_rate * self.weight_decay * w
        return super().rule(w, g)


def rule_source(optimizer: type[Optimizer]) -> str:
    """The code of ``optimizer.rule`` without its ``def`` line and docstring: the update rule exactly as it runs."""
    lines = textwrap.dedent(inspect.getsource(optimizer.rule)).splitlines()
    body = textwrap.dedent("\n".join(lines[1:])).splitlines()
    if body and body[0].startswith('"""'):
        body = body[1:]
    return "\n".join(body)


RULES: dict[str, type[Optimizer]] = {"SGD": SGD, "RMSprop": RMSprop, "Adagrad": Adagrad, "Adam": Adam, "AdamW": AdamW}


@dataclass(frozen=True)
class Bowl:
    """An elongated quadratic bowl ``f(x, y) = (a·x² + b·y²) / 2``, minimum 0 at the origin: ``b > a`` makes it
    steep across (y) and flat along (x), like a loss whose weights have gradients of very different sizes."""

    a: float = 1.0
    b: float = 20.0

    def loss(self, w: Array) -> Array:
        """``f`` at ``w`` (the last axis holds x and y, so a grid of points works too)."""
        w = np.asarray(w, dtype=np.float64)
        return 0.5 * (self.a * w[..., 0] ** 2 + self.b * w[..., 1] ** 2)

    def gradient(self, w: Array) -> Array:
        """``∇f = (a·x, b·y)``."""
        w = np.asarray(w, dtype=np.float64)
        return np.array([self.a * w[0], self.b * w[1]])


@dataclass(frozen=True)
class RotatedBowl(Bowl):
    """The same bowl turned by ``angle`` degrees (anticlockwise): the valley now runs diagonally, so neither weight
    alone is the steep one, and a rule that scales each weight's step separately loses its advantage."""

    angle: float = 45.0

    def _turn(self) -> tuple[float, float]:
        radians = np.deg2rad(self.angle)
        return float(np.cos(radians)), float(np.sin(radians))

    def loss(self, w: Array) -> Array:
        """``f`` at ``w``: the bowl's ``(a·u² + b·v²) / 2`` of the coordinates ``u, v`` along and across the valley."""
        w = np.asarray(w, dtype=np.float64)
        c, s = self._turn()
        u, v = c * w[..., 0] + s * w[..., 1], -s * w[..., 0] + c * w[..., 1]
        return 0.5 * (self.a * u**2 + self.b * v**2)

    def gradient(self, w: Array) -> Array:
        """``∇f = (a·u·cos − b·v·sin, a·u·sin + b·v·cos)`` (the chain rule through the turn)."""
        w = np.asarray(w, dtype=np.float64)
        c, s = self._turn()
        u, v = c * w[0] + s * w[1], -s * w[0] + c * w[1]
        return np.array([self.a * u * c - self.b * v * s, self.a * u * s + self.b * v * c])


__all__ = ["Adagrad", "Adam", "AdamW", "Bowl", "Optimizer", "RMSprop", "RULES", "RotatedBowl", "SGD", "rule_source"]
