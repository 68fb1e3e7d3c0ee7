"""Self-checks for the exercises of notebook 05 (convolutional networks): predict a conv stack, follow the
feature-map sizes; building a CNN from its spec (5.3) and batch normalisation debugged (5.4) have modules of their
own."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import (
    Feedback,
    call,
    commit,
    not_whole,
    predicted,
    right,
    wrong,
)
from mnist_course.exercises.feedback import whole as _whole
from mnist_course.exercises.lesson05_batchnorm import EPSILON, batch_norm
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
