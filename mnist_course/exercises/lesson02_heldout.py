"""Self-checks of notebook 02 on data held out from training: exercise 2.3 (standardize with the training
statistics only) and 2.4 (a validation split that leaks, debugged)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from mnist_course.data import load_mnist
from mnist_course.exercises.feedback import Feedback, as_array, call, right, wrong

N_REAL = 1000  # the real cases: the first 1000 training and test examples, whatever subset the notebook uses


@lru_cache(maxsize=1)
def real_cases() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``N_REAL`` training images and labels and the first ``N_REAL`` test images (uint8, read-only)."""
    (x_train, y_train), (x_test, _) = load_mnist()
    cases = x_train[:N_REAL].copy(), y_train[:N_REAL].copy(), x_test[:N_REAL].copy()
    for array in cases:
        array.flags.writeable = False
    return cases


def _synthetic_images(n: int, low: int, high: int, seed: int) -> np.ndarray:
    """``n`` random uint8 "images" (28 x 28) with values in [low, high)."""
    return np.random.default_rng(seed).integers(low, high, size=(n, 28, 28), dtype=np.uint8)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-4))


def _standardized(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return ((x.astype(np.float64) - mean) / std).astype(np.float32)


def _stats(*arrays: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([a.astype(np.float64).ravel() for a in arrays])
    return float(values.mean()), float(values.std())


def _other_hint(got: np.ndarray, x_train: np.ndarray, x_other: np.ndarray) -> str:
    """The hint when the standardized ``x_other`` is wrong (the training part being right)."""
    if _close(got, _standardized(x_other, *_stats(x_other))):
        return (
            "x_other was standardized with its own mean and standard deviation. Use the training set's for "
            "both: the test data must go through exactly the same transformation as the training data, and "
            "its own statistics are information a deployed model never has."
        )
    if _close(got, _standardized(x_other, *_stats(x_train, x_other))):
        return (
            "you used the statistics of x_train and x_other together: the test data leaks into the "
            "preprocessing. Use x_train's mean and standard deviation only."
        )
    return "x_other must be transformed with x_train's mean and standard deviation: (x_other - mean) / std."


def standardize(function: Callable[[np.ndarray, np.ndarray], Any]) -> Feedback:
    """Check ``function(x_train, x_other)`` -> both standardized with the training set's mean and std, as float32."""
    ex = "2.3"
    x_real, _, x_real_test = real_cases()
    cases = [(x_real, x_real_test), (_synthetic_images(50, 0, 120, seed=2), _synthetic_images(20, 60, 256, seed=3))]
    for x_train, x_other in cases:
        copies = x_train.copy(), x_other.copy()
        got = call(function, copies[0], copies[1])
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return wrong(ex, "return two arrays, `return x_train_std, x_other_std`: both sets, standardized.")
        got_train, got_other = (as_array(a) for a in got)
        if not (np.array_equal(copies[0], x_train) and np.array_equal(copies[1], x_other)):
            return wrong(ex, "your function changed the arrays it was given: build new ones, (x - mean) / std.")
        if (
            got_train is None
            or got_other is None
            or got_train.shape != x_train.shape
            or got_other.shape != x_other.shape
        ):
            return wrong(ex, "each returned array keeps the shape of its input: standardizing changes values only.")
        if got_train.dtype != np.float32 or got_other.dtype != np.float32:
            return wrong(
                ex,
                f"dtypes {got_train.dtype} and {got_other.dtype}: return float32 (uint8 minus a float "
                "is float64 in NumPy), e.g. with .astype('float32').",
            )
        if not (np.isfinite(got_train).all() and np.isfinite(got_other).all()):
            return wrong(
                ex,
                "nan or inf: a division by a standard deviation of 0. With a mean and std per pixel "
                "(axis=0), the always-blank border pixels have std 0; use one mean and one std over "
                "all pixels.",
            )
        mean, std = _stats(x_train)
        expected_train, expected_other = _standardized(x_train, mean, std), _standardized(x_other, mean, std)
        if _close(got_train, expected_other) and _close(got_other, expected_train):
            return wrong(ex, "the two arrays come back swapped: return x_train's first, then x_other's.")
        if not _close(got_train, expected_train):
            if _close(got_train, _standardized(x_train, *_stats(x_train, x_other))):
                return wrong(
                    ex,
                    "you used the statistics of x_train and x_other together: the test data leaks into "
                    "the preprocessing. Use x_train's mean and standard deviation only.",
                )
            if _close(got_train, (x_train - mean).astype(np.float32)):
                return wrong(ex, "you subtracted the mean but did not divide by the standard deviation.")
            if _close(got_train, _standardized(x_train, mean, std**2)):
                return wrong(ex, "you divided by the variance (std ** 2): divide by the standard deviation.")
            if _close(got_train, x_train / np.float32(255)):
                return wrong(
                    ex,
                    "that is scaling to [0, 1], not standardizing: subtract x_train's mean, then divide "
                    "by its standard deviation.",
                )
            return wrong(
                ex,
                "the training images must become (x_train - mean) / std, with one mean and one "
                "standard deviation computed over all of x_train's pixels.",
            )
        if not _close(got_other, expected_other):
            return wrong(ex, _other_hint(got_other, x_train, x_other))
    test = _standardized(x_real_test, *_stats(x_real))
    return right(
        ex,
        f"the first {N_REAL} training images get mean 0 and std 1, by construction; the first {N_REAL} test "
        f"images, through the same transformation, get mean {test.mean():.3f} and std {test.std():.3f}. Not "
        "exactly 0 and 1, and rightly so: the test images are transformed as the training images were, without "
        "a look at their own statistics.",
    )


def _id_images(n: int) -> np.ndarray:
    """``n`` uint8 images whose first two pixels spell their index (i // 256, i % 256), the rest random ink."""
    x = np.random.default_rng(24).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    x[:, 0, 0], x[:, 0, 1] = np.arange(n) // 256, np.arange(n) % 256
    x[:, 27, 27] = 255  # every image reaches 255: scaled once, each has a 1.0
    return x


def _ids(x: np.ndarray) -> np.ndarray | None:
    """The index spelled by each (scaled) image's first two pixels, or ``None`` when they are not whole pixels."""
    first = np.asarray(x, dtype=np.float64)[:, 0, :2] * 255
    if not np.allclose(first, np.round(first), atol=1e-3):
        return None
    first = np.round(first).astype(np.int64)
    return first[:, 0] * 256 + first[:, 1]


def _split_parts(got: Any) -> tuple[np.ndarray, ...] | None:
    try:
        (x_tr, y_tr), (x_val, y_val) = got
    except (TypeError, ValueError):
        return None
    parts = tuple(as_array(a) for a in (x_tr, y_tr, x_val, y_val))
    return None if any(p is None for p in parts) else parts


def split_and_scale(function: Callable[..., Any]) -> Feedback:
    """Check ``function(x, y, val_size, seed) -> ((x_train, y_train), (x_val, y_val))``: disjoint parts covering the
    data, images scaled once to [0, 1] as float32, labels still with their images, the split set by the seed."""
    ex = "2.4"
    n, val_size = 300, 60
    x, y = _id_images(n), (np.arange(n) % 10).astype(np.uint8)
    given = x.copy(), y.copy()
    got = call(function, given[0], given[1], val_size, 7)
    if not (np.array_equal(given[0], x) and np.array_equal(given[1], y)):
        return wrong(ex, "your function changed the arrays it was given: build new ones.")
    parts = _split_parts(got)
    if parts is None:
        return wrong(ex, "return ((x_train, y_train), (x_val, y_val)), as the broken function does.")
    x_tr, y_tr, x_val, y_val = parts
    if len(x_val) != val_size or len(y_val) != val_size:
        return wrong(ex, f"asked for val_size={val_size}, got {len(x_val)} validation images and {len(y_val)} labels.")
    if len(x_tr) == n:
        return wrong(
            ex,
            f"the training part still has all {n} images, the {val_size} validation images among them: "
            "the model would be validated on images it trained on, and the validation score would be "
            "too good. Train on the other indices only, order[val_size:].",
        )
    if len(x_tr) != n - val_size or len(y_tr) != len(x_tr):
        return wrong(
            ex,
            f"{n} images, {val_size} for validation: the training part should hold {n - val_size} images "
            f"and as many labels, not {len(x_tr)} and {len(y_tr)}.",
        )
    if x_tr.dtype != np.float32 or x_val.dtype != np.float32:
        return wrong(
            ex, f"dtypes {x_tr.dtype} and {x_val.dtype}: the images should be float32, x.astype('float32') / 255."
        )
    tops = float(x_tr.max()), float(x_val.max())
    if max(tops) <= 1 / 255 + 1e-6:
        return wrong(
            ex,
            f"the largest pixel is {max(tops):.5f}, about 1/255: the images were divided by 255 twice. "
            "Scale once, before or after the split, not both.",
        )
    if max(tops) > 1 + 1e-6:
        return wrong(ex, f"pixels go up to {max(tops):g}: scale the images to [0, 1], dividing by 255 once.")
    if min(tops) < 1 - 1e-6:
        return wrong(
            ex,
            "one part is scaled differently from the other: every image goes through the same "
            "x.astype('float32') / 255, once.",
        )
    ids_tr, ids_val = _ids(x_tr), _ids(x_val)
    if ids_tr is None or ids_val is None:
        return wrong(ex, "some pixels are not pixel / 255 any more: scale with x.astype('float32') / 255 only.")
    if np.intersect1d(ids_tr, ids_val).size:
        return wrong(
            ex,
            f"{np.intersect1d(ids_tr, ids_val).size} images are in both parts: a validation image the "
            "model trained on tells nothing. Take the validation indices and the training indices from "
            "the same permutation, order[:val_size] and order[val_size:].",
        )
    if not (np.array_equal(y_tr, y[ids_tr]) and np.array_equal(y_val, y[ids_val])):
        return wrong(ex, "the labels no longer go with their images: index x and y with the same indices.")
    again = _split_parts(call(function, x.copy(), y.copy(), val_size, 7))
    other = _split_parts(call(function, x.copy(), y.copy(), val_size, 8))
    if again is None or not np.array_equal(_ids(again[2]), ids_val):
        return wrong(
            ex,
            "the same seed gave another split: draw the permutation from "
            "np.random.default_rng(seed), so that a run can be repeated.",
        )
    if other is not None and np.array_equal(_ids(other[2]), ids_val):
        return wrong(
            ex,
            "another seed gave the same split: the permutation must come from the seed you are given "
            "(np.random.default_rng(seed)), not from a fixed one, nor be missing.",
        )
    return right(
        ex,
        f"{n - val_size} training and {val_size} validation images, none in both, scaled once, labels "
        "still with their images, and the seed decides the split. A leaking split or a double scaling "
        "raises no error: a check of which images went where, like this one, is what finds them.",
    )


__all__ = ["real_cases", "split_and_scale", "standardize"]
