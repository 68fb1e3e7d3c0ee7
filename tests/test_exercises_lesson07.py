"""The self-checks of notebook 07: the reference solutions pass, each anticipated mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from mnist_course.data import flatten, scale, subset
from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson07 as check
from mnist_course.exercises.feedback import forget_predictions


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 7.x: write your code here")


# --- 7.1: the largest stable learning rate of the bowl (40·x² + 5·y²) / 2 -------------------------------------------


HELD = "prediction recorded; your prediction held."
NOT_HELD = "prediction recorded; your prediction did not hold."
CHANGED = "You changed your prediction after this check first ran"
LIMIT = "stays bounded while |1 − 40η| ≤ 1, that is η ≤ 2/40 = 0.05"


@pytest.mark.parametrize("prediction", [2 / 40, 0.05, np.float64(0.05), 0.0495])
def test_the_right_prediction_is_recorded_as_held_and_names_the_limit(prediction):
    result = check.largest_stable_rate(lambda: prediction)
    assert result.ok and result.exercise == "7.1" and result.message.startswith(HELD), result
    assert LIMIT in result.message and "The check ran 100 steps" in result.message
    assert "The steepest direction sets SGD's largest learning rate" in result.message
    assert CHANGED not in result.message
    assert result.raise_if_wrong() is result
    assert repr(result).startswith("✅ Exercise 7.1: prediction recorded; your prediction held.")


def test_the_bowl_runs_as_the_rule_says():
    # x is multiplied by 1 − 40η each step and y by 1 − 5η: at η = 0.04, (−0.6)¹⁰⁰ and 0.8¹⁰⁰
    path = check.sgd_on_the_bowl(0.04)
    assert path.shape == (101, 2)
    assert path[-1, 0] == pytest.approx(-4.0 * 0.6**100, rel=1e-9)
    assert path[-1, 1] == pytest.approx(0.8**100, rel=1e-9)
    # just above 2/40 the steep coordinate grows by |1 − 40·0.051| = 1.04 per step
    assert abs(check.sgd_on_the_bowl(0.051)[-1, 0]) == pytest.approx(4.0 * 1.04**100, rel=1e-9)


@pytest.mark.parametrize(
    "prediction, phrase",
    [
        (0.1, "That is the limit of the notebook's valley, 2/20."),  # copied from the valley above
        (0.4, "That is the limit of the flat direction y"),  # 2/5
        (0.025, "the fastest rate for x, not the largest stable one"),  # 1/40
        (2 / 45, "You added the two curvatures"),
        (0.03, "SGD still does not diverge 3 % above your rate: it tolerates more."),
        (0.07, "Even 3 % below your rate SGD diverges: the largest stable rate is lower than yours."),
        (1.0, "Even 3 % below your rate SGD diverges"),  # the path overflows to inf: still a verdict, not a crash
    ],
)
def test_a_prediction_that_did_not_hold_earns_the_point_and_says_why(prediction, phrase):
    result = check.largest_stable_rate(lambda: prediction)
    assert result.ok and result.message.startswith(NOT_HELD), result
    assert phrase in result.message and "The largest stable rate is 0.05: x, the steep direction" in result.message
    assert LIMIT in result.message and "The check ran 100 steps" in result.message
    assert CHANGED not in result.message and "predict lower" not in result.message
    assert result.raise_if_wrong() is result  # the check cell shows ✅: the point is earned


def test_a_diverging_run_is_reported_as_inf():
    message = check.largest_stable_rate(lambda: 1.0).message
    assert "at 0.97 (3 % below yours) the loss ends at inf, at 1.03 (3 % above) at inf." in message


@pytest.mark.parametrize(
    "prediction, phrase",
    [
        (-0.05, "a positive number"),
        (0, "a positive number"),
        (float("nan"), "a positive number"),
        (float("inf"), "a positive number"),
        ("0.05", "return one number"),
        ({0.05}, "return one number"),
        (True, "return one number"),
        (None, "forget `return`"),
    ],
)
def test_an_answer_that_is_not_a_prediction_gets_its_hint(prediction, phrase):
    result = check.largest_stable_rate(lambda: prediction)
    assert not result.ok and phrase in result.message, result
    assert "prediction recorded" not in result.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()
    # it committed nothing: the first well-formed prediction is the one that counts
    after = check.largest_stable_rate(lambda: 0.05)
    assert after.message.startswith(HELD) and CHANGED not in after.message, after


def test_the_first_prediction_is_the_one_run():
    first = check.largest_stable_rate(lambda: 0.1)
    assert first.ok and first.message.startswith(NOT_HELD) and CHANGED not in first.message
    again = check.largest_stable_rate(lambda: 0.05)  # the result seen, the prediction corrected
    assert again.ok and again.message.startswith(NOT_HELD), again
    assert "at 0.097 (3 % below yours)" in again.message and "the limit of the notebook's valley" in again.message
    assert again.message.endswith(
        "(You changed your prediction after this check first ran: the first one, made before you saw the result, "
        "is the one checked.)"
    )
    forget_predictions()  # a fresh kernel: the corrected prediction is now the first
    assert check.largest_stable_rate(lambda: 0.05).message.startswith(HELD)


def test_a_right_first_prediction_stays_held_when_changed():
    assert check.largest_stable_rate(lambda: 2 / 40).message.startswith(HELD)
    again = check.largest_stable_rate(lambda: 0.4)
    assert again.ok and again.message.startswith(HELD) and CHANGED in again.message, again
    assert "at 0.0485 (3 % below yours)" in again.message


def test_the_same_rate_written_otherwise_is_not_a_change():
    check.largest_stable_rate(lambda: 2 / 40)
    for same in (0.05, np.float64(0.05), 1 / 20):
        again = check.largest_stable_rate(lambda same=same: same)
        assert again.message.startswith(HELD) and CHANGED not in again.message, (same, again)


def test_the_run_is_reported_around_the_prediction():
    """The check's experiment runs 3 % either side of the predicted rate, whatever the prediction."""
    message = check.largest_stable_rate(lambda: 0.1).message
    assert "at 0.097 (3 % below yours)" in message and "at 0.103 (3 % above)" in message


# --- 7.2: one-hot labels fed to a sparse loss ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits(real_arrays):
    x, y = subset(real_arrays["x_train"], real_arrays["y_train"], 2500, seed=0)
    x = flatten(scale(x))
    return x[:2000], y[:2000], x[2000:], y[2000:]


def _snippet(loss: str = "sparse_categorical_crossentropy", one_hot: bool = True, fit: bool = True):
    def train_briefly(x, y):
        import keras

        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((784,)),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(optimizer="adam", loss=loss)
        if fit:
            model.fit(x, keras.utils.to_categorical(y, 10) if one_hot else y, epochs=1, batch_size=64, verbose=0)
        return model

    return train_briefly


@pytest.mark.parametrize(
    "fixed, phrase",
    [
        (_snippet(one_hot=False), "Integer labels with the sparse loss"),
        (_snippet(loss="categorical_crossentropy"), "One-hot labels with the categorical loss"),
    ],
)
def test_both_fixes_pass(digits, fixed, phrase):
    result = check.one_hot_with_sparse_loss(fixed, *digits)
    assert result.ok and phrase in result.message and "one loss" in result.message, result


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (_snippet(), "the loss is sparse"),  # the broken snippet as given
        (_snippet(loss="categorical_crossentropy", one_hot=False), "now the loss is categorical"),
        (_snippet(loss="mean_squared_error"), "hides the error"),
        (_snippet(one_hot=False, fit=False), "did it train"),
        (lambda x, y: None, "forget `return`"),
        (lambda x, y: "model", "not a str"),
    ],
)
def test_each_debugging_mistake_gets_its_hint(digits, answer, phrase):
    result = check.one_hot_with_sparse_loss(answer, *digits)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()


def test_a_bug_of_another_kind_reaches_the_student(digits):
    def typo(x, y):
        raise ValueError("could not convert string to float")

    with pytest.raises(ValueError, match="could not convert"):
        check.one_hot_with_sparse_loss(typo, *digits)


# --- 7.3: Adam's step in the paper's form ---------------------------------------------------------------------------


def adam_step(w, m, v, g, t, lr, beta_1, beta_2, epsilon):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + epsilon / math.sqrt(1 - beta_2**t)), m, v


def test_the_adam_step_passes():
    result = check.adam_step(adam_step)
    assert result.ok and "keras.optimizers.Adam" in result.message, result


def _paper(w, m, v, g, t, lr, b1, b2, eps):
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
    return w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v


def _uncorrected(w, m, v, g, t, lr, b1, b2, eps):
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _abs_step(w, m, v, g, t, lr, b1, b2, eps):
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * np.abs(g)
    return w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps / math.sqrt(1 - b2**t)), m, v


def _from_zero(w, m, v, g, t, lr, b1, b2, eps):
    with np.errstate(divide="ignore", invalid="ignore"):  # 1 − β⁰ = 0: the student's division by zero
        return adam_step(w, m, v, g, t - 1, lr, b1, b2, eps)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (_paper, "as the paper writes it"),
        (_uncorrected, "no bias correction"),
        (
            lambda w, m, v, g, t, lr, b1, b2, e: (
                w - lr * ((b1 * m + (1 - b1) * g) / (1 - b1**t)) / (np.sqrt(b2 * v + (1 - b2) * g**2) + e),
                b1 * m + (1 - b1) * g,
                b2 * v + (1 - b2) * g**2,
            ),
            "correct m but not v",
        ),
        (
            lambda w, m, v, g, t, lr, b1, b2, e: (
                w
                - lr
                * (b1 * m + (1 - b1) * g)
                / (np.sqrt((b2 * v + (1 - b2) * g**2) / (1 - b2**t)) + e / math.sqrt(1 - b2**t)),
                b1 * m + (1 - b1) * g,
                b2 * v + (1 - b2) * g**2,
            ),
            "correct v but not m",
        ),
        (_abs_step, "not |g|"),
        (_from_zero, "t counts from 1"),
        (lambda w, m, v, g, t, lr, b1, b2, e: (w, m, v), "do not move"),
        (
            lambda w, m, v, g, t, lr, b1, b2, e: (
                2 * w - adam_step(w, m, v, g, t, lr, b1, b2, e)[0],
                *adam_step(w, m, v, g, t, lr, b1, b2, e)[1:],
            ),
            "climb the gradient",
        ),
        (lambda w, m, v, g, t, lr, b1, b2, e: adam_step(w, m, v, g, t, lr, b1, b2, e)[0], "three arrays"),
        (lambda w, m, v, g, t, lr, b1, b2, e: None, "forget `return`"),
        (lambda w, m, v, g, t, lr, b1, b2, e: (w - lr * g, m, v), "not the weights of keras.optimizers.Adam"),
    ],
)
def test_each_adam_mistake_gets_its_hint(answer, phrase):
    result = check.adam_step(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        result.raise_if_wrong()


def test_the_check_tells_the_paper_form_from_keras_form():
    """The two ε placements differ by more than the check's tolerance on these gradients, so the first hint can
    fire at all (and a right answer is not right by accident)."""
    ours, paper = check._run(adam_step), check._run(_paper)
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(ours, paper)) > 1e-4


@pytest.mark.parametrize(
    "run",
    [
        lambda digits: check.largest_stable_rate(stub),
        lambda digits: check.one_hot_with_sparse_loss(stub, *digits),
        lambda digits: check.adam_step(stub),
    ],
)
def test_an_unsolved_stub_raises_not_implemented(run, digits):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run(digits)


@pytest.mark.parametrize(
    "message, phrase",
    [
        ("Arguments `target` and `output` must have the same shape up until the last dimension: ...", "loss is sparse"),
        ("Arguments `target` and `output` must have the same shape. Received: ...", "now the loss is categorical"),
    ],
)
def test_the_label_format_hints_know_the_jax_and_pytorch_wordings(message, phrase):
    """JAX and PyTorch word the two label-format errors differently from TensorFlow (checked with Keras 3.15)."""

    def snippet(x, y):
        raise ValueError(message)

    x, y = np.zeros((4, 28, 28), dtype=np.uint8), np.arange(4)
    result = check.one_hot_with_sparse_loss(snippet, x, y, x, y)
    assert not result.ok and phrase in result.message


# Exercise 7.4 --------------------------------------------------------------------------------------------------------

RIGHT_PATH = {"x_crosses": False, "y_crosses": True, "closer_than_sgd": True}


def test_momentum_path_worked_out_by_hand():
    """The facts the check states, derived here without the rule objects: per direction of curvature c, momentum's
    iteration x' = x + v', v' = μv − ηcx has the characteristic equation r² − (1 + μ − ηc) r + μ = 0, whose roots are
    complex (the path swings) when (1 + μ − ηc)² < 4μ, that is ηc > (1 − √μ)²."""
    mu, eta = 0.5, 0.02
    for c, swings in ((20.0, True), (1.0, False)):
        assert ((1 + mu - eta * c) ** 2 < 4 * mu) == swings == (eta * c > (1 - math.sqrt(mu)) ** 2)
    # plain SGD along the valley: x = -4 · 0.98^60
    assert -4 * 0.98**60 == pytest.approx(-1.190, abs=1e-3)


def test_momentum_path_a_right_prediction_held_and_is_explained():
    result = check.momentum_path(lambda: dict(RIGHT_PATH))
    assert result.ok and result.exercise == "7.4" and result.raise_if_wrong() is result
    assert result.message.startswith("prediction recorded; your prediction held. With μ = 0.5, in 60 steps the path")
    assert "the path crosses y = 0 13 times and never crosses x = 0" in result.message
    assert "(plain SGD: -1.190)" in result.message
    assert "(1 − √0.5)² = 0.086: across the valley η·20 = 0.4, above it, so y swings" in result.message
    assert "2 plain steps in one" in result.message


@pytest.mark.parametrize(
    "part",
    ["x_crosses", "y_crosses", "closer_than_sgd"],
)
def test_momentum_path_a_wrong_part_earns_the_point_and_is_named(part):
    prediction = {**RIGHT_PATH, part: not RIGHT_PATH[part]}
    result = check.momentum_path(lambda: prediction)
    assert result.ok and "your prediction did not hold." in result.message
    assert f"Did not hold: you predicted {prediction[part]} for {part} (" in result.message
    assert result.message.count("you predicted") == 1


def test_momentum_path_the_first_prediction_checked_counts():
    check.momentum_path(lambda: {**RIGHT_PATH, "x_crosses": True})  # the lesson's μ = 0.9 path did cross
    again = check.momentum_path(lambda: dict(RIGHT_PATH))
    assert "did not hold" in again.message and "is the one checked" in again.message
    same = {"closer_than_sgd": True, "y_crosses": True, "x_crosses": True}  # the first again, in another order
    assert "is the one checked" not in check.momentum_path(lambda: same).message


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (None, "forget `return`"),
        ([True, False, True], "return a dict"),
        ({"x_crosses": True, "y_crosses": True}, "missing ['closer_than_sgd']"),
        ({**RIGHT_PATH, "z": True}, "unknown keys ['z']"),
        ({**RIGHT_PATH, "x_crosses": "no"}, "True or False"),
        ({**RIGHT_PATH, "y_crosses": 1}, "True or False"),
    ],
)
def test_momentum_path_an_answer_that_is_no_prediction_gets_its_hint_and_commits_nothing(answer, phrase):
    result = check.momentum_path(lambda: answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved):
        result.raise_if_wrong()
    assert "is the one checked" not in check.momentum_path(lambda: dict(RIGHT_PATH)).message


def test_momentum_path_lets_the_stub_error_through():
    def stub():
        raise NotImplementedError("Exercise 7.4: write your code here")

    with pytest.raises(NotImplementedError, match="Exercise 7.4"):
        check.momentum_path(stub)
