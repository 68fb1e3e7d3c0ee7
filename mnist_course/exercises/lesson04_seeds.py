"""Self-check of notebook 04's exercise 4.2 (debug): ``seed_scores`` built one model and trained it on, seed after
seed, so each seed's score also counted the epochs of the seeds before it; fixed, each seed trains a new model,
built after its seed is set."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import NO_RETURN, Feedback, right, wrong

SEEDS = (3, 7)  # the seeds the check runs, in this order and reversed
EPOCHS = 2
SIGNATURE = "seed_scores(build, seeds, x, y, x_val, y_val, epochs=1)"


def blobs(n: int, seed: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 784-pixel vectors around ten fixed random centres, labels 0-9 (made up: no MNIST needed)."""
    centres = np.random.default_rng(4).random((10, 784), dtype=np.float32)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = np.clip(centres[y] + noise * rng.standard_normal((n, 784)).astype(np.float32), 0, 1)
    return x, y


def _tiny() -> keras.Model:
    """The check's ``build()``: a new, uncompiled softmax layer on 784 inputs."""
    return keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])


def _weights(model: keras.Model) -> list[np.ndarray]:
    return [np.array(w, copy=True) for w in model.get_weights()]


def _recording_build(starts: list[list[np.ndarray]]) -> Callable[[], keras.Model]:
    """A ``build()`` that notes each new model's starting weights in ``starts``."""

    def build() -> keras.Model:
        model = _tiny()
        starts.append(_weights(model))
        return model

    return build


def _reference(seeds: Sequence[int], data: tuple[np.ndarray, ...]) -> dict[int, tuple[list[np.ndarray], float, float]]:
    """Per seed, done right: ``(starting weights, validation accuracy, training accuracy)``."""
    x, y, x_val, y_val = data
    out = {}
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = _tiny()
        start = _weights(model)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, epochs=EPOCHS, verbose=0)
        out[seed] = (
            start,
            float(model.evaluate(x_val, y_val, verbose=0)[1]),
            float(model.evaluate(x, y, verbose=0)[1]),
        )
    return out


def _scores(answer: Any, n: int) -> list[float] | str:
    """``answer`` as ``n`` floats, or the hint that says what is wrong with it."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, (list, tuple, np.ndarray)):
        return f"return a list of scores, one per seed; yours is a {type(answer).__name__}."
    if any(isinstance(a, (list, tuple)) or np.ndim(a) for a in answer):
        return "model.evaluate returns [loss, accuracy]: append the accuracy, its [1], once per seed."
    if len(answer) != n:
        return f"return one score per seed: {n} seeds, {len(answer)} score{'s' * (len(answer) != 1)}."
    try:
        return [float(a) for a in answer]
    except (TypeError, ValueError):
        return "return the scores as numbers, the accuracy model.evaluate gives as its [1]."


def seed_scores(function: Callable[..., Any]) -> Feedback:
    """Exercise 4.2: ``function(build, seeds, x, y, x_val, y_val, epochs=)`` returns one validation accuracy per seed,
    each from a new model (``build()``) built after ``keras.utils.set_random_seed(seed)``, compiled with Adam and
    sparse categorical cross-entropy and trained ``epochs`` epochs. Run with the seeds in both orders, on made-up
    data and a small model of the check's own."""
    ex = "4.2"
    if not callable(function):
        return wrong(ex, "pass the function itself: check.seed_scores(seed_scores), without brackets.")
    data = (*blobs(320, 1, 0.4), *blobs(200, 2, 0.5))
    truth = _reference(SEEDS, data)
    got: dict[tuple[int, ...], list[float]] = {}
    for order in (list(SEEDS), list(SEEDS[::-1])):
        starts: list[list[np.ndarray]] = []
        build = _recording_build(starts)
        try:
            answer = function(build, list(order), *data, epochs=EPOCHS)
        except TypeError as err:
            return wrong(ex, f"keep the signature {SIGNATURE}; calling it that way raised: {err}")
        if answer is None:
            return wrong(ex, NO_RETURN)
        if not starts:
            return wrong(ex, "your function never calls build(): build() makes the model, so call it once per seed.")
        if len(starts) < len(order):
            return wrong(
                ex,
                f"build() ran {'once' if len(starts) == 1 else f'{len(starts)} times'} for {len(order)} seeds: one "
                "model serves several seeds, so its starting weights do not come from each seed, and what it learned "
                "(and its optimizer's state) carries over from one seed to the next. Inside the loop, set the seed, "
                "then build (and compile) a new model: one per seed.",
            )
        if len(starts) > len(order):
            return wrong(ex, f"build() ran {len(starts)} times for {len(order)} seeds: build one model per seed.")
        for seed, start in zip(order, starts):
            if any(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(start, truth[seed][0])):
                return wrong(
                    ex,
                    f"the model for seed {seed} did not start from the weights that seed gives: its weights were "
                    f"drawn before keras.utils.set_random_seed({seed}) ran (or np.random.seed alone seeded "
                    "NumPy but not Keras). Set the seed first, then build.",
                )
        scores = _scores(answer, len(order))
        if isinstance(scores, str):
            return wrong(ex, scores)
        got[tuple(order)] = scores
    forward, backward = got[SEEDS], dict(zip(SEEDS[::-1], got[SEEDS[::-1]]))
    tolerance = 1.5 / len(data[3])  # one validation image: a GPU may round differently
    for seed, score in zip(SEEDS, forward):
        _, on_val, on_train = truth[seed]
        if math.isclose(score, on_val, abs_tol=tolerance) and math.isclose(backward[seed], on_val, abs_tol=tolerance):
            continue
        if math.isclose(score, on_train, abs_tol=tolerance):
            return wrong(ex, "that is the accuracy on the training data: evaluate on x_val, y_val.")
        if math.isclose(score, 100 * on_val, abs_tol=100 * tolerance):
            return wrong(ex, f"return the accuracy as evaluate gives it, a fraction ({on_val:.3f}), not in percent.")
        return wrong(
            ex,
            f"seed {seed} scores {score:.4f} here, but a new model trained with that seed scores {on_val:.4f} on "
            "the validation data. Set the seed, then build, compile, fit and evaluate that model before the next "
            "seed (the seed also decides the order of fit's batches); keep compile and fit as they were (Adam, "
            "sparse categorical cross-entropy, epochs=epochs) and return model.evaluate(x_val, y_val, verbose=0)[1].",
        )
    said = ", ".join(f"seed {seed} {score:.1%}" for seed, score in zip(SEEDS, forward))
    return right(
        ex,
        f"Each seed now trains a model of its own, built after its seed is set: {said} on the check's made-up "
        "data, the same with the seeds in either order. Built once, the model went on training from one seed to "
        "the next, so each score also counted the epochs of every seed before it, and the spread measured more "
        "training, not the seeds. The same slip in k-fold cross-validation is worse: fold 2's model then starts "
        "from one that trained on fold 2's validation images.",
    )


__all__ = ["SEEDS", "blobs", "seed_scores"]
