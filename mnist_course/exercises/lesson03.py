"""Self-checks for the exercises of notebook 03 (how a network learns): predict the learning rates of a summed
loss, debug a descent loop; exercise 3.3's (backpropagation through a tanh layer) is in ``lesson03_backprop``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from mnist_course.data import load_mnist
from mnist_course.exercises.feedback import NO_RETURN, Feedback, as_array, call, commit, predicted, right, wrong
from mnist_course.exercises.lesson03_backprop import tanh_backprop
from mnist_course.lessons.how_a_network_learns.softmax_regression import (
    gradient_descent,
    one_hot,
    softmax,
    softmax_regression_loss,
)

RATES = (0.00001, 0.0001, 0.001, 0.01, 0.1, 1.0)  # exercise 3.1's learning rates, on the summed loss
PREDICT_IMAGES, PREDICT_STEPS = 2000, 20
DEBUG_IMAGES, DEBUG_STEPS, DEBUG_RATE = 2000, 30, 0.5


@lru_cache(maxsize=2)
def first_images(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` training images (uint8, read-only) and labels."""
    (x_train, y_train), _ = load_mnist()
    x, y = x_train[:n].copy(), y_train[:n].copy()
    x.flags.writeable = y.flags.writeable = False
    return x, y


@lru_cache(maxsize=1)
def summed_loss_experiment() -> dict[float, tuple[float, float, int]]:
    """Exercise 3.1's experiment: full-batch descent from zero weights on the *sum* of the cross-entropies of the
    first ``PREDICT_IMAGES`` training images (scaled to [0, 1]), ``PREDICT_STEPS`` steps, for each of :data:`RATES`.
    The loss reported is the mean over the images: ``{rate: (mean loss after the last step, highest mean loss on the
    way, how many steps raised it)}``."""
    x, y = first_images(PREDICT_IMAGES)
    xs, ys = x.reshape(len(x), -1).astype(np.float32) / 255, one_hot(y)
    out = {}
    for rate in RATES:
        weights, bias = np.zeros((xs.shape[1], 10), np.float32), np.zeros(10, np.float32)
        path = []
        for _ in range(PREDICT_STEPS):
            probabilities = softmax(xs @ weights + bias)
            path.append(softmax_regression_loss(xs, ys, weights, bias))
            delta = probabilities - ys  # the summed loss's gradient: no division by the number of images
            weights -= np.float32(rate) * (xs.T @ delta)
            bias -= np.float32(rate) * delta.sum(axis=0)
        path.append(softmax_regression_loss(xs, ys, weights, bias))
        out[rate] = (path[-1], max(path), sum(b > a for a, b in zip(path, path[1:])))
    return out


def _rate(value: Any) -> float | None:
    """``value`` as one of :data:`RATES`, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    return next((r for r in RATES if math.isclose(float(value), r)), None)


def _plain(rate: float) -> str:
    """A rate as a student writes it: 0.00001, not 1e-05; 2,000, not 2000."""
    return f"{rate:,g}" if rate >= 1 else np.format_float_positional(rate, trim="-")


def _loss(value: float) -> str:
    """A loss with three significant digits, large ones without an exponent: 0.603, 27.7, 1,247."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _on_mean(rate: float) -> str:
    """``rate`` on the summed loss as the rate that takes the same step on the mean loss."""
    return f"{_plain(rate * PREDICT_IMAGES)} on the mean"


def learning_rates(predict: Callable[[], Any]) -> Feedback:
    """Check ``predict()`` -> ``{"lowest": rate, "above_start": [rates]}`` against the summed-loss experiment it
    predicts. The point is for the first well-formed prediction checked (:func:`commit`), held or not; the message
    says why."""
    ex = "3.1"
    got = call(predict)
    if got is None:
        return wrong(ex, NO_RETURN)
    if not isinstance(got, Mapping) or set(got) != {"lowest", "above_start"}:
        return wrong(ex, 'return a dict with two keys, {"lowest": a rate, "above_start": [rates]}.')
    lowest, above = _rate(got["lowest"]), got["above_start"]
    if lowest is None:
        return wrong(
            ex, f'"lowest" must be one of the rates tried, {", ".join(map(str, RATES))}; got {got["lowest"]!r}.'
        )
    if not isinstance(above, (list, tuple, set, frozenset)) or not all(_rate(r) is not None for r in above):
        return wrong(ex, f'"above_start" is a list (maybe empty) of the rates tried, e.g. [0.1]; got {above!r}.')
    first, changed = commit(ex, {"lowest": lowest, "above_start": sorted({_rate(r) for r in above})})
    lowest, above = first["lowest"], set(first["above_start"])
    results = summed_loss_experiment()
    start = math.log(10)
    finals = {rate: final for rate, (final, _, _) in results.items()}
    best = min(finals, key=finals.get)
    worse = {rate for rate, final in finals.items() if final > start}
    notes = []

    def named(rate: float) -> str:
        return f"{_plain(rate)} ({_on_mean(rate)})"

    if lowest != best:
        final, peak, _ = results[lowest]
        notes.append(
            f'Your "lowest", {named(lowest)}, did not hold: with it the loss is still {final:.3f} after '
            f"{PREDICT_STEPS} steps (it started at log 10 = {start:.3f}): each step moves the weights only a little."
            if lowest < best
            else f'Your "lowest", {named(lowest)}, did not hold: with it the loss reaches {_loss(peak)} on the way '
            f"and ends at {_loss(final)}: the steps are so long that they jump across the valley instead of down "
            "into it."
        )
    for rate in sorted(worse - above):
        notes.append(
            f'Your "above_start" left out {named(rate)}, but it ends at {_loss(finals[rate])}, above the '
            f"{start:.3f} it started from: its steps overshoot so far that the loss shoots up, to "
            f"{_loss(results[rate][1])} at its highest, and after the last step it is still above where it started."
        )
    for rate in sorted(above - worse):
        notes.append(
            f'Your "above_start" has {named(rate)}, but it ends at {_loss(finals[rate])}, below the {start:.3f} it '
            "started from"
            + (
                f", although it jumped to {_loss(results[rate][1])} on the way: a rate can be too large (wild steps) "
                "without diverging for good."
                if results[rate][1] > start + 1e-3
                else ": it went downhill all the way."
            )
        )
    rises, peak = results[best][2], results[best][1]
    zigzag = (
        f"overshoots too (its loss went up at {rises} of the {PREDICT_STEPS} steps, to {_loss(peak)} at its highest) "
        f"but comes back down, and after the {PREDICT_STEPS} steps it is below the smaller rates, whose short steps "
        "have not got as far"
        if rises
        else "goes downhill at every step"
    )
    table = ", ".join(f"{_plain(rate)}: {_loss(final)}" for rate, final in finals.items())
    ends_above = ", ".join(_plain(rate) for rate in sorted(worse)) or "none"
    return predicted(
        ex,
        not notes,
        f"Mean loss after {PREDICT_STEPS} full-batch steps on the summed loss ({table}; start {start:.3f}): lowest "
        f"with {_plain(best)}, above the start with {ends_above}. {' '.join(notes)}{' ' if notes else ''}The sum of "
        f"{PREDICT_IMAGES:,} losses is {PREDICT_IMAGES:,} times their mean, so its gradient is {PREDICT_IMAGES:,} "
        f"times as large, and a step of η on the sum is the step {PREDICT_IMAGES:,}·η takes on the mean: these six "
        f"rates are {_on_mean(RATES[0]).split()[0]} to {_on_mean(RATES[-1])}, and the best, {_plain(best)}, is "
        f"{_on_mean(best)}. It {zigzag}. A sum's gradient grows with the number of images in it, so its rate has "
        "to shrink as the batch grows; Keras' losses average over the batch (their default reduction, "
        '"sum_over_batch_size"), which takes the batch size out of the length of a step.',
        changed,
    )


@lru_cache(maxsize=1)
def _reference_losses() -> tuple[float, float]:
    """The loop fixed by dividing the pixels by 255, on the debug images: its first and last loss."""
    x, y = first_images(DEBUG_IMAGES)
    xs, ys = x.reshape(len(x), -1).astype(np.float32) / 255, one_hot(y)
    run = gradient_descent(xs, ys, learning_rate=DEBUG_RATE, batch_size=len(xs), epochs=DEBUG_STEPS)
    return run.losses[0], run.losses[-1]


def _loop(
    x: np.ndarray, y: np.ndarray, learning_rate: float, steps: int, scale: float = 1.0, sign: float = 1.0
) -> list[float]:
    """Exercise 3.2's loop with the pixels divided by ``scale`` and each step multiplied by ``sign``: its losses."""
    xs, ys = x.reshape(len(x), -1).astype(np.float32) / np.float32(scale), one_hot(y)
    w, b = np.zeros((784, 10), np.float32), np.zeros(10, np.float32)
    losses = []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            p = softmax(xs @ w + b)
            losses.append(float(-(ys * np.log(p)).sum(axis=1).mean()))
            delta = (p - ys) / len(xs)
            w -= np.float32(sign * learning_rate) * (xs.T @ delta)
            b -= np.float32(sign * learning_rate) * delta.sum(axis=0)
    return losses


def broken_loop(x: np.ndarray, y: np.ndarray, learning_rate: float, steps: int) -> list[float]:
    """The losses of exercise 3.2's loop as given (pixels 0..255, naive ``-sum(Y * log P)``): it blows up."""
    return _loop(x, y, learning_rate, steps)


@lru_cache(maxsize=1)
def _mistaken_losses() -> dict[str, np.ndarray]:
    """The losses of the anticipated mistakes on the debug images: the loop as given, and with the step's sign
    flipped (pixels scaled)."""
    x, y = first_images(DEBUG_IMAGES)
    return {
        "given": np.array(_loop(x, y, DEBUG_RATE, DEBUG_STEPS)),
        "sign": np.array(_loop(x, y, DEBUG_RATE, DEBUG_STEPS, scale=255, sign=-1)),
    }


def descent_loop(train: Callable[..., Any]) -> Feedback:
    """Check the repaired ``train(x, y, learning_rate, steps)`` -> ``(W, b, losses)``: run it on the first
    ``DEBUG_IMAGES`` training images (uint8) and judge it by its own losses, which it measures on the inputs as it
    prepared them (pixels divided by 255, standardised, ...): any fix that lets ``learning_rate=0.5`` train passes."""
    ex = "3.2"
    x, y = first_images(DEBUG_IMAGES)
    got = call(train, x.copy(), y.copy(), learning_rate=DEBUG_RATE, steps=DEBUG_STEPS)
    if got is None:
        return wrong(ex, NO_RETURN)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return wrong(ex, "keep what the loop returns: W, b, losses.")
    w, b, losses = (as_array(v) for v in got)
    if w is None or b is None or losses is None or w.shape != (784, 10) or b.shape != (10,):
        return wrong(ex, "W must stay (784, 10) and b (10,): the fix is not in the shapes.")
    if losses.shape != (DEBUG_STEPS,):
        return wrong(ex, f"losses must hold one loss per step, {DEBUG_STEPS} of them; got shape {losses.shape}.")
    losses = losses.astype(np.float64)
    start, reference = _reference_losses()
    mistakes = _mistaken_losses()
    unscaled = (
        "with pixels from 0 to 255, X is 255 times what it is on notebook 02's [0, 1] scale, so the gradient "
        "is 255 times larger and one step changes the logits about 255 ** 2 = 65,025 times as much: a step "
        "of 0.5 jumps far past the minimum. Scale the pixels as 02 does."
    )
    if np.allclose(losses, mistakes["given"], rtol=1e-3, equal_nan=True) and np.isfinite(losses).any():
        return wrong(ex, "these are the losses of the loop as it was given: it still blows up. " + unscaled)
    sign = (
        "a descent step goes against the gradient, W -= learning_rate * gradient; yours goes up it, and the loss rises"
    )
    if np.allclose(losses, mistakes["sign"], rtol=1e-3, equal_nan=True):
        return wrong(ex, f"{sign}: from {losses[0]:.3f} to {losses[1]:.3f} after one step, and on.")
    finite = np.isfinite(losses)
    if not (finite[-1] and np.isfinite(w).all() and np.isfinite(b).all()):
        bad = int(np.flatnonzero(~finite)[0]) if not finite.all() else DEBUG_STEPS
        return wrong(
            ex,
            f"the loss is nan or inf from step {bad} on: the logits grew so large that softmax gives "
            "probabilities of exactly 0, and log(0) = -inf. The steps are too long for the size of the "
            "numbers in X: " + unscaled,
        )
    if not math.isclose(losses[0], start, abs_tol=1e-3):
        return wrong(
            ex,
            f"the first loss is {losses[0]:.3f}, but with W and b at zero every digit gets probability 1/10, so "
            f"the loss before the first step is log 10 = {start:.3f} whatever the inputs: keep the zero start "
            "and the loss as given (the mean over the images of -sum(Y * log P)).",
        )
    peak = float(np.nanmax(losses))
    if peak > 10 * start:
        return wrong(ex, f"the loss still climbs to {peak:.3g} (it starts at {losses[0]:.3f}): " + unscaled)
    if losses[-1] > losses[0]:
        return wrong(ex, f"{sign}, from {losses[0]:.3f} to {losses[-1]:.3f}.")
    rises = int(np.sum(np.diff(losses) > 1e-6))
    if losses[-1] > reference + 0.05:
        so_far = (
            f"the loss falls, but only to {losses[-1]:.3f} (the loop on pixels divided by 255 reaches "
            f"{reference:.3f} before the last of its {DEBUG_STEPS} steps)"
        )
        if rises:
            return wrong(
                ex,
                f"{so_far}, and it went up at {rises} of the steps, to {peak:.3g} at most: on your inputs a step "
                f"of learning_rate={DEBUG_RATE} is still too long and overshoots. How large are the numbers in X? "
                "On pixels in [0, 1], as in notebook 02, that rate works.",
            )
        return wrong(
            ex,
            f"{so_far}, smoothly: the steps are too short. Did you lower the learning rate, or shrink the pixels "
            f"below [0, 1]? The check passes learning_rate={DEBUG_RATE}: scale the pixels to [0, 1] and that "
            "rate works.",
        )
    further = ""
    if losses[-1] < reference - 0.05:
        further = (
            f", lower than the {reference:.3f} of the loop on pixels divided by 255: your inputs are not x / 255 "
            "(standardised, as in exercise 2.3?), and on them the same learning rate takes a different effective "
            "step, which gets further here"
        )
        if rises:
            further += f", though it overshot at first (the loss went up at {rises} of the steps, to {peak:.3g})"
    if not finite.all():
        further += (
            f". Your loss was nan at {int(np.sum(~finite))} of the steps: where a probability underflows to exactly "
            "0, the given loss computes 0 * log 0 = nan, while training goes on (a loss computed from the logits, "
            "as Keras' from_logits=True does, avoids it)"
        )
    return right(
        ex,
        f"the loss falls from {losses[0]:.3f} before the first step to {losses[-1]:.3f} before the last of "
        f"{DEBUG_STEPS} steps at learning rate "
        f"{DEBUG_RATE}{further}. The bug was the scale of the pixels: from 0 to 255, they make the gradient 255 "
        "times larger and each step change the logits about 255 ** 2 = 65,025 times as much as on the [0, 1] "
        "scale. Dividing by 255 scales every pixel alike; what it changes is the effective size of each step, "
        "which is why a learning rate suits only inputs of the scale it was chosen on.",
    )


__all__ = [
    "RATES",
    "broken_loop",
    "descent_loop",
    "first_images",
    "learning_rates",
    "summed_loss_experiment",
    "tanh_backprop",
]
