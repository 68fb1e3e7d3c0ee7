"""The self-checks of notebook 04: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student. Nothing is trained."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson04 as check


def mlp_params(sizes):
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def best_epoch(history, monitor="val_loss"):
    pick = np.argmax if "accuracy" in monitor else np.argmin
    return int(pick(history[monitor])) + 1


def network(*layers, shape=(784,), compile_it=True, loss="sparse_categorical_crossentropy", optimizer="adam"):
    """A builder like the student's ``build_256_128``, returning the model of these layers."""
    def build():
        model = keras.Sequential([keras.Input(shape=shape), *layers] if shape else list(layers))
        if compile_it:
            model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
        return model
    return build


def dense(units, activation="relu", **kwargs):
    return keras.layers.Dense(units, activation=activation, **kwargs)


def reference():
    """Fresh layers of the right network (a Keras layer belongs to one model)."""
    return dense(256), dense(128), dense(10, "softmax")


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 3.x: write your code here")


def test_the_reference_solutions_pass():
    build_256_128 = network(*reference())
    for result, ex, phrase in [(check.mlp_params(mlp_params), "3.1", "407,050 for dense-512 and 898,510"),
                               (check.build_256_128(build_256_128), "3.2", "235,146 parameters, 58 %"),
                               (check.best_epoch(best_epoch), "3.3", "restore_best_weights=True")]:
        assert result.ok and result.exercise == ex and result.message.startswith("correct. "), result
        assert result.raise_if_wrong() is result  # a check cell shows it
        assert phrase in result.message, result


def test_other_right_answers_pass_too():
    assert check.mlp_params(lambda sizes: float(sum((a + 1) * b for a, b in zip(sizes, sizes[1:])))).ok
    separate_activations = network(dense(256, None), keras.layers.ReLU(), keras.layers.Dropout(0.2), dense(128),
                                   dense(10, None), keras.layers.Activation("softmax"))
    assert check.build_256_128(separate_activations).ok
    def by_index(history, monitor="val_loss"):
        values = history[monitor]
        return values.index(max(values) if "accuracy" in monitor else min(values)) + 1
    assert check.best_epoch(by_index).ok


@pytest.mark.parametrize("answer, phrase", [
    (lambda s: sum(a * b for a, b in zip(s, s[1:])), "the biases are missing"),
    (lambda s: sum(a * b + a for a, b in zip(s, s[1:])), "not one per input"),
    (lambda s: sum(a * b for a, b in zip(s, s[1:])) + sum(s), "the input is not a layer"),
    (lambda s: mlp_params(s[:-1]), "the last layer (the output) is missing"),
    (lambda s: mlp_params(s[1:]), "the first layer (from the inputs) is missing"),
    (lambda s: mlp_params(s[:3]), "right for one hidden layer but not for deeper"),
    (lambda s: [a * b + b for a, b in zip(s, s[1:])], "return the total, one number"),
    (lambda s: None, "did you forget `return`"),
    (lambda s: "407050", "one whole number"),
    (lambda s: mlp_params(s) + 1, "A layer from n_in to n_out units has"),
])
def test_mlp_params_hints(answer, phrase):
    result = check.mlp_params(answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


@pytest.mark.parametrize("build, phrase", [
    (network(dense(256), dense(128), dense(10, None)), "the softmax is missing"),
    (network(dense(256), dense(128), dense(10, "sigmoid")), "need not sum to 1"),
    (network(dense(256), dense(128), dense(10, "relu")), 'it needs activation="softmax"'),
    (network(dense(256), dense(10, "softmax")), "a hidden layer is missing"),
    (network(dense(128), dense(256), dense(10, "softmax")), "the hidden layers are swapped"),
    (network(dense(256), dense(128)), "the output layer is missing"),
    (network(dense(256), dense(128), dense(64), dense(10, "softmax")), "should have 256, 128 and 10 units"),
    (network(dense(256, None), dense(128), dense(10, "softmax")), "collapse into one linear map"),
    (network(dense(256, "sigmoid"), dense(128), dense(10, "softmax")), "uses sigmoid"),
    (network(*reference(), shape=(28, 28)), "this notebook feeds flattened vectors"),
    (network(*reference(), shape=(392,)), "a vector of 784 pixels"),
    (network(*reference(), shape=None, compile_it=False), "does not know its input size"),
    (network(keras.layers.Flatten(), *reference(), shape=(28, 28)), "this notebook feeds flattened vectors"),
    (network(keras.layers.BatchNormalization(), *reference()), "yours has a BatchNormalization"),
    (network(*reference(), compile_it=False), "the model is not compiled"),
    (network(*reference(), loss="categorical_crossentropy"), "expects one-hot vectors"),
    (network(*reference(), loss="mse"), 'use loss="sparse_categorical_crossentropy"'),
    (network(*reference(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)), "drop from_logits"),
    (network(*reference(), optimizer="sgd"), "the task asks for Adam"),
    (network(dense(256, use_bias=False), dense(128), dense(10, "softmax")), "use_bias=False"),
    (lambda: None, "did you forget `return`"),
    (lambda: [256, 128, 10], "not a list"),
])
def test_build_256_128_hints(build, phrase):
    result = check.build_256_128(build)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def test_build_256_128_does_not_train_the_model():
    model = network(*reference())()
    before = [w.copy() for w in model.get_weights()]
    assert check.build_256_128(lambda: model).ok
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations.numpy() == 0


def _sorts_in_place(history, monitor="val_loss"):
    history[monitor].sort()
    return 1


@pytest.mark.parametrize("answer, phrase", [
    (lambda h, monitor="val_loss": int(np.argmin(h[monitor])), "0-based index"),
    (lambda h, monitor="val_loss": int(np.argmin(h["loss"])) + 1, "lowest *training* loss"),
    (lambda h, monitor="val_loss": int(np.argmin(h["loss"])), "lowest *training* loss"),
    (lambda h, monitor="val_loss": int(np.argmax(h["val_accuracy"])) + 1, "highest validation accuracy"),
    (lambda h, monitor="val_loss": int(np.argmax(h["val_accuracy"])), "highest validation accuracy"),
    (lambda h, monitor="val_loss": len(h[monitor]), "that is the last epoch"),
    (lambda h, monitor="val_loss": len(h[monitor]) - int(np.argmin(h[monitor][::-1])), "take the first one"),
    (lambda h, monitor="val_loss": int(np.argmin(h["val_loss"])) + 1, "not always 'val_loss'"),
    (lambda h, monitor="val_loss": int(np.argmin(h[monitor])) + 1, "for an accuracy the highest"),
    (lambda h, monitor="val_loss": min(h[monitor]), "return its epoch number"),
    (lambda h, monitor="val_loss": None, "did you forget `return`"),
    (_sorts_in_place, "changes the history it is given"),
])
def test_best_epoch_hints(answer, phrase):
    result = check.best_epoch(answer)
    assert not result.ok and phrase in result.message, result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def test_best_epoch_checks_a_loss_other_than_val_loss():
    only_val = check.best_epoch(lambda h, monitor="val_loss": (
        int(np.argmin(h[monitor])) if monitor == "val_loss" else int(np.argmax(h[monitor]))) + 1)
    assert not only_val.ok and "for a loss the best epoch has the lowest value" in only_val.message
    with pytest.raises(ExerciseNotSolved, match="for a loss the best epoch has the lowest value"):
        only_val.raise_if_wrong()


@pytest.mark.parametrize("run", [lambda: check.mlp_params(stub), lambda: check.build_256_128(stub),
                                 lambda: check.best_epoch(stub)])
def test_an_unsolved_stub_raises_not_implemented(run):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run()


def test_a_function_call_instead_of_the_function_is_refused():
    with pytest.raises(TypeError, match="without brackets"):
        check.mlp_params(407050)
