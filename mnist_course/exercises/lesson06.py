"""Self-checks for notebook 06 (what the CNN sees): max pooling, a convolution and a channel ranking by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback

_RNG_SEED = 5
_KERNELS = (np.array([[1, 2, 0], [0, -1, 3], [2, 0, -2]], dtype=np.float32),  # no symmetry: a flip shows
            np.array([[1, -1], [2, 0]], dtype=np.float32))


def _numbers(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Small integers, positive and negative, as float32: sums are exact and max, mean and min all differ."""
    return np.random.default_rng(seed).integers(-9, 10, shape).astype(np.float32)


def _same(answer: np.ndarray, expected: np.ndarray) -> bool:
    return answer.shape == expected.shape and np.allclose(answer, expected, atol=1e-4)


# --- Exercise 6.1 ------------------------------------------------------------------------------------------------

def _keras_max_pool(maps: np.ndarray, size: int) -> np.ndarray:
    import keras

    out = keras.layers.MaxPooling2D(size)(np.asarray(maps, dtype=np.float32)[None])
    return keras.ops.convert_to_numpy(out)[0]


def _pool_hint(answer: np.ndarray, maps: np.ndarray, size: int) -> str:
    h, w, c = maps.shape
    ph, pw = h // size, w // size
    if answer.shape != (ph, pw, c):
        if size != 2 and answer.shape == (h // 2, w // 2, c):
            return f"with size={size} you returned the shape of a 2 x 2 pooling: use the `size` argument."
        if answer.shape == (-(-h // size), -(-w // size), c):
            return (f"a {h} x {w} input gave shape {answer.shape}: the leftover rows and columns that do not fill "
                    "a whole block must be dropped, as Keras does (h // size blocks down, w // size across).")
        if answer.shape == (h - size + 1, w - size + 1, c):
            return "your blocks overlap: they are side by side, so step by `size`, not by 1."
        if answer.shape == (ph, pw):
            return "the channels axis is gone: pool each channel on its own and keep the last axis."
        if answer.shape == (pw, ph, c) and ph != pw:
            return "height and width are swapped in your result: keep the (height, width, channels) order."
        return (f"a ({h}, {w}, {c}) input with size={size} should give shape ({ph}, {pw}, {c}), "
                f"not {answer.shape}.")
    blocks = maps[: ph * size, : pw * size].reshape(ph, size, pw, size, c)
    if np.allclose(answer, blocks.mean(axis=(1, 3))):
        return "you averaged each block: that is average pooling. Max pooling keeps the largest value."
    mixed = maps[: ph * size, : pw * size].reshape(ph, pw, size, size, c).max(axis=(2, 3))
    if np.allclose(answer, mixed):
        return ("the right shape, but not the right blocks: reshape to (h // size, size, w // size, size, "
                "channels), so that axes 1 and 3 run inside a block, then take the max over axis=(1, 3).")
    return "the shape is right but some values are not: each value is the max of one size x size block."


def max_pool(function: Callable[..., Any], maps: np.ndarray | None = None) -> Feedback:
    """Check ``function(maps, size)`` against Keras' MaxPooling2D on arrays of its own (and on ``maps`` if given)."""
    ex = "5.1"
    cases = [(_numbers((4, 6, 2), _RNG_SEED), 2), (_numbers((5, 7, 3), _RNG_SEED + 1), 2),
             (_numbers((7, 6, 1), _RNG_SEED + 2), 3)]
    if maps is not None:
        cases.append((np.asarray(maps, dtype=np.float32), 2))
    for case, size in cases:
        answer = feedback.as_array(feedback.call(function, case.copy(), size))
        if answer is None or answer.dtype == object:
            return feedback.wrong(ex, "return one NumPy array of shape (height // size, width // size, channels).")
        if not _same(answer, _keras_max_pool(case, size)):
            return feedback.wrong(ex, _pool_hint(answer, case, size))
    return feedback.right(ex, "The same as keras.layers.MaxPooling2D: each block keeps its strongest response, so "
                              "a feature that moves by a pixel inside its block gives the same output.")


# --- Exercise 6.2 ------------------------------------------------------------------------------------------------

def _keras_conv(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    import keras

    x = np.asarray(image, dtype=np.float32)[None, :, :, None]
    k = np.asarray(kernel, dtype=np.float32)[:, :, None, None]
    return keras.ops.convert_to_numpy(keras.ops.conv(x, k, padding="valid"))[0, :, :, 0]


def _conv_hint(answer: np.ndarray, image: np.ndarray, kernel: np.ndarray) -> str:
    (h, w), k = image.shape, kernel.shape[0]
    if answer.shape != (h - k + 1, w - k + 1):
        if answer.shape == (h - k, w - k):
            return (f"one row and one column short: a {k} x {k} kernel fits n - k + 1 times across n pixels, "
                    "so loop over range(n - k + 1).")
        if answer.shape == (h, w):
            return "no padding here: the output is (height - k + 1, width - k + 1), like Conv2D's padding='valid'."
        if answer.shape == (h + k - 1, w + k - 1):
            return "that is the 'full' output: keep only the positions where the whole kernel lies on the image."
        if answer.shape == (w - k + 1, h - k + 1):
            return "rows and columns are swapped: the output has height - k + 1 rows and width - k + 1 columns."
        if h != w and answer.shape in ((h - k + 1, h - k + 1), (w - k + 1, w - k + 1)):
            return ("the image need not be square: the output's height comes from image.shape[0] and its width "
                    "from image.shape[1].")
        return f"a {h} x {w} image and a {k} x {k} kernel give a ({h - k + 1}, {w - k + 1}) map, not {answer.shape}."
    if _same(answer, _keras_conv(image, kernel[::-1, ::-1])):
        return ("you flipped the kernel: that is the convolution of mathematics (scipy.signal.convolve2d). Conv2D "
                "computes a cross-correlation: multiply image[i:i+k, j:j+k] by the kernel as it is.")
    if _same(answer, _keras_conv(image, kernel.T)):
        return "the kernel is transposed: kernel[a, b] multiplies image[i + a, j + b], rows first."
    return "the shape is right but not the values: output[i, j] = sum(image[i:i+k, j:j+k] * kernel)."


def convolve(function: Callable[..., Any], image: np.ndarray | None = None,
             kernel: np.ndarray | None = None) -> Feedback:
    """Check ``function(image, kernel)`` against Keras' convolution (``keras.ops.conv``, padding 'valid')."""
    ex = "5.2"
    cases = [(_numbers((6, 8), _RNG_SEED + 3), _KERNELS[0]), (_numbers((5, 4), _RNG_SEED + 4), _KERNELS[1])]
    if image is not None and kernel is not None:
        cases.append((np.asarray(image, dtype=np.float32), np.asarray(kernel, dtype=np.float32)))
    for case, k in cases:
        answer = feedback.as_array(feedback.call(function, case.copy(), k.copy()))
        if answer is None or answer.dtype == object:
            return feedback.wrong(ex, "return one 2-D NumPy array, the map of sums of products.")
        if not _same(answer, _keras_conv(case, k)):
            return feedback.wrong(ex, _conv_hint(answer, case, k))
    return feedback.right(ex, "This is what every Conv2D channel computes before its bias: a sliding sum of "
                              "products, without flipping the kernel. So a kernel is a picture of the pattern that "
                              "excites it most.")


# --- Exercise 6.3 ------------------------------------------------------------------------------------------------

def _channel_case() -> tuple[np.ndarray, int]:
    """(5, 4, 6) maps whose ranking by max differs from the ranking by mean and from a wrong reshape."""
    maps = np.random.default_rng(_RNG_SEED + 5).uniform(-1.0, 0.5, (5, 4, 6)).astype(np.float32)
    maps[..., 1] = 2.0          # active everywhere: first by the mean, third by the max
    maps[2, 1, 3] = 9.0         # one strong spot: first by the max
    maps[0, 3, 5] = 5.0
    maps[4, 0, 0] = 4.0
    return maps, 3


def _ranking_hint(answer: np.ndarray, maps: np.ndarray, k: int) -> str:
    h, w, c = maps.shape
    by_max = maps.max(axis=(0, 1))
    if answer.ndim != 1 or len(answer) != k:
        return f"return k = {k} channel indices in a 1-D array or list, not shape {answer.shape}."
    if not np.issubdtype(answer.dtype, np.integer):
        return "return the channel indices (np.argsort gives them), not the scores."
    if np.any(answer < 0) or np.any(answer >= c):
        return f"the indices are not channels: channels are the last axis, numbered 0 to {c - 1}."
    order = np.argsort(-by_max, kind="stable")
    if np.allclose(by_max[answer], by_max[order[:k][::-1]]):
        return "the right channels in the wrong order: strongest first."
    if np.allclose(by_max[answer], by_max[np.argsort(by_max, kind="stable")[:k]]):
        return "those are the weakest channels: np.argsort sorts upwards, so sort the negated scores."
    if list(answer) == list(np.argsort(-maps.mean(axis=(0, 1)), kind="stable")[:k]):
        return ("you ranked by the mean: score a channel by its largest value anywhere in the map, as top_activating "
                "does. One strong local match is what a detector reports.")
    if list(answer) == list(np.argsort(-maps.reshape(c, -1).max(axis=1), kind="stable")[:k]):
        return ("maps.reshape(channels, -1) mixes the channels up, because they are the last axis: use "
                "maps.max(axis=(0, 1)) or maps.reshape(-1, channels).max(axis=0).")
    return "score each channel by maps[:, :, channel].max(), then return the k best channel indices, best first."


def strongest_channels(function: Callable[..., Any], maps: np.ndarray | None = None, k: int = 4) -> Feedback:
    """Check ``function(maps, k)`` returns the k channels with the largest maxima, largest first (any order in ties)."""
    ex = "5.3"
    own, own_k = _channel_case()
    cases = [(own, own_k), (own, 1)]
    if maps is not None:
        cases.append((np.asarray(maps, dtype=np.float32), k))
    for case, n in cases:
        answer = feedback.as_array(feedback.call(function, case.copy(), n))
        if answer is None or answer.dtype == object:
            return feedback.wrong(ex, f"return {n} channel indices, e.g. as a list or a 1-D NumPy array.")
        scores = case.max(axis=(0, 1))
        best = np.sort(scores)[::-1][:n]
        if not (answer.shape == (n,) and np.issubdtype(answer.dtype, np.integer)
                and np.all((answer >= 0) & (answer < len(scores))) and np.allclose(scores[answer], best)):
            return feedback.wrong(ex, _ranking_hint(answer, case, n))
    return feedback.right(ex, "Scoring a channel by its strongest response anywhere in the map is how "
                              "top_activating ranked the test images above: where the pattern is does not matter, "
                              "only that it is there.")
