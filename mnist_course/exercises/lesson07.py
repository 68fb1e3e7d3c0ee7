"""Self-checks for notebook 07 (optimizers and losses): updates per epoch, a momentum step, the race's winner."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback
from mnist_course.race import RaceRun, RunSpec

# --- Exercise 7.1 ------------------------------------------------------------------------------------------------

# (n, batch_size): exact division, leftovers below and above half a batch, a batch larger than the data
_EPOCHS = [(10_000, 10_000), (10_000, 128), (10_000, 1), (100, 30), (70, 40), (100, 128)]


def updates_per_epoch(function: Callable[[int, int], Any]) -> Feedback:
    """Check ``function(n, batch_size)`` is the number of batches in an epoch: n / batch_size rounded up."""
    ex = "6.1"
    answers = [feedback.call(function, n, b) for n, b in _EPOCHS]
    expected = [-(-n // b) for n, b in _EPOCHS]
    if answers == expected and all(isinstance(a, (int, np.integer)) for a in answers):
        return feedback.right(ex, "The last batch may be smaller than the others, but it is one more update: with "
                                  "batches of 128, an epoch over 10,000 examples makes 78 full steps and one of 16.")
    if answers == [n // b for n, b in _EPOCHS]:
        return feedback.wrong(ex, "n // batch_size forgets the last, smaller batch: 100 examples in batches of 30 "
                                  "are 3 full batches and one of 10, so 4 updates. Round up.")
    if answers == [n // b + 1 for n, b in _EPOCHS]:
        return feedback.wrong(ex, "one update too many when batch_size divides n: 10,000 examples in one batch of "
                                  "10,000 make a single update. Round n / batch_size up instead of adding 1.")
    if answers == [round(n / b) for n, b in _EPOCHS]:
        return feedback.wrong(ex, "round() goes to the nearest whole number, so a leftover of less than half a "
                                  "batch is lost: round up, with math.ceil(n / batch_size).")
    if answers == expected:
        return feedback.wrong(ex, "the right numbers, but not as int: np.ceil returns a float; math.ceil(n / "
                                  "batch_size) or -(-n // batch_size) give an int.")
    if all(isinstance(a, float) for a in answers):
        return feedback.wrong(ex, "n / batch_size is a fraction, but updates come in whole batches: round it up.")
    return feedback.wrong(ex, "count the batches: all full ones, plus one more if examples are left over.")


# --- Exercise 7.2 ------------------------------------------------------------------------------------------------

_W0 = np.array([0.3, 0.7, -0.2])
_GRADS = [np.array([1.0, -2.0, 0.5]), np.array([0.5, 0.5, 0.5]), np.array([-1.0, 0.0, 2.0])]
_LR, _MOMENTUM = 0.1, 0.9
Step = Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], tuple[np.ndarray, np.ndarray]]

# Steps students write instead of Keras' v <- m*v - lr*g, w <- w + v, with the hint each one gets.
_VARIANTS: list[tuple[Step, str]] = [
    (lambda w, v, g, lr, m: (w + (m * v + lr * g), m * v + lr * g),
     "your weights climb the gradient: the velocity takes minus the gradient, v <- momentum*v - lr*g."),
    (lambda w, v, g, lr, m: (w - (m * v + lr * g), m * v + lr * g),
     "your weights are right but your velocity has the opposite sign: in Keras the velocity is the step itself, "
     "v <- momentum*v - lr*g, and then w <- w + v."),
    (lambda w, v, g, lr, m: (w - lr * (m * v + g), m * v + g),
     "your weights are right, but Keras' velocity already holds the learning rate and the minus sign: "
     "v <- momentum*v - lr*g. (PyTorch keeps v <- momentum*v + g and steps w - lr*v: the same weights.)"),
    (lambda w, v, g, lr, m: (w + v, m * v - lr * g),
     "you move the weights with the old velocity: update the velocity first, then w <- w + v with the new one."),
    (lambda w, v, g, lr, m: (w - lr * g, m * v - lr * g),
     "your weights take a plain SGD step: the velocity must move them, w <- w + v."),
    (lambda w, v, g, lr, m: (m * v - lr * g, w + m * v - lr * g),
     "return the weights first, then the velocity: (w, v)."),
]


@functools.cache
def _keras_trajectory() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Weights and velocity after each step of keras.optimizers.SGD(momentum) on the fixed gradients (computed once)."""
    import keras

    var = keras.Variable(_W0.copy(), dtype="float64")
    sgd = keras.optimizers.SGD(learning_rate=_LR, momentum=_MOMENTUM)
    out = []
    for g in _GRADS:
        sgd.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), var)])
        out.append((np.array(var.numpy()), np.array(sgd.momentums[0].numpy())))
    return tuple(out)


def _run(step: Callable[..., Any]) -> list[tuple[np.ndarray | None, np.ndarray | None]]:
    w, v, out = _W0.copy(), np.zeros_like(_W0), []
    for g in _GRADS:
        result = feedback.call(step, w.copy(), v.copy(), g.copy(), _LR, _MOMENTUM)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return [(None, None)]
        w, v = (feedback.as_array(x) for x in result)
        if w is None or v is None or w.shape != _W0.shape or v.shape != _W0.shape:
            return [(None, None)]
        w, v = w.astype(np.float64), v.astype(np.float64)
        out.append((w, v))
    return out


def _close(a: Sequence, b: Sequence) -> bool:
    return len(a) == len(b) and all(np.allclose(x[0], y[0], atol=1e-6) and np.allclose(x[1], y[1], atol=1e-6)
                                    for x, y in zip(a, b))


def momentum_step(function: Callable[..., Any]) -> Feedback:
    """Check three steps of ``function(w, v, g, lr, momentum) -> (w, v)`` against Keras' SGD with momentum."""
    ex = "6.2"
    answer = _run(function)
    if answer[0][0] is None:
        return feedback.wrong(ex, "return a pair (w, v): two arrays shaped like w.")
    keras_steps = _keras_trajectory()
    if _close(answer, keras_steps):
        return feedback.right(ex, "Step for step the same weights and velocity as keras.optimizers.SGD(momentum="
                                  "0.9). With a steady gradient the velocity grows towards lr*g / (1 - momentum): at "
                                  "momentum 0.9, ten plain steps in one. That is momentum's speed-up in the race.")
    for variant, hint in _VARIANTS:
        if _close(answer, _run(variant)):
            return feedback.wrong(ex, hint)
    if all(np.allclose(a[0], k[0], atol=1e-6) for a, k in zip(answer, keras_steps)):
        return feedback.wrong(ex, "your weights match Keras but not your velocity: return the new v = momentum*v - "
                                  "lr*g.")
    return feedback.wrong(ex, "not the same weights as Keras' SGD: first v <- momentum*v - lr*g, then w <- w + v.")


# --- Exercise 7.3 ------------------------------------------------------------------------------------------------

def _result(name: str, val_accuracy: list[float], loss: list[float]) -> RaceRun:
    return RaceRun(RunSpec(name), {}, {"epoch": list(range(len(loss))), "seconds": [float(i) for i in range(
        len(loss))], "loss": loss, "val_accuracy": val_accuracy, "val_crossentropy": loss})


def _own_race() -> tuple[list[RaceRun], list[str]]:
    """Runs where each wrong way of reading them picks another name; "b" ends best among those named."""
    runs = [_result("a", [0.1, 0.90, 0.80], [2.3, 0.40, 0.45]),   # best epoch, not best at the end
            _result("b", [0.1, 0.85, 0.86], [2.3, 0.50, 0.42]),   # the winner
            _result("c", [0.1, 0.40, 0.50], [2.3, 1.50, 1.20]),   # the last
            _result("d", [0.1, 0.95, 0.97], [2.3, 0.20, 0.10]),   # not in the race
            _result("e", [0.1, 0.70, 0.75], [2.3, 0.05, 0.04])]   # lowest loss (MSE-like scale), not best
    return runs, ["a", "b", "c", "e"]


def _final_accuracy(run: RaceRun) -> float:
    value = run.history["val_accuracy"][-1]
    return -math.inf if value is None else value


def race_winner(function: Callable[..., Any], results: Sequence[RaceRun] | None = None,
                names: Sequence[str] | None = None) -> Feedback:
    """Check ``function(results, names)`` names the run among ``names`` with the highest final validation accuracy."""
    ex = "6.3"
    runs, own_names = _own_race()
    answer = feedback.call(function, list(runs), list(own_names))
    hints = {"a": "run 'a' has the best single epoch but not the best end: compare run.final('val_accuracy'), "
                  "the accuracy after the last epoch.",
             "c": "that is the lowest validation accuracy: the winner has the highest (max, not min).",
             "d": "only the runs named in `names` are in this race; the others belong to other comparisons.",
             "e": "that run has the lowest training loss, but losses of different objectives are on different "
                  "scales: compare the validation accuracy."}
    if isinstance(answer, RaceRun):
        return feedback.wrong(ex, "return the run's name (run.spec.name), not the run itself.")
    if isinstance(answer, (float, np.floating)):
        return feedback.wrong(ex, "return the name of the winning run, not its accuracy.")
    if not isinstance(answer, str):
        return feedback.wrong(ex, f"return the winner's name, a string, not a {type(answer).__name__}.")
    if answer != "b":
        return feedback.wrong(ex, hints.get(answer, "the winner is the run among `names` whose last val_accuracy "
                                                    "is the highest."))
    if results is None or names is None:
        return feedback.right(ex, "The highest validation accuracy after the last epoch wins.")
    index = {run.spec.name: run for run in results}
    winner = max(names, key=lambda name: _final_accuracy(index[name]))
    answer = feedback.call(function, list(results), list(names))
    if not isinstance(answer, str) or answer != winner:
        return feedback.wrong(ex, "right on the check's own runs but not on the race: look at the runs in `names` "
                                  "only, and at their last val_accuracy.")
    return feedback.right(ex, f"{winner} ends with the highest validation accuracy of these runs. Look at the runs "
                              "just behind it too: a gap smaller than what another seed would change is a tie.")
