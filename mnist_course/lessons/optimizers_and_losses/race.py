"""A fair race of optimizers, losses, batch sizes and learning rates: same model, same start, same data, same seed.

This module trains; :mod:`~mnist_course.lessons.optimizers_and_losses.results` stores and tabulates,
:mod:`~mnist_course.lessons.optimizers_and_losses.plots` draws,
:class:`mnist_course.widgets.race_viewer.RaceViewer` lets a student pick the runs to plot.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mnist_course.lessons.optimizers_and_losses.entrants import LOSSES, OPTIMIZERS, RUN_NAMES, RUNS, RunSpec
from mnist_course.seeding import seed_everything

ModelFn = Callable[[], Any]


@dataclass
class RaceData:
    """Flat float images and *integer* labels; targets for each loss kind are derived with :meth:`targets`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    def targets(self, loss: str) -> np.ndarray:
        """Training targets for a loss kind: integer labels for ``sparse``, one-hot rows otherwise."""
        from mnist_course.data import one_hot

        return self.y_train.astype(np.int64) if loss == "sparse" else one_hot(self.y_train)


@dataclass
class RaceRun:
    """A finished run: its ``spec``, its ``setup`` (epochs, seed, sizes, weights_fingerprint of the initial weights) and
    its ``history``: per epoch 0..E ``loss``, ``val_accuracy``, ``val_crossentropy`` and cumulative training
    ``seconds`` (None where a value was not finite)."""

    spec: RunSpec
    setup: dict[str, Any]
    history: dict[str, list[float | None]]

    def final(self, metric: str) -> float | None:
        """The metric's value after the last epoch."""
        return self.history[metric][-1]


def weights_fingerprint(weights: Sequence[np.ndarray]) -> str:
    """A short SHA-256 of the weight values and shapes: equal fingerprints mean identical weights."""
    digest = hashlib.sha256()
    for w in weights:
        w = np.ascontiguousarray(w)
        digest.update(str(w.shape).encode() + w.tobytes())
    return digest.hexdigest()[:12]


def same_weights(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> bool:
    """True when both lists hold the same number of arrays, equal in shape and value."""
    return len(a) == len(b) and all(np.shape(x) == np.shape(y) and np.array_equal(x, y) for x, y in zip(a, b))


def initial_weights(model_fn: ModelFn, seed: int) -> list[np.ndarray]:
    """Build the model once with ``seed`` and return copies of its initial weights (the common start line)."""
    seed_everything(seed)
    return [np.array(w, copy=True) for w in model_fn().get_weights()]


def format_metric(value: float | None, digits: int) -> str:
    """A metric rounded to ``digits`` decimals, or ``diverged`` where training gave no finite value."""
    return "diverged" if value is None else f"{value:.{digits}f}"


def _number(value: Any) -> float | None:
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def _val_metrics(model: Any, data: RaceData) -> tuple[float | None, float | None]:
    probs = np.asarray(model.predict(data.x_val, batch_size=1024, verbose=0), dtype=np.float64)
    labels = data.y_val.astype(np.int64)
    accuracy = np.mean(np.argmax(probs, axis=1) == labels)
    picked = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
    return _number(accuracy), _number(-np.mean(np.log(picked)))


def shuffled_batches(x: np.ndarray, targets: np.ndarray, batch_size: int, seed: int) -> Any:
    """The race's training batches, reshuffled every epoch in an order fixed by ``seed``.

    Under TensorFlow: the ``tf.data`` pipeline that produced the shipped race (``results/07_race_full.json``), so a
    student's rerun of a shipped run sees the very same batches and can be checked against it. Under JAX or
    PyTorch: a Keras ``PyDataset`` drawing each epoch's order from (seed, epoch); those runs are compared with the
    shipped ones as runs of the same setting, not batch for batch."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return (
            tf.data.Dataset.from_tensor_slices((x, targets))
            .shuffle(len(targets), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
        )

    class Shuffled(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0

        def __len__(self) -> int:
            return -(-len(targets) // batch_size)

        def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
            order = np.random.default_rng([seed, self.epoch]).permutation(len(targets))
            picked = order[index * batch_size : (index + 1) * batch_size]
            return x[picked], targets[picked]

        def on_epoch_end(self) -> None:
            self.epoch += 1

    return Shuffled()


def train_race_run(
    spec: RunSpec, model_fn: ModelFn, data: RaceData, init_weights: Sequence[np.ndarray], *, epochs: int, seed: int
) -> RaceRun:
    """Train a fresh model from ``init_weights`` (checked identical) with ``spec`` for ``epochs`` epochs.

    The data are shuffled each epoch in an order fixed by ``seed``; epoch 0 is measured before training. Only
    training counts towards ``seconds``: the validation measurements after each epoch are outside the clock.
    """
    import keras

    seed_everything(seed)
    model = model_fn()
    model.set_weights(list(init_weights))
    if not same_weights(model.get_weights(), init_weights):
        raise AssertionError(f"{spec.name}: the model does not start from the shared initial weights")
    model.compile(optimizer=spec.make_optimizer(), loss=LOSSES[spec.loss])
    targets = data.targets(spec.loss)
    train = shuffled_batches(data.x_train, targets, spec.batch_size, seed)
    history: dict[str, list[float | None]] = {
        "epoch": [0],
        "seconds": [0.0],
        "loss": [_number(model.evaluate(data.x_train, targets, batch_size=1024, verbose=0))],
    }
    history["val_accuracy"], history["val_crossentropy"] = map(list, zip(_val_metrics(model, data)))

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            history["seconds"].append(round(history["seconds"][-1] + time.perf_counter() - self.start, 3))
            values = (epoch + 1, _number((logs or {})["loss"]), *_val_metrics(model, data))  # clock stopped
            for key, value in zip(("epoch", "loss", "val_accuracy", "val_crossentropy"), values):
                history[key].append(value)

    model.fit(train, epochs=epochs, verbose=0, shuffle=False, callbacks=[Clock()])
    setup = {
        "epochs": epochs,
        "seed": seed,
        "n_train": len(data.y_train),
        "n_val": len(data.y_val),
        "initial_weights": weights_fingerprint(init_weights),
    }
    return RaceRun(spec, setup, history)


def race(
    specs: Sequence[RunSpec],
    model_fn: ModelFn,
    data: RaceData,
    *,
    epochs: int,
    seed: int,
    init_weights: Sequence[np.ndarray] | None = None,
    echo: Callable[[str], Any] | None = print,
) -> list[RaceRun]:
    """Run every spec from the same initial weights (built once from ``seed`` unless given), one after another."""
    return race_seeds(
        specs,
        model_fn,
        data,
        epochs=epochs,
        seeds=[seed],
        echo=echo,
        init_weights=None if init_weights is None else {seed: init_weights},
    )


def race_seeds(
    specs: Sequence[RunSpec],
    model_fn: ModelFn,
    data: RaceData,
    *,
    epochs: int,
    seeds: Sequence[int],
    init_weights: dict[int, Sequence[np.ndarray]] | None = None,
    echo: Callable[[str], Any] | None = print,
) -> list[RaceRun]:
    """The race once per seed (each seed its own start weights and shuffling order), seed after seed, with live
    progress over all the runs; ``echo`` gets one line per finished run."""
    from mnist_course.live import progress

    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"run names must be unique, got {names}")
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"seeds must be distinct and at least one, got {list(seeds)}")
    given = init_weights or {}
    starts = {seed: list(given[seed]) if seed in given else initial_weights(model_fn, seed) for seed in seeds}
    results, tf_logger = [], logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # a fresh model per run retraces its functions: expected, not a warning
    try:
        jobs = [(seed, spec) for seed in seeds for spec in specs]
        for seed, spec in progress(jobs, label="race runs"):
            run = train_race_run(spec, model_fn, data, starts[seed], epochs=epochs, seed=seed)
            results.append(run)
            if echo:
                echo(
                    f"{spec.name:>14} (seed {seed}): validation accuracy {format_metric(run.final('val_accuracy'), 4)}"
                    f" after {epochs} epoch(s), {run.final('seconds'):.1f} s of training"
                )
    finally:
        tf_logger.setLevel(level)
    return results


def by_name(items: Sequence[Any], *names: str, seed: int | None = None) -> list[Any]:
    """The run specs or results with these names, in the order given (KeyError naming any missing one); results of
    several seeds need ``seed`` (the runs of that seed), else the first seed's runs are taken."""
    if seed is not None:
        items = [item for item in items if item.setup.get("seed") == seed]
    index: dict[str, Any] = {}
    for item in items:
        index.setdefault(getattr(item, "spec", item).name, item)
    missing = [n for n in names if n not in index]
    if missing:
        raise KeyError(f"no run named {missing}; runs: {list(index)}")
    return [index[n] for n in names]


def max_difference(a: RaceRun, b: RaceRun, metric: str = "val_accuracy") -> float:
    """The largest gap between two runs' histories of ``metric`` (inf if only one diverged or lengths differ)."""
    x, y = a.history[metric], b.history[metric]
    if len(x) != len(y) or any((u is None) != (v is None) for u, v in zip(x, y)):
        return math.inf
    return max((abs(u - v) for u, v in zip(x, y) if u is not None), default=0.0)


__all__ = [
    "shuffled_batches",
    "RUNS",
    "RUN_NAMES",
    "LOSSES",
    "OPTIMIZERS",
    "RaceData",
    "RaceRun",
    "RunSpec",
    "by_name",
    "weights_fingerprint",
    "format_metric",
    "initial_weights",
    "max_difference",
    "race",
    "race_seeds",
    "same_weights",
    "train_race_run",
]
