"""Self-check of notebook 07's exercise 7.4 (predict, then run): where SGD with momentum 0.5 goes on the lesson's
valley, run with the rule the lesson checks against Keras."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback
from mnist_course.lessons.optimizers_and_losses.rules import SGD, Bowl

VALLEY = Bowl(a=1.0, b=20.0)  # the lesson's valley, f = (x² + 20 y²) / 2
START = (-4.0, 1.0)  # and its start
RATE, MOMENTUM, STEPS = 0.02, 0.5, 60  # the lesson's rate and steps, a momentum the lesson did not run
PARTS = {
    "x_crosses": "x passes its minimum 0 at least once (along the valley)",
    "y_crosses": "y passes its minimum 0 at least once (across the valley)",
    "closer_than_sgd": "after 60 steps x is closer to 0 than plain SGD's",
}


def _crossings(values: np.ndarray) -> int:
    """How many times a sequence changes sign (a step onto exactly 0 is no crossing)."""
    return int(np.sum(values[1:] * values[:-1] < 0))


def momentum_path(function: Callable[[], Any]) -> Feedback:
    """Exercise 7.4: ``function()`` returns a prediction ``{"x_crosses": bool, "y_crosses": bool, "closer_than_sgd":
    bool}`` of SGD with momentum 0.5 (η = 0.02, 60 steps) on the lesson's valley. The first well-formed prediction
    checked is committed (it earns the point, held or not); then the rule runs and the check says which parts held,
    and why: a direction of curvature c swings (overshoots) when η·c > (1 − √μ)²."""
    ex = "7.4"
    answer = feedback.call(function)
    if answer is None:
        return feedback.wrong(ex, feedback.NO_RETURN)
    if not isinstance(answer, dict):
        return feedback.wrong(
            ex, f"return a dict with the keys {', '.join(PARTS)}; yours is a {type(answer).__name__}."
        )
    missing, unknown = sorted(set(PARTS) - set(answer)), sorted(set(answer) - set(PARTS))
    if missing or unknown:
        said = f"missing {missing}" if missing else f"unknown keys {unknown}"
        return feedback.wrong(ex, f"return exactly the keys {', '.join(PARTS)} ({said}).")
    if not all(isinstance(answer[k], (bool, np.bool_)) for k in PARTS):
        return feedback.wrong(ex, "give each key True or False.")
    first, changed = feedback.commit(ex, {k: bool(answer[k]) for k in PARTS})
    start = np.array(START)
    path = SGD(RATE, momentum=MOMENTUM).descend(start, VALLEY.gradient, STEPS)
    plain = SGD(RATE).descend(start, VALLEY.gradient, STEPS)
    x_cross, y_cross = _crossings(path[:, 0]), _crossings(path[:, 1])
    truth = {
        "x_crosses": x_cross > 0,
        "y_crosses": y_cross > 0,
        "closer_than_sgd": abs(path[-1, 0]) < abs(plain[-1, 0]),
    }
    missed = [k for k in PARTS if first[k] != truth[k]]
    swing = (1 - math.sqrt(MOMENTUM)) ** 2

    def crosses(axis: str, count: int) -> str:
        return f"never crosses {axis} = 0" if count == 0 else f"crosses {axis} = 0 {count} time{'s' * (count > 1)}"

    ran = (
        f"With μ = {MOMENTUM:g}, in {STEPS} steps the path {crosses('y', y_cross)} and {crosses('x', x_cross)}, "
        f"and ends at x = {path[-1, 0]:+.3f} (plain SGD: {plain[-1, 0]:+.3f})."
    )
    why = (
        f" Momentum's path along a direction of curvature c swings past the minimum when η·c > (1 − √μ)², here "
        f"(1 − √{MOMENTUM:g})² = {swing:.3f}: across the valley η·{VALLEY.b:g} = {RATE * VALLEY.b:g}, above it, so y "
        f"swings; along it η·{VALLEY.a:g} = {RATE * VALLEY.a:g}, below it, so x does not (with μ = 0.9 the limit is "
        f"{(1 - math.sqrt(0.9)) ** 2:.4f}, which is why the lesson's path overshot in x too). Along the valley the "
        f"velocity still builds up towards η·g / (1 − μ), {1 / (1 - MOMENTUM):g} plain steps in one, so x gets "
        "nearer the minimum than plain SGD's."
    )
    if missed:
        said = "; ".join(f"you predicted {first[k]} for {k} ({PARTS[k]})" for k in missed)
        return feedback.predicted(ex, False, f"{ran} Did not hold: {said}.{why}", changed)
    return feedback.predicted(ex, True, f"{ran}{why}", changed)


__all__ = ["MOMENTUM", "momentum_path"]
