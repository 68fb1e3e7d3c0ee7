"""Self-checks for the exercises of notebook 05 (convolutional networks): predict a conv stack, follow the
feature-map sizes, build a CNN from its spec, batch normalisation's forward pass debugged."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import (
    NO_RETURN,
    Feedback,
    as_array,
    call,
    commit,
    not_whole,
    predicted,
    right,
    wrong,
)
from mnist_course.exercises.feedback import whole as _whole
from mnist_course.exercises.lesson05_build import build_cnn
from mnist_course.models.layers import CONV1_FILTERS, CONV2_FILTERS

STACK_INPUT = (32, 32, 3)  # exercise 5.1's input: a 32 x 32 colour image


def predicted_stack() -> keras.Sequential:
    """Exercise 5.1's stack: Conv2D(8, 3, strides=2, padding="same") -> Conv2D(16, 3) -> MaxPooling2D(2)."""
    return keras.Sequential(
        [
            keras.Input(STACK_INPUT),
            keras.layers.Conv2D(8, 3, strides=2, padding="same"),
            keras.layers.Conv2D(16, 3, padding="valid"),
            keras.layers.MaxPooling2D(2),
        ]
    )


def _shape_hints() -> dict[tuple[Any, ...], str]:
    return {
        (14, 14, 16): "the pooling is missing: MaxPooling2D(2) halves 14 × 14 to 7 × 7.",
        (15, 15, 16): "strides=2 is ignored: the first convolution, 'same' with stride 2, gives ceil(32 / 2) = 16.",
        (6, 6, 16): "with padding='same' and stride 2 no pixel is lost: ceil(32 / 2) = 16, not "
        "floor((32 − 3) / 2) + 1 = 15.",
        (7, 7, 8): "the channels are those of the last convolution, 16 filters; pooling keeps the channels.",
        (7, 7, 3): "the channels are those of the last convolution, 16 filters, not the image's 3.",
        (16, 7, 7): "Keras is channels last: (height, width, channels).",
        (8, 8, 16): "'valid' with a 3 × 3 kernel takes 2 pixels off: 16 → 14, then the pooling halves it to 7.",
    }


def _params_hints() -> dict[int, str]:
    first, second = 3 * 3 * 3 * 8, 3 * 3 * 8 * 16
    return {
        first + second: "the biases are missing: one per filter, 8 + 16.",
        3 * 3 * 8 + 8 + 3 * 3 * 16 + 16: "each filter spans all its input channels: 3 × 3 × c_in weights "
        "(c_in = 3, then 8).",
        3 * 3 * 3 * 8 + 8 + 3 * 3 * 3 * 16 + 16: "the second convolution's input has 8 channels (the first one's "
        "filters), not the image's 3.",
        second + 16: "the first convolution has parameters too: 3 × 3 × 3 × 8 + 8.",
        first + 8: "the second convolution has parameters too: 3 × 3 × 8 × 16 + 16.",
    }


def predict_stack(predicted_shape: Any, predicted_params: Any) -> Feedback:
    """Exercise 5.1 (predict, then run): the predicted output shape of one example and parameter count of
    :func:`predicted_stack`, compared with the stack Keras builds; ``None`` (not predicted yet) raises
    ``NotImplementedError``. The point is for the first well-formed prediction checked (:func:`commit`), held or not."""
    ex = "5.1"
    if predicted_shape is None or predicted_params is None:
        raise NotImplementedError(f"Exercise {ex}: write your predictions into predicted_shape and predicted_params")
    sequence = isinstance(predicted_shape, (tuple, list)) or np.ndim(predicted_shape) == 1
    mine = tuple(_whole(v) for v in predicted_shape) if sequence else None
    if mine is not None and len(mine) == 4:
        return wrong(ex, "give the shape of one example, without the batch axis: (height, width, channels).")
    if mine is None or len(mine) != 3 or None in mine:
        return wrong(
            ex,
            f"predicted_shape should be a tuple of three numbers (height, width, channels), got "
            f"{predicted_shape!r:.60}",
        )
    count = _whole(predicted_params)
    if count is None:
        return not_whole(ex, predicted_params, "one whole number of parameters")
    (mine, count), changed = commit(ex, (mine, count))
    stack = predicted_stack()
    shape, params = tuple(stack.output_shape[1:]), stack.count_params()
    held = {"predicted_shape": mine == shape, "predicted_params": count == params}
    notes = []
    if not held["predicted_shape"]:
        notes.append(
            f"predicted_shape: you predicted {mine}; "
            + _shape_hints().get(
                mine,
                "the size goes 32 → 16 (conv1, 'same' with stride 2) → 14 (conv2, 3 × 3 'valid') → 7 (the pooling), "
                "and the channels are those of the last convolution.",
            )
        )
    if not held["predicted_params"]:
        notes.append(
            f"predicted_params: you predicted {count:,}; "
            + _params_hints().get(
                count, "each convolution has k × k × c_in × c_out weights plus c_out biases; pooling has none."
            )
        )
    missed, kept = [n for n, ok in held.items() if not ok], [n for n, ok in held.items() if ok]
    verdict = f"Did not hold: {', '.join(missed)} (held: {', '.join(kept) or 'none'}). " if missed else ""
    return predicted(
        ex,
        not notes,
        f"{verdict}Keras builds {shape} and {params:,} parameters. {' '.join(notes)}{' ' if notes else ''}'same' with "
        "stride 2 gives ceil(32 / 2) = 16, the 3 × 3 'valid' convolution 14, the pooling 7; the parameters are "
        "3·3·3·8 + 8 = 224 and 3·3·8·16 + 16 = 1,168, whatever the image size.",
        changed,
    )


EPSILON = 1e-3  # Keras' default for BatchNormalization, and exercise 5.4's


def _bn_case() -> tuple[np.ndarray, ...]:
    """Exercise 5.4's case: 6 feature maps of 4 x 4 x 3 whose channels differ in mean and spread and whose positions
    differ too (so statistics per position are not those per channel), and per channel a learned scale (one of them
    negative), shift, moving mean and moving variance (one of them small, where epsilon's place shows)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 4, 4, 3)) * [1.0, 2.0, 0.15] + [0.5, -1.0, 2.0] + rng.normal(size=(1, 4, 4, 1))
    gamma, beta = np.array([1.5, 0.5, -1.0]), np.array([0.1, -0.2, 0.3])
    moving_mean, moving_var = np.array([0.4, -0.8, 1.9]), np.array([0.9, 3.5, 0.004])
    return tuple(a.astype("float32") for a in (x, gamma, beta, moving_mean, moving_var))


def _keras_bn(x: np.ndarray, weights: tuple[np.ndarray, ...], training: bool) -> np.ndarray:
    """What ``keras.layers.BatchNormalization(epsilon=EPSILON)`` with these weights outputs for ``x``."""
    layer = keras.layers.BatchNormalization(epsilon=EPSILON)
    layer.build(x.shape)
    layer.set_weights(list(weights))
    return np.asarray(keras.ops.convert_to_numpy(layer(x, training=training)), dtype=np.float64)


def _bn_mistakes(x: np.ndarray, weights: tuple[np.ndarray, ...], training: bool) -> list[tuple[np.ndarray, str]]:
    """The outputs of the usual mistakes in one mode, each with its hint."""
    gamma, beta, moving_mean, moving_var = (w.astype(np.float64) for w in weights)
    x = x.astype(np.float64)
    per_channel, per_position = (x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))), (x.mean(axis=0), x.var(axis=0))
    right = per_channel if training else (moving_mean, moving_var)

    def norm(stats: tuple[np.ndarray, np.ndarray], scale: np.ndarray = gamma, shift: np.ndarray = beta) -> np.ndarray:
        return scale * (x - stats[0]) / np.sqrt(stats[1] + EPSILON) + shift

    mistakes = [
        (
            norm(per_position),
            "statistics per pixel: mean(axis=0) averages each position and channel over the batch only, as for "
            "a dense layer's (N, units). On feature maps BatchNormalization keeps one mean and variance per "
            "channel, over the batch and every position: axis=(0, 1, 2).",
        ),
        (
            norm((x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2), ddof=1))),
            "Keras divides the batch's squared deviations by their number (np.var's default), not by that number − 1.",
        ),
        (
            gamma * (x - right[0]) / (np.sqrt(right[1]) + EPSILON) + beta,
            "epsilon goes inside the square root: (x − mean) / sqrt(var + epsilon).",
        ),
        (
            gamma * (x - right[0]) / (right[1] + EPSILON) + beta,
            "divide by the standard deviation, the square root of var + epsilon, not by the variance.",
        ),
        (norm(right, 1.0, 0.0), "after normalising, apply the learned scale and shift: gamma * x_hat + beta."),
    ]
    if training:
        mistakes.append(
            (
                norm((moving_mean, moving_var)),
                "in training (training=True) BatchNormalization normalises with the batch's own statistics; the "
                "moving averages are for inference.",
            )
        )
    else:
        mistakes += [
            (
                norm(stats),
                "at inference (training=False) BatchNormalization uses the moving averages gathered in training, "
                "moving_mean and moving_var, not the statistics of the batch it is given: with those, an image's "
                "output would depend on the other images of its batch.",
            )
            for stats in (per_channel, per_position)
        ]
    return mistakes


def batch_norm(function: Callable[..., Any]) -> Feedback:
    """Exercise 5.4 (debug): ``function(x, gamma, beta, moving_mean, moving_var, training=...)`` computes what
    ``keras.layers.BatchNormalization()`` outputs for feature maps ``x`` (N, height, width, channels), in training
    and in inference mode; checked against Keras on a batch of 6 maps of 4 x 4 x 3."""
    ex = "5.4"
    x, *weights = _bn_case()
    worst = 0.0
    for training in (True, False):
        mode = f"training={training}"
        answer = call(function, x.copy(), *(w.copy() for w in weights), training=training)
        if answer is None:
            return wrong(ex, NO_RETURN)
        got = as_array(answer)
        if got is None or got.dtype == object or got.shape != x.shape:
            shape = "no array" if got is None else f"shape {got.shape}"
            return wrong(ex, f"with {mode} your function returns {shape}; return the normalised maps, shaped like x.")
        got = got.astype(np.float64)
        want = _keras_bn(x, tuple(weights), training)
        if np.allclose(got, want, atol=1e-4):
            worst = max(worst, float(np.abs(got - want).max()))
            continue
        for output, hint in _bn_mistakes(x, tuple(weights), training):
            if np.allclose(got, output, atol=1e-4):
                return wrong(ex, f"with {mode}: {hint}")
        return wrong(
            ex,
            f"with {mode} your output differs from keras.layers.BatchNormalization's by up to "
            f"{np.abs(got - want).max():.3g}: (x − mean) / sqrt(var + epsilon) * gamma + beta, with the batch's "
            "statistics per channel in training and moving_mean, moving_var at inference.",
        )
    return right(
        ex,
        f"your batch_norm matches keras.layers.BatchNormalization in both modes (largest difference {worst:.1g}). In "
        f"training each channel is normalised over the batch and every position ({x.shape[0]} × {x.shape[1]} × "
        f"{x.shape[2]} = {x[..., 0].size} values per channel here); at inference by the moving averages, so an "
        "image's output no longer depends on the other images of its batch.",
    )


def _flat_size(
    kernel: int,
    padding: str,
    stride: int,
    *,
    pools: tuple[bool, bool] = (True, True),
    pool_padding: str = "valid",
    conv2_padding: str = "valid",
) -> tuple[int, int, int]:
    """Height, width and channels before the dense layer when conv1 is ``Conv2D(16, kernel, stride, padding)``,
    from Keras' own ``compute_output_shape``; the keywords build the networks of the usual mistakes."""
    layers: list[keras.layers.Layer] = [keras.layers.Conv2D(CONV1_FILTERS, kernel, strides=stride, padding=padding)]
    if pools[0]:
        layers.append(keras.layers.MaxPooling2D(2, padding=pool_padding))
    layers.append(keras.layers.Conv2D(CONV2_FILTERS, 5, padding=conv2_padding))
    if pools[1]:
        layers.append(keras.layers.MaxPooling2D(2, padding=pool_padding))
    shape: tuple[Any, ...] = (None, 28, 28, 1)
    for layer in layers:
        shape = tuple(layer.compute_output_shape(shape))
    return shape[1], shape[2], shape[3]


def _size_mistakes(kernel: int, padding: str, stride: int) -> list[tuple[int, str]]:
    height, width, channels = _flat_size(kernel, padding, stride)

    def size(**changes: Any) -> int:
        return math.prod(_flat_size(kernel, changes.pop("padding", padding), stride, **changes))

    one_pool = "one pooling is missing: pool1 halves the map after conv1, pool2 after conv2."
    hints = {
        "swap": "padding mixed up: 'same' keeps the size (28, divided by the stride), 'valid' takes kernel − 1 "
        "pixels off it.",
        "stride": "conv1's stride is ignored: stride s divides the size, floor((n − k) / s) + 1 with 'valid', "
        "ceil(n / s) with 'same'.",
        "pools": "the pooling is missing: each MaxPooling2D(2) halves width and height, and there are two, pool1 "
        "and pool2.",
        "round": "pooling rounds down: MaxPooling2D(2) turns 9 × 9 into 4 × 4 and drops the odd last row and "
        "column (use //).",
        "conv2": "conv2 is unchanged: 5 × 5 with 'valid' padding, so it takes 4 pixels off the size.",
    }
    return [
        (size(padding="valid" if padding == "same" else "same"), hints["swap"]),
        (math.prod(_flat_size(kernel, padding, 1)), hints["stride"]),
        (size(pools=(False, False)), hints["pools"]),
        (size(pools=(False, True)), one_pool),
        (size(pools=(True, False)), one_pool),
        (size(pool_padding="same"), hints["round"]),
        (size(conv2_padding="same"), hints["conv2"]),
        (height * width, f"Flatten keeps every channel: multiply height × width by conv2's {CONV2_FILTERS} channels."),
        (
            height * width * CONV1_FILTERS,
            f"the dense layer sees conv2's output, {CONV2_FILTERS} channels, not conv1's {CONV1_FILTERS}.",
        ),
        (
            height * channels,
            f"the map is height × width (both the same here), times {CONV2_FILTERS} channels: one side is missing.",
        ),
    ]


def dense_inputs(function: Callable[..., int]) -> Feedback:
    """Exercise 5.2: ``function(kernel, padding, stride)`` is the size of the course CNN's flattened feature map
    when conv1 is ``Conv2D(16, kernel, strides=stride, padding=padding)``."""
    ex = "5.2"
    cases = ((3, "same", 1), (3, "valid", 1), (5, "same", 1), (5, "valid", 1), (3, "same", 2), (5, "valid", 2))
    answers = []
    for kernel, padding, stride in cases:
        answer = call(function, kernel, padding, stride)
        if _whole(answer) is None:
            return not_whole(ex, answer)
        answers.append(_whole(answer))
    expected = [math.prod(_flat_size(*case)) for case in cases]
    if answers == expected:
        new, old = expected[0], math.prod(_flat_size(5, "valid", 1))
        return right(
            ex,
            f"with a 3 × 3 'same' conv1 the dense layer gets {new:,} inputs, so Dense(128) has "
            f"{128 * new:,} weights instead of {128 * old:,}: padding and stride set the size of the "
            f"head.",
        )
    if len(set(answers)) == 1:
        return wrong(
            ex, f"you return {answers[0]:,} whatever the arguments: compute the sizes from kernel, padding and stride."
        )
    mistakes = [_size_mistakes(*case) for case in cases]
    for index, (_, hint) in enumerate(mistakes[0]):  # first, a mistake that explains every answer
        if all(answer == options[index][0] for answer, options in zip(answers, mistakes)):
            return wrong(ex, hint)
    (kernel, padding, stride), answer, want, options = next(
        item for item in zip(cases, answers, expected, mistakes) if item[1] != item[2]
    )
    hints = [hint for mistake, hint in options if mistake == answer]
    return wrong(
        ex,
        hints[0]
        if hints
        else f"for kernel={kernel}, padding={padding!r}, stride={stride} you return "
        f"{answer:,}; the flattened map has {want:,} values. Follow the size: 28 → conv1 → pool1 → "
        f"conv2 (5 × 5 valid) → pool2, times {CONV2_FILTERS} channels.",
    )


__all__ = ["EPSILON", "batch_norm", "build_cnn", "dense_inputs", "predict_stack", "predicted_stack"]
