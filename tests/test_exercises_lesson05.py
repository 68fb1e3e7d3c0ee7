"""The self-checks of notebook 05: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student. Nothing is trained."""

from __future__ import annotations

import math
import re

import keras
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson05 as check

L = keras.layers


def conv_params(k, c_in, c_out, bias=True):
    return k * k * c_in * c_out + (c_out if bias else 0)


def conv_output_size(n, k, padding="valid", stride=1):
    """As in the notebook."""
    if padding == "same":
        return math.ceil(n / stride)
    return (n - k) // stride + 1


def dense_inputs(kernel=3, padding="same", stride=1):
    size = conv_output_size(28, kernel, padding, stride) // 2
    size = conv_output_size(size, 5) // 2
    return size * size * 48


def spec_layers():
    """Fresh layers of the spec of exercise 5.3 (a Keras layer belongs to one model)."""
    return [L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
            L.Conv2D(32, 3, padding="valid", activation="relu"), L.MaxPooling2D(2), L.Flatten(),
            L.Dense(10, activation="softmax")]


def cnn(*changes, shape=(28, 28, 1)):
    """A ``build_cnn`` returning the spec's network with ``(index, layer or None)`` replacements (None removes)."""
    def build():
        layers = spec_layers()
        for index, layer in sorted(changes, key=lambda change: -change[0]):
            if layer is None:
                del layers[index]
            else:
                layers[index] = layer
        return keras.Sequential([keras.Input(shape=shape), *layers] if shape else layers)
    return build


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 4.x: write your code here")


def test_the_reference_solutions_pass():
    for result, ex, phrase in [(check.conv_params(conv_params), "4.1", "416 and 14,436 parameters"),
                               (check.dense_inputs(dense_inputs), "4.2", "gets 1,200 inputs"),
                               (check.build_cnn(cnn()), "4.3", "28 → 28 → 14 → 12 → 6 pixels a side")]:
        assert result.ok and result.exercise == ex and result.message.startswith("correct. "), result
        assert result.raise_if_wrong() is result  # a check cell shows it
        assert phrase in result.message, result
    assert "16,330 parameters" in check.build_cnn(cnn()).message


def test_other_right_answers_pass_too():
    assert check.conv_params(lambda k, c_in, c_out, bias=True: (k * k * c_in + bias) * c_out).ok
    assert check.dense_inputs(lambda kernel=3, padding="same", stride=1: float(dense_inputs(kernel, padding, stride))).ok
    # Activations as layers of their own, the first ReLU after the pooling (max pooling and ReLU commute)
    separate = [L.Conv2D(16, 3, padding="same"), L.MaxPooling2D(2), L.ReLU(), L.Conv2D(32, 3), L.Activation("relu"),
                L.MaxPooling2D(2), L.Flatten(), L.Dense(10), L.Softmax()]
    assert check.build_cnn(lambda: keras.Sequential([keras.Input(shape=(28, 28, 1)), *separate])).ok
    inputs = keras.Input(shape=(28, 28, 1))
    outputs = inputs
    for layer in spec_layers():
        outputs = layer(outputs)
    assert check.build_cnn(lambda: keras.Model(inputs, outputs)).ok  # the functional API


@pytest.mark.parametrize("answer, phrase", [
    (lambda k, c_in, c_out, bias=True: k * k * c_in * c_out, "the biases are missing"),
    (lambda k, c_in, c_out, bias=True: k * k * c_in * c_out + c_out, "bias=False means no biases"),
    (lambda k, c_in, c_out, bias=True: k * k * c_in * c_out + bias, "`+ bias` adds True"),
    (lambda k, c_in, c_out, bias=True: k * k * c_in * c_out + (c_in if bias else 0), "not one per input channel"),
    (lambda k, c_in, c_out, bias=True: k * k * c_out + (c_out if bias else 0), "each filter spans all c_in"),
    (lambda k, c_in, c_out, bias=True: k * c_in * c_out + (c_out if bias else 0), "k² weights"),
    (lambda k, c_in, c_out, bias=False: conv_params(k, c_in, c_out, bias), "bias defaults to True"),
    (lambda k, c_in, c_out, bias=True: None, "did you forget `return`"),
    (lambda k, c_in, c_out, bias=True: str(conv_params(k, c_in, c_out, bias)), "one whole number"),
    (lambda k, c_in, c_out, bias=True: conv_params(k, c_in, c_out, bias) * 2, "Keras counts 14,436"),
])
def test_conv_params_hints(answer, phrase):
    result = check.conv_params(answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def _sizes(padding_swap=False, ignore_stride=False, pools=2, pool_round=math.floor, conv2_shrink=4, channels=48,
           square=True):
    """A student's ``dense_inputs`` with one of the usual mistakes."""
    def answer(kernel=3, padding="same", stride=1):
        if padding_swap:
            padding = "valid" if padding == "same" else "same"
        size = conv_output_size(28, kernel, padding, 1 if ignore_stride else stride)
        if pools >= 1:
            size = pool_round(size / 2)
        size -= conv2_shrink
        if pools >= 2:
            size = pool_round(size / 2)
        return (size * size if square else size) * channels
    return answer


@pytest.mark.parametrize("answer, phrase", [
    (_sizes(padding_swap=True), "padding mixed up"),
    (_sizes(ignore_stride=True), "stride is ignored"),
    (_sizes(pools=0), "the pooling is missing"),
    (_sizes(pools=1), "one pooling is missing"),
    (_sizes(pool_round=math.ceil), "pooling rounds down"),
    (_sizes(conv2_shrink=0), "conv2 is unchanged"),
    (_sizes(channels=1), "multiply height × width by conv2's 48 channels"),
    (_sizes(channels=24), "not conv1's 24"),
    (_sizes(square=False), "one side is missing"),
    (lambda kernel=3, padding="same", stride=1: 5 * 5 * 48, "whatever the arguments"),
    (lambda kernel=3, padding="same", stride=1: None, "did you forget `return`"),
    (lambda kernel=3, padding="same", stride=1: (5, 5, 48), "one whole number"),
    (lambda kernel=3, padding="same", stride=1: dense_inputs(kernel, padding, stride) + (stride == 2),
     "for kernel=3, padding='same', stride=2 you return 49"),
])
def test_dense_inputs_hints(answer, phrase):
    result = check.dense_inputs(answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


@pytest.mark.parametrize("build, phrase", [
    (cnn((1, None)), "layer 2 ("),
    (cnn((1, None)), "Forgot the pooling?"),
    (cnn((3, None)), "MaxPooling2D(2) halves 12 × 12 to 6 × 6"),
    (cnn((1, L.AveragePooling2D(2))), "not average pooling"),
    (cnn((2, L.Conv2D(32, 3, padding="same", activation="relu"))), "layer 3 ("),
    (cnn((2, L.Conv2D(32, 3, padding="same", activation="relu"))), "padding is 'same', the spec says 'valid'"),
    (cnn((0, L.Conv2D(16, 3, activation="relu"))), "'same' keeps 28 × 28"),
    (cnn((0, L.Conv2D(32, 3, padding="same", activation="relu"))), "it has 32 filters, the spec 16"),
    (cnn((2, L.Conv2D(32, 5, activation="relu"))), "its kernel is 5x5"),
    (cnn((0, L.Conv2D(16, 3, strides=2, padding="same", activation="relu"))), "its stride is not 1"),
    (cnn((0, L.Conv2D(16, 3, padding="same"))), 'its activation is linear, the spec says relu'),
    (cnn((2, L.Conv2D(32, 3, use_bias=False, activation="relu"))), "keep the biases"),
    (cnn((3, L.MaxPooling2D(3))), "MaxPooling2D(2)."),
    (cnn((4, None)), "Flatten the feature maps"),
    (cnn((5, L.Dense(10))), "the spec says softmax"),
    (cnn((5, L.Dense(16, activation="softmax"))), "the output needs 10"),
    (cnn((5, None)), "layer 6 is missing: the spec continues with Dense(10), softmax"),
    (lambda: keras.Sequential([keras.Input(shape=(28, 28, 1)), *spec_layers(), L.Dropout(0.5)]),
     "layer 7 (dropout"),
    (cnn((4, L.BatchNormalization())), "the spec has Flatten here"),
    (cnn(shape=(28, 28, 3)), "one grey channel, as Conv2D expects; yours is (28, 28, 3)"),
    (lambda: keras.Sequential([keras.Input(shape=(28, 28)), L.Reshape((28, 28, 1)), *spec_layers()]),
     "the spec's input is keras.Input(shape=(28, 28, 1))"),
    (cnn(shape=None), "does not know its input size"),
    (lambda: None, "did you forget `return`"),
    (lambda: "model", "not a str"),
])
def test_build_cnn_names_the_first_layer_that_differs(build, phrase):
    result = check.build_cnn(build)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


@pytest.mark.parametrize("run", [lambda: check.conv_params(stub), lambda: check.dense_inputs(stub),
                                 lambda: check.build_cnn(stub)])
def test_an_unsolved_stub_raises_not_implemented(run):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run()
