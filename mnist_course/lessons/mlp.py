"""Notebook 04's honest model selection: epochs and schedule chosen on a validation split over seeds, then final runs.

The study trains the registry's dense-512 and mlp-3x500 on a training/validation split of the *training* images only:
dense-512 at a constant learning rate and with a cosine decay, mlp-3x500 with and without dropout, each over several
seeds. :func:`choose` (from :mod:`mnist_course.lessons.mlp_choice`) reads the choices off the validation curves
(never the test set); :func:`final_runs` then trains each model by its recipe on all training images for the chosen
epochs, one model per seed, and scores it on the test set once. :func:`save_results` / :func:`load_results` keep all
of it as the reviewable JSON shipped in ``notebooks/results/04_mlp_full.json``; :func:`long_runs` reads it back (or,
in the full profile, runs it all).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from mnist_course.fields import Field
from mnist_course.lessons.mlp_choice import History, best_epoch, choose, mean_curve, one_standard_error
from mnist_course.models import zoo as models
from mnist_course.notebook import pick, writing_results
from mnist_course.paths import shown
from mnist_course.seeding import seed_everything
from mnist_course.shipped import find_shipped, read_results, shipped_path, versions, write_results

FORMAT = 1
RESULTS_NAME = "04_mlp_full.json"
STUDY_RUNS = ("dense-512 constant", "dense-512 cosine", "mlp-3x500 dropout 0.2", "mlp-3x500 no dropout")
FINAL_MODELS = ("dense-512", "mlp-3x500")
# Published test accuracies that the recipes in mnist_course.models.recipes do not carry (a recipe's fields are part
# of its models' cache key: adding the figure there retrains them): model -> (accuracy in percent, source).
PUBLISHED_ELSEWHERE = {
    "mlp-3x500": (
        98.12,
        "seed tutorial 002, one of the tutorials this course was built from: this network (3 hidden layers of 500 "
        "ReLU units, dropout 0.2), 98.12 % reported",
    )
}


def published_figure(name: str) -> tuple[float | None, str]:
    """The test accuracy (in percent) published for the registry's ``name`` and its source: from
    :data:`PUBLISHED_ELSEWHERE` when listed there, else the recipe's own (``None`` when its source printed none)."""
    if name in PUBLISHED_ELSEWHERE:
        return PUBLISHED_ELSEWHERE[name]
    recipe = models.get_recipe(name)
    return recipe.published_accuracy, recipe.source


def build(
    name: str, *, seed: int, n_train: int, epochs: int, schedule: str | None = None, dropout: bool = True
) -> keras.Model:
    """The registry model ``name``, compiled by its recipe, but with ``schedule`` (``"constant"``/``"cosine"``)
    instead of the recipe's when given, and without its Dropout layers when ``dropout`` is False."""
    recipe = models.get_recipe(name)
    model = models.build_model(name, seed=seed, n_train=n_train, epochs=epochs)
    if dropout and schedule in (None, recipe.schedule):
        return model
    kept = [
        type(layer).from_config(layer.get_config())
        for layer in model.layers
        if dropout or not isinstance(layer, keras.layers.Dropout)
    ]
    seed_everything(seed)
    variant = keras.Sequential([keras.Input(models.input_shape(name)), *kept], name=model.name)
    steps = math.ceil(n_train / recipe.batch_size)
    variant.compile(
        optimizer=models.make_optimizer(
            dataclasses.replace(recipe, schedule=schedule or recipe.schedule), steps, epochs
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=recipe.from_logits),
        metrics=["accuracy"],
    )
    return variant


def curves(
    name: str,
    train: tuple[Any, Any],
    val: tuple[Any, Any],
    *,
    epochs: int,
    seeds: Sequence[int],
    schedule: str | None = None,
    dropout: bool = True,
) -> list[History]:
    """One validation history per seed: ``name`` trained ``epochs`` epochs on ``train`` (flat float32 vectors in [0, 1],
    integer labels), scored on ``val`` after every epoch."""
    batch = models.get_recipe(name).batch_size
    histories = []
    for seed in seeds:
        model = build(name, seed=seed, n_train=len(train[1]), epochs=epochs, schedule=schedule, dropout=dropout)
        fit = model.fit(*train, batch_size=batch, epochs=epochs, validation_data=val, verbose=0)
        histories.append({k: [float(v) for v in values] for k, values in fit.history.items()})
    return histories


def run_study(
    train: tuple[Any, Any], val: tuple[Any, Any], *, seeds: Sequence[int], epochs_dense: int, epochs_mlp: int
) -> dict[str, list[History]]:
    """Every validation run of the selection, by run name: dense-512 constant (``epochs_dense`` epochs), then
    cosine over the epochs the constant runs chose, mlp-3x500 with and without dropout (``epochs_mlp``)."""
    study = {
        "dense-512 constant": curves("dense-512", train, val, epochs=epochs_dense, seeds=seeds, schedule="constant")
    }
    chosen = one_standard_error(study["dense-512 constant"])
    study["dense-512 cosine"] = curves("dense-512", train, val, epochs=chosen, seeds=seeds, schedule="cosine")
    study["mlp-3x500 dropout 0.2"] = curves("mlp-3x500", train, val, epochs=epochs_mlp, seeds=seeds)
    study["mlp-3x500 no dropout"] = curves("mlp-3x500", train, val, epochs=epochs_mlp, seeds=seeds, dropout=False)
    return study


def final_runs(
    x_train: np.ndarray,
    y_train: np.ndarray,
    test: tuple[np.ndarray, np.ndarray],
    *,
    epochs: Mapping[str, int],
    seeds: Sequence[int],
) -> dict[str, list[dict[str, float]]]:
    """Each model of ``epochs`` trained by its recipe on all of ``(x_train, y_train)`` for its chosen epochs, once
    per seed (through the course cache, :func:`mnist_course.models.store.load_or_train`), and scored on the test set
    once: ``{name: [{"seed", "test_accuracy", "seconds"}, ...]}``."""
    from mnist_course.evaluation import evaluation_report
    from mnist_course.models import store as model_store

    runs: dict[str, list[dict[str, float]]] = {}
    for name, n_epochs in epochs.items():
        runs[name] = []
        for seed in seeds:
            model = model_store.load_or_train(name, x_train, y_train, epochs=n_epochs, seed=seed)
            accuracy = evaluation_report(model, *test).accuracy
            runs[name].append(
                {
                    "seed": seed,
                    "test_accuracy": round(float(accuracy), 6),
                    "seconds": round(float(model_store.info_of(model).get("seconds") or 0.0), 1),
                }
            )
    return runs


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Mapping):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def save_results(
    path: str | os.PathLike[str],
    *,
    settings: Mapping[str, Any],
    study: Mapping[str, Any],
    chosen: Mapping[str, Any],
    finals: Mapping[str, Any],
) -> Path:
    """Write the study, the choices and the final runs as stable JSON (sorted keys, floats rounded to 6 decimals,
    the settings, seeds and versions that produced them), atomically."""
    settings = {**settings, "SEED": settings["seeds"][0], "TRAIN_SIZE": settings["final_train"]}  # as parameters
    doc = {
        "seeds": settings["seeds"],
        "settings": settings,
        "versions": versions(),
        "study": study,
        "chosen": chosen,
        "finals": finals,
    }
    return write_results(path, _rounded(doc), fmt=FORMAT)


def check_results(doc: Field) -> None:
    """Refuse a file :func:`save_results` could not have written: every field of its type and range (accuracies
    whole numbers of images in [0, 1], losses and seconds finite and >= 0, one history per seed, each list one
    value per epoch), and the choices and seeds it records recomputed from its validation curves."""
    seeds = [s.integer() for s in doc["seeds"].items()]
    if len(set(seeds)) < len(seeds):
        doc["seeds"].fail("repeats a seed")
    settings = doc["settings"]
    settings["seeds"].agrees(seeds, "the top-level seeds")
    settings["SEED"].agrees(seeds[0], "the seeds")
    settings["TRAIN_SIZE"].agrees(settings["final_train"].integer(1), "settings.final_train")
    images = {"accuracy": settings["train"].integer(1), "val_accuracy": settings["validation"].integer(1)}
    for key in ("keras", "tensorflow"):
        doc["versions"][key].text()
    study: dict[str, list[History]] = {}
    for run, histories in doc["study"].fields(STUDY_RUNS, required=STUDY_RUNS).items():
        runs = histories.items(len(seeds), what="one history per seed")
        epochs = len(runs[0]["val_loss"].items())
        study[run] = [
            {
                key: [v.accuracy(images[key]) if key in images else v.loss() for v in history[key].items(epochs)]
                for key in ("accuracy", "loss", "val_accuracy", "val_loss")
            }
            for history in runs
        ]
    chosen, cosine = one_standard_error(study["dense-512 constant"]), len(study["dense-512 cosine"][0]["val_loss"])
    if cosine != chosen:
        doc["study"]["dense-512 cosine"][0]["val_loss"].fail(
            f"has {cosine} epochs, but the constant rate's curves choose {chosen} (the cosine runs train that many)"
        )
    doc["chosen"].agrees(choose(study), "the study's validation curves")
    for runs in doc["finals"].fields(FINAL_MODELS, required=FINAL_MODELS).values():
        for seed, run in zip(seeds, runs.items(len(seeds), what="one final run per seed")):
            run["seed"].agrees(seed, "the seeds")
            run["test_accuracy"].accuracy()
            run["seconds"].seconds()


def load_results(path: str | os.PathLike[str], *, fix: str | None = None) -> dict[str, Any]:
    """Read a file written by :func:`save_results` (a bare name: the shipped file, see
    :func:`mnist_course.shipped.read_results`), checked by :func:`check_results`: a missing, malformed or
    hand-edited file is one clear error, ending with ``fix`` when given."""
    fix = fix or (
        "make it again with `make results` (or `mnist-course run 04 --results`) or restore it with git, or set "
        "RETRAIN_SHIPPED = True to train the runs here"
    )
    required = ("settings", "study", "chosen", "finals")
    return read_results(path, formats={FORMAT}, required=required, fix=fix, check=check_results)


def long_runs(
    retrain: bool,
    *,
    profile: str,
    seed: int,
    train: tuple[Any, Any],
    val: tuple[Any, Any],
    final: tuple[Any, Any],
    test: tuple[Any, Any],
) -> dict[str, Any]:
    """Notebook 04's long runs, read from the shipped file, or when ``retrain`` run here: the study on ``train`` and
    ``val`` over three seeds from ``seed`` (two in the ci profile), the choices, and each model trained on ``final``
    and scored on ``test`` (saved as the shipped file while ``make results`` runs). Prints one line saying which."""
    if not retrain:
        doc = load_results(find_shipped(RESULTS_NAME))  # on Colab: fetched from the repository
        made = f"Keras {doc['versions']['keras']} and TensorFlow {doc['versions']['tensorflow']}"
        print(f"read results/{RESULTS_NAME} (made by the full profile with {made})")
        return doc
    seeds = [seed + i for i in range(2 if profile == "ci" else 3)]
    epochs = {
        "epochs_dense": pick(profile, ci=2, student=8, full=8),
        "epochs_mlp": pick(profile, ci=2, student=10, full=10),
    }
    study = run_study(train, val, seeds=seeds, **epochs)
    chosen = choose(study)
    finals = final_runs(*final, test, seeds=seeds, epochs={name: chosen[name]["epochs"] for name in FINAL_MODELS})
    sizes = {"train": len(train[1]), "validation": len(val[1]), "final_train": len(final[1])}
    doc = {
        "settings": {**sizes, "seeds": seeds, "profile": profile},
        "study": study,
        "chosen": chosen,
        "finals": finals,
    }
    if writing_results():
        print("trained the long runs here and wrote", shown(save_results(shipped_path(RESULTS_NAME), **doc)))
    else:
        print(f"trained the long runs here, over the seeds {seeds}")
    return {**doc, "versions": versions()}


__all__ = [
    "FORMAT",
    "PUBLISHED_ELSEWHERE",
    "RESULTS_NAME",
    "best_epoch",
    "build",
    "check_results",
    "choose",
    "curves",
    "final_runs",
    "load_results",
    "long_runs",
    "mean_curve",
    "one_standard_error",
    "published_figure",
    "run_study",
    "save_results",
]
