"""Notebook 05 (CNNs): model selection on a validation split, the registry models over seeds, their shipped results."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mnist_course import stats
from mnist_course.data import train_val_split
from mnist_course.fields import Field
from mnist_course.lessons import mlp
from mnist_course.models import key as model_key
from mnist_course.models import store as model_store
from mnist_course.models import zoo as models
from mnist_course.models.recipes import ALTERNATIVES
from mnist_course.shipped import read_results, shipped_path, versions, write_results

FORMAT = 1
VALIDATION_IMAGES = 10_000  # held out of the 60,000 training images for every choice; the test set stays unseen
COURSE_EPOCHS = (2, 6, 14)  # the course CNN's candidate epoch counts, fewest first: the ends of its first 3 cycles
SELECTION_FILE, MODELS_FILE = "05_selection_full.json", "05_models_full.json"
RULE = (
    "one-standard-error rule: take the simplest candidate whose validation accuracy is at most one standard "
    "error sqrt(p (1 - p) / n) below the best one's (Hastie, Tibshirani and Friedman, The Elements of "
    "Statistical Learning, 2nd ed., sec. 7.10)"
)


def standard_error(accuracy: float, n: int) -> float:
    """Standard error of an accuracy measured on ``n`` images: ``sqrt(p (1 - p) / n)``."""
    if n < 1:
        raise ValueError(f"n={n}: an accuracy needs at least one image")
    return math.sqrt(accuracy * (1 - accuracy) / n)


def one_se_choice(accuracies: Sequence[float], n: int) -> int:
    """Index of the first (simplest) candidate whose accuracy is within one standard error of the best one's.

    ``accuracies`` are fractions on ``n`` validation images, simplest candidate first."""
    if not accuracies:
        raise ValueError("one_se_choice needs at least one candidate")
    best = max(accuracies)
    floor = best - standard_error(best, n)
    return next(i for i, acc in enumerate(accuracies) if acc >= floor)


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
        "seconds": _seconds(info),
    }
    say(f"    {name}, {row['epochs']} epochs: validation accuracy {100 * row['val_accuracy']:.2f} %")
    return row


def _seconds(info: dict[str, Any]) -> float | None:  # None (JSON null, not NaN) where unknown
    return None if info.get("seconds") is None else round(float(info["seconds"]), 1)


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


def run_models(
    names: Sequence[str],
    x_train: np.ndarray,
    y_train: np.ndarray,
    test: tuple[np.ndarray, np.ndarray],
    seeds: dict[str, Sequence[int]],
    *,
    save_as: str | None = None,
) -> dict[str, Any]:
    """Train (or load) every model of ``names``, in that order, by its recipe on all of ``(x_train, y_train)`` once
    per seed of ``seeds[name]`` and score each on ``test`` (the one use of the test set).

    With ``save_as`` the results are saved (:func:`save_results`) after every model, ``"complete": False``
    until the last,
    so that a run stopped half-way still ships what it measured."""
    import keras

    results = {
        "format": FORMAT,
        "train_images": len(x_train),
        "test_images": len(test[0]),
        "test_data": model_key.data_fingerprint(*test),
        "models": {},
        "complete": False,
        "versions": versions(),
    }
    from mnist_course.live import progress

    for name in progress(list(names), label="registry models trained or loaded"):
        accuracies, seconds, epochs = [], [], None
        for seed in seeds[name]:
            model = model_store.load_or_train(name, x_train, y_train, seed=seed, test_data=test, verbose=1)
            info = model_store.info_of(model)
            accuracies.append(round(float(info["test_accuracy"]), 6))
            seconds.append(_seconds(info))
            epochs = int(info["key"]["epochs"])
            del model
            keras.backend.clear_session()
        results["models"][name] = {
            "seeds": list(seeds[name]),
            "test_accuracy": accuracies,
            "seconds": seconds,
            "epochs": epochs,
            "parameters": models.count_params(name),
            "recipe": models.describe(name),
        }
        results["complete"] = len(results["models"]) == len(names)
        if save_as:
            save_results(save_as, results)
    return results


def with_settings(results: dict[str, Any]) -> dict[str, Any]:
    """``results`` with the seeds and the notebook parameters that produced them at the top (``"seeds"``,
    ``"settings": {"TRAIN_SIZE": ..., "SEED": ...}``), read from what the run recorded."""
    seeds = sorted({s for m in results.get("models", {}).values() for s in m.get("seeds", [])})
    seeds = seeds or [results["seed"]]
    images = results.get("train_images", 0) + results.get("validation_images", 0)
    return {**results, "seeds": seeds, "settings": {"SEED": seeds[0], "TRAIN_SIZE": images}}


def save_results(file: str, results: dict[str, Any]) -> Path:
    """Write ``results`` (:func:`with_settings`) as stable JSON (sorted keys) to ``notebooks/results/<file>``,
    atomically."""
    return write_results(shipped_path(file), with_settings(results), fmt=FORMAT)


def _known() -> list[str]:
    return [*models.list_models(), *ALTERNATIVES]


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
            run = (candidate["model"].text(_known()), candidate["epochs"].integer(1))
            accuracies.append(candidate["val_accuracy"].accuracy(n_val))
            candidate["val_accuracy"].agrees(runs.setdefault(run, accuracies[-1]), f"the other studies' {run}")
            labels.append(candidate["label"].text())
            if candidate.has("seconds"):
                candidate["seconds"].seconds(null=True)
        if len(set(labels)) < len(labels):
            study["candidates"].fail(f"repeats a label ({labels})")
        study["chosen"].agrees(labels[one_se_choice(accuracies, n_val)], "the one-standard-error rule's candidates")


def check_models(doc: Field) -> None:
    """Refuse a models file :func:`run_models` could not have written: fields of their types and ranges (test
    accuracies whole numbers of images in [0, 1], seconds >= 0, one value per seed, known model names, at least
    one registry CNN), and the summaries it keeps beside them (``complete``, the seeds, the image counts, each recipe's
    name and epochs)."""
    rows = doc["models"].fields(_known())
    cnns = [name for name in models.list_models() if models.get_recipe(name).input_kind == "image"]
    if not any(name in rows for name in cnns):  # nothing to compare: notebook 05 would conclude from no data
        doc["models"].fail(f"holds none of the registry's CNNs ({', '.join(cnns)})")
    n_test, n_train = doc["test_images"].integer(1), doc["train_images"].integer(1)
    doc["test_data"]["images"].agrees(n_test, "test_images")
    for name, row in rows.items():
        seeds = [s.integer() for s in row["seeds"].items()]
        if len(set(seeds)) < len(seeds):
            row["seeds"].fail("repeats a seed")
        for value in row["test_accuracy"].items(len(seeds), what="one per seed"):
            value.accuracy(n_test)
        for value in row["seconds"].items(len(seeds), what="one per seed"):
            value.seconds()
        row["parameters"].integer(1)
        row["recipe"]["name"].agrees(name, "its model name")
        row["recipe"]["epochs"].agrees(row["epochs"].integer(1), "its epochs")
    doc["complete"].agrees(all(name in rows for name in cnns), f"the models it holds (every one of {cnns})")
    seeds = sorted({seed for row in rows.values() for seed in row["seeds"].value})
    doc["seeds"].agrees(seeds, "the models' seeds")
    doc["settings"]["SEED"].agrees(seeds[0], "the models' seeds")
    doc["settings"]["TRAIN_SIZE"].agrees(n_train, "train_images")
    (doc["cpus"] if doc.has("cpus") else doc["versions"]["cpus"]).integer(1)


def load_results(file: str) -> dict[str, Any]:
    """The shipped results ``notebooks/results/<file>`` (on Colab fetched from the repository, see
    :func:`mnist_course.shipped.read_results`), checked by :func:`check_selection` or :func:`check_models`: a
    missing, malformed or hand-edited file raises naming the command that makes it. A models file has its
    ``cpus`` at the top (where files before ``"versions"`` kept it, and notebook 05 reads it)."""
    fix = "make it again with `make results` (or `mnist-course run 05 --results`), or restore it with git"
    doc = read_results(
        file, formats={FORMAT}, fix=fix, check=lambda d: (check_selection if d.has("studies") else check_models)(d)
    )
    if "models" in doc and "cpus" not in doc:
        doc["cpus"] = doc["versions"]["cpus"]
    return doc


def dense_rows(file: str = mlp.RESULTS_NAME) -> dict[str, Any]:
    """The dense networks' final runs from notebook 04's shipped results (its validation chose their epochs),
    read by :func:`mnist_course.lessons.mlp.load_results`, as rows like :func:`run_models`' (``"recipe": None``,
    ``"from": file``). A missing or malformed file raises: never an empty table for notebook 05 to compare with."""
    fix = (
        "notebook 05 compares its CNNs with notebook 04's dense networks: make the file with `make results` (or "
        "`mnist-course run 04 --results`), or restore it with git"
    )
    shipped = mlp.load_results(file, fix=fix)
    rows = {}
    for name, runs in shipped["finals"].items():
        rows[name] = {
            "seeds": [r["seed"] for r in runs],
            "test_accuracy": [r["test_accuracy"] for r in runs],
            "seconds": [r["seconds"] for r in runs],
            "epochs": shipped["chosen"][name]["epochs"],
            "parameters": models.count_params(name),
            "recipe": None,
            "from": file,
        }
    return rows


def accuracy_text(accuracies: Sequence[float], n: int) -> str:
    """``"99.41 ± 0.05 % (3 seeds)"`` (mean ± sample standard deviation) for several seeds, else one accuracy
    with its 95 % Wilson interval on ``n`` test images, ``"99.30 % (99.12-99.45)"``."""
    if len(accuracies) >= 2:
        mean, spread = stats.mean_spread(accuracies)
        return f"{100 * mean:.2f} ± {100 * spread:.2f} % ({len(accuracies)} seeds)"
    return stats.format_accuracy(accuracies[0], n)


def accuracy_range(accuracies: Sequence[float], n: int) -> tuple[float, float]:
    """The band compared before ranking two models: the 95 % Wilson interval on ``n`` test images of the (mean)
    accuracy; over several seeds, widened to mean ± 2 standard deviations where those reach further (within
    [0, 1]), so that both the test set's sampling and the seed-to-seed spread are covered."""
    if len(accuracies) < 2:
        return stats.accuracy_interval(accuracies[0], n)
    mean, spread = stats.mean_spread(accuracies)
    low, high = stats.accuracy_interval(mean, n)
    return max(0.0, min(low, mean - 2 * spread)), min(1.0, max(high, mean + 2 * spread))


def selection_table(selection: dict[str, Any]) -> str:
    """The selection studies as text: each candidate's validation accuracy ± one standard error, its training
    seconds (where recorded) and the choice."""
    n = selection["validation_images"]
    lines = [f"{selection['train_images']:,} training images, {n:,} validation images, seed {selection['seed']}"]
    for study in selection["studies"]:
        lines.append(f"\n{study['question']}")
        for c in study["candidates"]:
            se = standard_error(c["val_accuracy"], n)
            mark = "  <- chosen" if c["label"] == study["chosen"] else ""
            took = f"  {c['seconds']:6.1f} s of training" if c.get("seconds") is not None else ""
            lines.append(f"  {c['label']:<20} {100 * c['val_accuracy']:6.2f} ± {100 * se:.2f} %{took}{mark}")
    return "\n".join(lines)


__all__ = [
    "COURSE_EPOCHS",
    "RULE",
    "VALIDATION_IMAGES",
    "accuracy_range",
    "accuracy_text",
    "check_models",
    "check_selection",
    "dense_rows",
    "load_results",
    "one_se_choice",
    "run_models",
    "run_selection",
    "save_results",
    "selection_table",
    "standard_error",
]
