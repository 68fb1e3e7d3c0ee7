"""Self-check of notebook 06's exercise 6.3: the slope of a class score at one pixel by finite differences, checked
on a probe whose slopes are known weights and against the gradient that saliency_map takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback

_RNG_SEED = 18


# --- Exercise 6.3 ------------------------------------------------------------------------------------------------

SLOPE_EPS = 1e-3
_SLOPE_PIXELS = ((9, 12), (15, 14))  # where the check's probe has the weights _SLOPE_WEIGHTS for its label
_SLOPE_WEIGHTS = (0.8, -0.5)


def _slope_probe(label: int) -> Any:
    """A Dense softmax model on which the slope of ``label``'s score at pixel (r, c) is a known weight: its logits
    are linear in the pixels, so the slope is the weight of that pixel, ``_SLOPE_WEIGHTS`` at ``_SLOPE_PIXELS``."""
    import keras

    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")]
    )
    weights = np.random.default_rng(_RNG_SEED).normal(0, 0.05, (784, 10)).astype(np.float32)
    for (row, col), weight in zip(_SLOPE_PIXELS, _SLOPE_WEIGHTS):
        weights[row * 28 + col, label] = weight
    model.layers[-1].set_weights([weights, np.zeros(10, np.float32)])
    return model


def _slope(score: Callable[[np.ndarray], float], x: np.ndarray, row: int, col: int, eps: float) -> float:
    nudged = np.array(x, dtype=np.float32, copy=True)
    nudged[row, col] += eps
    return (score(nudged) - score(np.asarray(x, dtype=np.float32))) / eps


def _slope_hint(answer: float, model: Any, image: np.ndarray, label: int, row: int, col: int, eps: float) -> str:
    from mnist_course.lessons.what_the_cnn_sees.features import class_score
    from mnist_course.predict import probabilities

    def logit(x: np.ndarray) -> float:
        return class_score(model, x, label)

    def prob(x: np.ndarray) -> float:
        return float(probabilities(model, x)[0, label])

    scaled = image.astype(np.float32) / 255
    right = _slope(logit, scaled, row, col, eps)
    candidates = [
        (-right, "the sign is reversed: (score with the pixel nudged up - score as it is) / eps."),
        (right * eps, "divide the change of the score by eps: a slope is a change per unit of the pixel."),
        (right / 255, "you nudged the raw pixel (0..255) by eps: nudge the scaled pixel, image / 255, by eps."),
        (
            _slope(logit, image.astype(np.float32), row, col, eps),
            "the pixels reached the model as 0..255 floats, which the course takes as already scaled: use "
            "image.astype('float32') / 255 first.",
        ),
        (
            _slope(prob, scaled, row, col, eps),
            "that is the slope of the probability: take the class score, class_score(model, x, label), the logit "
            "before the softmax, as saliency_map does (a probability near 1 barely moves).",
        ),
        (_slope(logit, scaled, col, row, eps), "rows and columns are swapped: x[row, col] is row `row`."),
    ]
    if answer == 0 and right != 0:
        return (
            "your slope is exactly 0: the nudge was lost. A uint8 pixel cannot hold + eps (it is rounded back): "
            "nudge a float copy, x = image.astype('float32') / 255, then x[row, col] += eps."
        )
    for value, hint in candidates:
        if abs(answer - value) <= 1e-3 + 0.02 * abs(value):
            return hint
    return (
        "copy x = image.astype('float32') / 255, nudge x[row, col] by eps in a second copy, and return "
        "(class_score(model, nudged, label) - class_score(model, x, label)) / eps."
    )


def pixel_slope(
    function: Callable[..., Any], model: Any | None = None, image: np.ndarray | None = None, label: int | None = None
) -> Feedback:
    """Check ``function(model, image, label, row, col, eps) -> float``, the finite-difference slope of the class
    score of ``label`` at one scaled pixel, on a probe whose slopes are known weights and, if given, on ``model``
    and ``image`` at the pixel with the largest gradient (compared with the gradient by automatic differentiation).
    """
    from mnist_course.backend import gradients
    from mnist_course.lessons.what_the_cnn_sees.features import class_score, class_scores
    from mnist_course.predict import to_batch

    ex = "6.3"
    ink = np.zeros((28, 28), dtype=np.uint8)
    ink[5:23, 8:20] = np.random.default_rng(_RNG_SEED + 1).integers(0, 256, (18, 12), dtype=np.uint8)
    cases = [(_slope_probe(3), ink, 3, row, col, weight) for (row, col), weight in zip(_SLOPE_PIXELS, _SLOPE_WEIGHTS)]
    gradient = None
    if model is not None and image is not None and label is not None:
        image, label = np.asarray(image), int(label)
        (grad,) = gradients(lambda x: class_scores(model, x)[:, label], to_batch(model, image)[:1])
        grad = np.asarray(grad)[0].reshape(image.shape)
        row, col = (int(i) for i in np.unravel_index(np.abs(grad).argmax(), grad.shape))
        scaled = image.astype(np.float32) / 255
        expected = _slope(lambda x: class_score(model, x, label), scaled, row, col, SLOPE_EPS)
        cases.append((model, image, label, row, col, expected))
        gradient = (row, col, float(grad[row, col]))
    slope = None
    for net, picture, digit, row, col, expected in cases:
        given = picture.copy()
        answer = feedback.call(function, net, given, digit, row, col, SLOPE_EPS)
        if not np.array_equal(given, picture):
            return feedback.wrong(ex, "your function changed the image it was given: nudge a copy.")
        if answer is None:
            return feedback.wrong(ex, feedback.NO_RETURN)
        number = feedback.as_array(answer)
        if number is None or number.size != 1 or not np.issubdtype(number.dtype, np.number):
            return feedback.wrong(ex, f"return one number, the slope; yours has shape {getattr(number, 'shape', '?')}.")
        slope = float(number.reshape(()))
        if not abs(slope - expected) <= 1e-3 + 0.02 * abs(expected):
            return feedback.wrong(ex, _slope_hint(slope, net, picture, digit, row, col, SLOPE_EPS))
    where = ""
    if gradient is not None and slope is not None:
        row, col, grad = gradient
        where = (
            f" At pixel ({row}, {col}), where the digit's saliency is largest, your slope is {slope:+.3f} and the "
            f"gradient by automatic differentiation {grad:+.3f}."
        )
    return feedback.right(
        ex,
        "two forward passes per pixel give the slope of the class score; saliency_map gets all 784 slopes from "
        f"one backward pass, which is why it is the one used.{where}",
    )


__all__ = ["SLOPE_EPS", "pixel_slope"]
