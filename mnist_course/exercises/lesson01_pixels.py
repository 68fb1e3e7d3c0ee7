"""Self-checks of notebook 01 that compute on the pixels: exercise 1.2 (the ink of each digit) and 1.4 (a search for
the nearest image, debugged: uint8 differences wrap around)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from mnist_course.data import load_mnist
from mnist_course.exercises.feedback import NO_RETURN, Feedback, as_array, call, right, whole, wrong

N_IMAGES, N_QUERIES = 2000, 20  # exercise 1.4's real case: the first training images, the first test digits


@lru_cache(maxsize=1)
def _mnist() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The full training and test sets, read-only: the checks use their own copy, whatever the notebook passes."""
    (x_train, y_train), (x_test, y_test) = load_mnist()
    for array in (x_train, y_train, x_test, y_test):
        array.flags.writeable = False
    return x_train, y_train, x_test, y_test


def mean_ink_per_digit(function: Callable[[np.ndarray, np.ndarray], Any]) -> Feedback:
    """Check ``function(x, y)`` -> the mean pixel value (0..255) of each digit's images, on the training set."""
    ex = "1.2"
    x, y, _, _ = _mnist()
    got = as_array(call(function, x, y))
    counts = np.bincount(y, minlength=10)
    sums = np.bincount(y, weights=x.sum(axis=(1, 2), dtype=np.int64), minlength=10)
    expected = sums / (counts * 28 * 28)
    if got is None or got.dtype == object:
        return wrong(ex, "return one number per digit, e.g. np.array([... for digit in range(10)]).")
    if got.shape == (10, 28, 28):
        return wrong(
            ex,
            "that is the average image of each digit, shape (10, 28, 28): average over the pixels too, "
            "x[y == digit].mean() with no axis.",
        )
    if got.shape != (10,):
        return wrong(ex, f"expected 10 numbers (digits 0 to 9), got shape {got.shape}.")
    if not np.issubdtype(got.dtype, np.number):
        return wrong(ex, f"expected numbers, got dtype {got.dtype}.")
    got = got.astype(float)
    if np.allclose(got, counts):
        return wrong(ex, "these are the label counts: average the pixel values of each digit's images instead.")
    if np.allclose(got, got[0]):
        return wrong(
            ex, "all ten values are equal: select the images of one digit with x[y == digit] before averaging."
        )
    if np.allclose(got, expected / 255, rtol=1e-4):
        return wrong(ex, "your values are on the [0, 1] scale: the exercise asks for raw pixel values 0..255.")
    if np.allclose(got, sums / counts, rtol=1e-4) or np.allclose(got, sums, rtol=1e-4):
        return wrong(ex, "you summed the pixels: take the mean, over the images of the digit and their 784 pixels.")
    if np.allclose(got, expected * counts / len(y), rtol=1e-4):
        return wrong(
            ex,
            "you divided by the number of all images: divide by the number of images of that digit "
            "(x[y == digit].mean() does it).",
        )
    if not np.allclose(got, expected, rtol=1e-4):
        worst = int(np.abs(got - expected).argmax())
        return wrong(
            ex,
            f"digit {worst}: got {got[worst]:.2f}, expected {expected[worst]:.2f} (mean of all pixels of "
            "all its images).",
        )
    most, least = int(expected.argmax()), int(expected.argmin())
    stroke = ": a 1 is a single stroke" if least == 1 else ""
    return right(
        ex,
        f"digit {most} uses the most ink ({expected[most]:.1f} on average), digit {least} the least "
        f"({expected[least]:.1f}){stroke}.",
    )


def _l1(images: np.ndarray, image: np.ndarray, dtype: Any) -> np.ndarray:
    """The sum of absolute pixel differences of ``image`` to each of ``images``, computed in ``dtype`` (a narrow
    or unsigned one wraps around, as the mistakes do)."""
    return np.abs(images.astype(dtype) - image.astype(dtype)).sum(axis=(1, 2), dtype=np.int64)


# How each anticipated search ranks the images (smallest first), and the hint for it.
_SEARCHES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "right": lambda images, image: _l1(images, image, np.int32),
    "uint8": lambda images, image: _l1(images, image, np.uint8),
    "reversed": lambda images, image: np.abs(image - images).sum(axis=(1, 2), dtype=np.int64),
    "int8": lambda images, image: _l1(images, image, np.int8),
    "uint16": lambda images, image: _l1(images, image, np.uint16),
    "squared": lambda images, image: ((images.astype(np.int64) - image) ** 2).sum(axis=(1, 2)),
    "largest": lambda images, image: -_l1(images, image, np.int32),
}
_SEARCH_HINTS = {
    "uint8": "images - image is computed in uint8, which wraps around: 3 - 5 gives 254, not -2, so np.abs has "
    "nothing to fix and a darker pixel counts as very far. Convert to a signed type (np.int16 or wider, or "
    "float32) before subtracting.",
    "reversed": "image - images wraps around in uint8 just as images - image does (3 - 5 gives 254): convert to a "
    "signed type (np.int16 or wider, or float32) before subtracting.",
    "int8": "int8 holds -128..127: pixels above 127 turn negative, and the differences still wrap. Use np.int16 or "
    "wider (or float32).",
    "uint16": "an unsigned type wraps around below 0 whatever its size (3 - 5 is 65534 in uint16): use a signed "
    "one, np.int16 or wider, or float32.",
    "squared": "you changed the distance: the exercise keeps the sum of absolute differences, and squared "
    "differences rank some images otherwise. Fix the dtype only.",
    "largest": "argmax picks the farthest image: the nearest has the smallest distance, argmin.",
}


def _flat(*values: int) -> np.ndarray:
    """Made-up 4 x 4 images, one per value, every pixel that value."""
    return np.stack([np.full((4, 4), v, dtype=np.uint8) for v in values])


def nearest_image(function: Callable[[np.ndarray, np.ndarray], Any]) -> Feedback:
    """Check ``function(images, image)`` -> the index of the image of ``images`` (uint8, (N, rows, cols)) with the
    smallest sum of absolute pixel differences to ``image``, on made-up cases and on real test digits."""
    ex = "1.4"
    x_train, y_train, x_test, y_test = _mnist()
    dots = _flat(0, 0)
    dots[0, 0, 0], dots[1, :2, :2] = 100, 30  # to a blank image: distances 100 and 120, squared 10,000 and 3,600
    made_up = [(_flat(0, 30, 200), _flat(10)[0]), (_flat(200, 0), _flat(120)[0]), (dots, _flat(0)[0])]
    cases = made_up + [(x_train[:N_IMAGES], x_test[i]) for i in range(N_QUERIES)]
    answers = []
    for images, image in cases:
        given = images.copy(), image.copy()
        got = call(function, *given)
        if not (np.array_equal(given[0], images) and np.array_equal(given[1], image)):
            return wrong(ex, "your function changed the arrays it was given: convert into new ones, never in place.")
        index = whole(got)
        if index is None:
            if got is None:
                return wrong(ex, NO_RETURN)
            array = as_array(got)
            if array is not None and array.shape == (len(images),):
                return wrong(ex, "you returned all the distances: return the index of the smallest, .argmin().")
            return wrong(ex, f"return one index, a whole number; yours is a {type(got).__name__}: {got!r:.60}")
        if not 0 <= index < len(images):
            return wrong(ex, f"index {index} is not an image of the {len(images)} given: return .argmin() itself.")
        answers.append(index)
    ranked = {name: [int(search(*case).argmin()) for case in cases] for name, search in _SEARCHES.items()}
    if answers != ranked["right"]:
        for name, hint in _SEARCH_HINTS.items():
            if answers == ranked[name]:
                return wrong(ex, hint)
        first = next(i for i, (a, b) in enumerate(zip(answers, ranked["right"])) if a != b)
        where = f"made-up case {first + 1}" if first < len(made_up) else f"test digit {first - len(made_up)}"
        return wrong(
            ex,
            f"on {where} you picked image {answers[first]}, the nearest is image {ranked['right'][first]}: the "
            "distance is the sum of absolute differences, computed in a type that can be negative.",
        )
    real = slice(len(made_up), None)
    agree = sum(a == b for a, b in zip(ranked["uint8"][real], ranked["right"][real]))
    labels = sum(int(y_train[i] == y_test[q]) for q, i in enumerate(ranked["right"][real]))
    return right(
        ex,
        f"among the first {N_IMAGES:,} training images you find the nearest of each of the first {N_QUERIES} test "
        f"digits; the search in uint8, where 3 - 5 is 254, found the same image for only {agree} of them, without "
        f"any error. Answering with the label of the nearest image is already a classifier, with no training: "
        f"{labels} of these {N_QUERIES} right.",
    )


__all__ = ["mean_ink_per_digit", "nearest_image"]
