"""Self-check of notebook 08's exercise 8.3: thicker strokes (each pixel the largest of its 3 x 3 neighbourhood),
compared with Keras' stride-1 max pooling, then the model measured on thickened validation digits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback

MEASURED = 500  # validation digits the model reads as they are, thickened once and twice


def reference(images: np.ndarray, size: int = 3) -> np.ndarray:
    """Each pixel of each (h, w) image the largest value of its ``size`` x ``size`` neighbourhood, from Keras'
    MaxPooling2D(size, strides=1, padding="same") (which ignores the positions outside the image), as uint8."""
    import keras

    x = np.asarray(images, dtype=np.float32)
    single = x.ndim == 2
    batch = x[None, ..., None] if single else x[..., None]
    out = keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(size, strides=1, padding="same")(batch))[..., 0]
    out = np.rint(out).astype(np.uint8)
    return out[0] if single else out


def _case() -> np.ndarray:
    """A 7 x 9 drawing with ink on the borders and in a corner, where the usual mistakes show."""
    image = np.zeros((7, 9), dtype=np.uint8)
    image[0, 8] = 200  # the top right corner: np.roll would carry it to the left border and the bottom
    image[6, 0] = 90
    image[3, 4] = 255
    image[3, 5] = 40
    image[5, 6] = 30
    return image


def _rolled(image: np.ndarray) -> np.ndarray:
    return np.max([np.roll(image, (dr, dc), axis=(0, 1)) for dr in (-1, 0, 1) for dc in (-1, 0, 1)], axis=0)


def _one_sided(image: np.ndarray) -> np.ndarray:
    padded = np.pad(image, ((0, 1), (0, 1)))
    h, w = image.shape
    return np.max([padded[dr : dr + h, dc : dc + w] for dr in (0, 1) for dc in (0, 1)], axis=0)


def _cross(image: np.ndarray) -> np.ndarray:
    padded = np.pad(image, 1)
    h, w = image.shape
    shifts = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
    return np.max([padded[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w] for dr, dc in shifts], axis=0)


def _hint(answer: np.ndarray, image: np.ndarray) -> str:
    h, w = image.shape
    if answer.shape == (h - 2, w - 2):
        return (
            "the result lost a pixel on each side: treat the neighbours outside the image as background, e.g. "
            "pad with np.pad(image, 1) and keep the original size."
        )
    if answer.shape == (h + 2, w + 2):
        return "the result is the padded size: pad to look at the neighbours, but return the original shape."
    if answer.shape != image.shape:
        return f"keep the image's shape {image.shape}; yours is {answer.shape}."
    if np.array_equal(answer.astype(np.int64), reference(image).astype(np.int64)):
        return (
            f"the right values as {answer.dtype}: return uint8 like the input, since the course's functions take a "
            "float image as already scaled to [0, 1], and 0..255 floats would read as saturated ink."
        )
    named = [
        (_rolled(image), "ink wrapped around to the opposite border: np.roll wraps, pad with background (0) instead."),
        (_cross(image), "the diagonal neighbours count too: the whole 3 x 3 square, nine pixels."),
        (_one_sided(image), "centre the neighbourhood on the pixel: rows r - 1 to r + 1 and columns c - 1 to c + 1."),
        (reference(image, 5), "one pixel each way is enough: a 3 x 3 neighbourhood, not 5 x 5."),
    ]
    for wrong, hint in named:
        if np.array_equal(answer, wrong):
            return hint
    if np.any(answer.astype(np.int64) > reference(image).astype(np.int64)):
        return "take the largest value of the neighbourhood, not a sum: thickening copies ink, it does not add it up."
    return "each pixel becomes the largest value among itself and its 8 neighbours (outside the image: 0)."


def thicken(
    function: Callable[..., Any],
    model: Any | None = None,
    images: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    *,
    split: str = "validation",
) -> Feedback:
    """Check ``function(image) -> image``, each pixel the largest of its 3 x 3 neighbourhood (outside: 0), on a
    drawing of its own and, if given, on ``images``; then measure ``model`` on the first :data:`MEASURED` of them as
    they are, thickened once and twice (``labels`` their digits, from the ``split`` set)."""
    from mnist_course.predict import probabilities
    from mnist_course.stats import mcnemar

    ex = "8.3"
    cases = [_case()]
    if images is not None:
        cases += list(np.asarray(images)[:3])
    for image in cases:
        given = image.copy()
        answer = feedback.call(function, given)
        if not np.array_equal(given, image):
            return feedback.wrong(ex, "your function changed the image it was given: build a new array.")
        if answer is None:
            return feedback.wrong(ex, feedback.NO_RETURN)
        array = feedback.as_array(answer)
        if array is None or array.dtype == object or not np.issubdtype(array.dtype, np.number):
            return feedback.wrong(ex, "return the thickened image as one NumPy array.")
        if array.shape != image.shape or array.dtype != np.uint8 or not np.array_equal(array, reference(image)):
            return feedback.wrong(ex, _hint(array, image))
    measured = ""
    if model is not None and images is not None and labels is not None:
        x, y = np.asarray(images)[:MEASURED], np.asarray(labels)[:MEASURED]
        once = reference(x)
        batches = (x, once, reference(once))
        right = [probabilities(model, batch).argmax(axis=1) == y for batch in batches]
        rates = [float(np.mean(r)) for r in right]
        paired = mcnemar(right[0], right[1], names=("as they are", "thickened once"))
        measured = (
            f" The model reads {100 * rates[0]:.1f} % of {len(y):,} {split} digits as they are, {100 * rates[1]:.1f} "
            f"% thickened once and {100 * rates[2]:.1f} % twice. On the same digits, it reads {paired.a_only} right "
            f"as they are but not thickened once, and {paired.b_only} the other way round: McNemar's exact p = "
            f"{paired.p_value:.2g} ({paired.verdict}). The recipe fixes a digit's size and place, not the width of "
            "its pen."
        )
    return feedback.right(
        ex,
        "the same as Keras' MaxPooling2D(3, strides=1, padding='same'): a max pooling that does not shrink the "
        f"image thickens its strokes.{measured}",
    )


__all__ = ["MEASURED", "reference", "thicken"]
