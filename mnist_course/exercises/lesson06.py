"""Self-checks for notebook 06 (what the CNN sees): which functions may move past a pooling predicted, a feature-map
extractor debugged, a pixel's saliency by finite differences and an occlusion step by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback
from mnist_course.exercises.lesson06_slope import pixel_slope

_RNG_SEED = 5


# --- Exercise 6.1 ------------------------------------------------------------------------------------------------

# The six (function, pooling) pairs of the exercise, in the order the notebook lists them.
COMMUTE_PAIRS = (
    "sigmoid, max",
    "-2x + 1, max",
    "x squared, max",
    "ReLU, average",
    "2x + 1, average",
    "-2x + 1, average",
)
_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "-2x + 1": lambda x: -2.0 * x + 1.0,
    "x squared": lambda x: x * x,
    "ReLU": lambda x: np.maximum(x, 0.0),
    "2x + 1": lambda x: 2.0 * x + 1.0,
}
_WHY = {
    "sigmoid, max": "sigmoid only ever increases, so the largest value of a block stays the largest: "
    "max(sigmoid(a), sigmoid(b)) = sigmoid(max(a, b)), as for ReLU.",
    "-2x + 1, max": "-2x + 1 decreases: it turns the largest value of a block into the smallest, so pooling after "
    "it keeps what was the block's minimum. At inference, a batch normalisation whose scale gamma is negative does "
    "exactly this.",
    "x squared, max": "x squared is not monotone where maps are negative: in a block holding -3 and 1 the maximum "
    "is 1 (squared 1), but the largest square is 9.",
    "ReLU, average": "the mean of -2 and 2 is 0 and ReLU(0) = 0, but the mean of ReLU(-2) and ReLU(2) is 1: only an "
    "affine function (a x + b) moves past an average.",
    "2x + 1, average": "the mean of 2a + 1 and 2b + 1 is 2 mean(a, b) + 1: an affine function moves past an average.",
    "-2x + 1, average": "the mean of -2a + 1 and -2b + 1 is -2 mean(a, b) + 1: an affine function moves past an "
    "average whatever the sign of its slope.",
}


def _commute_experiment(seed: int = _RNG_SEED) -> dict[str, bool]:
    """The experiment of exercise 6.1: for each pair of :data:`COMMUTE_PAIRS`, whether Keras' 2 x 2 pooling of
    f(maps) equals f of the pooled maps, on random maps with negative and positive values."""
    import keras

    maps = np.random.default_rng(seed).normal(0.0, 1.0, (2, 6, 6, 4)).astype(np.float32)
    pools = {"max": keras.layers.MaxPooling2D(2), "average": keras.layers.AveragePooling2D(2)}
    result = {}
    for pair in COMMUTE_PAIRS:
        name, kind = pair.split(", ")
        f, pool = _FUNCTIONS[name], pools[kind]
        after = keras.ops.convert_to_numpy(pool(f(maps)))
        before = f(keras.ops.convert_to_numpy(pool(maps)))
        result[pair] = bool(np.allclose(after, before, atol=1e-5))
    return result


_RULE = (
    "max pooling moves past any non-decreasing function (ReLU, sigmoid, batch normalisation at inference with "
    "gamma > 0), average pooling past any affine one (a x + b, batch normalisation at inference whatever the sign of "
    "gamma; in training it uses each batch's statistics)."
)


def _same(commutes: bool) -> str:
    return "the same" if commutes else "different"


def pooling_commutes(function: Callable[[], Any]) -> Feedback:
    """Check ``function() -> {pair: bool}``, a prediction for each pair of :data:`COMMUTE_PAIRS` of whether the
    pooling and the function may swap places, against :func:`_commute_experiment` (run after reading the
    prediction). The point is for the committed prediction (the first well-formed one checked), held or not."""
    ex = "6.1"
    got = feedback.call(function)  # the prediction is read first, then the experiment runs
    if got is None:
        return feedback.wrong(ex, feedback.NO_RETURN)
    if not isinstance(got, dict):
        return feedback.wrong(ex, f"return a dict {{pair: True or False}}; yours is a {type(got).__name__}.")
    missing = [pair for pair in COMMUTE_PAIRS if pair not in got]
    extra = [str(key) for key in got if key not in COMMUTE_PAIRS]
    if missing or extra:
        return feedback.wrong(
            ex,
            f"use exactly the six keys of the exercise ({', '.join(repr(p) for p in COMMUTE_PAIRS)})"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {extra}" if extra else "")
            + ".",
        )
    if any(not isinstance(got[pair], (bool, np.bool_)) for pair in COMMUTE_PAIRS):
        return feedback.wrong(ex, "give each pair True (the two orders give the same maps) or False.")
    # plain bools in the exercise's order: the same prediction written otherwise is not a change
    first, changed = feedback.commit(ex, {pair: bool(got[pair]) for pair in COMMUTE_PAIRS})
    measured = _commute_experiment()
    missed = [pair for pair in COMMUTE_PAIRS if first[pair] != measured[pair]]
    if not missed:
        return feedback.predicted(
            ex, True, "All six pairs came out as you predicted: " + _RULE[0].upper() + _RULE[1:], changed
        )
    reasons = " ".join(
        f"'{pair}': you predicted {_same(first[pair])} maps, the two orders give {_same(measured[pair])} maps; "
        f"{_WHY[pair]}"
        for pair in missed
    )
    return feedback.predicted(
        ex,
        False,
        f"{len(COMMUTE_PAIRS) - len(missed)} of the six pairs came out as you predicted, {len(missed)} did not. "
        f"{reasons} In short: {_RULE}",
        changed,
    )


# --- Exercise 6.2 ------------------------------------------------------------------------------------------------


def _first_layer_maps(model: Any, image: np.ndarray, scaled: bool = True) -> np.ndarray:
    """The first layer's (height, width, channels) output for one uint8 image (``scaled=False``: fed 0..255)."""
    from mnist_course.lessons.what_the_cnn_sees.features import feature_maps

    pixels = image if scaled else np.asarray(image, dtype=np.float32)  # floats are taken as already scaled
    return feature_maps(model, pixels, model.layers[0].name)


def first_layer_maps(function: Callable[..., Any], model: Any, images: np.ndarray) -> Feedback:
    """Check ``function(model, image) -> (height, width, channels)``: the maps of ``model.layers[0]`` for one uint8
    (28, 28) image, on the first two of ``images``, against
    :func:`~mnist_course.lessons.what_the_cnn_sees.features.feature_maps`."""
    ex = "6.2"
    for image in np.asarray(images)[:2]:  # two: each call builds a model, keep TensorFlow's retracing quiet
        given = image.copy()
        try:
            got = feedback.call(function, model, given)
        except ValueError:
            return feedback.wrong(
                ex,
                "Keras refused the input: a model takes a batch of inputs, shaped like its "
                f"input {(None, *model.input_shape[1:])}, so one image must become "
                "image.reshape(1, 28, 28, 1) first.",
            )
        answer = feedback.as_array(got)
        expected = _first_layer_maps(model, image)
        if answer is None or answer.dtype == object:
            return feedback.wrong(ex, "return one NumPy array, the maps of the image: (height, width, channels).")
        if not np.array_equal(given, image):
            return feedback.wrong(
                ex, "your function changed the image it was given: scale a copy, image.astype('float32') / 255."
            )
        if answer.shape == (1, *expected.shape):
            return feedback.wrong(
                ex,
                f"shape {answer.shape}: that is a batch of one; return its only element, "
                "[0], the (height, width, channels) maps.",
            )
        if answer.shape != expected.shape:
            return feedback.wrong(
                ex, f"expected the maps of model.layers[0], shape {expected.shape}; got {answer.shape}."
            )
        if not np.allclose(answer, expected, atol=1e-4, rtol=1e-3):
            if np.allclose(answer, _first_layer_maps(model, image, scaled=False), atol=1e-2, rtol=1e-3):
                return feedback.wrong(
                    ex,
                    "these are the maps of the raw pixels, 0..255: the model was trained on "
                    "pixels / 255, so scale the image the same way first.",
                )
            return feedback.wrong(
                ex,
                "the right shape but other values: feed image.reshape(1, 28, 28, 1) / 255 "
                "to keras.Model(model.inputs, model.layers[0].output).",
            )
    return feedback.right(
        ex,
        "the extractor sees what the model sees: a batch axis, one channel, pixels / 255. "
        "Forgetting the scaling raises no error: the maps are simply far too strong.",
    )


# --- Exercise 6.4 ------------------------------------------------------------------------------------------------


def _dense_probe() -> Any:
    """A small fixed model (28 x 28 x 1 -> 10 softmax) on which every pixel moves every probability a little, so
    that each mistake of an occlusion step gives another number."""
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    rng = np.random.default_rng(_RNG_SEED + 9)
    model.layers[-1].set_weights([rng.normal(0, 0.2, (784, 10)).astype(np.float32), np.zeros(10, np.float32)])
    return model


def _occluded(image: np.ndarray, top: int, left: int, height: int, width: int, fill: int) -> np.ndarray:
    covered = np.array(image, copy=True)
    covered[top : top + height, left : left + width] = fill
    return covered


def _drop_hint(answer: float, model: Any, image: np.ndarray, label: int, top: int, left: int, patch: int) -> str:
    from mnist_course.predict import probabilities

    def p(x: np.ndarray) -> float:
        return float(probabilities(model, x)[0, label])

    before = p(image)
    candidates = [
        (before - p(_occluded(image, top, left, patch, patch, 0)), None),
        (
            p(_occluded(image, top, left, patch, patch, 0)) - before,
            "the sign is reversed: the drop is the probability before covering minus the probability after.",
        ),
        (
            p(_occluded(image, top, left, patch, patch, 0)),
            "that is the probability after covering; return the drop, before - after.",
        ),
        (
            before - p(_occluded(image, top, left, patch, patch, 255)),
            "you covered the patch with full ink (255): cover it with background, 0.",
        ),
        (
            before - p(_occluded(image, left, top, patch, patch, 0)),
            "rows and columns are swapped: `top` is the row, image[top:top + patch, left:left + patch].",
        ),
        (
            before - p(_occluded(image, top, left, patch + 1, patch + 1, 0)),
            "your patch is one pixel too big: image[top:top + patch] covers exactly `patch` rows.",
        ),
        (
            before - p(_occluded(image, top, left, patch - 1, patch - 1, 0)),
            "your patch is one pixel too small: image[top:top + patch] covers exactly `patch` rows.",
        ),
    ]
    for value, hint in candidates[1:]:
        if abs(answer - value) < 1e-6:
            return str(hint)
    return "cover image[top:top + patch, left:left + patch] of a copy with 0 and compare the label's probabilities."


def occlusion_drop(
    function: Callable[..., Any], model: Any | None = None, image: np.ndarray | None = None, label: int | None = None
) -> Feedback:
    """Check ``function(model, image, label, top, left, patch) -> float``, the drop of the label's probability when
    the patch is covered with 0, on a fixed model of its own (and on ``model``, ``image``, ``label`` if given)."""
    from mnist_course.predict import probabilities

    ex = "6.4"
    probe = _dense_probe()
    ink = np.zeros((28, 28), dtype=np.uint8)
    ink[4:24, 9:19] = np.random.default_rng(_RNG_SEED + 10).integers(60, 256, (20, 10), dtype=np.uint8)
    cases = [(probe, ink, 3, 6, 9, 4), (probe, ink, 7, 12, 10, 5)]
    if model is not None and image is not None and label is not None:
        cases.append((model, np.asarray(image), int(label), 10, 10, 4))
    for net, picture, digit, top, left, patch in cases:
        given = picture.copy()
        answer = feedback.call(function, net, given, digit, top, left, patch)
        if not np.array_equal(given, picture):
            return feedback.wrong(
                ex,
                "your function changed the image it was given: cover a copy, "
                "covered = image.copy(), so that the next position starts from the digit.",
            )
        value = feedback.as_array(answer)
        if answer is None:
            return feedback.wrong(ex, feedback.NO_RETURN)
        if value is None or value.size != 1 or not np.issubdtype(value.dtype, np.number):
            return feedback.wrong(
                ex,
                "return one number, the drop of probabilities(model, x)[0, label]; "
                f"yours has shape {getattr(value, 'shape', '?')}.",
            )
        covered = _occluded(picture, top, left, patch, patch, 0)
        expected = float(probabilities(net, picture)[0, digit] - probabilities(net, covered)[0, digit])
        if abs(float(value.reshape(())) - expected) > 1e-5:
            return feedback.wrong(ex, _drop_hint(float(value.reshape(())), net, picture, digit, top, left, patch))
    return feedback.right(
        ex,
        "one occlusion step: cover, predict, compare. occlusion_map repeats it for every "
        "position of the patch and averages, at each pixel, the drops of the patches covering it: one prediction per "
        "position, which is why it costs more than saliency's single backward pass.",
    )


__all__ = ["first_layer_maps", "occlusion_drop", "pixel_slope", "pooling_commutes"]
