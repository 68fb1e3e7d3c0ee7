"""The self-checks of notebook 06: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson06 as check
from mnist_course.exercises.feedback import forget_predictions
from mnist_course.lessons.what_the_cnn_sees.features import class_score
from mnist_course.predict import probabilities

# Exercise 6.1 worked out by hand: max pooling moves past an increasing function (sigmoid) only, average pooling past
# an affine one (2x + 1 and -2x + 1) only; a decreasing function, x squared on negative values and ReLU under an
# average do not commute.
COMMUTES = {
    "sigmoid, max": True,
    "-2x + 1, max": False,
    "x squared, max": False,
    "ReLU, average": False,
    "2x + 1, average": True,
    "-2x + 1, average": True,
}


def pixel_slope(model, image, label, row, col, eps):
    x = image.astype("float32") / 255
    nudged = x.copy()
    nudged[row, col] += eps
    return (class_score(model, nudged, label) - class_score(model, x, label)) / eps


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 6.x: write your code here")


@pytest.fixture(scope="module")
def small_cnn():
    """A small CNN with fixed random weights (Conv2D 4@5x5 -> pooling -> Dense softmax), trained on nothing."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 5, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


@pytest.fixture(scope="module")
def digits():
    rng = np.random.default_rng(3)
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[:, 5:23, 10:18] = rng.integers(0, 256, (3, 18, 8), dtype=np.uint8)
    return images


def first_layer_maps(model, image):
    extractor = keras.Model(model.inputs, model.layers[0].output)
    return extractor.predict(image.reshape(1, 28, 28, 1).astype("float32") / 255, verbose=0)[0]


def occlusion_drop(model, image, label, top, left, patch):
    covered = image.copy()
    covered[top : top + patch, left : left + patch] = 0
    return float(probabilities(model, image)[0, label] - probabilities(model, covered)[0, label])


def test_the_reference_solutions_pass(small_cnn, digits):
    for result, ex, phrase in [
        (check.first_layer_maps(first_layer_maps, small_cnn, digits), "6.2", "pixels / 255"),
        (check.pixel_slope(pixel_slope, small_cnn, digits[0], 4), "6.3", "one backward pass"),
        (check.occlusion_drop(occlusion_drop, small_cnn, digits[0], 3), "6.4", "cover, predict, compare"),
    ]:
        assert result.ok and result.exercise == ex and phrase in result.message, result
        assert result.raise_if_wrong() is result  # a check cell shows it
        assert repr(result).startswith(f"✅ Exercise {ex}: correct.")


def test_the_maps_check_accepts_calling_the_extractor_directly(small_cnn, digits):
    def direct(model, image):
        extractor = keras.Model(model.inputs[0], model.layers[0].output)
        return np.asarray(extractor(image[None, :, :, None] / 255.0, training=False))[0]

    assert check.first_layer_maps(direct, small_cnn, digits).ok


@pytest.mark.parametrize(
    "run",
    [
        lambda m, d: check.pooling_commutes(stub),
        lambda m, d: check.first_layer_maps(stub, m, d),
        lambda m, d: check.pixel_slope(stub),
        lambda m, d: check.pixel_slope(stub, m, d[0], 4),
        lambda m, d: check.occlusion_drop(stub),
    ],
)
def test_an_unsolved_stub_raises_not_implemented(run, small_cnn, digits):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run(small_cnn, digits)


def test_the_commute_experiment_finds_what_the_algebra_says():
    assert check._commute_experiment() == COMMUTES
    assert check._commute_experiment(seed=11) == COMMUTES


def test_the_prediction_is_read_before_the_experiment_runs(monkeypatch):
    order = []
    experiment = check._commute_experiment
    monkeypatch.setattr(check, "_commute_experiment", lambda: order.append("experiment") or experiment())

    def prediction():
        order.append("prediction")
        return dict(COMMUTES)

    assert check.pooling_commutes(prediction).ok
    assert order == ["prediction", "experiment"]


HELD = "prediction recorded; your prediction held."
NOT_HELD = "prediction recorded; your prediction did not hold."
CHANGED = "You changed your prediction after this check first ran"


def test_the_reference_prediction_is_recorded_and_holds():
    result = check.pooling_commutes(lambda: dict(COMMUTES))
    assert result.ok and result.exercise == "6.1", result
    assert result.message.startswith(HELD + " All six pairs came out as you predicted: Max pooling moves past any ")
    assert "average pooling past any affine one (a x + b" in result.message
    assert CHANGED not in result.message and "did not hold" not in result.message
    assert result.raise_if_wrong() is result  # a check cell shows it
    assert repr(result).startswith("✅ Exercise 6.1: prediction recorded; your prediction held.")


def _flipped(*pairs):
    return {pair: (not said) if pair in pairs else said for pair, said in COMMUTES.items()}


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (
            _flipped("sigmoid, max"),
            [
                "5 of the six pairs came out as you predicted, 1 did not.",
                "'sigmoid, max': you predicted different maps, the two orders give the same maps; "
                "sigmoid only ever increases",
            ],
        ),
        (
            _flipped("-2x + 1, max"),
            ["'-2x + 1, max': you predicted the same maps, the two orders give different maps; -2x + 1 decreases"],
        ),
        (_flipped("x squared, max"), ["'x squared, max': you predicted the same maps", "the largest square is 9"]),
        (
            _flipped("ReLU, average"),
            ["'ReLU, average': you predicted the same maps", "only an affine function (a x + b) moves past an average"],
        ),
        (
            _flipped("2x + 1, average"),
            ["'2x + 1, average': you predicted different maps", "the mean of 2a + 1 and 2b + 1 is 2 mean(a, b) + 1"],
        ),
        (_flipped("-2x + 1, average"), ["'-2x + 1, average': you predicted different maps", "whatever the sign of"]),
        (
            _flipped("ReLU, average", "-2x + 1, max", "sigmoid, max"),
            ["3 of the six pairs came out as you predicted, 3 did not. 'sigmoid, max'", "-2x + 1 decreases"],
        ),
        ({pair: True for pair in COMMUTES}, ["3 of the six pairs came out as you predicted, 3 did not."]),
    ],
)
def test_a_prediction_that_did_not_hold_earns_the_point_and_says_why(answer, phrases):
    result = check.pooling_commutes(lambda: answer)
    assert result.ok and result.message.startswith(NOT_HELD), result
    for phrase in phrases:
        assert phrase in result.message, (phrase, result)
    assert "In short: max pooling moves past any non-decreasing function" in result.message
    assert CHANGED not in result.message and "again" not in result.message
    assert result.raise_if_wrong() is result  # the check cell shows ✅: the point is earned


def test_each_pair_that_did_not_hold_is_explained_and_only_those():
    missed = ("ReLU, average", "-2x + 1, max", "sigmoid, max")
    message = check.pooling_commutes(lambda: _flipped(*missed)).message
    explained = [pair for pair in COMMUTES if f"'{pair}': you predicted" in message]
    assert explained == ["sigmoid, max", "-2x + 1, max", "ReLU, average"]  # in the exercise's order
    assert "the largest square is 9" not in message and "2 mean(a, b) + 1" not in message


def test_the_first_prediction_is_the_one_checked():
    first = check.pooling_commutes(lambda: _flipped("sigmoid, max"))
    assert first.ok and first.message.startswith(NOT_HELD) and CHANGED not in first.message
    again = check.pooling_commutes(lambda: dict(COMMUTES))  # the result seen, the prediction corrected
    assert again.ok and again.message.startswith(NOT_HELD), again
    assert "'sigmoid, max': you predicted different maps" in again.message and again.message.endswith(
        "(You changed your prediction after this check first ran: the first one, made before you saw the result, "
        "is the one checked.)"
    )
    forget_predictions()  # a fresh kernel: the corrected prediction is now the first
    assert check.pooling_commutes(lambda: dict(COMMUTES)).message.startswith(HELD)


def test_a_right_first_prediction_stays_held_when_changed():
    assert check.pooling_commutes(lambda: dict(COMMUTES)).message.startswith(HELD)
    again = check.pooling_commutes(lambda: {pair: True for pair in COMMUTES})
    assert again.ok and again.message.startswith(HELD) and CHANGED in again.message, again


def test_the_same_prediction_written_otherwise_is_not_a_change():
    check.pooling_commutes(lambda: dict(COMMUTES))
    reordered = {pair: np.bool_(COMMUTES[pair]) for pair in reversed(list(COMMUTES))}
    again = check.pooling_commutes(lambda: reordered)
    assert again.ok and again.message.startswith(HELD) and CHANGED not in again.message, again


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ({pair: "yes" for pair in COMMUTES}, "give each pair True"),
        ({pair: 1 for pair in COMMUTES}, "give each pair True"),
        ({**{k: v for k, v in COMMUTES.items() if k != "ReLU, average"}}, "missing ['ReLU, average']"),
        ({**COMMUTES, "tanh, max": True}, "unknown ['tanh, max']"),
        (list(COMMUTES.values()), "return a dict"),
        (None, "forget `return`"),
    ],
)
def test_an_answer_that_is_not_a_prediction_gets_its_hint(answer, phrase):
    result = check.pooling_commutes(lambda: answer)
    assert not result.ok and phrase in result.message, result
    assert "prediction recorded" not in result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()
    # it committed nothing: the first well-formed prediction is the one that counts
    after = check.pooling_commutes(lambda: dict(COMMUTES))
    assert after.message.startswith(HELD) and CHANGED not in after.message, after


def the_broken_extractor(model, image):  # the exercise's snippet
    extractor = keras.Model(model.inputs, model.layers[0].output)
    return extractor.predict(image)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (the_broken_extractor, "Keras refused the input"),
        (lambda m, image: first_layer_maps(m, image)[None], "that is a batch of one"),
        (lambda m, image: first_layer_maps(m, image.astype("float32") * 255), "the maps of the raw pixels, 0..255"),
        (lambda m, image: first_layer_maps(m, image)[..., 0], "expected the maps of model.layers[0]"),
        (lambda m, image: first_layer_maps(m, image) + 1.0, "the right shape but other values"),
        (lambda m, image: [first_layer_maps(m, image), 1], "return one NumPy array"),
    ],
)
def test_first_layer_maps_mistakes_get_their_hint(answer, phrase, small_cnn, digits):
    result = check.first_layer_maps(answer, small_cnn, digits)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()


def test_first_layer_maps_notices_a_changed_image(small_cnn, digits):
    def in_place(model, image):
        image[0, 0] = 7
        return first_layer_maps(model, image)

    result = check.first_layer_maps(in_place, small_cnn, digits)
    assert not result.ok and "changed the image" in result.message


def test_the_slope_check_reports_the_gradient_at_the_most_salient_pixel(small_cnn, digits):
    result = check.pixel_slope(pixel_slope, small_cnn, digits[0], 4)
    found = re.search(
        r"At pixel \((\d+), (\d+)\).* your slope is ([-+]?\d+\.\d+) and the gradient by automatic "
        r"differentiation ([-+]?\d+\.\d+)",
        result.message,
    )
    assert found, result.message
    row, col = int(found[1]), int(found[2])
    assert abs(float(found[3]) - pixel_slope(small_cnn, digits[0], 4, row, col, 1e-3)) < 2e-3
    assert abs(float(found[3]) - float(found[4])) <= 0.02 + 0.05 * abs(float(found[4]))  # finite difference ~ gradient


def _slope_with(scale=1.0, divide=True, raw=False, swap=False, probability=False, sign=1.0):
    def answer(model, image, label, row, col, eps):
        x = image.astype("float32") if raw else image.astype("float32") / 255
        nudged = x.copy()
        r, c = (col, row) if swap else (row, col)
        nudged[r, c] += eps * scale

        def score(v):
            return float(probabilities(model, v)[0, label]) if probability else class_score(model, v, label)

        change = score(nudged) - score(x)
        return sign * (change / eps if divide else change)

    return answer


def uint8_nudge(model, image, label, row, col, eps):
    nudged = image.copy()
    nudged[row, col] += eps  # a uint8 array rounds the nudge away
    return (class_score(model, nudged, label) - class_score(model, image, label)) / eps


def in_place_nudge(model, image, label, row, col, eps):
    before = class_score(model, image, label)
    image[row, col] += 1
    return (class_score(model, image, label) - before) / eps


@pytest.mark.parametrize(
    "answer, phrase, on_cnn",
    [
        (_slope_with(sign=-1.0), "the sign is reversed", False),
        (_slope_with(divide=False), "divide the change of the score by eps", False),
        (_slope_with(scale=1 / 255), "you nudged the raw pixel (0..255) by eps", False),
        (_slope_with(swap=True), "rows and columns are swapped", False),
        (_slope_with(probability=True), "that is the slope of the probability", False),
        (_slope_with(raw=True), "the pixels reached the model as 0..255 floats", True),
        (lambda m, image, label, *rest: probabilities(m, image)[0], "return one number", False),
        (lambda *a: 0.3, "copy x = image.astype('float32') / 255", False),
        (in_place_nudge, "changed the image it was given", False),
        (uint8_nudge, "your slope is exactly 0: the nudge was lost", False),
        (lambda *a: None, "forget `return`", False),
    ],
)
def test_pixel_slope_mistakes_get_their_hint(answer, phrase, on_cnn, small_cnn, digits):
    result = check.pixel_slope(answer, small_cnn, digits[0], 4) if on_cnn else check.pixel_slope(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()


def _covered_with(fill=0, grow=0, swap=False):
    def answer(model, image, label, top, left, patch):
        covered = image.copy()
        r, c = (left, top) if swap else (top, left)
        covered[r : r + patch + grow, c : c + patch + grow] = fill
        return float(probabilities(model, image)[0, label] - probabilities(model, covered)[0, label])

    return answer


def in_place_cover(model, image, label, top, left, patch):
    before = probabilities(model, image)[0, label]
    image[top : top + patch, left : left + patch] = 0
    return float(before - probabilities(model, image)[0, label])


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda *a: -occlusion_drop(*a), "the sign is reversed"),
        (_covered_with(fill=255), "covered the patch with full ink (255)"),
        (_covered_with(swap=True), "rows and columns are swapped"),
        (_covered_with(grow=1), "one pixel too big"),
        (_covered_with(grow=-1), "one pixel too small"),
        (
            lambda m, image, label, top, left, patch: (
                occlusion_drop(m, image, label, top, left, patch) + float(probabilities(m, image)[0, label]) * 0 - 0.5
            ),
            "cover image[top:top + patch, left:left + patch]",
        ),
        (in_place_cover, "changed the image it was given"),
        (lambda m, image, label, *rest: probabilities(m, image)[0], "return one number"),
        (lambda *a: None, "forget `return`"),
    ],
)
def test_occlusion_drop_mistakes_get_their_hint(answer, phrase):
    result = check.occlusion_drop(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()


def test_occlusion_drop_reports_the_probability_after_covering():
    def after(model, image, label, top, left, patch):
        covered = image.copy()
        covered[top : top + patch, left : left + patch] = 0
        return float(probabilities(model, covered)[0, label])

    result = check.occlusion_drop(after)
    assert not result.ok and "that is the probability after covering" in result.message
