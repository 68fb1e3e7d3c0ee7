"""The self-checks of notebook 08: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mnist_course.draw import centre_of_mass, preprocess_steps, strokes_to_image
from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson08 as check

SEVEN = strokes_to_image([[(70, 50), (210, 50), (120, 240)]], size=280, width=18)


def centring_shift(image):
    row, col = centre_of_mass(image)
    return round(14 - row), round(14 - col)


def most_confused(counts):
    wrong = np.asarray(counts) * (1 - np.eye(len(counts), dtype=int))
    true, predicted = np.unravel_index(wrong.argmax(), wrong.shape)
    return int(true), int(predicted)


def crop_to_ink(image):
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 7.x: write your code here")


def test_the_reference_solutions_pass_also_on_the_notebooks_drawing_and_matrix():
    steps = preprocess_steps(SEVEN)
    counts = np.diag(np.full(10, 50))
    counts[2, 7] = counts[8, 3] = 3  # a tie: either cell is right
    for result, ex, phrase in [(check.centring_shift(centring_shift, steps), "7.1", "(14, 14)"),
                               (check.most_confused(most_confused, counts), "7.2", "Click that cell"),
                               (check.crop_to_ink(crop_to_ink, SEVEN), "7.3", "preprocess_steps")]:
        assert result.ok and result.exercise == ex and phrase in result.message, result
        assert result.raise_if_wrong() is result  # a check cell shows it
    assert check.most_confused(lambda c: (8, 3) if c[8, 3] == 3 else most_confused(c), counts).ok  # the other one


@pytest.mark.parametrize("run", [lambda: check.centring_shift(stub), lambda: check.most_confused(stub),
                                 lambda: check.crop_to_ink(stub)])
def test_an_unsolved_stub_raises_not_implemented(run):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run()


def _box_centre_shift(image):
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return round(14 - (rows[0] + rows[-1]) / 2), round(14 - (cols[0] + cols[-1]) / 2)


@pytest.mark.parametrize("answer, phrase", [
    (lambda image: tuple(-s for s in centring_shift(image)), "the sign is reversed"),
    (lambda image: centring_shift(image)[::-1], "rows and columns are swapped"),
    (lambda image: tuple(14 - c for c in centre_of_mass(image)), "round each shift"),
    (lambda image: tuple(np.round(14 - np.array(centre_of_mass(image)))), "np.round gives floats"),
    (lambda image: tuple(int(14 - c) for c in centre_of_mass(image)), "int() cuts towards zero"),
    (lambda image: tuple(round(13.5 - c) for c in centre_of_mass(image)), "not at the middle of the pixel grid"),
    (_box_centre_shift, "not its centre of mass"),
    (lambda image: 4, "return a pair (rows, columns)"),
    (lambda image: (0, 0), "round(14 - row), round(14 - column)"),
])
def test_centring_shift_mistakes_get_their_hint(answer, phrase):
    result = check.centring_shift(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()
    assert repr(result).startswith("❌ Exercise 8.1: not yet.")


def _fill_diagonal(counts):
    np.fill_diagonal(counts, 0)
    return most_confused(counts)


@pytest.mark.parametrize("answer, phrase", [
    (lambda counts: np.unravel_index(np.asarray(counts).argmax(), np.shape(counts)), "the diagonal holds"),
    (lambda counts: most_confused(counts)[::-1], "row and column are swapped"),
    (lambda counts: most_confused(np.asarray(counts) + np.asarray(counts).T), "one direction only"),
    (lambda counts: int((np.asarray(counts) * (1 - np.eye(10, dtype=int))).argmax()), "flat index"),
    (_fill_diagonal, "changed the matrix it was given"),
    (lambda counts: "4 -> 9", "return a pair of digits"),
    (lambda counts: (3, 5), "largest count off the diagonal"),
])
def test_most_confused_mistakes_get_their_hint(answer, phrase):
    result = check.most_confused(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def _ink(image):
    """(first, last) ink row and (first, last) ink column."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return (rows[0], rows[-1]), (cols[0], cols[-1])


@pytest.mark.parametrize("answer, phrase", [
    (lambda image: image[_ink(image)[0][0]:_ink(image)[0][1], _ink(image)[1][0]:_ink(image)[1][1]],
     "a slice's end is excluded"),
    (lambda image: image[_ink(image)[1][0]:_ink(image)[1][1] + 1, _ink(image)[0][0]:_ink(image)[0][1] + 1],
     "rows and columns are swapped"),
    (lambda image: image[_ink(image)[0][0]:_ink(image)[0][1] + 1], "only the rows are cropped"),
    (lambda image: image[slice(_ink(image > 128)[0][0], _ink(image > 128)[0][1] + 1),
                         slice(_ink(image > 128)[1][0], _ink(image > 128)[1][1] + 1)], "ink is every pixel > 0"),
    (lambda image: np.array([1, 9, 3, 10]), "not the box"),
    (lambda image: image, "keep the rows from the first to the last"),
])
def test_crop_to_ink_mistakes_get_their_hint(answer, phrase):
    result = check.crop_to_ink(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()
