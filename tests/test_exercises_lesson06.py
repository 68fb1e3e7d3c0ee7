"""The self-checks of notebook 06: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson06 as check


def max_pool(maps, size=2):
    h, w = maps.shape[0] // size, maps.shape[1] // size
    return maps[: h * size, : w * size].reshape(h, size, w, size, maps.shape[2]).max(axis=(1, 3))


def convolve(image, kernel):
    k = kernel.shape[0]
    out = np.zeros((image.shape[0] - k + 1, image.shape[1] - k + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + k, j:j + k] * kernel)
    return out


def strongest_channels(maps, k):
    return np.argsort(-maps.max(axis=(0, 1)))[:k]


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 5.x: write your code here")


def test_the_reference_solutions_pass_also_on_arrays_given_by_the_notebook():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(12, 12, 5)).astype("float32")
    maps[..., 2] = 0.0
    maps[..., 4] = 0.0  # two channels tied at 0, as dead ReLU channels are: any order of the tie is right
    digit, kernel = rng.uniform(size=(28, 28)).astype("float32"), rng.normal(size=(5, 5)).astype("float32")
    for result, ex, phrase in [(check.max_pool(max_pool, maps), "5.1", "MaxPooling2D"),
                               (check.convolve(convolve, digit, kernel), "5.2", "without flipping the kernel"),
                               (check.strongest_channels(strongest_channels, maps, k=5), "5.3", "top_activating")]:
        assert result.ok and result.exercise == ex and phrase in result.message
        assert result.raise_if_wrong() is result  # a check cell shows it
        assert repr(result).startswith(f"✅ Exercise {ex}: correct.")


@pytest.mark.parametrize("run", [lambda: check.max_pool(stub), lambda: check.convolve(stub),
                                 lambda: check.strongest_channels(stub)])
def test_an_unsolved_stub_raises_not_implemented(run):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run()


def _ceil_pool(maps, size=2):
    h, w = maps.shape[:2]
    return np.array([[maps[i:i + size, j:j + size].max(axis=(0, 1)) for j in range(0, w, size)]
                     for i in range(0, h, size)])


@pytest.mark.parametrize("answer, phrase", [
    (lambda m, size=2: max_pool(m, size)[..., 0], "channels axis is gone"),
    (lambda m, size=2: m[: m.shape[0] // size * size, : m.shape[1] // size * size]
     .reshape(m.shape[0] // size, size, m.shape[1] // size, size, -1).mean(axis=(1, 3)), "average pooling"),
    (lambda m, size=2: m.reshape(m.shape[0] // size, m.shape[1] // size, size, size, -1).max(axis=(2, 3)),
     "not the right blocks"),
    (lambda m, size=2: np.maximum.reduce([m[:-1, :-1], m[1:, :-1], m[:-1, 1:], m[1:, 1:]]), "blocks overlap"),
    (_ceil_pool, "leftover rows and columns"),
    (lambda m, size=2: max_pool(m, 2), "use the `size` argument"),
    (lambda m, size=2: np.transpose(max_pool(m, size), (1, 0, 2)), "height and width are swapped"),
    (lambda m, size=2: [1, [2]], "return one NumPy array"),
])
def test_max_pool_mistakes_get_their_hint(answer, phrase):
    result = check.max_pool(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()
    assert repr(result).startswith("❌ Exercise 6.1: not yet.")


def _flipped(image, kernel):
    return convolve(image, kernel[::-1, ::-1])


@pytest.mark.parametrize("answer, phrase", [
    (_flipped, "you flipped the kernel"),
    (lambda image, kernel: convolve(image, kernel.T), "the kernel is transposed"),
    (lambda image, kernel: convolve(image, kernel)[:-1, :-1], "one row and one column short"),
    (lambda image, kernel: np.pad(convolve(image, kernel), kernel.shape[0] // 2)[: image.shape[0], : image.shape[1]],
     "no padding here"),
    (lambda image, kernel: convolve(image, kernel).T, "rows and columns are swapped"),
    (lambda image, kernel: convolve(image, kernel)[:, : image.shape[0] - kernel.shape[0] + 1], "need not be square"),
    (lambda image, kernel: convolve(image, kernel) + 1.0, "output[i, j] = sum(image[i:i+k, j:j+k] * kernel)"),
])
def test_convolve_mistakes_get_their_hint(answer, phrase):
    result = check.convolve(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


@pytest.mark.parametrize("answer, phrase", [
    (lambda maps, k: np.argsort(maps.max(axis=(0, 1)))[:k], "weakest channels"),
    (lambda maps, k: strongest_channels(maps, k)[::-1], "wrong order"),
    (lambda maps, k: np.argsort(-maps.mean(axis=(0, 1)))[:k], "ranked by the mean"),
    (lambda maps, k: np.argsort(-maps.reshape(maps.shape[-1], -1).max(axis=1))[:k], "mixes the channels up"),
    (lambda maps, k: np.sort(maps.max(axis=(0, 1)))[::-1][:k], "not the scores"),
    (lambda maps, k: strongest_channels(maps, k + 1), "return k = 3 channel indices"),
    (lambda maps, k: np.argsort(-maps.max(axis=(1, 2)))[:k] + 10, "channels are the last axis"),
])
def test_strongest_channels_mistakes_get_their_hint(answer, phrase):
    result = check.strongest_channels(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()
