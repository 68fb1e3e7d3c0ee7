"""The self-checks of notebook 02: the reference solutions pass, each anticipated mistake gets its own hint."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson02 as check


@pytest.fixture(autouse=True)
def _real_copy(real_data_dir, monkeypatch):
    """The checks load their own copy of MNIST: point them at the real one."""
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))


def stub(*args):
    raise NotImplementedError("Exercise: write your code here")


# Exercise 2.1 -------------------------------------------------------------------------------------------------------

def test_to_mlp_input_accepts_the_solution():
    feedback = check.to_mlp_input(lambda x: x.reshape(len(x), 28 * 28).astype("float32") / 255)
    assert feedback.ok and feedback.message.startswith("correct. float32 in [0, 1]")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert check.to_mlp_input(lambda x: x.reshape(-1, 784).astype(np.float32) * np.float32(1 / 255)).ok


@pytest.mark.parametrize("answer, phrase", [
    (lambda x: x.astype("float32") / 255, "the images are not flattened"),
    (lambda x: x.reshape(-1, 28, 28, 1).astype("float32") / 255, "is the CNN input"),
    (lambda x: x.reshape(-1).astype("float32") / 255, "the whole batch became one long vector"),
    (lambda x: x.reshape(len(x), 784) / 255, "`x / 255` on uint8 makes float64"),
    (lambda x: x.reshape(len(x), 784), "dtype uint8"),
    (lambda x: x.reshape(len(x), 784).astype("float32"), "divide by 255"),
    (lambda x: x.reshape(len(x), 784).astype("float32") / x.max(), "you divided by the batch's largest pixel"),
    (lambda x: x.transpose(0, 2, 1).reshape(len(x), 784).astype("float32") / 255, "pixels are in another order"),
    (lambda x: x.reshape(len(x), 784, order="F").astype("float32") / 255, "pixels are in another order"),
    (lambda x: x.reshape(len(x), 392, 2).astype("float32") / 255, "expected shape (100, 784)"),
    (lambda x: x.reshape(len(x), 784).astype("float32") / 256, "some values differ"),
])
def test_to_mlp_input_mistakes_get_their_hint(answer, phrase):
    feedback = check.to_mlp_input(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_to_mlp_input_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.to_mlp_input(stub)


# Exercise 2.2 -------------------------------------------------------------------------------------------------------

def test_one_hot_by_hand_accepts_the_solution():
    feedback = check.one_hot_by_hand(lambda y: np.eye(10, dtype="float32")[y])
    assert feedback.ok and feedback.message.startswith("correct. the same rows as keras.utils.to_categorical")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it


def _loop_one_hot(y):
    out = np.zeros((len(y), 10), dtype=np.float32)
    out[np.arange(len(y)), y] = 1
    return out


@pytest.mark.parametrize("answer, phrase", [
    (lambda y: y, "these are still integer labels"),
    (lambda y: np.eye(10, dtype="float32")[y].T, "is transposed"),
    (lambda y: np.eye(int(y.max()) + 1, dtype="float32")[y], "there are always 10 classes"),
    (lambda y: np.eye(10)[y], "dtype float64"),
    (lambda y: np.eye(10, dtype=int)[y], "dtype int"),
    (lambda y: np.ones((len(y), 10), dtype="float32"), "nine 0s and a single 1"),
    (lambda y: np.eye(10, dtype="float32")[9 - y], "the 1 is in the wrong column"),
    (lambda y: np.eye(10, dtype="float32")[y][:, :9], "expected shape (100, 10)"),
])
def test_one_hot_by_hand_mistakes_get_their_hint(answer, phrase):
    feedback = check.one_hot_by_hand(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_one_hot_by_hand_accepts_a_loop():
    assert check.one_hot_by_hand(_loop_one_hot).ok


def test_one_hot_by_hand_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.one_hot_by_hand(stub)


# Exercise 2.3 -------------------------------------------------------------------------------------------------------

def standardize(x_train, x_other):
    x_train = x_train.astype("float32")
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, (x_other.astype("float32") - mean) / std


def _with(mean_std):
    """A standardize that takes its statistics from ``mean_std(x_train, x_other)`` for the other set."""
    def answer(x_train, x_other):
        train, _ = standardize(x_train, x_other)
        mean, std = mean_std(x_train.astype(np.float64), x_other.astype(np.float64))
        return train, ((x_other - mean) / std).astype("float32")
    return answer


def _both(mean_std):
    """A standardize that uses ``mean_std(x_train, x_other)`` for both sets."""
    def answer(x_train, x_other):
        mean, std = mean_std(x_train.astype(np.float64), x_other.astype(np.float64))
        return ((x_train - mean) / std).astype("float32"), ((x_other - mean) / std).astype("float32")
    return answer


def _pooled(a, b):
    both = np.concatenate([a.ravel(), b.ravel()])
    return both.mean(), both.std()


def _modifies_input(x_train, x_other):
    result = standardize(x_train, x_other)
    x_other[:] = 0
    return result


def test_standardize_accepts_the_solution_and_says_the_test_set_is_not_centred(real_arrays):
    x_train, x_test = real_arrays["x_train"][:1000].astype(np.float64), real_arrays["x_test"][:1000]
    test_mean = (x_test - x_train.mean()) / x_train.std()
    feedback = check.standardize(standardize)
    assert feedback.ok and feedback.message.startswith("correct. the training images now have mean 0 and std 1")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert f"mean {test_mean.mean():.3f}" in feedback.message


def test_standardize_accepts_the_sample_standard_deviation():
    assert check.standardize(_both(lambda a, b: (a.mean(), a.std(ddof=1)))).ok


@pytest.mark.parametrize("answer, phrase", [
    (_with(lambda a, b: (b.mean(), b.std())), "x_other was standardized with its own mean and standard deviation"),
    (_both(_pooled), "statistics of x_train and x_other together"),
    (_with(_pooled), "statistics of x_train and x_other together"),
    (_both(lambda a, b: (a.mean(), 1.0)), "did not divide by the standard deviation"),
    (_both(lambda a, b: (a.mean(), a.var())), "you divided by the variance"),
    (_both(lambda a, b: (0.0, 255.0)), "that is scaling to [0, 1], not standardizing"),
    (_both(lambda a, b: (a.mean(axis=0), a.std(axis=0))), "mean and std per pixel (axis=0), the always-blank border"),
    (lambda a, b: tuple(s.astype(np.float64) for s in standardize(a, b)), "return float32"),
    (lambda a, b: standardize(a, b)[1], "return two arrays"),
    (lambda a, b: standardize(a, b)[::-1], "the two arrays come back swapped"),
    (lambda a, b: (standardize(a, b)[0].reshape(len(a), 784), standardize(a, b)[1]), "keeps the shape of its input"),
    (_modifies_input, "changed the arrays it was given"),
    (_both(lambda a, b: (a.mean(), a.std() * 2)), "(x_train - mean) / std, with one mean"),
    (_with(lambda a, b: (a.mean(), a.std() * 2)), "x_other must be transformed with x_train's mean"),
])
def test_standardize_mistakes_get_their_hint(answer, phrase):
    with np.errstate(divide="ignore", invalid="ignore"):
        feedback = check.standardize(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_standardize_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.standardize(stub)
