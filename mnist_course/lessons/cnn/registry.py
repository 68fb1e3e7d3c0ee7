"""Notebook 05's registry models over seeds: each CNN trained by its recipe on all training images, scored once on
the test set, beside notebook 04's dense networks, and how their accuracies are shown and compared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mnist_course import stats
from mnist_course.fields import Field
from mnist_course.lessons import mlp
from mnist_course.lessons.cnn.results import FORMAT, known_models, save_results, seconds_of
from mnist_course.models import key as model_key
from mnist_course.models import store as model_store
from mnist_course.models import zoo as models
from mnist_course.shipped import versions

MODELS_FILE = "05_models_full.json"


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
            seconds.append(seconds_of(info))
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


def check_models(doc: Field) -> None:
    """Refuse a models file :func:`run_models` could not have written: fields of their types and ranges (test
    accuracies whole numbers of images in [0, 1], seconds >= 0, one value per seed, known model names, at least
    one registry CNN), and the summaries it keeps beside them (``complete``, the seeds, the image counts, each recipe's
    name and epochs)."""
    rows = doc["models"].fields(known_models())
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


__all__ = ["MODELS_FILE", "check_models", "accuracy_range", "accuracy_text", "dense_rows", "run_models"]
