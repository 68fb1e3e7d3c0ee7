"""Notebook 05's registry models over seeds: each CNN trained by its recipe on all training images, scored once on
the test set, beside notebook 04's dense networks, and how their accuracies are shown and compared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mnist_course import stats
from mnist_course.fields import Field
from mnist_course.lessons import mlp
from mnist_course.lessons.cnn.results import FORMAT, known_models, save_results, seconds_of
from mnist_course.models import key as model_key
from mnist_course.models import store as model_store
from mnist_course.models import zoo as models
from mnist_course.notebook import record
from mnist_course.plots import finish_figure, new_figure
from mnist_course.shipped import versions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MODELS_FILE = "05_models_full.json"
CNNS = ("course-cnn", "cnn-32-64", "cnn-16-36", "lenet-avgpool", "keras-io-convnet")  # trained in this order
SEEDED = ("course-cnn", "cnn-32-64")  # the choices this course made: three seeds each, the others one
TABLE_ORDER = ("dense-512", "mlp-3x500", "cnn-16-36", "cnn-32-64", "lenet-avgpool", "keras-io-convnet", "course-cnn")


def model_seeds(seed: int) -> dict[str, list[int]]:
    """The seeds each CNN of :data:`CNNS` is trained with: ``seed``, ``seed + 1``, ``seed + 2`` for the course's own
    choices (:data:`SEEDED`), ``seed`` alone for the others."""
    return {name: [seed, seed + 1, seed + 2] if name in SEEDED else [seed] for name in CNNS}


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


def compared_models(shipped: dict[str, Any]) -> dict[str, Any]:
    """The CNNs' results ``shipped`` (:func:`run_models` or the shipped file) with notebook 04's dense networks
    beside them (:func:`dense_rows`), in :data:`TABLE_ORDER`, under ``"missing"`` the names not there. Each
    model's mean test accuracy is recorded for the runner (``<name>_test_accuracy``), quietly."""
    rows = {**shipped["models"], **dense_rows()}
    ordered = {name: rows[name] for name in TABLE_ORDER if name in rows}
    record(**{f"{n.replace('-', '_')}_test_accuracy": float(np.mean(r["test_accuracy"])) for n, r in ordered.items()})
    return {**shipped, "models": ordered, "missing": [name for name in TABLE_ORDER if name not in rows]}


def models_table(compared: dict[str, Any]) -> str:
    """The comparison as text: per model its parameters, epochs, seconds per epoch on the full run's machine, test
    accuracy (:func:`accuracy_text`) and what its source published; then where the rows come from and how long the
    full run trained. ``compared`` comes from :func:`compared_models`."""
    n_test = compared["test_images"]
    lines = [
        f"{compared['train_images']:,} training images, {n_test:,} test images; seconds on the full run's machine "
        f"({compared['cpus']} CPUs)\n",
        f"{'model':17}{'params':>9}{'epochs':>7}{'s/epoch':>8}  {'test accuracy':<30}published (source)",
    ]
    for name, row in compared["models"].items():
        per_epoch = float(np.mean(row["seconds"])) / row["epochs"]
        lines.append(
            f"{name:17}{row['parameters']:>9,}{row['epochs']:>7}{per_epoch:>8.1f}  "
            f"{accuracy_text(row['test_accuracy'], n_test):<30}{models.published(name)} "
            f"({models.get_recipe(name).source})"
        )
        if row["recipe"] is not None and row["recipe"] != models.describe(name):
            lines.append(f"   {name}'s recipe has changed since: run the full profile again to update these results")
    from_04 = [name for name, row in compared["models"].items() if row["recipe"] is None]
    lines.append(
        f"\n{' and '.join(from_04) or 'none'}: from notebook 04's shipped results (results/{mlp.RESULTS_NAME}), "
        "trained for the epochs its validation chose"
    )
    total = sum(sum(row["seconds"]) for name, row in compared["models"].items() if name not in from_04)
    lines.append(f"training time of this notebook's full run: {total / 60:.0f} min")
    if compared["missing"]:
        lines.append(f"not in the shipped results (the full run stopped before them): {', '.join(compared['missing'])}")
    return "\n".join(lines)


def against_sources(compared: dict[str, Any]) -> str:
    """What each CNN's source says beside what the course measured: where the source printed a number, whether it
    lies inside the course's band (:func:`accuracy_range`); where it gave only words, the measured accuracy."""
    n_test, lines = compared["test_images"], []
    for name, row in compared["models"].items():
        recipe = models.get_recipe(name)
        if recipe.input_kind != "image" or models.published(name) == "-":
            continue
        ours = accuracy_text(row["test_accuracy"], n_test)
        if recipe.published_accuracy is None:
            words = models.published(name)
            lines.append(f"{name}: the source gives words only ({words}), no number to test; measured {ours}")
            continue
        low, high = accuracy_range(row["test_accuracy"], n_test)
        inside = "inside" if low <= recipe.published_accuracy / 100 <= high else "outside"
        band = "95 % interval" if len(row["test_accuracy"]) == 1 else f"band {100 * low:.2f}-{100 * high:.2f} %"
        lines.append(
            f"{name}: the source reports {models.published(name)}; measured {ours}: the reported number lies "
            f"{inside} our {band}"
        )
    return "\n".join(lines)


def plot_accuracies(compared: dict[str, Any]) -> Figure:
    """Each model's (mean) test accuracy against its parameters (log scale), with the band of :func:`accuracy_range`
    as an error bar, and a legend instead of labels beside the points (close points would overlap)."""
    fig = new_figure(7.0, 3.6)
    ax = fig.subplots()
    for (name, row), marker in zip(compared["models"].items(), "osD^vPX*"):
        mean = 100 * float(np.mean(row["test_accuracy"]))
        low, high = (100 * v for v in accuracy_range(row["test_accuracy"], compared["test_images"]))
        ax.errorbar(row["parameters"], mean, yerr=[[mean - low], [high - mean]], fmt=marker, capsize=3, label=name)
    ax.set(xscale="log", xlabel="parameters (log scale)", ylabel="test accuracy (%)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), title="model", title_fontsize=8)
    return finish_figure(fig, "test accuracy against parameters (bars: the bands compared above)")


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


__all__ = [
    "CNNS",
    "MODELS_FILE",
    "SEEDED",
    "TABLE_ORDER",
    "accuracy_range",
    "accuracy_text",
    "against_sources",
    "check_models",
    "compared_models",
    "dense_rows",
    "model_seeds",
    "models_table",
    "plot_accuracies",
    "run_models",
]
