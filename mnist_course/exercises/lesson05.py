"""Self-checks for the exercises of notebook 05 (convolutional networks): parameters, feature-map sizes, a CNN."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import Feedback, call, model_hint, not_whole, right, wrong
from mnist_course.exercises.feedback import whole as _whole

def _not_whole(exercise: str, value: Any) -> Feedback:
    return not_whole(exercise, value)


def _keras_conv_params(k: int, c_in: int, c_out: int, bias: bool) -> int:
    layer = keras.layers.Conv2D(c_out, k, use_bias=bias)
    layer.build((None, 28, 28, c_in))
    return layer.count_params()


def _conv_mistakes(k: int, c_in: int, c_out: int, bias: bool) -> list[tuple[int, str]]:
    weights, biases = k * k * c_in * c_out, c_out if bias else 0
    return [
        (weights, "the biases are missing: with bias=True every filter (output channel) adds one, + c_out."),
        (weights + c_out, "bias=False means no biases: return just the weights, as for the course CNN's "
         "Conv2D(use_bias=False)."),
        (weights + 1, "`+ bias` adds True, that is 1; the layer has one bias per filter: + (c_out if bias else 0)."),
        (weights + c_in, "there is one bias per output channel (per filter), not one per input channel: + c_out."),
        (k * k * c_out + biases, "each filter spans all c_in input channels: it has k × k × c_in weights, so the "
         "layer has k × k × c_in × c_out."),
        (k * c_in * c_out + biases, "a k × k kernel has k² weights per pair of input and output channels, not k."),
    ]


def conv_params(function: Callable[..., int]) -> Feedback:
    """Exercise 5.1: ``function(k, c_in, c_out, bias=True)`` counts a ``Conv2D`` layer's parameters, as Keras does."""
    ex = "4.1"
    cases = ((5, 16, 36, True), (5, 1, 16, True), (3, 32, 64, False), (1, 24, 48, True), (3, 8, 16, None))
    for k, c_in, c_out, bias in cases:
        args = (k, c_in, c_out) if bias is None else (k, c_in, c_out, bias)
        answer = call(function, *args)
        count = _whole(answer)
        if count is None:
            return _not_whole(ex, answer)
        expected = _keras_conv_params(k, c_in, c_out, bias is not False)
        if count != expected:
            if bias is None and count == _keras_conv_params(k, c_in, c_out, False):
                return wrong(ex, "bias defaults to True, as Conv2D's use_bias does: def conv_params(k, c_in, c_out, "
                                 "bias=True).")
            hints = [hint for mistake, hint in _conv_mistakes(k, c_in, c_out, bias is not False) if mistake == count]
            return wrong(ex, hints[0] if hints else f"conv_params{args} returns {count:,}; Keras counts "
                             f"{expected:,}: k × k × c_in × c_out weights, plus c_out biases when bias is True.")
    first, second = _keras_conv_params(5, 1, 16, True), _keras_conv_params(5, 16, 36, True)
    return right(ex, f"cnn-16-36's convolutions have {first:,} and {second:,} parameters, whatever the image size: "
                     f"the same kernels slide over every position (weight sharing).")


def _flat_size(kernel: int, padding: str, stride: int, *, pools: tuple[bool, bool] = (True, True),
               pool_padding: str = "valid", conv2_padding: str = "valid") -> tuple[int, int, int]:
    """Height, width and channels before the dense layer when conv1 is ``Conv2D(24, kernel, stride, padding)``,
    from Keras' own ``compute_output_shape``; the keywords build the networks of the usual mistakes."""
    layers: list[keras.layers.Layer] = [keras.layers.Conv2D(24, kernel, strides=stride, padding=padding)]
    if pools[0]:
        layers.append(keras.layers.MaxPooling2D(2, padding=pool_padding))
    layers.append(keras.layers.Conv2D(48, 5, padding=conv2_padding))
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
        (math.prod(_flat_size(kernel, other, stride)), "padding mixed up: 'same' keeps the size (28, divided by "
         "the stride), 'valid' takes kernel − 1 pixels off it."),
        (math.prod(_flat_size(kernel, padding, 1)), "conv1's stride is ignored: stride s divides the size, "
         "floor((n − k) / s) + 1 with 'valid', ceil(n / s) with 'same'."),
        (math.prod(_flat_size(kernel, padding, stride, pools=(False, False))), "the pooling is missing: each "
         "MaxPooling2D(2) halves width and height, and there are two, pool1 and pool2."),
        (math.prod(_flat_size(kernel, padding, stride, pools=(False, True))), "one pooling is missing: pool1 halves "
         "the map after conv1, pool2 after conv2."),
        (math.prod(_flat_size(kernel, padding, stride, pools=(True, False))), "one pooling is missing: pool1 halves "
         "the map after conv1, pool2 after conv2."),
        (math.prod(_flat_size(kernel, padding, stride, pool_padding="same")), "pooling rounds down: MaxPooling2D(2) "
         "turns 9 × 9 into 4 × 4 and drops the odd last row and column (use //)."),
        (math.prod(_flat_size(kernel, padding, stride, conv2_padding="same")), "conv2 is unchanged: 5 × 5 with "
         "'valid' padding, so it takes 4 pixels off the size."),
        (height * width, "Flatten keeps every channel: multiply height × width by conv2's 48 channels."),
        (height * width * 24, "the dense layer sees conv2's output, 48 channels, not conv1's 24."),
        (height * channels, "the map is height × width (both the same here), times 48 channels: one side is missing."),
    ]


def dense_inputs(function: Callable[..., int]) -> Feedback:
    """Exercise 5.2: ``function(kernel, padding, stride)`` is the size of the course CNN's flattened feature map
    when conv1 is ``Conv2D(24, kernel, strides=stride, padding=padding)``."""
    ex = "4.2"
    cases = ((3, "same", 1), (3, "valid", 1), (5, "same", 1), (5, "valid", 1), (3, "same", 2), (5, "valid", 2))
    answers = []
    for kernel, padding, stride in cases:
        answer = call(function, kernel, padding, stride)
        if _whole(answer) is None:
            return _not_whole(ex, answer)
        answers.append(_whole(answer))
    expected = [math.prod(_flat_size(*case)) for case in cases]
    if answers == expected:
        new, old = expected[0], math.prod(_flat_size(5, "valid", 1))
        return right(ex, f"with a 3 × 3 'same' conv1 the dense layer gets {new:,} inputs, so Dense(128) has "
                         f"{128 * new:,} weights instead of {128 * old:,}: padding and stride set the size of the "
                         f"head.")
    if len(set(answers)) == 1:
        return wrong(ex, f"you return {answers[0]:,} whatever the arguments: compute the sizes from kernel, padding "
                         f"and stride.")
    mistakes = [_size_mistakes(*case) for case in cases]
    for index, (_, hint) in enumerate(mistakes[0]):  # first, a mistake that explains every answer
        if all(answer == options[index][0] for answer, options in zip(answers, mistakes)):
            return wrong(ex, hint)
    (kernel, padding, stride), answer, want, options = next(
        item for item in zip(cases, answers, expected, mistakes) if item[1] != item[2])
    hints = [hint for mistake, hint in options if mistake == answer]
    return wrong(ex, hints[0] if hints else f"for kernel={kernel}, padding={padding!r}, stride={stride} you return "
                     f"{answer:,}; the flattened map has {want:,} values. Follow the size: 28 → conv1 → pool1 → "
                     f"conv2 (5 × 5 valid) → pool2, times 48 channels.")


def _reference_cnn() -> keras.Sequential:
    """The spec of exercise 5.3, built by Keras."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, padding="valid", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])


_ACTIVATIONS = (keras.layers.ReLU, keras.layers.Softmax, keras.layers.Activation)
_POOLING = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)


def _steps(model: keras.Model) -> list[tuple[keras.layers.Layer, str]]:
    """``(layer, activation)`` in order. A ReLU/Softmax/Activation layer is folded into the Conv2D or Dense before
    it (pooling in between is fine: max pooling and ReLU commute), when that one has no activation of its own."""
    steps: list[tuple[keras.layers.Layer, str]] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, _ACTIVATIONS):
            name = ("relu" if isinstance(layer, keras.layers.ReLU) else "softmax"
                    if isinstance(layer, keras.layers.Softmax) else layer.activation.__name__)
            j = len(steps) - 1
            while j >= 0 and isinstance(steps[j][0], _POOLING):
                j -= 1
            if j >= 0 and isinstance(steps[j][0], (keras.layers.Conv2D, keras.layers.Dense)) \
                    and steps[j][1] == "linear":
                steps[j] = (steps[j][0], name)
                continue
        activation = getattr(layer, "activation", None)
        steps.append((layer, getattr(activation, "__name__", "linear")))
    return steps


def _describe(layer: keras.layers.Layer, activation: str) -> str:
    kind = type(layer).__name__
    if isinstance(layer, keras.layers.Conv2D):
        return f"{kind} {layer.filters}@{'x'.join(map(str, layer.kernel_size))} {layer.padding}, {activation}"
    if isinstance(layer, keras.layers.Dense):
        return f"{kind}({layer.units}), {activation}"
    return f"{kind}({layer.pool_size[0]})" if isinstance(layer, _POOLING) else kind


def _differences(mine: keras.layers.Layer, act: str, ref: keras.layers.Layer, ref_act: str, size: int) -> str:
    """Why ``mine`` is not the reference layer ``ref`` (same type), or ``""``."""
    if isinstance(ref, keras.layers.Conv2D):
        if mine.filters != ref.filters:
            return f"it has {mine.filters} filters, the spec {ref.filters}."
        if tuple(mine.kernel_size) != tuple(ref.kernel_size):
            return f"its kernel is {'x'.join(map(str, mine.kernel_size))}, the spec's 3x3."
        if tuple(mine.strides) != tuple(ref.strides):
            return "its stride is not 1: here the convolutions keep stride 1 and the pooling does the shrinking."
        if mine.padding != ref.padding:
            return (f"its padding is '{mine.padding}', the spec says '{ref.padding}': 'same' keeps {size} × {size}, "
                    f"'valid' takes kernel − 1 pixels off, {size} → {size - 2}.")
    if isinstance(ref, keras.layers.MaxPooling2D) and (tuple(mine.pool_size) != tuple(ref.pool_size)
                                                       or tuple(mine.strides) != tuple(ref.strides)):
        return "the spec pools 2 × 2 with stride 2: MaxPooling2D(2)."
    if isinstance(ref, keras.layers.Dense) and mine.units != ref.units:
        return f"it has {mine.units} units; the output needs 10, one per digit."
    if act != ref_act:
        return f'its activation is {act}, the spec says {ref_act}: activation="{ref_act}".'
    if mine.count_params() != ref.count_params():
        return (f"it has {mine.count_params():,} parameters, the spec's {ref.count_params():,}: keep the biases "
                f"(use_bias=True, the default).")
    if tuple(mine.output.shape) != tuple(ref.output.shape):
        return f"it outputs {tuple(mine.output.shape)[1:]}, the spec's gives {tuple(ref.output.shape)[1:]}."
    return ""


def _input_hint(model: Any) -> str | None:
    """What is wrong with the returned object or its input, or ``None``."""
    problem = model_hint(model, "keras.Input(shape=(28, 28, 1))")
    if problem:
        return problem
    shape = tuple(model.inputs[0].shape[1:])
    if shape != (28, 28, 1):
        return (f"the spec's input is keras.Input(shape=(28, 28, 1)): height, width and one grey channel, as Conv2D "
                f"expects; yours is {shape}.")
    return None


def _wrong_type(layer: keras.layers.Layer, ref: keras.layers.Layer, want: str, size: int) -> str:
    if isinstance(ref, keras.layers.MaxPooling2D) and isinstance(layer, keras.layers.AveragePooling2D):
        return "the spec uses max pooling, MaxPooling2D(2), not average pooling."
    if isinstance(ref, keras.layers.MaxPooling2D):
        half = ref.output.shape[1]
        return f"the spec pools here: MaxPooling2D(2) halves {size} × {size} to {half} × {half}. Forgot the pooling?"
    if isinstance(ref, keras.layers.Flatten) and isinstance(layer, keras.layers.Dense):
        return ("Flatten the feature maps into one vector first; without it Dense works on each pixel's channels "
                f"separately and outputs {tuple(layer.output.shape)[1:]}.")
    return f"the spec has {want} here."


def build_cnn(function: Callable[[], keras.Model]) -> Feedback:
    """Exercise 5.3: ``function()`` builds the CNN of the spec; the first layer that differs from it is named."""
    ex = "4.3"
    model = call(function)
    hint = _input_hint(model)
    if hint:
        return wrong(ex, hint)
    reference = _reference_cnn()
    mine, spec = _steps(model), _steps(reference)
    size = 28  # width of the map entering the layer
    for number, ((ref, ref_act), theirs) in enumerate(zip(spec, mine + [None] * len(spec)), start=1):
        if theirs is None:
            return wrong(ex, f"layer {number} is missing: the spec continues with {_describe(ref, ref_act)}.")
        layer, act = theirs
        reason = (_wrong_type(layer, ref, _describe(ref, ref_act), size) if type(layer) is not type(ref)
                  else _differences(layer, act, ref, ref_act, size))
        if reason:
            return wrong(ex, f"layer {number} ({layer.name}, {_describe(layer, act)}): {reason}")
        size = ref.output.shape[1]
    if len(mine) > len(spec):
        layer, act = mine[len(spec)]
        return wrong(ex, f"layer {len(spec) + 1} ({layer.name}, {_describe(layer, act)}) is not in the spec, which "
                         f"ends with Dense(10), softmax.")
    sides = " → ".join(str(step[0].output.shape[1]) for step in spec[:4])
    flat, total, dense = spec[4][0].output.shape[1], reference.count_params(), spec[-1][0].count_params()
    return right(ex, f"28 → {sides} pixels a side, then {flat:,} inputs to Dense(10): {total:,} parameters, "
                     f"{100 * dense / total:.0f} % of them in that last layer; the convolutions, which do the seeing, "
                     f"have {total - dense:,}.")
