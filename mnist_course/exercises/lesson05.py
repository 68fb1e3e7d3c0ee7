"""Self-checks for the exercises of notebook 05 (convolutional networks): predict a conv stack, follow the
feature-map sizes, build a CNN from its spec, fix an older tutorial's input code."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import Feedback, call, not_whole, right, wrong
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
    ``NotImplementedError``."""
    ex = "5.1"
    if predicted_shape is None or predicted_params is None:
        raise NotImplementedError(f"Exercise {ex}: write your predictions into predicted_shape and predicted_params")
    stack = predicted_stack()
    shape, params = tuple(stack.output_shape[1:]), stack.count_params()
    try:
        mine = tuple(int(v) if v is not None else None for v in predicted_shape)
    except (TypeError, ValueError):
        return wrong(
            ex,
            f"predicted_shape should be a tuple of three numbers (height, width, channels), got "
            f"{predicted_shape!r:.60}",
        )
    if mine != shape:
        if len(mine) == 4:
            return wrong(ex, "give the shape of one example, without the batch axis: (height, width, channels).")
        return wrong(
            ex,
            f"you predicted {mine}; "
            + _shape_hints().get(
                mine,
                "follow the size: 32 → conv1 ('same', stride 2) → conv2 (3 × 3 'valid') → pool 2, and the "
                "channels of the last convolution.",
            ),
        )
    count = _whole(predicted_params)
    if count is None:
        return not_whole(ex, predicted_params, "one whole number of parameters")
    if count != params:
        return wrong(
            ex,
            f"the shape is right; {count:,} parameters is not: "
            + _params_hints().get(
                count, "each convolution has k × k × c_in × c_out weights plus c_out biases; pooling has none."
            ),
        )
    return right(
        ex,
        f"Keras builds {shape} and {params:,} parameters, as you predicted: 'same' with stride 2 "
        f"gives ceil(32 / 2) = 16, the 3 × 3 'valid' convolution 14, the pooling 7; the parameters "
        f"are 3·3·3·8 + 8 = 224 and 3·3·8·16 + 16 = 1,168, whatever the image size.",
    )


def _images(n: int, top: int, seed: int) -> np.ndarray:
    """``n`` random uint8 'images' (n, 28, 28) whose brightest pixel is ``top``."""
    images = np.random.default_rng(seed).integers(0, top, size=(n, 28, 28), endpoint=True).astype(np.uint8)
    images[0, 14, 14] = top
    return images


def model_inputs(function: Callable[..., Any]) -> Feedback:
    """Exercise 5.4 (debug): ``function(x_train, x_test)`` returns both sets as float images in [0, 1] shaped
    (N, 28, 28, 1), scaled the same way; checked on random uint8 images and with a small CNN that predicts both."""
    ex = "5.4"
    x_train, x_test = _images(6, 200, 0), _images(4, 255, 1)  # the training set's brightest pixel is not 255
    result = call(function, x_train.copy(), x_test.copy())
    if result is None:
        return wrong(ex, "your function returns None: keep `return x_train, x_test`.")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return wrong(ex, "return the pair (x_train, x_test).")
    train, test = (np.asarray(a) for a in result)
    for label, got, raw in (("x_train", train, x_train), ("x_test", test, x_test)):
        if got.shape == (len(raw), 1, 28, 28):
            return wrong(
                ex,
                f"{label} is shaped (N, 1, 28, 28), channels first; the model's "
                f"Input(shape=(28, 28, 1)) wants channels last, (N, 28, 28, 1), for both sets: with "
                f"the test set channels first, Keras raises a ValueError at evaluate or predict.",
            )
        if got.shape == (len(raw), 784):
            return wrong(ex, f"{label} is flattened to (N, 784); a CNN takes images, (N, 28, 28, 1).")
        if got.shape != (len(raw), 28, 28, 1):
            return wrong(ex, f"{label} has shape {got.shape}; both sets need (N, 28, 28, 1).")
    for label, got, raw in (("x_train", train, x_train), ("x_test", test, x_test)):
        if got.max() > 1:
            return wrong(
                ex,
                f"{label} still holds pixel values up to {got.max():.0f}: divide by 255 so that both "
                f"sets lie in [0, 1], as every model of the course was trained.",
            )
        if np.allclose(got[..., 0], raw / raw.max()) and raw.max() != 255:
            return wrong(
                ex,
                f"{label} is divided by its own maximum ({raw.max()}), so one pixel value means "
                f"different things in the two sets: divide both by the fixed 255.",
            )
        if np.allclose(got[..., 0], raw / 256):
            return wrong(ex, "pixels go from 0 to 255: divide by 255, so that white is exactly 1.")
        if not np.allclose(got[..., 0], raw / 255):
            return wrong(
                ex,
                f"{label} is not the images divided by 255 (in their order): reshape, then "
                f"divide by 255, and change nothing else.",
            )
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    outputs = [model.predict(a.astype("float32"), verbose=0).shape for a in (train, test)]
    return right(
        ex,
        f"both sets are (N, 28, 28, 1) in [0, 1], and a CNN with Input(shape=(28, 28, 1)) predicts "
        f"them ({outputs[0]} and {outputs[1]}): train and test must get the same reshape and the same "
        f"scaling, the one the model was trained with.",
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
    other = "valid" if padding == "same" else "same"
    return [
        (
            math.prod(_flat_size(kernel, other, stride)),
            (
                "padding mixed up: 'same' keeps the size (28, divided by "
                "the stride), 'valid' takes kernel − 1 pixels off it."
            ),
        ),
        (
            math.prod(_flat_size(kernel, padding, 1)),
            (
                "conv1's stride is ignored: stride s divides the size, "
                "floor((n − k) / s) + 1 with 'valid', ceil(n / s) with 'same'."
            ),
        ),
        (
            math.prod(_flat_size(kernel, padding, stride, pools=(False, False))),
            (
                "the pooling is missing: each "
                "MaxPooling2D(2) halves width and height, and there are two, pool1 and pool2."
            ),
        ),
        (
            math.prod(_flat_size(kernel, padding, stride, pools=(False, True))),
            ("one pooling is missing: pool1 halves the map after conv1, pool2 after conv2."),
        ),
        (
            math.prod(_flat_size(kernel, padding, stride, pools=(True, False))),
            ("one pooling is missing: pool1 halves the map after conv1, pool2 after conv2."),
        ),
        (
            math.prod(_flat_size(kernel, padding, stride, pool_padding="same")),
            (
                "pooling rounds down: MaxPooling2D(2) "
                "turns 9 × 9 into 4 × 4 and drops the odd last row and column (use //)."
            ),
        ),
        (
            math.prod(_flat_size(kernel, padding, stride, conv2_padding="same")),
            ("conv2 is unchanged: 5 × 5 with 'valid' padding, so it takes 4 pixels off the size."),
        ),
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


__all__ = ["build_cnn", "dense_inputs", "model_inputs", "predict_stack", "predicted_stack"]
