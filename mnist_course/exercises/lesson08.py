"""Self-checks for notebook 08 (the playground): a predicted mistake, the centring shift, thicker strokes, a drawing
classifier debugged.

The check of exercise 8.3, :func:`thicken`, lives in :mod:`mnist_course.exercises.lesson08_thicken`. The crop to the
ink, :func:`crop_to_ink` (:mod:`mnist_course.exercises.lesson08_crop`), was exercise 8.3 before; the grading guard's
tests still use it as their example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback
from mnist_course.exercises.lesson08_crop import crop_to_ink
from mnist_course.exercises.lesson08_thicken import thicken

# --- Exercise 8.2 ------------------------------------------------------------------------------------------------


def _mass_centre(image: np.ndarray) -> tuple[float, float]:
    image = np.asarray(image, dtype=np.float64)
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / image.sum()), float((cols * image).sum() / image.sum())


def _shift_cases() -> list[np.ndarray]:
    """28 x 28 images whose shifts tell the usual mistakes apart (signs, rounding, row/column order, box centre)."""
    seven = np.zeros((28, 28), dtype=np.uint8)
    seven[3:6, 2:15] = 255  # a heavy bar at the top left ...
    seven[6:12, 12:14] = 120  # ... and a thin, pale stem: the mass sits high up, far from the box's middle
    block = np.zeros((28, 28), dtype=np.uint8)
    block[17:24, 18:25] = 200  # low and to the right, heavier at the bottom: shifts (-6.9, -7.4), so
    block[24:26, 21:26] = 255  # cutting towards zero (int) and rounding differ
    return [seven, block]


def _is_pair_of_ints(answer: Any) -> bool:
    return (
        isinstance(answer, (tuple, list)) and len(answer) == 2 and all(isinstance(a, (int, np.integer)) for a in answer)
    )


def _shift_hint(answer: Any, image: np.ndarray) -> str:
    row, col = _mass_centre(image)
    exact = (14 - row, 14 - col)
    if not (isinstance(answer, (tuple, list, np.ndarray)) and len(answer) == 2):
        return "return a pair (rows, columns)."
    answer = tuple(answer)
    if answer == (round(row - 14), round(col - 14)):
        return (
            "the sign is reversed: the shift takes the centre of mass to 14, so it is 14 - row. A digit whose "
            "centre is too high (row < 14) moves down, a positive shift."
        )
    if answer == (round(exact[1]), round(exact[0])):
        return "rows and columns are swapped: centre_of_mass gives (row, column), and the shift is (rows, columns)."
    if not _is_pair_of_ints(answer):
        if all(isinstance(a, (float, np.floating)) and float(a).is_integer() for a in answer):
            return "whole pixels as int: np.round gives floats, Python's round() gives an int."
        return "the image moves by whole pixels: round each shift to the nearest int."
    if answer == tuple(int(e) for e in exact):
        return "int() cuts towards zero (-3.7 becomes -3): round to the nearest pixel with round()."
    if answer == (round(13.5 - row), round(13.5 - col)):
        return "aim at (14, 14), as MNIST did, not at the middle of the pixel grid (13.5)."
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    box = ((rows[0] + rows[-1]) / 2, (cols[0] + cols[-1]) / 2)
    if answer == (round(14 - box[0]), round(14 - box[1])):
        return (
            "that centres the ink's box, not its centre of mass: a 7 has most of its ink at the top, so its "
            "mass sits higher than the middle of its box."
        )
    return "the shift is (round(14 - row), round(14 - column)), with (row, column) the centre of mass."


def centring_shift(function: Callable[..., Any], steps: Any = None) -> Feedback:
    """Check ``function(image) -> (rows, columns)`` on images of its own and, if given, the notebook's
    ``preprocess_steps`` result (its 20 x 20 box pasted in the middle of 28 x 28)."""
    ex = "8.2"
    cases = _shift_cases()
    if steps is not None:
        middle = np.zeros((28, 28), dtype=np.uint8)
        middle[4:24, 4:24] = steps.box
        cases.append(middle)
    for image in cases:
        answer = feedback.call(function, image.copy())
        row, col = _mass_centre(image)
        if not (_is_pair_of_ints(answer) and tuple(answer) == (round(14 - row), round(14 - col))):
            return feedback.wrong(ex, _shift_hint(answer, image))
    return feedback.right(
        ex,
        "A whole-pixel shift moves the digit without blurring it, and brings its centre of "
        "mass within about half a pixel of (14, 14), near where MNIST's digits have theirs.",
    )


# --- Exercise 8.1 ------------------------------------------------------------------------------------------------

TOP = 5  # a prediction holds when its cell is among the five most frequent mistakes (ties share a rank)
TESTABLE = 0.9  # below this accuracy a model's mistakes show how little it trained, not which digits look alike


def _digit_pair(answer: Any) -> tuple[int, int] | None:
    if not _is_pair_of_ints(answer):
        return None
    return int(answer[0]), int(answer[1])


def _times(n: int) -> str:
    return f"{n} time{'' if n == 1 else 's'}"


def _pair_hint(answer: Any) -> str | None:
    """Why ``answer`` is not a prediction (None when it is one)."""
    if answer is None:
        return feedback.NO_RETURN
    pair = _digit_pair(answer)
    if pair is None:
        return "return a pair of digits (true, predicted), e.g. (2, 8) for 'a 2 taken for an 8'."
    true, pred = pair
    if not (0 <= true <= 9 and 0 <= pred <= 9):
        return "digits go from 0 to 9."
    if true == pred:
        return (
            f"({true}, {pred}) is a {true} read as a {pred}: a right answer, on the diagonal. "
            "Predict a mistake, two different digits."
        )
    return None


def judge_confusion(
    pair: tuple[int, int],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    split: str = "validation",
    changed: bool = False,
) -> Feedback:
    """The verdict on a committed prediction of the most frequent mistake ``pair`` (true, predicted), given the
    answers ``y_pred`` for digits labelled ``y_true`` (from the ``split`` set): it earns the point, and holds when its
    cell ranks among the :data:`TOP` most frequent mistakes. ``changed``: see :func:`feedback.predicted`."""
    ex = "8.1"
    true, pred = pair
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    where = f"these {len(y_true):,} {split} digits"
    accuracy = float(np.mean(y_true == y_pred))
    if accuracy < TESTABLE:
        common = int(np.bincount(y_pred, minlength=10).argmax())
        share = float(np.mean(y_pred == common))
        return Feedback(
            ex,
            True,
            f"prediction committed: {true} taken for {pred}. Not testable with this model: it reads only "
            f"{accuracy:.0%} of {where} and answers {common} for {share:.0%} of them, so its mistakes show how "
            "little it trained, not which digits look alike. Run the notebook in the student profile to test it.",
        )
    counts = np.zeros((10, 10), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    off = counts * (1 - np.eye(10, dtype=np.int64))
    mine = int(off[true, pred])
    rank = 1 + int(np.sum(off > mine))
    if not off.any():
        return feedback.right(ex, f"no mistake at all on {where}: nothing to confuse, so nothing to predict.")
    best = int(off.max())
    order = np.argsort(-off.ravel(), kind="stable")
    fifth = max(int(off.ravel()[order[TOP - 1]]), 1)  # the top five, ties included, never a cell of 0
    top = [(int(i) // 10, int(i) % 10) for i in order if off.ravel()[i] >= fifth]
    listed = ", ".join(f"{t} taken for {p} ({off[t, p]})" for t, p in top)
    said = (
        f"{true} taken for {pred} happened {_times(mine)}, rank {rank} of the 90 kinds of mistake"
        if mine
        else f"{true} taken for {pred} never happened"
    )
    noise = (
        f"Counts this small are noisy (a count of {best} varies by about √{best} ≈ {np.sqrt(best):.0f} on another "
        "sample of as many digits), so first place is a lottery; the top five is a more lenient test, though a pair "
        "near the fifth count could still go either way."
    )
    if mine > 0 and rank <= TOP:
        return feedback.predicted(ex, True, f"{said} on {where}. The most frequent: {listed}. {noise}", changed)
    reverse = f" (the other way round, {pred} taken for {true}: {_times(int(off[pred, true]))})"
    return feedback.predicted(
        ex,
        False,
        f"{said}{reverse} on {where}. The most frequent: {listed}. Open those cells of the matrix below: which "
        "strokes do their digits share?",
        changed,
    )


def predicted_confusion(
    function: Callable[[], Any], model: Any, images: np.ndarray, labels: np.ndarray, *, split: str = "validation"
) -> Feedback:
    """Check ``function() -> (true, predicted)``, a prediction of the model's most frequent mistake: the prediction is
    read and committed first (the first one checked counts, held or not), then the experiment runs (``model``
    answers ``images``, digits of the ``split`` set labelled ``labels``), then :func:`judge_confusion` compares."""
    ex = "8.1"
    answer = feedback.call(function)
    hint = _pair_hint(answer)
    if hint is not None:
        return feedback.wrong(ex, hint)
    pair = _digit_pair(answer)
    assert pair is not None
    first, changed = feedback.commit(ex, pair)
    return judge_confusion(first, labels, _answers(model, images), split=split, changed=changed)


# --- Exercise 8.4 ------------------------------------------------------------------------------------------------


def _answers(model: Any, images: np.ndarray) -> np.ndarray:
    from mnist_course.predict import probabilities

    return probabilities(model, images).argmax(axis=1)


def classify_drawing(function: Callable[..., Any], model: Any, digits: np.ndarray) -> Feedback:
    """Check ``function(model, drawing) -> int`` on ``digits`` (uint8 MNIST images) stored as a paint program stores
    black ink on white paper, ink 0 on 255 (255 - digit): its answers must be the model's for the digits themselves."""
    ex = "8.4"
    digits = np.asarray(digits)[:10]
    papers = (255 - digits).astype(np.uint8)
    expected = _answers(model, digits)
    got = []
    for paper in papers:
        given = paper.copy()
        try:
            answer = feedback.call(function, model, given)
        except ValueError:
            return feedback.wrong(
                ex,
                "Keras refused the input: a model takes a batch, shaped like its input "
                f"{(None, *model.input_shape[1:])}. Make one drawing a batch of one: "
                "x.reshape((1, *model.input_shape[1:])).",
            )
        if not np.array_equal(given, paper):
            return feedback.wrong(ex, "your function changed the drawing it was given: work on a new array.")
        if answer is None:
            return feedback.wrong(ex, feedback.NO_RETURN)
        if isinstance(answer, (np.ndarray, list, tuple)):
            return feedback.wrong(ex, "return one digit, the argmax of the probabilities, as an int.")
        if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
            return feedback.wrong(ex, f"return the digit as an int; yours is a {type(answer).__name__}.")
        got.append(int(answer))
    got_array = np.array(got)
    if np.array_equal(got_array, expected):
        return feedback.right(
            ex,
            "the model now gets the drawings as MNIST stores digits: ink high (255) on a background "
            "of 0 (the course's figures draw that as black ink on white), scaled to [0, 1], in a batch of one. "
            "A paint program or a scan stores the opposite, and the model answers without a word of complaint.",
        )
    if np.array_equal(got_array, _answers(model, papers)):
        return feedback.wrong(
            ex,
            "the answers are those for the paper's values, ink 0 on a background of 255: MNIST "
            "stores ink as 255 on a background of 0, so invert the drawing first, 255 - drawing.",
        )
    if np.array_equal(got_array, _answers(model, (255 - papers).astype(np.float32))):
        return feedback.wrong(ex, "the pixels reach the model as 0..255: scale them to [0, 1] as in training, / 255.")
    wrong_count = int(np.sum(got_array != expected))
    return feedback.wrong(
        ex,
        f"{wrong_count} of {len(digits)} answers differ from the model's answers for the same "
        "digits stored as MNIST stores them: invert, scale to [0, 1], reshape to a batch of one.",
    )


__all__ = [
    "TESTABLE",
    "TOP",
    "centring_shift",
    "classify_drawing",
    "crop_to_ink",
    "judge_confusion",
    "predicted_confusion",
    "thicken",
]
