"""The self-checks of notebook 08: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson08 as check
from mnist_course.lessons.playground import centre_of_mass, preprocess_steps, strokes_to_image

SEVEN = strokes_to_image([[(70, 50), (210, 50), (120, 240)]], size=280, width=18)


def centring_shift(image):
    row, col = centre_of_mass(image)
    return round(14 - row), round(14 - col)


def thicken(image):
    """Each pixel the largest of its 3 x 3 neighbourhood, outside the image counting as 0, by explicit loops."""
    h, w = image.shape
    out = np.zeros_like(image)
    for r in range(h):
        for c in range(w):
            out[r, c] = image[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2].max()
    return out


def crop_to_ink(image):
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 8.x: write your code here")


def test_the_reference_solutions_pass_also_on_the_notebooks_drawing():
    steps = preprocess_steps(SEVEN)
    for result, ex, phrase in [
        (check.centring_shift(centring_shift, steps), "8.2", "(14, 14)"),
        (check.thicken(thicken, None, steps.final[None]), "8.3", "MaxPooling2D(3, strides=1, padding='same')"),
        (check.crop_to_ink(crop_to_ink, SEVEN), "8.3", "preprocess_steps"),
    ]:
        assert result.ok and result.exercise == ex and phrase in result.message, result
        assert result.raise_if_wrong() is result  # a check cell shows it


@pytest.mark.parametrize(
    "run",
    [
        lambda: check.centring_shift(stub),
        lambda: check.crop_to_ink(stub),
        lambda: check.thicken(stub),
        lambda: check.predicted_confusion(stub, None, None, None),  # the prediction is read before the model runs
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


@pytest.fixture(scope="module")
def pointer():
    """A fixed model that answers digit d for an image whose only ink is pixel (0, d), more surely the larger d
    is: Flatten, then Dense(10, softmax) with weight 20 + d from pixel (0, d) to digit d and 0 elsewhere."""
    import keras

    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    weights = np.zeros((784, 10), dtype="float32")
    for d in range(10):
        weights[d, d] = 20 + d
    model.layers[-1].set_weights([weights, np.zeros(10, dtype="float32")])
    return model


def pointing(answers):
    """Images the pointer model answers with ``answers``."""
    images = np.zeros((len(answers), 28, 28), dtype=np.uint8)
    images[np.arange(len(answers)), 0, answers] = 255
    return images


# 300 digits, 30 of each; 21 mistakes (93 % right): 4 taken for 9 six times, 7 for 1 four times, 9 for 4 and 5 for 3
# three times each, 8 for 3 and 2 for 7 twice each, 3 for 5 once.
MISTAKES = {(4, 9): 6, (7, 1): 4, (9, 4): 3, (5, 3): 3, (8, 3): 2, (2, 7): 2, (3, 5): 1}
Y_TRUE = np.repeat(np.arange(10), 30)
Y_PRED = Y_TRUE.copy()
for (_true, _pred), _n in MISTAKES.items():
    Y_PRED[np.flatnonzero(Y_TRUE == _true)[:_n]] = _pred


def test_the_pointer_model_answers_as_designed(pointer):
    assert np.array_equal(check._answers(pointer, pointing(Y_PRED)), Y_PRED)


def test_predicted_confusion_holds_for_the_most_frequent_mistake(pointer):
    result = check.predicted_confusion(lambda: (4, 9), pointer, pointing(Y_PRED), Y_TRUE)
    assert result.ok and result.exercise == "8.1" and result.raise_if_wrong() is result
    assert "prediction recorded; your prediction held. 4 taken for 9 happened 6 times, rank 1 of the 90 kinds of " in (
        result.message
    )
    assert "on these 300 validation digits" in result.message
    assert "(a count of 6 varies by about √6 ≈ 2 on another sample of as many digits)" in result.message


def test_predicted_confusion_holds_within_the_top_five_ties_included(pointer):
    result = check.predicted_confusion(lambda: (2, 7), pointer, pointing(Y_PRED), Y_TRUE)
    assert result.ok and "2 taken for 7 happened 2 times, rank 5 of the 90" in result.message
    assert (
        "The most frequent: 4 taken for 9 (6), 7 taken for 1 (4), 5 taken for 3 (3), 9 taken for 4 (3), "
        "2 taken for 7 (2), 8 taken for 3 (2)." in result.message
    )


@pytest.mark.parametrize(
    "pair, phrases",
    [
        (
            (3, 5),
            ["did not hold. 3 taken for 5 happened 1 time, rank 7", "(the other way round, 5 taken for 3: 3 times)"],
        ),
        ((0, 6), ["did not hold. 0 taken for 6 never happened", "(the other way round, 6 taken for 0: 0 times)"]),
    ],
)
def test_a_prediction_that_did_not_hold_earns_the_point_and_says_why(pair, phrases, pointer):
    """The point is for predicting before the model answers: a prediction that did not hold still earns it."""
    result = check.predicted_confusion(lambda: pair, pointer, pointing(Y_PRED), Y_TRUE)
    assert result.ok and all(phrase in result.message for phrase in phrases), result
    assert result.raise_if_wrong() is result and "which strokes do their digits share" in result.message


def test_the_first_prediction_checked_is_the_one_that_counts(pointer):
    """Checking, reading the ranking and predicting again: the first prediction is still the one judged."""
    first = check.predicted_confusion(lambda: (3, 5), pointer, pointing(Y_PRED), Y_TRUE)
    again = check.predicted_confusion(lambda: (4, 9), pointer, pointing(Y_PRED), Y_TRUE)
    assert "did not hold. 3 taken for 5 happened 1 time" in first.message and "first one" not in first.message
    assert "did not hold. 3 taken for 5 happened 1 time" in again.message
    assert "the first one, made before you saw the result, is the one checked" in again.message


def test_predicted_confusion_only_records_a_prediction_a_weak_model_cannot_test(pointer):
    y_pred = np.ones(300, dtype=int)  # a model that answers 1 to everything: 10 % right
    result = check.predicted_confusion(lambda: (4, 9), pointer, pointing(y_pred), Y_TRUE)
    assert result.ok and result.raise_if_wrong() is result
    assert result.message.startswith("prediction committed: 4 taken for 9. Not testable with this model")
    assert "it reads only 10% of these 300 validation digits and answers 1 for 100% of them" in result.message


def test_judge_confusion_names_the_split_and_a_flawless_model():
    y = np.arange(10).repeat(3)
    result = check.judge_confusion((4, 9), y, y, split="test")
    assert result.ok and "No mistake at all on these 30 test digits" in result.message


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
def test_predicted_confusion_malformed_answers_get_their_hint_before_the_model_runs(answer, phrase):
    result = check.predicted_confusion(lambda: answer, None, None, None)  # no model: it must not be needed
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()


# Exercise 8.3 -------------------------------------------------------------------------------------------------------

CORNER = np.array([[0, 0, 0, 200], [0, 90, 0, 0], [0, 0, 0, 0]], dtype=np.uint8)
# worked by hand: each pixel the largest of its 3 x 3 neighbourhood, outside 0
CORNER_THICK = np.array([[90, 90, 200, 200], [90, 90, 200, 200], [90, 90, 90, 0]], dtype=np.uint8)


def test_the_keras_reference_and_the_solution_agree_with_a_worked_example():
    from mnist_course.exercises.lesson08_thicken import reference

    assert np.array_equal(reference(CORNER), CORNER_THICK) and reference(CORNER).dtype == np.uint8
    assert np.array_equal(thicken(CORNER), CORNER_THICK)
    assert np.array_equal(reference(np.stack([CORNER, CORNER])), np.stack([CORNER_THICK, CORNER_THICK]))


def test_thicken_measures_the_model_on_thickened_digits(pointer):
    # 4 nines and 6 threes; thickened, the pointer model reads pixel d + 1 (more weight), so a 3 turns into a 4 once
    # and a 5 twice, while a 9 (pixels 8 and 9 inked) stays a 9
    labels = np.array([9, 3, 3, 9, 3, 3, 9, 3, 3, 9])
    result = check.thicken(thicken, pointer, pointing(labels), labels)
    assert result.ok and result.exercise == "8.3" and result.raise_if_wrong() is result
    assert (
        "The model reads 100.0 % of 10 validation digits as they are, 40.0 % thickened once and 40.0 % twice"
        in result.message
    )
    # paired on the same ten digits: the six threes are right only as they are; exact p = 2 / 2**6 = 0.03125
    assert (
        "it reads 6 right as they are but not thickened once, and 0 the other way round: McNemar's exact p = 0.031 "
        "(as they are right more often on these images)" in result.message
    )


def _padded(image):
    return np.pad(image, 1)


def _rolled(image):
    return np.max([np.roll(image, (r, c), axis=(0, 1)) for r in (-1, 0, 1) for c in (-1, 0, 1)], axis=0)


def _plus(image):
    p = np.pad(image, 1)
    h, w = image.shape
    return np.max([p[1:-1, 1:-1], p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]], axis=0)


def _down_right(image):
    p = np.pad(image, ((0, 1), (0, 1)))
    return np.max([p[:-1, :-1], p[1:, :-1], p[:-1, 1:], p[1:, 1:]], axis=0)


def _five(image):
    p = np.pad(image, 2)
    h, w = image.shape
    return np.max([p[r : r + h, c : c + w] for r in range(5) for c in range(5)], axis=0)


def _valid(image):
    h, w = image.shape
    return np.max([image[r : r + h - 2, c : c + w - 2] for r in range(3) for c in range(3)], axis=0)


def _summed(image):
    p = np.pad(image.astype(np.int64), 1)
    h, w = image.shape
    return sum(p[r : r + h, c : c + w] for r in range(3) for c in range(3))


def _in_place(image):
    image[:] = thicken(image)
    return image


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (_rolled, "np.roll wraps"),
        (_plus, "the diagonal neighbours count too"),
        (_down_right, "centre the neighbourhood on the pixel"),
        (_five, "not 5 x 5"),
        (_valid, "lost a pixel on each side"),
        (_padded, "the padded size"),
        (lambda image: image[:2], "keep the image's shape"),
        (lambda image: thicken(image).astype(np.float64), "return uint8 like the input"),
        (_summed, "not a sum"),
        (lambda image: image.copy(), "the largest value among itself and its 8 neighbours"),
        (_in_place, "changed the image it was given"),
        (lambda image: None, "forget `return`"),
        (lambda image: "thick", "as one NumPy array"),
    ],
)
def test_thicken_mistakes_get_their_hint(answer, phrase):
    result = check.thicken(answer)
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
    assert result.ok and result.exercise == "8.4" and "ink high (255) on a background of 0" in result.message, result
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
