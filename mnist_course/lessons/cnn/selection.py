"""Notebook 05's model selection: candidates trained on a validation split of the training images, the
one-standard-error rule choosing among them, and the studies as a table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mnist_course import stats
from mnist_course.data import train_val_split
from mnist_course.fields import Field
from mnist_course.lessons.cnn.results import FORMAT, known_models, seconds_of
from mnist_course.models import key as model_key
from mnist_course.models import store as model_store
from mnist_course.models import zoo as models
from mnist_course.shipped import versions

VALIDATION_IMAGES = 10_000  # held out of the 60,000 training images for every choice; the test set stays unseen
COURSE_EPOCHS = (2, 6, 14)  # the course CNN's candidate epoch counts, fewest first: the ends of its first 3 cycles
SELECTION_FILE = "05_selection_full.json"
RULE = (
    "one-standard-error rule: take the simplest candidate whose validation accuracy is at most one standard "
    "error sqrt(p (1 - p) / n) below the best one's (Hastie, Tibshirani and Friedman, The Elements of "
    "Statistical Learning, 2nd ed., sec. 7.10)"
)


def one_se_choice(accuracies: Sequence[float], n: int) -> int:
    """Index of the first (simplest) candidate whose validation accuracy is within one binomial standard error
    (:func:`mnist_course.stats.accuracy_se` on ``n`` images, one seed) of the best one's:
    :func:`mnist_course.stats.one_se_rule` with those standard errors."""
    if not accuracies:
        raise ValueError("one_se_choice needs at least one candidate")
    return stats.one_se_rule(accuracies, [stats.accuracy_se(a, n) for a in accuracies])


def _accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    from mnist_course.evaluation import evaluation_report

    return float(evaluation_report(model, x, y).accuracy)


def _candidate(
    name: str, split: tuple[Any, ...], epochs: int | None, seed: int, say: Callable[..., Any]
) -> dict[str, Any]:
    """Train (or load) one candidate on the training part of ``split``; score it on the validation part."""
    x_tr, y_tr, x_val, y_val = split
    model = model_store.load_or_train(name, x_tr, y_tr, epochs=epochs, seed=seed, verbose=1)
    info = model_store.info_of(model)
    row = {
        "model": name,
        "epochs": int(info["key"]["epochs"]),
        "val_accuracy": round(_accuracy(model, x_val, y_val), 6),
        "seconds": seconds_of(info),
    }
    say(f"    {name}, {row['epochs']} epochs: validation accuracy {100 * row['val_accuracy']:.2f} %")
    return row


def _study(question: str, rows: list[dict[str, Any]], labels: list[str]) -> dict[str, Any]:
    chosen = one_se_choice([r["val_accuracy"] for r in rows], VALIDATION_IMAGES)
    return {
        "question": question,
        "candidates": [{**r, "label": label} for r, label in zip(rows, labels)],
        "chosen": labels[chosen],
    }


def run_selection(
    x_train: np.ndarray, y_train: np.ndarray, *, seed: int, say: Callable[..., Any] = print
) -> dict[str, Any]:
    """Every choice notebook 05 makes, on a validation split of ``(x_train, y_train)``: the course CNN's epochs,
    then (at those epochs) its batch normalization, its schedule with warm restarts, its random shifts and the width
    of its first convolution, and cnn-32-64's cosine schedule.

    Each candidate is trained by :func:`mnist_course.models.store.load_or_train` (cached) and scored on the
    :data:`VALIDATION_IMAGES` held-out images; :func:`one_se_choice` decides, simplest first."""
    (x_tr, y_tr), (x_val, y_val) = train_val_split(x_train, y_train, val_size=VALIDATION_IMAGES, seed=seed)
    split = (x_tr, y_tr, x_val, y_val)
    from mnist_course.live import progress

    epochs = [
        _candidate("course-cnn", split, e, seed, say)
        for e in progress(COURSE_EPOCHS, label="course CNN epoch candidates")
    ]
    labels = [f"{e} epochs" for e in COURSE_EPOCHS]
    studies = [_study("course CNN: how many epochs (cycles of 2, 4, 8 epochs)?", epochs, labels)]
    best_epochs = COURSE_EPOCHS[labels.index(studies[0]["chosen"])]
    at_best = epochs[COURSE_EPOCHS.index(best_epochs)]
    for question, name, labels, kept_first in (
        ("batch normalization", "course-cnn-no-bn", ["without", "with"], False),
        ("learning-rate schedule", "course-cnn-constant", ["constant 1e-3", "restarts from 6e-3"], False),
        ("random shifts of the training images", "course-cnn-shifted", ["none", "up to 2 pixels"], True),
        ("filters of the first convolution", "course-cnn-conv1-24", ["16", "24"], True),
    ):
        other = _candidate(name, split, best_epochs, seed, say)
        rows = [at_best, other] if kept_first else [other, at_best]
        studies.append(_study(f"course CNN: {question} ({best_epochs} epochs)?", rows, labels))
    studies.append(
        _study(
            "cnn-32-64: learning-rate schedule (10 epochs)?",
            [_candidate("cnn-32-64-constant", split, None, seed, say), _candidate("cnn-32-64", split, None, seed, say)],
            ["constant 1e-3", "cosine from 1e-3"],
        )
    )
    return {
        "format": FORMAT,
        "rule": RULE,
        "seed": seed,
        "train_images": len(x_tr),
        "validation_images": len(x_val),
        "validation_data": model_key.data_fingerprint(x_val, y_val),
        "studies": studies,
        "versions": versions(),
    }


def selection_table(selection: dict[str, Any]) -> str:
    """The selection studies as text: each candidate's validation accuracy ± one standard error, its training
    seconds (where recorded) and the choice."""
    n = selection["validation_images"]
    lines = [f"{selection['train_images']:,} training images, {n:,} validation images, seed {selection['seed']}"]
    for study in selection["studies"]:
        lines.append(f"\n{study['question']}")
        for c in study["candidates"]:
            se = stats.accuracy_se(c["val_accuracy"], n)
            mark = "  <- chosen" if c["label"] == study["chosen"] else ""
            took = f"  {c['seconds']:6.1f} s of training" if c.get("seconds") is not None else ""
            lines.append(f"  {c['label']:<20} {100 * c['val_accuracy']:6.2f} ± {100 * se:.2f} %{took}{mark}")
    return "\n".join(lines)


def recipes_follow(selection: dict[str, Any]) -> bool:
    """True when the registry's recipes are the studies' choices: the course CNN's epochs, batch normalization,
    warm restarts, unshifted images and first-layer filters, and cnn-32-64's cosine schedule."""
    import keras

    course, small = models.get_recipe("course-cnn"), models.get_recipe("cnn-32-64")
    layers = models.build_model("course-cnn").layers
    has_bn = any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)
    registry = [
        f"{course.epochs} epochs",
        "with" if has_bn else "without",
        "restarts from 6e-3" if (course.schedule, course.learning_rate) == ("restarts", 6e-3) else course.schedule,
        "none" if course.shift_pixels == 0 else f"up to {course.shift_pixels} pixels",
        str(layers[0].filters),
        "cosine from 1e-3" if (small.schedule, small.learning_rate) == ("cosine", 1e-3) else small.schedule,
    ]
    return [study["chosen"] for study in selection["studies"]] == registry


def check_selection(doc: Field) -> None:
    """Refuse a selection file :func:`run_selection` could not have written: fields of their types and ranges
    (validation accuracies whole numbers of images in [0, 1], seconds >= 0 or null, known model names), each
    study's choice recomputed by :func:`one_se_choice`, one accuracy per run shared by the studies, and the seeds
    and image counts it records."""
    seed, n_val, n_train = doc["seed"].integer(), doc["validation_images"].integer(1), doc["train_images"].integer(1)
    doc["seeds"].agrees([seed], "seed")
    doc["settings"]["SEED"].agrees(seed, "seed")
    doc["settings"]["TRAIN_SIZE"].agrees(n_train + n_val, "train_images + validation_images")
    doc["validation_data"]["images"].agrees(n_val, "validation_images")
    doc["rule"].text()
    runs: dict[tuple[str, int], float] = {}
    for study in doc["studies"].items():
        study["question"].text()
        labels, accuracies = [], []
        for candidate in study["candidates"].items():
            run = (candidate["model"].text(known_models()), candidate["epochs"].integer(1))
            accuracies.append(candidate["val_accuracy"].accuracy(n_val))
            candidate["val_accuracy"].agrees(runs.setdefault(run, accuracies[-1]), f"the other studies' {run}")
            labels.append(candidate["label"].text())
            if candidate.has("seconds"):
                candidate["seconds"].seconds(null=True)
        if len(set(labels)) < len(labels):
            study["candidates"].fail(f"repeats a label ({labels})")
        study["chosen"].agrees(labels[one_se_choice(accuracies, n_val)], "the one-standard-error rule's candidates")


__all__ = [
    "COURSE_EPOCHS",
    "check_selection",
    "RULE",
    "SELECTION_FILE",
    "VALIDATION_IMAGES",
    "one_se_choice",
    "recipes_follow",
    "run_selection",
    "selection_table",
]
