"""mnist_course.predict: softmax applied once, decided by the model's last layer, on hand-built models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnist_course.predict import ends_with_softmax, probabilities, softmax, to_batch

W = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype=np.float32)  # 2 inputs -> 3 classes
B = np.array([0.1, 0.0, -0.3], dtype=np.float32)
X = np.array([[0.2, 0.4], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.9, 0.1]], dtype=np.float32)


def numpy_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


EXPECTED = numpy_softmax(X.astype(np.float64) @ W + B)


def dense_model(*tail: keras.layers.Layer, activation: str | None = None) -> keras.Model:
    dense = keras.layers.Dense(3, activation=activation)
    model = keras.Sequential([keras.Input((2,)), dense, *tail])
    dense.set_weights([W, B])
    return model


@pytest.mark.parametrize(
    "model, outputs_probabilities",
    [
        (lambda: dense_model(activation="softmax"), True),
        (lambda: dense_model(keras.layers.Softmax()), True),
        (lambda: dense_model(keras.layers.Activation("softmax")), True),
        (lambda: dense_model(), False),  # linear Dense: logits
        (lambda: dense_model(activation="relu"), False),
    ],
)
def test_the_last_layer_decides_whether_the_model_outputs_probabilities(model, outputs_probabilities):
    assert ends_with_softmax(model()) is outputs_probabilities


@pytest.mark.parametrize(
    "model",
    [
        lambda: dense_model(activation="softmax"),
        lambda: dense_model(keras.layers.Softmax()),
        lambda: dense_model(),
    ],
)
def test_probabilities_are_the_softmax_of_the_logits_for_softmax_and_logits_models(model):
    np.testing.assert_allclose(probabilities(model(), X), EXPECTED, rtol=1e-5)


def test_a_softmax_model_is_not_softmaxed_twice_even_when_its_rows_look_like_logits():
    double = numpy_softmax(EXPECTED)
    assert not np.allclose(EXPECTED, double, atol=1e-3)
    np.testing.assert_allclose(probabilities(dense_model(activation="softmax"), X), EXPECTED, rtol=1e-5)


def test_batches_give_the_same_result_as_one_pass():
    model = dense_model()
    np.testing.assert_allclose(
        probabilities(model, X, batch_size=2), probabilities(model, X, batch_size=100), rtol=1e-6
    )
    assert probabilities(model, X, batch_size=2).shape == (5, 3)


def test_to_batch_scales_every_integer_dtype_and_reshapes_to_the_model_input():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    pixels = np.array([[0, 51], [255, 102]])
    for dtype in (np.uint8, np.int16, np.int64):
        np.testing.assert_allclose(to_batch(model, pixels.astype(dtype)), [[0.0, 0.2, 1.0, 0.4]], rtol=1e-6)
    with pytest.raises(ValueError, match="input shape"):
        to_batch(model, np.zeros(3))


def test_softmax_is_stable_for_large_logits():
    np.testing.assert_allclose(softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]])
