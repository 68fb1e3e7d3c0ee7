"""The self-checks of notebook 05: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student. Nothing is trained."""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson05 as check

L = keras.layers


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
    return [
        L.Conv2D(16, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(32, 3, padding="valid", activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(10, activation="softmax"),
    ]


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
    raise NotImplementedError("Exercise 5.x: write your code here")


def test_the_reference_solutions_pass():
    for result, ex, phrase in [
        (check.predict_stack((7, 7, 16), 1392), "5.1", "(7, 7, 16) and 1,392 parameters"),
        (check.dense_inputs(dense_inputs), "5.2", "gets 1,200 inputs"),
        (check.build_cnn(cnn()), "5.3", "28 → 28 → 14 → 12 → 6 pixels a side"),
        (check.model_inputs(model_inputs), "5.4", "(6, 10) and (4, 10)"),
    ]:
        assert result.ok and result.exercise == ex and result.message.startswith("correct. "), result
        assert result.raise_if_wrong() is result  # a check cell shows it
        assert phrase in result.message, result
    assert "16,330 parameters" in check.build_cnn(cnn()).message


def test_other_right_answers_pass_too():
    assert check.predict_stack([7, 7, 16], np.int64(1392)).ok  # a list and a NumPy integer
    assert check.predict_stack((7, 7, 16), 1392.0).ok
    assert check.model_inputs(lambda a, b: (np.expand_dims(a, -1) / 255.0, np.expand_dims(b, -1) / 255.0)).ok
    assert check.dense_inputs(
        lambda kernel=3, padding="same", stride=1: float(dense_inputs(kernel, padding, stride))
    ).ok
    # Activations as layers of their own, the first ReLU after the pooling (max pooling and ReLU commute)
    separate = [
        L.Conv2D(16, 3, padding="same"),
        L.MaxPooling2D(2),
        L.ReLU(),
        L.Conv2D(32, 3),
        L.Activation("relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(10),
        L.Softmax(),
    ]
    assert check.build_cnn(lambda: keras.Sequential([keras.Input(shape=(28, 28, 1)), *separate])).ok
    inputs = keras.Input(shape=(28, 28, 1))
    outputs = inputs
    for layer in spec_layers():
        outputs = layer(outputs)
    assert check.build_cnn(lambda: keras.Model(inputs, outputs)).ok  # the functional API


@pytest.mark.parametrize(
    "shape, params, phrase",
    [
        ((14, 14, 16), 1392, "the pooling is missing"),
        ((15, 15, 16), 1392, "strides=2 is ignored"),
        ((6, 6, 16), 1392, "no pixel is lost"),
        ((7, 7, 8), 1392, "the last convolution, 16 filters; pooling keeps"),
        ((7, 7, 3), 1392, "not the image's 3"),
        ((16, 7, 7), 1392, "channels last"),
        ((None, 7, 7, 16), 1392, "without the batch axis"),
        ((9, 9, 9), 1392, "follow the size"),
        ("7x7x16", 1392, "a tuple of three numbers"),
        ((7, 7, 16), 216 + 1152, "the biases are missing"),
        ((7, 7, 16), 80 + 160, "each filter spans all its input channels"),
        ((7, 7, 16), 224 + 448, "8 channels (the first one's filters)"),
        ((7, 7, 16), 1168, "the first convolution has parameters too"),
        ((7, 7, 16), 224, "the second convolution has parameters too"),
        ((7, 7, 16), 1000, "pooling has none"),
        ((7, 7, 16), "1392", "one whole number of parameters"),
    ],
)
def test_predict_stack_hints(shape, params, phrase):
    result = check.predict_stack(shape, params)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def test_predict_stack_reads_the_stack_keras_builds():
    stack = check.predicted_stack()
    assert stack.output_shape == (None, 7, 7, 16)
    assert stack.count_params() == (3 * 3 * 3 * 8 + 8) + (3 * 3 * 8 * 16 + 16)


@pytest.mark.parametrize("shape, params", [(None, 1392), ((7, 7, 16), None)])
def test_predict_stack_without_a_prediction_is_not_implemented(shape, params):
    with pytest.raises(NotImplementedError, match="write your predictions"):
        check.predict_stack(shape, params)


def model_inputs(x_train, x_test):
    return (
        x_train.reshape(len(x_train), 28, 28, 1).astype("float32") / 255,
        x_test.reshape(len(x_test), 28, 28, 1).astype("float32") / 255,
    )


def _inputs(train=lambda a: a.reshape(len(a), 28, 28, 1) / 255, test=lambda a: a.reshape(len(a), 28, 28, 1) / 255):
    return lambda x_train, x_test: (train(x_train), test(x_test))


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (
            lambda a, b: (
                a.reshape(len(a), 28, 28, 1).astype("float32"),
                b.reshape(len(b), 1, 28, 28).astype("float32"),
            ),
            "x_test is shaped (N, 1, 28, 28), channels first",
        ),
        (_inputs(test=lambda a: a.reshape(len(a), 1, 28, 28) / 255), "x_test is shaped (N, 1, 28, 28)"),
        (_inputs(train=lambda a: a.reshape(len(a), 28, 28, 1).astype("float32")), "x_train still holds pixel values"),
        (_inputs(test=lambda a: a.reshape(len(a), 28, 28, 1) * 1.0), "x_test still holds pixel values up to 255"),
        (_inputs(train=lambda a: a.reshape(len(a), 28, 28, 1) / a.max()), "divided by its own maximum (200)"),
        (
            _inputs(
                train=lambda a: a.reshape(len(a), 28, 28, 1) / 256, test=lambda a: a.reshape(len(a), 28, 28, 1) / 256
            ),
            "divide by 255, so that white is exactly 1",
        ),
        (_inputs(train=lambda a: a.reshape(len(a), 784) / 255), "flattened to (N, 784)"),
        (_inputs(train=lambda a: a / 255), "has shape (6, 28, 28)"),
        (_inputs(train=lambda a: a[::-1].reshape(len(a), 28, 28, 1) / 255), "in their order"),
        (lambda a, b: None, "returns None"),
        (lambda a, b: model_inputs(a, b)[0], "return the pair"),
    ],
)
def test_model_inputs_hints(answer, phrase):
    result = check.model_inputs(answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def _sizes(
    padding_swap=False, ignore_stride=False, pools=2, pool_round=math.floor, conv2_shrink=4, channels=48, square=True
):
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


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (_sizes(padding_swap=True), "padding mixed up"),
        (_sizes(ignore_stride=True), "stride is ignored"),
        (_sizes(pools=0), "the pooling is missing"),
        (_sizes(pools=1), "one pooling is missing"),
        (_sizes(pool_round=math.ceil), "pooling rounds down"),
        (_sizes(conv2_shrink=0), "conv2 is unchanged"),
        (_sizes(channels=1), "multiply height × width by conv2's 48 channels"),
        (_sizes(channels=16), "not conv1's 16"),
        (_sizes(square=False), "one side is missing"),
        (lambda kernel=3, padding="same", stride=1: 5 * 5 * 48, "whatever the arguments"),
        (lambda kernel=3, padding="same", stride=1: None, "did you forget `return`"),
        (lambda kernel=3, padding="same", stride=1: (5, 5, 48), "one whole number"),
        (
            lambda kernel=3, padding="same", stride=1: dense_inputs(kernel, padding, stride) + (stride == 2),
            "for kernel=3, padding='same', stride=2 you return 49",
        ),
    ],
)
def test_dense_inputs_hints(answer, phrase):
    result = check.dense_inputs(answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


@pytest.mark.parametrize(
    "build, phrase",
    [
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
        (cnn((0, L.Conv2D(16, 3, padding="same"))), "its activation is linear, the spec says relu"),
        (cnn((2, L.Conv2D(32, 3, use_bias=False, activation="relu"))), "keep the biases"),
        (cnn((3, L.MaxPooling2D(3))), "MaxPooling2D(2)."),
        (cnn((4, None)), "Flatten the feature maps"),
        (cnn((5, L.Dense(10))), "the spec says softmax"),
        (cnn((5, L.Dense(16, activation="softmax"))), "the output needs 10"),
        (cnn((5, None)), "layer 6 is missing: the spec continues with Dense(10), softmax"),
        (
            lambda: keras.Sequential([keras.Input(shape=(28, 28, 1)), *spec_layers(), L.Dropout(0.5)]),
            "layer 7 (dropout",
        ),
        (cnn((4, L.BatchNormalization())), "the spec has Flatten here"),
        (cnn(shape=(28, 28, 3)), "one grey channel, as Conv2D expects; yours is (28, 28, 3)"),
        (
            lambda: keras.Sequential([keras.Input(shape=(28, 28)), L.Reshape((28, 28, 1)), *spec_layers()]),
            "the spec's input is keras.Input(shape=(28, 28, 1))",
        ),
        (cnn(shape=None), "does not know its input size"),
        (lambda: None, "did you forget `return`"),
        (lambda: "model", "not a str"),
    ],
)
def test_build_cnn_names_the_first_layer_that_differs(build, phrase):
    result = check.build_cnn(build)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


@pytest.mark.parametrize(
    "run", [lambda: check.dense_inputs(stub), lambda: check.build_cnn(stub), lambda: check.model_inputs(stub)]
)
def test_an_unsolved_stub_raises_not_implemented(run):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run()
