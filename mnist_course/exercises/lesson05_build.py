"""The self-check of exercise 5.3 (build a CNN from its spec): the first layer that differs from the spec is named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from mnist_course.exercises.feedback import Feedback, call, model_hint, right, wrong


def _reference_cnn() -> keras.Sequential:
    """The spec of exercise 5.3, built by Keras."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, padding="valid", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


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
            name = (
                "relu"
                if isinstance(layer, keras.layers.ReLU)
                else "softmax"
                if isinstance(layer, keras.layers.Softmax)
                else layer.activation.__name__
            )
            j = len(steps) - 1
            while j >= 0 and isinstance(steps[j][0], _POOLING):
                j -= 1
            if (
                j >= 0
                and isinstance(steps[j][0], (keras.layers.Conv2D, keras.layers.Dense))
                and steps[j][1] == "linear"
            ):
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
            return (
                f"its padding is '{mine.padding}', the spec says '{ref.padding}': 'same' keeps {size} × {size}, "
                f"'valid' takes kernel − 1 pixels off, {size} → {size - 2}."
            )
    if isinstance(ref, keras.layers.MaxPooling2D) and (
        tuple(mine.pool_size) != tuple(ref.pool_size) or tuple(mine.strides) != tuple(ref.strides)
    ):
        return "the spec pools 2 × 2 with stride 2: MaxPooling2D(2)."
    if isinstance(ref, keras.layers.Dense) and mine.units != ref.units:
        return f"it has {mine.units} units; the output needs 10, one per digit."
    if act != ref_act:
        return f'its activation is {act}, the spec says {ref_act}: activation="{ref_act}".'
    if mine.count_params() != ref.count_params():
        return (
            f"it has {mine.count_params():,} parameters, the spec's {ref.count_params():,}: keep the biases "
            f"(use_bias=True, the default)."
        )
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
        return (
            f"the spec's input is keras.Input(shape=(28, 28, 1)): height, width and one grey channel, as Conv2D "
            f"expects; yours is {shape}."
        )
    return None


def _wrong_type(layer: keras.layers.Layer, ref: keras.layers.Layer, want: str, size: int) -> str:
    if isinstance(ref, keras.layers.MaxPooling2D) and isinstance(layer, keras.layers.AveragePooling2D):
        return "the spec uses max pooling, MaxPooling2D(2), not average pooling."
    if isinstance(ref, keras.layers.MaxPooling2D):
        half = ref.output.shape[1]
        return f"the spec pools here: MaxPooling2D(2) halves {size} × {size} to {half} × {half}. Forgot the pooling?"
    if isinstance(ref, keras.layers.Flatten) and isinstance(layer, keras.layers.Dense):
        return (
            "Flatten the feature maps into one vector first; without it Dense works on each pixel's channels "
            f"separately and outputs {tuple(layer.output.shape)[1:]}."
        )
    return f"the spec has {want} here."


def build_cnn(function: Callable[[], keras.Model]) -> Feedback:
    """Exercise 5.3: ``function()`` builds the CNN of the spec; the first layer that differs from it is named."""
    ex = "5.3"
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
        reason = (
            _wrong_type(layer, ref, _describe(ref, ref_act), size)
            if type(layer) is not type(ref)
            else _differences(layer, act, ref, ref_act, size)
        )
        if reason:
            return wrong(ex, f"layer {number} ({layer.name}, {_describe(layer, act)}): {reason}")
        size = ref.output.shape[1]
    if len(mine) > len(spec):
        layer, act = mine[len(spec)]
        return wrong(
            ex,
            f"layer {len(spec) + 1} ({layer.name}, {_describe(layer, act)}) is not in the spec, which "
            f"ends with Dense(10), softmax.",
        )
    sides = " → ".join(str(step[0].output.shape[1]) for step in spec[:4])
    flat, total, dense = spec[4][0].output.shape[1], reference.count_params(), spec[-1][0].count_params()
    return right(
        ex,
        f"28 → {sides} pixels a side, then {flat:,} inputs to Dense(10): {total:,} parameters, "
        f"{100 * dense / total:.0f} % of them in that last layer; the convolutions, which do the seeing, "
        f"have {total - dense:,}.",
    )
