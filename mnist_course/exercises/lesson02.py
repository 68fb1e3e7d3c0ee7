"""Self-checks for the exercises of notebook 02 (preprocessing): MLP input, one-hot by hand, standardization."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from mnist_course.data import load_mnist
from mnist_course.exercises.feedback import Feedback, as_array, call, right, wrong

_N = 1000  # the real cases: the first 1000 training and test examples, whatever subset the notebook uses


@lru_cache(maxsize=1)
def _real_cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``_N`` training images and labels and the first ``_N`` test images (uint8, read-only)."""
    (x_train, y_train), (x_test, _) = load_mnist()
    cases = x_train[:_N].copy(), y_train[:_N].copy(), x_test[:_N].copy()
    for array in cases:
        array.flags.writeable = False
    return cases


def _synthetic_images(n: int, low: int, high: int, seed: int) -> np.ndarray:
    """``n`` random uint8 "images" (28 x 28) with values in [low, high)."""
    return np.random.default_rng(seed).integers(low, high, size=(n, 28, 28), dtype=np.uint8)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-4))


def to_mlp_input(function: Callable[[np.ndarray], Any]) -> Feedback:
    """Check ``function(x)`` -> float32 vectors (N, 784) in [0, 1], on real and synthetic uint8 images."""
    ex = "2.1"
    x_real, _, _ = _real_cases()
    for x in (x_real[:100], _synthetic_images(3, 0, 200, seed=1)):
        got = as_array(call(function, x))
        n = len(x)
        expected = x.reshape(n, 784).astype(np.float32) / np.float32(255)
        if got is None or got.dtype == object:
            return wrong(ex, "return a NumPy array, one row per image.")
        if got.shape == (n, 28, 28):
            return wrong(ex, f"shape {got.shape}: the images are not flattened; a dense layer wants one vector of "
                             "784 values per image, x.reshape(len(x), 784).")
        if got.shape == (n, 28, 28, 1):
            return wrong(ex, f"shape {got.shape} is the CNN input; the MLP wants (N, 784): x.reshape(len(x), 784).")
        if got.shape == (n * 784,):
            return wrong(ex, f"shape {got.shape}: the whole batch became one long vector; keep one row per image, "
                             "x.reshape(len(x), 784).")
        if got.shape != (n, 784):
            return wrong(ex, f"expected shape ({n}, 784) for {n} images, got {got.shape}.")
        if got.dtype == np.float64:
            return wrong(ex, "dtype float64: `x / 255` on uint8 makes float64, twice the memory of float32; "
                             "convert first, x.astype('float32') / 255.")
        if got.dtype != np.float32:
            return wrong(ex, f"dtype {got.dtype}: convert with .astype('float32') before dividing.")
        if got.max() > 1:
            return wrong(ex, f"values go up to {got.max():g}: pixels are 0..255, divide by 255 to get [0, 1].")
        if np.allclose(got, x.reshape(n, 784) / x.max(), atol=1e-6) and x.max() != 255:
            return wrong(ex, "you divided by the batch's largest pixel: divide by 255, the largest possible value, "
                             "so that every batch (train, test, one drawing) is scaled the same way.")
        for order in (x.transpose(0, 2, 1).reshape(n, 784), x.reshape(n, 784, order="F")):
            if _close(got, order / np.float32(255)):
                return wrong(ex, "the pixels are in another order (column by column): reshape row by row, the "
                                 "default order, with no transpose, as for the training data.")
        if not _close(got, expected):
            return wrong(ex, "some values differ from pixel / 255, in the order of x.reshape(len(x), 784).")
    return right(ex, "float32 in [0, 1], one row of 784 values per image: ready for a Dense layer.")


def one_hot_by_hand(function: Callable[[np.ndarray], Any]) -> Feedback:
    """Check ``function(y)`` -> float32 one-hot rows (N, 10), against ``keras.utils.to_categorical``."""
    import keras  # here, so that importing the checks does not start TensorFlow

    ex = "2.2"
    _, y_real, _ = _real_cases()
    for y in (y_real[:100], np.array([3, 0, 3, 1], dtype=np.uint8)):
        got = as_array(call(function, y))
        expected = keras.utils.to_categorical(y, num_classes=10)
        n = len(y)
        if got is None or got.dtype == object:
            return wrong(ex, "return a NumPy array of shape (N, 10).")
        if got.shape == (n,):
            return wrong(ex, "shape (N,): these are still integer labels; one-hot has ten numbers per example.")
        if got.shape == (10, n):
            return wrong(ex, "shape (10, N) is transposed: one row per example, one column per class.")
        if got.ndim == 2 and got.shape[0] == n and got.shape[1] == int(y.max()) + 1 != 10:
            return wrong(ex, f"on labels {y.tolist()} you made {got.shape[1]} columns (y.max() + 1): there are "
                             "always 10 classes, even when a batch has no 9, so use np.eye(10).")
        if got.shape != (n, 10):
            return wrong(ex, f"expected shape ({n}, 10), got {got.shape}.")
        if got.dtype != np.float32:
            return wrong(ex, f"dtype {got.dtype}: ask for float32, e.g. np.eye(10, dtype='float32').")
        if not np.allclose(got.sum(axis=1), 1) or not np.isin(got, (0, 1)).all():
            return wrong(ex, "each row must hold nine 0s and a single 1.")
        if not np.array_equal(got, expected):
            return wrong(ex, "the 1 is in the wrong column: row i has its 1 in column y[i] (np.eye(10)[y]).")
    return right(ex, "the same rows as keras.utils.to_categorical: indexing np.eye(10) with the labels picks row "
                     "y[i] of the identity for each example.")


def _standardized(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return ((x.astype(np.float64) - mean) / std).astype(np.float32)


def _stats(*arrays: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([a.astype(np.float64).ravel() for a in arrays])
    return float(values.mean()), float(values.std())


def _other_hint(got: np.ndarray, x_train: np.ndarray, x_other: np.ndarray) -> str:
    """The hint when the standardized ``x_other`` is wrong (the training part being right)."""
    if _close(got, _standardized(x_other, *_stats(x_other))):
        return ("x_other was standardized with its own mean and standard deviation. Use the training set's for "
                "both: the test data must go through exactly the same transformation as the training data, and "
                "its own statistics are information a deployed model never has.")
    if _close(got, _standardized(x_other, *_stats(x_train, x_other))):
        return ("you used the statistics of x_train and x_other together: the test data leaks into the "
                "preprocessing. Use x_train's mean and standard deviation only.")
    return "x_other must be transformed with x_train's mean and standard deviation: (x_other - mean) / std."


def standardize(function: Callable[[np.ndarray, np.ndarray], Any]) -> Feedback:
    """Check ``function(x_train, x_other)`` -> both standardized with the training set's mean and std, as float32."""
    ex = "2.3"
    x_real, _, x_real_test = _real_cases()
    cases = [(x_real, x_real_test), (_synthetic_images(50, 0, 120, seed=2), _synthetic_images(20, 60, 256, seed=3))]
    for x_train, x_other in cases:
        copies = x_train.copy(), x_other.copy()
        got = call(function, copies[0], copies[1])
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return wrong(ex, "return two arrays, `return x_train_std, x_other_std`: both sets, standardized.")
        got_train, got_other = (as_array(a) for a in got)
        if not (np.array_equal(copies[0], x_train) and np.array_equal(copies[1], x_other)):
            return wrong(ex, "your function changed the arrays it was given: build new ones, (x - mean) / std.")
        if got_train is None or got_other is None or got_train.shape != x_train.shape or \
                got_other.shape != x_other.shape:
            return wrong(ex, "each returned array keeps the shape of its input: standardizing changes values only.")
        if got_train.dtype != np.float32 or got_other.dtype != np.float32:
            return wrong(ex, f"dtypes {got_train.dtype} and {got_other.dtype}: return float32 (uint8 minus a float "
                             "is float64 in NumPy), e.g. with .astype('float32').")
        if not (np.isfinite(got_train).all() and np.isfinite(got_other).all()):
            return wrong(ex, "nan or inf: a division by a standard deviation of 0. With a mean and std per pixel "
                             "(axis=0), the always-blank border pixels have std 0; use one mean and one std over "
                             "all pixels.")
        mean, std = _stats(x_train)
        expected_train, expected_other = _standardized(x_train, mean, std), _standardized(x_other, mean, std)
        if _close(got_train, expected_other) and _close(got_other, expected_train):
            return wrong(ex, "the two arrays come back swapped: return x_train's first, then x_other's.")
        if not _close(got_train, expected_train):
            if _close(got_train, _standardized(x_train, *_stats(x_train, x_other))):
                return wrong(ex, "you used the statistics of x_train and x_other together: the test data leaks into "
                                 "the preprocessing. Use x_train's mean and standard deviation only.")
            if _close(got_train, (x_train - mean).astype(np.float32)):
                return wrong(ex, "you subtracted the mean but did not divide by the standard deviation.")
            if _close(got_train, _standardized(x_train, mean, std ** 2)):
                return wrong(ex, "you divided by the variance (std ** 2): divide by the standard deviation.")
            if _close(got_train, x_train / np.float32(255)):
                return wrong(ex, "that is scaling to [0, 1], not standardizing: subtract x_train's mean, then divide "
                                 "by its standard deviation.")
            return wrong(ex, "the training images must become (x_train - mean) / std, with one mean and one "
                             "standard deviation computed over all of x_train's pixels.")
        if not _close(got_other, expected_other):
            return wrong(ex, _other_hint(got_other, x_train, x_other))
    test = _standardized(x_real_test, *_stats(x_real))
    return right(ex, f"the training images now have mean 0 and std 1; {_N} test images get mean {test.mean():.3f} "
                     f"and std {test.std():.3f}, not exactly 0 and 1, and that is right: same transformation as "
                     "the training data, no peeking.")


__all__ = ["one_hot_by_hand", "standardize", "to_mlp_input"]
