"""Self-checks of notebook 04 that run what they check: exercises 4.1 and 4.5 (predict, then run)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import NO_RETURN, Feedback, call, commit, predicted, whole, wrong


def keras_params(sizes: Sequence[int]) -> int:
    """What Keras counts for a stack of ``Dense`` layers with these sizes (input size first)."""
    total = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layer = keras.layers.Dense(n_out)
        layer.build((None, n_in))
        total += layer.count_params()
    return total


def _count_mistakes(sizes: Sequence[int]) -> list[tuple[int, str]]:
    """Counts a usual slip gives for these sizes, each with its hint."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    weights = sum(a * b for a, b in pairs)
    return [
        (
            weights,
            "the biases are missing: every Dense layer also has one bias per output unit, so a layer has "
            "n_in × n_out + n_out parameters.",
        ),
        (
            weights + sum(a for a, _ in pairs),
            "the biases belong to the outputs: one bias per unit a layer computes (n_out), not one per input (n_in).",
        ),
        (weights + sum(sizes), "the input is not a layer and has no biases: count n_out biases per layer only."),
        (
            pairs[0][0] * pairs[0][1] + pairs[0][1],
            "that is the first layer only: add the output layer, "
            "n_in × n_out + n_out for every pair of neighbouring sizes.",
        ),
    ]


def _net(hidden: int) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _shape(value: Any) -> tuple[int, ...] | None:
    """``value`` as a shape tuple of whole numbers (a list or NumPy shape is fine), else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(whole(v) is not None for v in value):
        return None
    return tuple(int(v) for v in value)


def predict_then_run(function: Callable[[], Sequence[Any]]) -> Feedback:
    """Exercise 4.1: ``function()`` returns the predicted parameter counts of 784 → 100 → 10 and 784 → 200 → 10, and
    the shapes of ``predict`` on five images and of its ``argmax(axis=1)``; checked by building the networks and
    running them. The point is for the first well-formed prediction checked (:func:`commit`), held or not."""
    ex = "4.1"
    if not callable(function):
        raise TypeError("the check expects the function itself (`predictions`, without brackets)")
    answer = function()
    names = ("params_100", "params_200", "predict_shape", "argmax_shape")
    if not isinstance(answer, (tuple, list)) or len(answer) != 4:
        return wrong(ex, f"predictions() should return the four values: return {', '.join(names)}.")
    mine = [whole(v) for v in answer[:2]] + [_shape(v) for v in answer[2:]]
    for name, given, value in zip(names, answer, mine):
        if given is None and name.startswith("params"):
            return wrong(ex, f"write your prediction for {name[7:]} hidden units into {name}.")
        if value is None:
            what = "one whole number" if name.startswith("params") else "a tuple such as (3, 4)"
            return wrong(ex, f"{name} should be {what}; yours is {given!r:.40}.")
    mine, changed = commit(ex, tuple(mine))
    small = _net(100)
    probs = keras.ops.convert_to_numpy(small.predict_on_batch(np.random.default_rng(0).random((5, 784), "float32")))
    truth = (small.count_params(), _net(200).count_params(), probs.shape, probs.argmax(axis=1).shape)
    notes = []
    for hidden, count, true in ((100, mine[0], truth[0]), (200, mine[1], truth[1])):
        if count == true:
            continue
        hints = [hint for mistake, hint in _count_mistakes([784, hidden, 10]) if mistake == count]
        if hidden == 200 and count == 2 * truth[0]:
            hints = [
                f"not 2 × {truth[0]:,}: doubling the hidden units doubles both weight matrices and the hidden "
                "biases, but the output layer keeps its 10 biases."
            ]
        notes.append(
            f"params_{hidden}: you predicted {count:,}; Keras counts {true:,}: "
            + (hints[0] if hints else "a layer from n_in to n_out units has n_in × n_out + n_out parameters.")
        )
    if mine[2] != truth[2]:
        hint = (
            "predict keeps the batch axis: five images in, five rows out, each with 10 probabilities."
            if mine[2] == (10,)
            else "that is the shape after argmax: predict itself gives all 10 probabilities for each image."
            if mine[2] == (5,)
            else "one row per image, one column per digit."
        )
        notes.append(f"predict_shape: you predicted {mine[2]}; it returned {truth[2]}: {hint}")
    if mine[3] != truth[3]:
        notes.append(
            f"argmax_shape: you predicted {mine[3]}; it returned {truth[3]}: argmax(axis=1) takes the position of "
            "the largest of each row's 10 values and keeps one number per image."
        )
    missed = [name for name, guess, true in zip(names, mine, truth) if guess != true]
    kept = [name for name in names if name not in missed]
    verdict = f"Did not hold: {', '.join(missed)} (held: {', '.join(kept) or 'none'}). " if missed else "All four: "
    return predicted(
        ex,
        not missed,
        f"{verdict}Keras counts {truth[0]:,} and {truth[1]:,} parameters (not quite twice: the output layer's 10 "
        f"biases do not double), predict gave {truth[2]} and argmax {truth[3]}: the batch axis stays, one row of 10 "
        f"probabilities per image. {' '.join(notes)}".strip(),
        changed,
    )


GAP_AT = 2000  # the training-set size exercise 4.5 asks about (the lesson runs 250, 1,000 and 4,000 images)
HOLDS_WITHIN = 2.0  # points: a predicted gap holds when it lies this close to the measured mean gap


def predicted_gap(
    function: Callable[[], Any],
    train_and_score: Callable[[int, int], tuple[float, float]],
    seeds: Sequence[int],
    scores: Mapping[tuple[int, int], tuple[float, float]] | None = None,
) -> Feedback:
    """Exercise 4.5: ``function()`` returns the predicted gap, training minus validation accuracy in points, of the
    lesson's dense-512 trained on :data:`GAP_AT` images. The prediction is committed first (it earns the point, held
    or not), then measured with the lesson's ``train_and_score(n, seed) -> (training %, validation %)`` per seed;
    ``scores``, the lesson's table ``{(n, seed): (training %, validation %)}``, places the result among its sizes."""
    ex = "4.5"
    value = call(function)
    if value is None:
        return wrong(ex, NO_RETURN)
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not number or not math.isfinite(float(value)) or not 0 <= float(value) <= 100:
        return wrong(
            ex,
            "return one number of points between 0 and 100, e.g. 12.5 for a training accuracy 12.5 points above "
            f"the validation accuracy; yours: {value!r:.40}",
        )
    first, changed = commit(ex, float(value))
    runs = [train_and_score(GAP_AT, seed) for seed in seeds]
    gaps = [train - val for train, val in runs]
    mean = float(np.mean(gaps))
    held = abs(first - mean) <= HOLDS_WITHIN
    direction = "" if held else (" The gap is smaller than that." if first > mean else " The gap is larger than that.")
    message = (
        f"Trained on {GAP_AT:,} images, dense-512's gap is {mean:.1f} points, the mean of {len(gaps)} seeds "
        f"({', '.join(f'{g:.1f}' for g in gaps)}); you predicted {first:g}, "
        f"{'within' if held else 'more than'} {HOLDS_WITHIN:g} points of it.{direction} Training accuracy is "
        f"{np.mean([t for t, _ in runs]):.2f} % and validation accuracy {np.mean([v for _, v in runs]):.2f} %."
    )
    return predicted(ex, held, message + _among_the_lesson_sizes(mean, scores), changed)


def _among_the_lesson_sizes(mean: float, scores: Mapping[tuple[int, int], tuple[float, float]] | None) -> str:
    """Where the measured mean gap at GAP_AT lies among the lesson's own sizes (empty without them)."""
    if not scores:
        return ""
    by_size: dict[int, list[float]] = {}
    for (n, _), (train, val) in scores.items():
        by_size.setdefault(n, []).append(train - val)
    gap = {n: float(np.mean(v)) for n, v in by_size.items()}
    below = [n for n in gap if n < GAP_AT]
    above = [n for n in gap if n > GAP_AT]
    if below and above:
        low, high = max(below), min(above)
        inside = min(gap[low], gap[high]) <= mean <= max(gap[low], gap[high])
        return (
            f" The lesson's table has a gap of {gap[low]:.1f} points at {low:,} images and {gap[high]:.1f} at "
            f"{high:,}: at {GAP_AT:,} it lies {'between the two' if inside else 'outside them'}."
        )
    nearest = max(below) if below else min(above)
    side = "smaller" if mean < gap[nearest] else "larger"
    return (
        f" The lesson's table has a gap of {gap[nearest]:.1f} points at {nearest:,} images: at {GAP_AT:,} it is {side}."
    )


__all__ = ["GAP_AT", "keras_params", "predict_then_run", "predicted_gap"]
