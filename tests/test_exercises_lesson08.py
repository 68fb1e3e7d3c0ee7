"""The self-checks of notebook 08: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson08 as check
from mnist_course.lessons.playground import centre_of_mass, preprocess_steps, strokes_to_image

# 20 test digits: 4 taken for 9 three times, 9 taken for 4 once, 7 taken for 1 twice, the rest right.
Y_TRUE = np.array([4, 4, 4, 9, 7, 7, 0, 1, 2, 3, 5, 6, 8, 0, 1, 2, 3, 5, 6, 8])
Y_PRED = np.array([9, 9, 9, 4, 1, 1, 0, 1, 2, 3, 5, 6, 8, 0, 1, 2, 3, 5, 6, 8])
SEVEN = strokes_to_image([[(70, 50), (210, 50), (120, 240)]], size=280, width=18)


def centring_shift(image):
    row, col = centre_of_mass(image)
    return round(14 - row), round(14 - col)


def crop_to_ink(image):
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 8.x: write your code here")


def test_the_reference_solutions_pass_also_on_the_notebooks_drawing():
    steps = preprocess_steps(SEVEN)
    for result, ex, phrase in [
        (check.centring_shift(centring_shift, steps), "8.2", "(14, 14)"),
        (check.crop_to_ink(crop_to_ink, SEVEN), "8.3", "preprocess_steps"),
    ]:
        assert result.ok and result.exercise == ex and phrase in result.message, result
        assert result.raise_if_wrong() is result  # a check cell shows it


@pytest.mark.parametrize(
    "run",
    [
        lambda: check.centring_shift(stub),
        lambda: check.crop_to_ink(stub),
        lambda: check.predicted_confusion(stub, Y_TRUE, Y_PRED),
    ],
)
def test_an_unsolved_stub_raises_not_implemented(run):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run()


def _box_centre_shift(image):
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return round(14 - (rows[0] + rows[-1]) / 2), round(14 - (cols[0] + cols[-1]) / 2)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda image: tuple(-s for s in centring_shift(image)), "the sign is reversed"),
        (lambda image: centring_shift(image)[::-1], "rows and columns are swapped"),
        (lambda image: tuple(14 - c for c in centre_of_mass(image)), "round each shift"),
        (lambda image: tuple(np.round(14 - np.array(centre_of_mass(image)))), "np.round gives floats"),
        (lambda image: tuple(int(14 - c) for c in centre_of_mass(image)), "int() cuts towards zero"),
        (lambda image: tuple(round(13.5 - c) for c in centre_of_mass(image)), "not at the middle of the pixel grid"),
        (_box_centre_shift, "not its centre of mass"),
        (lambda image: 4, "return a pair (rows, columns)"),
        (lambda image: (0, 0), "round(14 - row), round(14 - column)"),
    ],
)
def test_centring_shift_mistakes_get_their_hint(answer, phrase):
    result = check.centring_shift(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()
    assert repr(result).startswith("❌ Exercise 8.2: not yet.")


def _ink(image):
    """(first, last) ink row and (first, last) ink column."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return (rows[0], rows[-1]), (cols[0], cols[-1])


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (
            lambda image: image[_ink(image)[0][0] : _ink(image)[0][1], _ink(image)[1][0] : _ink(image)[1][1]],
            "a slice's end is excluded",
        ),
        (
            lambda image: image[_ink(image)[1][0] : _ink(image)[1][1] + 1, _ink(image)[0][0] : _ink(image)[0][1] + 1],
            "rows and columns are swapped",
        ),
        (lambda image: image[_ink(image)[0][0] : _ink(image)[0][1] + 1], "only the rows are cropped"),
        (
            lambda image: image[
                slice(_ink(image > 128)[0][0], _ink(image > 128)[0][1] + 1),
                slice(_ink(image > 128)[1][0], _ink(image > 128)[1][1] + 1),
            ],
            "ink is every pixel > 0",
        ),
        (lambda image: np.array([1, 9, 3, 10]), "not the box"),
        (lambda image: image, "keep the rows from the first to the last"),
    ],
)
def test_crop_to_ink_mistakes_get_their_hint(answer, phrase):
    result = check.crop_to_ink(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


# Exercise 8.1 -------------------------------------------------------------------------------------------------------


def test_predicted_confusion_says_when_the_prediction_held():
    result = check.predicted_confusion(lambda: (4, 9), Y_TRUE, Y_PRED)
    assert result.ok and result.exercise == "8.1" and result.raise_if_wrong() is result
    assert (
        "your prediction held: 4 taken for 9 is the most frequent mistake in these 20 test digits, 3 times"
        in result.message
    )


def test_predicted_confusion_says_when_it_did_not_and_what_the_counts_were():
    result = check.predicted_confusion(lambda: (9, 4), Y_TRUE, Y_PRED)
    assert result.ok  # a prediction that did not hold is still a prediction: the point is the comparison
    assert "did not hold: 9 taken for 4 happened 1 time " in result.message
    assert (
        "(the other way round, 4 taken for 9, 3 times)" in result.message
        and "is 4 taken for 9, 3 times" in result.message
    )
    never = check.predicted_confusion(lambda: (3, 8), Y_TRUE, Y_PRED)
    assert never.ok and "3 taken for 8 happened 0 times, the most frequent" in never.message


def test_predicted_confusion_accepts_any_pair_of_a_tie():
    y_true, y_pred = np.array([2, 8, 1]), np.array([7, 3, 1])
    for pair in [(2, 7), (8, 3)]:
        assert "your prediction held" in check.predicted_confusion(lambda p=pair: p, y_true, y_pred).message


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ((4, 4), "a right answer, on the diagonal"),
        ((4, 10), "digits go from 0 to 9"),
        (4, "return a pair of digits"),
        ((4.0, 9.0), "return a pair of digits"),
        ("49", "return a pair of digits"),
        (None, "forget `return`"),
    ],
)
def test_predicted_confusion_malformed_answers_get_their_hint(answer, phrase):
    result = check.predicted_confusion(lambda: answer, Y_TRUE, Y_PRED)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()


# Exercise 8.4 -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def probe():
    """A small fixed model (28 x 28 x 1 -> 10 softmax, random weights and biases, no training) and 20 digit-like
    images on which it answers differently once inverted or left unscaled."""
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    rng = np.random.default_rng(2)
    weights, biases = rng.normal(0, 0.3, (784, 10)).astype("float32"), rng.normal(0, 2, 10).astype("float32")
    model.layers[-1].set_weights([weights, biases])
    digits = np.zeros((20, 28, 28), dtype=np.uint8)
    for i, digit in enumerate(digits):
        digit[4 + i % 5 : 20 + i % 5, 6 + i % 7 : 14 + i % 7] = rng.integers(80, 256, (16, 8), dtype=np.uint8)
    return model, digits


def classify(model, drawing):
    x = (255 - drawing).astype("float32") / 255
    return int(model.predict(x.reshape((1, *model.input_shape[1:])), verbose=0).argmax())


def the_broken_classifier(model, drawing):  # the exercise's snippet
    probs = model.predict(drawing / 255, verbose=0)
    return int(probs.argmax())


def _fed(transform):
    def answer(model, drawing):
        x = transform(drawing.astype("float32"))
        return int(model.predict(x.reshape((1, *model.input_shape[1:])), verbose=0).argmax())

    return answer


def test_classify_drawing_accepts_the_solution(probe):
    model, digits = probe
    result = check.classify_drawing(classify, model, digits)
    assert result.ok and result.exercise == "8.4" and "white ink (255) on black" in result.message, result
    assert result.raise_if_wrong() is result
    assert check.classify_drawing(_fed(lambda x: 1 - x / 255), model, digits).ok  # inverted after scaling


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (the_broken_classifier, "Keras refused the input"),
        (_fed(lambda x: x / 255), "invert the drawing first, 255 - drawing"),
        (_fed(lambda x: 255 - x), "scale them to [0, 1]"),
        (_fed(lambda x: x), "invert the drawing first"),  # neither inverted nor scaled: the first thing to fix
        (
            lambda model, drawing: model.predict((255 - drawing.reshape(1, 28, 28, 1)) / 255, verbose=0),
            "return one digit",
        ),
        (lambda model, drawing: "7", "return the digit as an int"),
        (lambda model, drawing: None, "forget `return`"),
        (_fed(lambda x: ((255 - x) / 255).T), "answers differ from the model's answers"),
    ],
)
def test_classify_drawing_mistakes_get_their_hint(answer, phrase, probe):
    model, digits = probe
    result = check.classify_drawing(answer, model, digits)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()


def test_classify_drawing_notices_a_changed_drawing(probe):
    model, digits = probe

    def in_place(model, drawing):
        drawing[:] = 255 - drawing
        return classify(model, 255 - drawing)

    result = check.classify_drawing(in_place, model, digits)
    assert not result.ok and "changed the drawing" in result.message


def test_classify_drawing_lets_the_stub_error_through(probe):
    with pytest.raises(NotImplementedError):
        check.classify_drawing(stub, *probe)
