"""Self-checks for notebook 06 (what the CNN sees): map shapes predicted, a feature-map extractor debugged, a channel
ranking and an occlusion step by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback

_RNG_SEED = 5


# --- Exercise 6.1 ------------------------------------------------------------------------------------------------

# The network of the exercise: (Keras layer, the words the notebook uses for it).
SHAPES_NETWORK = (
    ("Conv2D", dict(filters=8, kernel_size=3, padding="same"), 'Conv2D(8, 3, padding="same")'),
    ("MaxPooling2D", dict(pool_size=2), "MaxPooling2D(2)"),
    ("Conv2D", dict(filters=16, kernel_size=5), "Conv2D(16, 5)"),
    ("MaxPooling2D", dict(pool_size=2), "MaxPooling2D(2)"),
    ("Conv2D", dict(filters=32, kernel_size=3, strides=2), "Conv2D(32, 3, strides=2)"),
)


def _keras_shapes() -> list[tuple[int, ...]]:
    """The output shape (without the batch axis) of each layer of :data:`SHAPES_NETWORK`, from Keras."""
    import keras

    x = inputs = keras.Input((28, 28, 1))
    shapes = []
    for kind, kwargs, _ in SHAPES_NETWORK:
        x = getattr(keras.layers, kind)(**kwargs)(x)
        shapes.append(tuple(int(n) for n in x.shape[1:]))
    del inputs
    return shapes


def _shape_hint(layer: int, got: tuple[int, ...], expected: tuple[int, ...], size_in: int, channels_in: int) -> str:
    """Why the predicted output ``got`` of layer ``layer`` (0-based) is not ``expected``, given its true input."""
    kind, kwargs, words = SHAPES_NETWORK[layer]
    where = f"layer {layer + 1}, {words}, on a {size_in} x {size_in} x {channels_in} input"
    if len(got) != 3:
        return f"{where}: give (height, width, channels), three numbers, without the batch axis; you gave {got}."
    h, w, c = got
    if c != expected[2]:
        if kind == "MaxPooling2D":
            return f"{where}: pooling works on each channel alone, so it keeps the {channels_in} channels."
        return f"{where}: a convolution outputs one channel per filter: {kwargs['filters']}, whatever the input had."
    if (h, w) == expected[:2]:
        return f"{where}: the right shape at last; check the earlier layers."
    k = kwargs.get("kernel_size", kwargs.get("pool_size"))
    s = kwargs.get("strides", k if kind == "MaxPooling2D" else 1)
    if kwargs.get("padding") == "same" and h == size_in - k + 1:
        return f"{where}: padding='same' pads the border so that the size stays {size_in} (with stride 1)."
    if h == (size_in - k) // s:
        return f"{where}: one short: the window fits (n - k) // s + 1 times, the + 1 being its first position."
    if h == -(-size_in // s) and h != expected[0]:
        return (
            f"{where}: ceil(n / s) is the rule with padding='same'; without padding (the default, 'valid'), "
            f"(n - k) // s + 1 = ({size_in} - {k}) // {s} + 1."
        )
    if kind == "Conv2D" and s > 1 and h == size_in - k + 1:
        return f"{where}: the stride: the window moves {s} pixels at a time, so (n - k) // {s} + 1."
    return f"{where}: Keras says {expected[0]} x {expected[1]}; without padding, (n - k) // s + 1."


def predicted_shapes(function: Callable[[], Any]) -> Feedback:
    """Check ``function() -> [(height, width, channels), ...]``, a prediction of each layer's output shape for the
    exercise's network, against the shapes Keras computes for it."""
    ex = "6.1"
    got = feedback.call(function)
    expected = _keras_shapes()
    if got is None:
        return feedback.wrong(ex, feedback.NO_RETURN)
    try:
        shapes = [tuple(int(n) for n in shape) for shape in got]
    except (TypeError, ValueError):
        return feedback.wrong(ex, "return a list of shapes, one (height, width, channels) tuple per layer.")
    if len(shapes) != len(expected):
        return feedback.wrong(
            ex, f"the network has {len(expected)} layers: give one shape for each, not {len(shapes)}."
        )
    size, channels = 28, 1
    for layer, (mine, right) in enumerate(zip(shapes, expected)):
        if mine != right:
            return feedback.wrong(ex, _shape_hint(layer, mine, right, size, channels) + " Predict again, then run.")
        size, channels = right[0], right[2]
    return feedback.right(
        ex,
        "your prediction held, layer by layer: "
        + " -> ".join("x".join(map(str, shape)) for shape in [(28, 28, 1), *expected])
        + ". 'same' keeps the size, a valid k x k "
        "window takes n to (n - k) // s + 1, and pooling keeps the channels.",
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


# --- Exercise 6.3 ------------------------------------------------------------------------------------------------


def _channel_case() -> tuple[np.ndarray, int]:
    """(5, 4, 6) maps whose ranking by max differs from the ranking by mean and from a wrong reshape."""
    maps = np.random.default_rng(_RNG_SEED + 5).uniform(-1.0, 0.5, (5, 4, 6)).astype(np.float32)
    maps[..., 1] = 2.0  # active everywhere: first by the mean, third by the max
    maps[2, 1, 3] = 9.0  # one strong spot: first by the max
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
        return (
            "you ranked by the mean: score a channel by its largest value anywhere in the map, as top_activating "
            "does. One strong local match is what a detector reports."
        )
    if list(answer) == list(np.argsort(-maps.reshape(c, -1).max(axis=1), kind="stable")[:k]):
        return (
            "maps.reshape(channels, -1) mixes the channels up, because they are the last axis: use "
            "maps.max(axis=(0, 1)) or maps.reshape(-1, channels).max(axis=0)."
        )
    return "score each channel by maps[:, :, channel].max(), then return the k best channel indices, best first."


def strongest_channels(function: Callable[..., Any], maps: np.ndarray | None = None, k: int = 4) -> Feedback:
    """Check ``function(maps, k)`` returns the k channels with the largest maxima, largest first (any order in ties)."""
    ex = "6.3"
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
        if not (
            answer.shape == (n,)
            and np.issubdtype(answer.dtype, np.integer)
            and np.all((answer >= 0) & (answer < len(scores)))
            and np.allclose(scores[answer], best)
        ):
            return feedback.wrong(ex, _ranking_hint(answer, case, n))
    return feedback.right(
        ex,
        "Scoring a channel by its strongest response anywhere in the map is how "
        "top_activating ranked the test images above: where the pattern is does not matter, "
        "only that it is there.",
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
        "position of the patch and averages the drops over each pixel: one prediction per "
        "position, which is why it costs more than saliency's single backward pass.",
    )
