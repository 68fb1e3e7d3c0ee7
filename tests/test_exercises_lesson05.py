"""The self-checks of notebook 05: the reference solutions pass, each usual mistake gets its own hint (5.1's
prediction earns its point held or not, and is told why), and an unsolved stub's NotImplementedError reaches the
student. Nothing is trained."""

from __future__ import annotations

import math
import re

import keras
import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson05 as check
from mnist_course.exercises.feedback import forget_predictions

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
    held = check.predict_stack((7, 7, 16), 1392)
    assert held.ok and held.exercise == "5.1" and held.raise_if_wrong() is held, held
    assert held.message.startswith("prediction recorded; your prediction held. Keras builds (7, 7, 16) and 1,392 ")
    assert "gives ceil(32 / 2) = 16" in held.message and "did not hold" not in held.message
    for result, ex, phrase in [
        (check.dense_inputs(dense_inputs), "5.2", "gets 1,200 inputs"),
        (check.build_cnn(cnn()), "5.3", "28 → 28 → 14 → 12 → 6 pixels a side"),
        (check.batch_norm(batch_norm), "5.4", "matches keras.layers.BatchNormalization in both modes"),
    ]:
        assert result.ok and result.exercise == ex and result.message.startswith("correct. "), result
        assert result.raise_if_wrong() is result  # a check cell shows it
        assert phrase in result.message, result
    assert "16,330 parameters" in check.build_cnn(cnn()).message


def test_other_right_answers_pass_too():
    for shape, params in (([7, 7, 16], np.int64(1392)), (np.array([7, 7, 16]), 1392.0)):  # a list, NumPy, a float
        forget_predictions()
        assert "your prediction held" in check.predict_stack(shape, params).message
    assert check.batch_norm(batch_norm_keepdims).ok  # statistics kept as (1, 1, 1, C), any float dtype
    assert check.batch_norm(batch_norm_by_keras).ok  # Keras' own ops, returning a tensor
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
    "shape, params, phrases",
    [
        ((14, 14, 16), 1392, ["Did not hold: predicted_shape (held: predicted_params).", "the pooling is missing"]),
        ((15, 15, 16), 1392, ["predicted_shape: you predicted (15, 15, 16); strides=2 is ignored"]),
        ((6, 6, 16), 1392, ["no pixel is lost"]),
        ((7, 7, 8), 1392, ["the last convolution, 16 filters; pooling keeps"]),
        ((7, 7, 3), 1392, ["not the image's 3"]),
        ((16, 7, 7), 1392, ["channels last"]),
        ((9, 9, 9), 1392, ["the size goes 32 → 16 (conv1, 'same' with stride 2) → 14 (conv2"]),
        ((7, 7, 16), 216 + 1152, ["Did not hold: predicted_params (held: predicted_shape).", "the biases are"]),
        ((7, 7, 16), 80 + 160, ["predicted_params: you predicted 240; each filter spans all its input channels"]),
        ((7, 7, 16), 224 + 448, ["8 channels (the first one's filters)"]),
        ((7, 7, 16), 1168, ["the first convolution has parameters too"]),
        ((7, 7, 16), 224, ["the second convolution has parameters too"]),
        ((7, 7, 16), 1000, ["pooling has none"]),
        (
            (14, 14, 16),
            1168,
            ["Did not hold: predicted_shape, predicted_params (held: none).", "the pooling", "has parameters too"],
        ),
    ],
)
def test_predict_stack_wrong_prediction_earns_the_point_and_is_told_why(shape, params, phrases):
    result = check.predict_stack(shape, params)
    assert result.ok and result.message.startswith("prediction recorded; your prediction did not hold. Did not hold:")
    assert "Keras builds (7, 7, 16) and 1,392 parameters." in result.message  # the true result
    for phrase in phrases:
        assert phrase in result.message, result.message
    assert "(You changed your prediction" not in result.message
    assert result.raise_if_wrong() is result


def test_predict_stack_checks_the_first_prediction_not_one_made_after_seeing_the_result():
    assert "Did not hold: predicted_shape" in check.predict_stack((14, 14, 16), 1392).message
    again = check.predict_stack((7, 7, 16), 1392)
    assert again.ok and "your prediction did not hold. Did not hold: predicted_shape" in again.message, again.message
    assert "(You changed your prediction after this check first ran" in again.message
    same = check.predict_stack([14, 14, 16], 1392.0)  # the same prediction, written as a list and a float
    assert "did not hold" in same.message and "You changed" not in same.message


def test_predict_stack_malformed_answer_commits_nothing():
    assert not check.predict_stack((None, 14, 14, 16), 1392).ok
    assert "your prediction held" in check.predict_stack((7, 7, 16), 1392).message


@pytest.mark.parametrize(
    "shape, params, phrase",
    [
        ((None, 7, 7, 16), 1392, "without the batch axis"),
        ((1, 7, 7, 16), 1392, "without the batch axis"),
        ("7x7x16", 1392, "a tuple of three numbers"),
        ("777", 1392, "a tuple of three numbers"),
        ((7, 7), 1392, "a tuple of three numbers"),
        ((7, 7, 16.5), 1392, "a tuple of three numbers"),
        (7, 1392, "a tuple of three numbers"),
        ((7, 7, 16), "1392", "one whole number of parameters"),
        ((7, 7, 16), 1392.5, "one whole number of parameters"),
    ],
)
def test_predict_stack_malformed_answers_get_their_hint(shape, params, phrase):
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


def batch_norm(x, gamma, beta, moving_mean, moving_var, training, epsilon=1e-3):
    """The solution: per channel over the batch and every position in training, the moving averages at inference."""
    if training:
        mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    else:
        mean, var = moving_mean, moving_var
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def batch_norm_keepdims(x, gamma, beta, moving_mean, moving_var, training, epsilon=1e-3):
    x = x.astype("float64")
    axes = (0, 1, 2)
    mean = x.mean(axis=axes, keepdims=True) if training else moving_mean.reshape(1, 1, 1, -1)
    var = ((x - x.mean(axis=axes, keepdims=True)) ** 2).mean(axis=axes, keepdims=True) if training else moving_var
    return (x - mean) * (gamma / np.sqrt(var + epsilon)) + beta


def batch_norm_by_keras(x, gamma, beta, moving_mean, moving_var, training, epsilon=1e-3):
    ops = keras.ops
    mean, var = ops.moments(x, axes=(0, 1, 2)) if training else (moving_mean, moving_var)
    return (x - mean) / ops.sqrt(var + epsilon) * gamma + beta


def bn_with(
    *, axis=(0, 1, 2), inference="moving", ddof=0, eps_inside=True, sqrt=True, affine=True, training_stats="batch"
):
    """A student's ``batch_norm`` with one of the usual mistakes (the defaults are the right answer)."""

    def answer(x, gamma, beta, moving_mean, moving_var, training, epsilon=1e-3):
        x = x.astype("float64")
        batch_stats = (x.mean(axis=axis), x.var(axis=axis, ddof=ddof))
        if training:
            mean, var = batch_stats if training_stats == "batch" else (moving_mean, moving_var)
        else:
            mean, var = (moving_mean, moving_var) if inference == "moving" else batch_stats
        spread = (np.sqrt(var + epsilon) if eps_inside else np.sqrt(var) + epsilon) if sqrt else var + epsilon
        x_hat = (x - mean) / spread
        return gamma * x_hat + beta if affine else x_hat

    return answer


def the_tutorials_code(x, gamma, beta, moving_mean, moving_var, training, epsilon=1e-3):
    """The buggy code of the exercise, as the notebook gives it."""
    mean, var = x.mean(axis=0), x.var(axis=0)  # the batch's mean and variance
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def test_batch_norm_reference_matches_keras_by_hand():
    """The check's reference, Keras' layer, against the formula written out for one value (not the check's code)."""
    x = np.arange(2 * 2 * 2 * 1, dtype="float32").reshape(2, 2, 2, 1)  # 0..7: mean 3.5, variance 5.25
    layer = keras.layers.BatchNormalization(epsilon=1e-3)
    layer.build(x.shape)
    layer.set_weights([np.array([2.0]), np.array([1.0]), np.array([1.0]), np.array([4.0])])
    trained = keras.ops.convert_to_numpy(layer(x, training=True))
    inferred = keras.ops.convert_to_numpy(layer(x, training=False))  # moving averages moved by the call above
    assert trained[1, 1, 1, 0] == pytest.approx(2 * (7 - 3.5) / math.sqrt(5.25 + 1e-3) + 1, rel=1e-5)
    moving_mean, moving_var = 0.99 * 1 + 0.01 * 3.5, 0.99 * 4 + 0.01 * 5.25  # Keras' default momentum 0.99
    assert inferred[1, 1, 1, 0] == pytest.approx(2 * (7 - moving_mean) / math.sqrt(moving_var + 1e-3) + 1, rel=1e-4)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (the_tutorials_code, "with training=True: statistics per pixel"),
        (bn_with(axis=0), "axis=(0, 1, 2)"),
        (bn_with(inference="batch"), "with training=False: at inference (training=False) BatchNormalization uses"),
        (bn_with(axis=0, inference="batch"), "statistics per pixel"),
        (bn_with(training_stats="moving"), "with training=True: in training (training=True) BatchNormalization"),
        (bn_with(ddof=1), "not by that number − 1"),
        (bn_with(eps_inside=False), "epsilon goes inside the square root"),
        (bn_with(sqrt=False), "not by the variance"),
        (bn_with(affine=False), "gamma * x_hat + beta"),
        (lambda x, *args, training, epsilon=1e-3: x * 2.0, "differs from keras.layers.BatchNormalization's by up to"),
        (lambda x, *args, training, epsilon=1e-3: None, "did you forget `return`"),
        (lambda x, *args, training, epsilon=1e-3: x[0], "returns shape (4, 4, 3)"),
        (lambda x, *args, training, epsilon=1e-3: "x", "returns shape ()"),
    ],
)
def test_batch_norm_hints(answer, phrase):
    result = check.batch_norm(answer)
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
    "run", [lambda: check.dense_inputs(stub), lambda: check.build_cnn(stub), lambda: check.batch_norm(stub)]
)
def test_an_unsolved_stub_raises_not_implemented(run):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run()
