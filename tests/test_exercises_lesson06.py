"""The self-checks of notebook 06: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson06 as check
from mnist_course.predict import probabilities

# Exercise 6.1's network on 28 x 28 x 1, worked out by hand: same padding keeps 28, pooling halves, (14 - 5) + 1 = 10,
# 10 // 2 = 5, (5 - 3) // 2 + 1 = 2.
SHAPES = [(28, 28, 8), (14, 14, 8), (10, 10, 16), (5, 5, 16), (2, 2, 32)]


def strongest_channels(maps, k):
    return np.argsort(-maps.max(axis=(0, 1)))[:k]


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
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(12, 12, 5)).astype("float32")
    maps[..., 2] = 0.0
    maps[..., 4] = 0.0  # two channels tied at 0, as dead ReLU channels are: any order of the tie is right
    for result, ex, phrase in [
        (
            check.predicted_shapes(lambda: SHAPES),
            "6.1",
            "28x28x1 -> 28x28x8 -> 14x14x8 -> 10x10x16 -> 5x5x16 -> 2x2x32",
        ),
        (check.first_layer_maps(first_layer_maps, small_cnn, digits), "6.2", "pixels / 255"),
        (check.strongest_channels(strongest_channels, maps, k=5), "6.3", "top_activating"),
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
        lambda m, d: check.predicted_shapes(stub),
        lambda m, d: check.first_layer_maps(stub, m, d),
        lambda m, d: check.strongest_channels(stub),
        lambda m, d: check.occlusion_drop(stub),
    ],
)
def test_an_unsolved_stub_raises_not_implemented(run, small_cnn, digits):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run(small_cnn, digits)


def _with(layer, shape):
    return [shape if i == layer else s for i, s in enumerate(SHAPES)]


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (_with(0, (26, 26, 8)), "padding='same' pads the border so that the size stays 28"),
        (_with(2, (9, 9, 16)), "one short: the window fits (n - k) // s + 1 times"),
        (_with(4, (1, 1, 32)), "one short"),
        (_with(4, (3, 3, 32)), "ceil(n / s) is the rule with padding='same'"),
        (_with(1, (14, 14, 16)), "pooling works on each channel alone, so it keeps the 8 channels"),
        (_with(2, (10, 10, 8)), "one channel per filter: 16"),
        (_with(0, (28, 28)), "three numbers, without the batch axis"),
        (SHAPES[:4], "the network has 5 layers"),
        ([(26, 26, 8), (13, 13, 8), (9, 9, 16), (4, 4, 16), (1, 1, 32)], "layer 1"),
        ("28x28", "one (height, width, channels) tuple per layer"),
        (None, "forget `return`"),
    ],
)
def test_predicted_shapes_mistakes_get_their_hint(answer, phrase):
    result = check.predicted_shapes(lambda: answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


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


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda maps, k: np.argsort(maps.max(axis=(0, 1)))[:k], "weakest channels"),
        (lambda maps, k: strongest_channels(maps, k)[::-1], "wrong order"),
        (lambda maps, k: np.argsort(-maps.mean(axis=(0, 1)))[:k], "ranked by the mean"),
        (lambda maps, k: np.argsort(-maps.reshape(maps.shape[-1], -1).max(axis=1))[:k], "mixes the channels up"),
        (lambda maps, k: np.sort(maps.max(axis=(0, 1)))[::-1][:k], "not the scores"),
        (lambda maps, k: strongest_channels(maps, k + 1), "return k = 3 channel indices"),
        (lambda maps, k: np.argsort(-maps.max(axis=(1, 2)))[:k] + 10, "channels are the last axis"),
    ],
)
def test_strongest_channels_mistakes_get_their_hint(answer, phrase):
    result = check.strongest_channels(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
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
