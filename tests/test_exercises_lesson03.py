"""The self-checks of notebook 03: the reference solutions pass, each anticipated mistake gets its own hint (3.1's
prediction earns its point held or not, and is told why), the stub is let through."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson03 as check
from mnist_course.exercises.feedback import forget_predictions


@pytest.fixture(autouse=True)
def _real_copy(real_data_dir, monkeypatch):
    """The checks load their own copy of MNIST: point them at the real one."""
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise: write your code here")


def _hint(feedback, phrase):
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# Exercise 3.1 -------------------------------------------------------------------------------------------------------


def _summed_descent_final(rate, steps=20, n=2000):
    """Full-batch descent on the summed cross-entropy, written out here: the mean loss after the last step."""
    x, y = check.first_images(n)
    X = x.reshape(n, -1).astype("float64") / 255
    Y = np.eye(10)[y]
    W, b = np.zeros((784, 10)), np.zeros(10)
    for _ in range(steps):
        delta = softmax(X @ W + b) - Y  # d(sum of the losses)/d(logits)
        W, b = W - rate * X.T @ delta, b - rate * delta.sum(axis=0)
    return -np.log(softmax(X @ W + b)[np.arange(n), y]).mean()


def test_the_summed_loss_experiment_gives_what_the_solution_predicts():
    results = check.summed_loss_experiment()
    assert set(results) == {0.00001, 0.0001, 0.001, 0.01, 0.1, 1.0}
    finals = {rate: final for rate, (final, _, _) in results.items()}
    assert min(finals, key=finals.get) == 0.001
    assert [rate for rate, final in finals.items() if final > np.log(10)] == [0.01, 0.1, 1.0]
    assert results[0.001][1] > 2 * np.log(10)  # 0.001 jumps up on the way, then ends lowest
    assert results[0.0001][2] == 0  # 0.0001 goes downhill at every step
    # The check's loop against one written out in float64, where the rates are small enough for the two to agree.
    for rate in (0.00001, 0.0001, 0.001):
        assert finals[rate] == pytest.approx(_summed_descent_final(rate), rel=1e-3)


def test_a_rate_on_the_sum_is_the_number_of_images_times_that_rate_on_the_mean():
    # The message's claim: the summed loss's gradient is N times the mean's, so rate r on the sum = N·r on the mean.
    from mnist_course.lessons.how_a_network_learns.softmax_regression import gradient_descent, one_hot

    x, y = check.first_images(2000)
    X = x.reshape(2000, -1).astype("float32") / 255
    run = gradient_descent(X, one_hot(y), learning_rate=2000 * 0.0001, batch_size=2000, epochs=20)
    assert -np.log(softmax(X @ run.weights + run.bias)[np.arange(2000), y]).mean() == pytest.approx(
        _summed_descent_final(0.0001), rel=1e-3
    )


SOLUTION = {"lowest": 0.001, "above_start": [0.01, 0.1, 1.0]}
TRUE_RESULT = "lowest with 0.001, above the start with 0.01, 0.1, 1."


def test_learning_rates_accepts_the_solution():
    feedback = check.learning_rates(lambda: SOLUTION)
    assert feedback.ok and feedback.message.startswith(
        "prediction recorded; your prediction held. Mean loss after 20 full-batch steps on the summed loss"
    )
    assert TRUE_RESULT in feedback.message and "did not hold" not in feedback.message
    assert "the best, 0.001, is 2 on the mean. It overshoots too (its loss went up at 6 of the 20" in feedback.message
    assert "the best, 0.001, is 2 on the mean" in feedback.message and "0.02 to 2,000 on the mean" in feedback.message
    assert "1e-05" not in feedback.message and "e+0" not in feedback.message
    assert feedback.raise_if_wrong() is feedback
    forget_predictions()
    assert (
        "your prediction held" in check.learning_rates(lambda: {"lowest": 1e-3, "above_start": (1, 0.1, 0.01)}).message
    )


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (
            {"lowest": 0.0001, "above_start": [0.01, 0.1, 1.0]},
            ['"lowest", 0.0001 (0.2 on the mean), did not hold', "each step moves the weights only a little"],
        ),
        ({"lowest": 0.01, "above_start": [0.01, 0.1, 1.0]}, ["jump across the valley instead of down into it"]),
        (
            {"lowest": 0.001, "above_start": [0.1, 1.0]},
            ['"above_start" left out 0.01 (20 on the mean), but it ends at 2.55', "above the 2.303 it started"],
        ),
        (
            {"lowest": 0.001, "above_start": [0.001, 0.01, 0.1, 1.0]},
            ['"above_start" has 0.001 (2 on the mean), but it ends at', "without diverging for good"],
        ),
        (
            {"lowest": 0.001, "above_start": [0.00001, 0.01, 0.1, 1.0]},
            ['"above_start" has 0.00001 (0.02 on the mean)', "it went downhill all the way"],
        ),
        (
            # the mean's best rates, carried over to the sum unchanged
            {"lowest": 1.0, "above_start": []},
            ['"lowest", 1 (2,000 on the mean), did not hold', "left out 0.01", "left out 0.1", "left out 1 ("],
        ),
    ],
)
def test_learning_rates_wrong_prediction_earns_the_point_and_is_told_why_it_did_not_hold(answer, phrases):
    feedback = check.learning_rates(lambda: answer)
    assert feedback.ok and feedback.message.startswith("prediction recorded; your prediction did not hold. Mean")
    assert TRUE_RESULT in feedback.message
    for phrase in phrases:
        assert phrase in feedback.message, feedback.message
    assert "Try again" not in feedback.message and "(You changed your prediction" not in feedback.message
    assert feedback.raise_if_wrong() is feedback


def test_learning_rates_checks_the_first_prediction_not_one_made_after_seeing_the_result():
    assert "did not hold" in check.learning_rates(lambda: {"lowest": 0.1, "above_start": []}).message
    again = check.learning_rates(lambda: SOLUTION)
    assert again.ok and "your prediction did not hold" in again.message, again.message
    assert '"lowest", 0.1 (200 on the mean), did not hold' in again.message  # the first prediction is the one evaluated
    assert "(You changed your prediction after this check first ran" in again.message
    same = check.learning_rates(lambda: {"lowest": 0.1, "above_start": ()})  # the same prediction, written again
    assert "did not hold" in same.message and "You changed" not in same.message


def test_learning_rates_malformed_answer_commits_nothing():
    assert not check.learning_rates(lambda: {"lowest": 0.5, "above_start": []}).ok
    assert "your prediction held" in check.learning_rates(lambda: SOLUTION).message


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda: None, "did you forget `return`"),
        (lambda: 1.0, "return a dict with two keys"),
        (lambda: {"lowest": 1.0}, "return a dict with two keys"),
        (lambda: {"lowest": 0.5, "above_start": []}, '"lowest" must be one of the rates tried'),
        (lambda: {"lowest": None, "above_start": []}, '"lowest" must be one of the rates tried'),
        (lambda: {"lowest": 0.001, "above_start": 1.0}, '"above_start" is a list'),
        (lambda: {"lowest": 0.001, "above_start": None}, '"above_start" is a list'),
        (lambda: {"lowest": 0.001, "above_start": "1"}, '"above_start" is a list'),
        (lambda: {"lowest": 0.001, "above_start": [1.0, 3.0]}, '"above_start" is a list'),
        (lambda: {"lowest": 100.0, "above_start": []}, '"lowest" must be one of the rates tried'),
    ],
)
def test_learning_rates_malformed_answers_get_their_hint(answer, phrase):
    _hint(check.learning_rates(answer), phrase)


def test_learning_rates_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.learning_rates(stub)


# Exercise 3.2 -------------------------------------------------------------------------------------------------------


def cross_entropy(Y, P):
    return -(Y * np.log(P)).sum(axis=1).mean()


def true_class_loss(Y, P):
    return -np.log(P[Y.astype(bool)]).mean()


def make_train(scale=255.0, sign=1.0, rate_factor=1.0, float64=False, loss=cross_entropy, prepare=None):
    """The exercise's loop, with the pixels divided by ``scale`` (or passed through ``prepare``) and the step
    multiplied by ``sign``."""

    def train(x, y, learning_rate=0.5, steps=30):
        X = x.reshape(len(x), -1).astype("float64" if float64 else "float32")
        X = (X / scale if prepare is None else prepare(X)).astype(X.dtype)
        Y = np.eye(10, dtype=X.dtype)[y]
        W, b = np.zeros((784, 10), dtype=X.dtype), np.zeros(10, dtype=X.dtype)
        losses = []
        with np.errstate(all="ignore"):
            for _ in range(steps):
                P = softmax(X @ W + b)
                losses.append(loss(Y, P))
                delta = (P - Y) / len(X)
                W -= sign * rate_factor * learning_rate * X.T @ delta
                b -= sign * rate_factor * learning_rate * delta.sum(axis=0)
        return W, b, losses

    return train


def standardised(X):
    """Exercise 2.3's standardization: one mean and one standard deviation over all the pixels."""
    return (X - X.mean()) / X.std()


def per_pixel(X):
    """Each pixel standardised on its own (blank pixels, of standard deviation 0, stay 0)."""
    return (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1)


def test_descent_loop_accepts_the_solution_and_other_sound_fixes():
    feedback = check.descent_loop(make_train())
    assert feedback.ok and feedback.message.startswith(
        "correct. The loss falls from 2.303 before the first step to 0.491 before the last of 30 steps"
    )
    assert "Scaling once" not in feedback.message and "what it changes is the effective size of each step" in (
        feedback.message
    )
    assert "lower than" not in feedback.message
    for sound in (
        make_train(float64=True),
        make_train(prepare=lambda X: X / X.max()),  # the same as / 255 on these images
        make_train(prepare=lambda X: X / 255 - X.mean() / 255),  # scaled, then centred
        make_train(prepare=per_pixel),
    ):
        assert check.descent_loop(sound).ok


def test_standardising_as_in_exercise_2_3_passes_with_its_own_lower_loss():
    # The case: standardised pixels train further than x / 255 (0.236 against 0.491), and the check used to
    # score the weights on x / 255 and fail it. Its own loss, measured by the loop on its own inputs, is the yardstick.
    train = make_train(prepare=standardised)
    _, _, losses = train(*check.first_images(2000), learning_rate=0.5, steps=30)
    assert losses[-1] == pytest.approx(0.236, abs=0.002)
    feedback = check.descent_loop(train)
    assert feedback.ok, feedback.message
    assert (
        f"to {losses[-1]:.3f} before the last of 30 steps" in feedback.message
        and "lower than the 0.491" in feedback.message
    )


def test_a_fix_that_overshoots_at_first_and_has_nan_losses_on_the_way_passes_and_is_told_so():
    # Standardised pixels times 1.2: steps long enough that the loss first rises and some probabilities underflow to
    # exactly 0 (the given loss then computes 0 * log 0 = nan), yet training goes on and ends below x / 255's loss.
    train = make_train(prepare=lambda X: 1.2 * standardised(X))
    with np.errstate(all="ignore"):
        _, _, losses = train(*check.first_images(2000), learning_rate=0.5, steps=30)
        feedback = check.descent_loop(train)
    losses = np.array(losses)
    assert np.isnan(losses).any() and np.isfinite(losses[-1]) and losses[-1] < 0.491 - 0.05
    assert feedback.ok, feedback.message
    assert "though it overshot at first" in feedback.message
    assert f"Your loss was nan at {int(np.isnan(losses).sum())} of the steps" in feedback.message


def test_the_given_loop_blows_up_as_the_notebook_shows():
    losses = check.broken_loop(*check.first_images(2000), learning_rate=0.5, steps=5)
    assert losses[0] == pytest.approx(np.log(10), abs=1e-6) and np.isnan(losses[1:]).all()


def _stable_unscaled(x, y, learning_rate=0.5, steps=30):
    """The unscaled loop with a loss that cannot be nan: its loss explodes instead."""
    W, b, _ = make_train(scale=1.0)(x, y, learning_rate, 0)
    X = x.reshape(len(x), -1).astype("float64")
    Y = np.eye(10)[y]
    losses = []
    for _ in range(steps):
        Z = X @ W + b
        Z = Z - Z.max(axis=1, keepdims=True)
        logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        losses.append(-(Y * logp).sum(axis=1).mean())
        delta = (np.exp(logp) - Y) / len(X)
        W = W - learning_rate * X.T @ delta
        b = b - learning_rate * delta.sum(axis=0)
    return W, b, losses


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (make_train(scale=1.0), "these are the losses of the loop as it was given"),
        (_stable_unscaled, "the loss still climbs to"),
        (make_train(scale=1.0, loss=true_class_loss), "the loss is nan or inf from step 1 on"),
        (make_train(sign=-1.0), "a descent step goes against the gradient"),
        (make_train(sign=-1.0, rate_factor=0.01), "yours goes up it, and the loss rises, from"),
        (make_train(rate_factor=0.01), "smoothly: the steps are too short. Did you lower the learning rate"),
        (make_train(scale=255.0**2), "or shrink the pixels below [0, 1]?"),
        (make_train(prepare=lambda X: X / 255 - 0.5), "on your inputs a step of learning_rate=0.5 is still too long"),
        (make_train(prepare=lambda X: X / 127.5 - 1), "the loss is nan or inf from step"),
        (make_train(loss=lambda Y, P: -(Y * np.log(P)).mean()), "the first loss is 0.230, but with W and b at zero"),
        (lambda x, y, learning_rate, steps: None, "did you forget `return`"),
        (lambda x, y, learning_rate, steps: make_train()(x, y, learning_rate, steps)[:2], "keep what the loop returns"),
        (
            lambda x, y, learning_rate, steps: (np.zeros((10, 784)), np.zeros(10), [0.0] * steps),
            "W must stay (784, 10)",
        ),
        (lambda x, y, learning_rate, steps: make_train()(x, y, learning_rate, steps - 1), "one loss per step, 30"),
    ],
)
def test_descent_loop_mistakes_get_their_hint(answer, phrase):
    _hint(check.descent_loop(answer), phrase)


def test_descent_loop_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.descent_loop(stub)


# Exercise 3.3 -------------------------------------------------------------------------------------------------------


def tanh_gradients(x, y, W1, b1, W2, b2):
    h = np.tanh(x @ W1 + b1)
    delta2 = (softmax(h @ W2 + b2) - y) / len(x)
    delta1 = (delta2 @ W2.T) * (1 - h**2)
    return x.T @ delta1, delta1.sum(axis=0), h.T @ delta2, delta2.sum(axis=0)


def variant(mean=True, sign=1.0, derivative=lambda z1, h: 1 - h**2, transpose=False, db_sum_raw=False):
    def answer(x, y, W1, b1, W2, b2):
        z1 = x @ W1 + b1
        h = np.tanh(z1)
        delta2 = sign * (softmax(h @ W2 + b2) - y) / (len(x) if mean else 1)
        delta1 = (delta2 @ W2.T) * derivative(z1, h)
        dW1 = x.T @ delta1
        db1 = delta1.mean(axis=0) if db_sum_raw else delta1.sum(axis=0)
        return (dW1.T if transpose else dW1), db1, h.T @ delta2, delta2.sum(axis=0)

    return answer


def test_tanh_backprop_accepts_the_solution():
    feedback = check.tanh_backprop(tanh_gradients)
    assert feedback.ok and feedback.message.startswith("correct. All four gradients agree")


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (variant(mean=False), "every gradient is N times too large"),
        (variant(sign=-1.0), "every gradient has the wrong sign"),
        (variant(derivative=lambda z1, h: 1.0), "multiply d loss / d h by tanh'(z1)"),
        (variant(derivative=lambda z1, h: h * (1 - h)), "which is the derivative of the sigmoid"),
        (variant(derivative=lambda z1, h: 1 - z1**2), "use 1 - z1 ** 2"),
        (variant(transpose=True), "dW1 has shape (3, 4) (transposed?)"),
        (variant(db_sum_raw=True), "db1 differs from finite differences"),
        (lambda *args: None, "did you forget `return`"),
        (lambda *args: tanh_gradients(*args)[:2], "return four arrays"),
    ],
)
def test_tanh_backprop_mistakes_get_their_hint(answer, phrase):
    _hint(check.tanh_backprop(answer), phrase)


def test_tanh_backprop_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.tanh_backprop(stub)
