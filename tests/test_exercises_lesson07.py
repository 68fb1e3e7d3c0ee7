"""The self-checks of notebook 07: the reference solutions pass, each usual mistake gets its own hint, and an
unsolved stub's NotImplementedError reaches the student."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson07 as check
from mnist_course.race import RaceRun, RunSpec
from mnist_course.race_results import load_results

STORED = Path(__file__).resolve().parent.parent / "notebooks" / "results" / "07_race_full.json"


def updates_per_epoch(n, batch_size):
    return math.ceil(n / batch_size)


def momentum_step(w, v, g, lr, momentum):
    v = momentum * v - lr * g
    return w + v, v


def race_winner(results, names):
    finals = {r.spec.name: r.final("val_accuracy") for r in results if r.spec.name in names}
    return max(finals, key=finals.get)


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 6.x: write your code here")


def test_the_reference_solutions_pass():
    for result, ex, phrase in [(check.updates_per_epoch(updates_per_epoch), "6.1", "one more update"),
                               (check.momentum_step(momentum_step), "6.2", "keras.optimizers.SGD"),
                               (check.race_winner(race_winner), "6.3", "highest validation accuracy")]:
        assert result.ok and result.exercise == ex and phrase in result.message, result
        assert result.raise_if_wrong() is result  # a check cell shows it


def test_the_race_winner_is_named_from_the_results_it_is_given():
    runs = [RaceRun(RunSpec(name), {}, {"val_accuracy": [0.1, acc], "loss": [2.3, 0.5]})
            for name, acc in [("sgd", 0.8), ("adam", 0.9), ("sgd-b1", 0.95)]]
    result = check.race_winner(race_winner, runs, ["sgd", "adam"])
    assert result.ok and result.message.startswith("correct. adam ends with the highest")
    assert result.raise_if_wrong() is result  # a check cell shows it
    stored = load_results(STORED)
    assert check.race_winner(race_winner, stored, ["sgd", "sgd-momentum", "rmsprop", "adam", "adagrad", "adamw"]).ok
    learnt_by_heart = check.race_winner(lambda results, names: "b" if "b" in names else "sgd", runs, ["sgd", "adam"])
    assert not learnt_by_heart.ok and "not on the race" in learnt_by_heart.message
    with pytest.raises(ExerciseNotSolved, match="not on the race"):
        learnt_by_heart.raise_if_wrong()


@pytest.mark.parametrize("run", [lambda: check.updates_per_epoch(stub), lambda: check.momentum_step(stub),
                                 lambda: check.race_winner(stub)])
def test_an_unsolved_stub_raises_not_implemented(run):
    with pytest.raises(NotImplementedError, match="write your code here"):
        run()


@pytest.mark.parametrize("answer, phrase", [
    (lambda n, b: n // b, "forgets the last, smaller batch"),
    (lambda n, b: n // b + 1, "one update too many"),
    (lambda n, b: round(n / b), "round() goes to the nearest"),
    (lambda n, b: np.ceil(n / b), "not as int"),
    (lambda n, b: n / b, "is a fraction"),
    (lambda n, b: b // n, "count the batches"),
])
def test_updates_per_epoch_mistakes_get_their_hint(answer, phrase):
    result = check.updates_per_epoch(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()
    assert repr(result).startswith("❌ Exercise 7.1: not yet.")


@pytest.mark.parametrize("answer, phrase", [
    (lambda w, v, g, lr, m: (w + (m * v + lr * g), m * v + lr * g), "climb the gradient"),
    (lambda w, v, g, lr, m: (w - (m * v + lr * g), m * v + lr * g), "opposite sign"),
    (lambda w, v, g, lr, m: (w - lr * (m * v + g), m * v + g), "PyTorch"),
    (lambda w, v, g, lr, m: (w + v, m * v - lr * g), "with the old velocity"),
    (lambda w, v, g, lr, m: (w - lr * g, m * v - lr * g), "plain SGD step"),
    (lambda w, v, g, lr, m: momentum_step(w, v, g, lr, m)[::-1], "the weights first"),
    (lambda w, v, g, lr, m: (w + lr * (m * v - g), m * v - g), "match Keras but not your velocity"),
    (lambda w, v, g, lr, m: (w + m * v - lr * g, m * v - 0.5 * lr * g), "first v <- momentum*v - lr*g"),
    (lambda w, v, g, lr, m: w - lr * g, "return a pair (w, v)"),
])
def test_momentum_step_mistakes_get_their_hint(answer, phrase):
    result = check.momentum_step(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()


def _best_epoch(results, names):
    return max(names, key=lambda n: max(next(r for r in results if r.spec.name == n).history["val_accuracy"]))


@pytest.mark.parametrize("answer, phrase", [
    (lambda results, names: max((r for r in results if r.spec.name in names), key=lambda r: r.final("val_accuracy")),
     "not the run itself"),
    (lambda results, names: max(r.final("val_accuracy") for r in results), "not its accuracy"),
    (lambda results, names: max(results, key=lambda r: r.final("val_accuracy")).spec.name, "only the runs named"),
    (_best_epoch, "best single epoch"),
    (lambda results, names: min((r for r in results if r.spec.name in names),
                                key=lambda r: r.final("val_accuracy")).spec.name, "max, not min"),
    (lambda results, names: min((r for r in results if r.spec.name in names),
                                key=lambda r: r.final("loss")).spec.name, "different scales"),
    (lambda results, names: "z", "whose last val_accuracy is the highest"),
    (lambda results, names: [names[1]], "a string, not a list"),
    (lambda results, names: np.array(["b"]), "a string, not a ndarray"),
])
def test_race_winner_mistakes_get_their_hint(answer, phrase):
    result = check.race_winner(answer)
    assert not result.ok and phrase in result.message, result
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        result.raise_if_wrong()
