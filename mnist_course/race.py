"""A fair race of optimizers, losses, batch sizes and learning rates: same model, same start, same data, same seed."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnist_course.seeding import seed_everything

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FORMAT = 1
LOSSES = {"categorical": "categorical_crossentropy", "sparse": "sparse_categorical_crossentropy",
          "mse": "mean_squared_error"}
OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adagrad": "Adagrad", "adamw": "AdamW"}
METRICS = {"loss": "training loss (own objective)", "val_accuracy": "validation accuracy",
           "val_crossentropy": "validation cross-entropy"}
ModelFn = Callable[[], Any]


@dataclass
class RunSpec:
    """One entrant: ``optimizer`` (a name in OPTIMIZERS) with ``learning_rate`` and extra ``options`` (e.g.
    momentum), a ``loss`` kind (categorical: one-hot targets, sparse: integer labels, mse: one-hot targets on
    the softmax output) and the ``batch_size``."""

    name: str
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    loss: str = "categorical"
    batch_size: int = 128
    options: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}: choose from {tuple(OPTIMIZERS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}: choose from {tuple(LOSSES)}")
        if self.batch_size < 1 or self.learning_rate <= 0:
            raise ValueError(f"{self.name}: batch_size must be >= 1 and learning_rate > 0")

    def make_optimizer(self) -> Any:
        """A fresh Keras optimizer (no state carried over from another run)."""
        import keras

        optimizer_class = getattr(keras.optimizers, OPTIMIZERS[self.optimizer])
        return optimizer_class(learning_rate=self.learning_rate, **self.options)


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
class RunResult:
    """A finished run: its ``spec``, its ``setup`` (epochs, seed, sizes, fingerprint of the initial weights) and
    its ``history``: per epoch 0..E ``loss``, ``val_accuracy``, ``val_crossentropy`` and cumulative training
    ``seconds`` (None where a value was not finite)."""

    spec: RunSpec
    setup: dict[str, Any]
    history: dict[str, list[float | None]]

    def final(self, metric: str) -> float | None:
        """The metric's value after the last epoch."""
        return self.history[metric][-1]


def fingerprint(weights: Sequence[np.ndarray]) -> str:
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


def _number(value: Any) -> float | None:
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None


def _val_metrics(model: Any, data: RaceData) -> tuple[float | None, float | None]:
    probs = np.asarray(model.predict(data.x_val, batch_size=1024, verbose=0), dtype=np.float64)
    labels = data.y_val.astype(np.int64)
    accuracy = np.mean(np.argmax(probs, axis=1) == labels)
    picked = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
    return _number(accuracy), _number(-np.mean(np.log(picked)))


def run_one(spec: RunSpec, model_fn: ModelFn, data: RaceData, init_weights: Sequence[np.ndarray], *,
            epochs: int, seed: int) -> RunResult:
    """Train a fresh model from ``init_weights`` (checked identical) with ``spec`` for ``epochs`` epochs.

    The data are shuffled each epoch in an order fixed by ``seed``; epoch 0 is measured before training. Only
    training counts towards ``seconds``: the validation measurements after each epoch are outside the clock.
    """
    import keras
    import tensorflow as tf

    seed_everything(seed)
    model = model_fn()
    model.set_weights(list(init_weights))
    if not same_weights(model.get_weights(), init_weights):
        raise AssertionError(f"{spec.name}: the model does not start from the shared initial weights")
    model.compile(optimizer=spec.make_optimizer(), loss=LOSSES[spec.loss])
    targets = data.targets(spec.loss)
    train = (tf.data.Dataset.from_tensor_slices((data.x_train, targets))
             .shuffle(len(targets), seed=seed, reshuffle_each_iteration=True).batch(spec.batch_size))
    history: dict[str, list[float | None]] = {"epoch": [0], "seconds": [0.0], "loss": [
        _number(model.evaluate(data.x_train, targets, batch_size=1024, verbose=0))]}
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
    setup = {"epochs": epochs, "seed": seed, "n_train": len(data.y_train), "n_val": len(data.y_val),
             "initial_weights": fingerprint(init_weights)}
    return RunResult(spec, setup, history)


def race(specs: Sequence[RunSpec], model_fn: ModelFn, data: RaceData, *, epochs: int, seed: int,
         init_weights: Sequence[np.ndarray] | None = None, echo: Callable[[str], Any] | None = print
         ) -> list[RunResult]:
    """Run every spec from the same initial weights (built once from ``seed`` unless given), one after another."""
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"run names must be unique, got {names}")
    start = initial_weights(model_fn, seed) if init_weights is None else list(init_weights)
    results, tf_logger = [], logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # a fresh model per run retraces its functions: expected, not a warning
    try:
        for spec in specs:
            results.append(run_one(spec, model_fn, data, start, epochs=epochs, seed=seed))
            if echo:
                echo(f"{spec.name:>14}: validation accuracy {_fmt(results[-1].final('val_accuracy'), 4)} after "
                     f"{epochs} epoch(s), {results[-1].final('seconds'):.1f} s of training")
    finally:
        tf_logger.setLevel(level)
    return results


def by_name(items: Sequence[Any], *names: str) -> list[Any]:
    """The run specs or results with these names, in the order given (KeyError naming any missing one)."""
    index = {getattr(item, "spec", item).name: item for item in items}
    missing = [n for n in names if n not in index]
    if missing:
        raise KeyError(f"no run named {missing}; runs: {list(index)}")
    return [index[n] for n in names]


def max_difference(a: RunResult, b: RunResult, metric: str = "val_accuracy") -> float:
    """The largest gap between two runs' histories of ``metric`` (inf if only one diverged or lengths differ)."""
    x, y = a.history[metric], b.history[metric]
    if len(x) != len(y) or any((u is None) != (v is None) for u, v in zip(x, y)):
        return math.inf
    return max((abs(u - v) for u, v in zip(x, y) if u is not None), default=0.0)


def save_results(path: str | os.PathLike[str], results: Sequence[RunResult]) -> Path:
    """Write the results as JSON (with the TensorFlow version and CPU count that produced the timings)."""
    import tensorflow as tf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT, "machine": {"tensorflow": tf.__version__, "cpu_count": os.cpu_count()},
           "runs": [asdict(r) for r in results]}
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


def load_results(path: str | os.PathLike[str]) -> list[RunResult]:
    """Read results written by :func:`save_results`."""
    doc = json.loads(Path(path).read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: results format {doc.get('format')!r}, expected {FORMAT}")
    return [RunResult(RunSpec(**r["spec"]), r["setup"], r["history"]) for r in doc["runs"]]


class Table(str):
    """A Markdown table: rendered in a notebook, the same text as its repr and str elsewhere."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


def _fmt(value: float | None, digits: int) -> str:
    return "diverged" if value is None else f"{value:.{digits}f}"


def results_table(results: Sequence[RunResult]) -> Table:
    """One row per run: its settings, final and best validation accuracy, validation cross-entropy, seconds."""
    rows = ["| run | optimizer | learning rate | loss | batch | val accuracy | best | val cross-entropy | seconds |",
            "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        s, h = r.spec, r.history
        best = max((v for v in h["val_accuracy"] if v is not None), default=None)
        extra = "".join(f", {k} {v:g}" for k, v in s.options.items())
        rows.append(f"| {s.name} | {s.optimizer}{extra} | {s.learning_rate:g} | {s.loss} | {s.batch_size} "
                    f"| {_fmt(r.final('val_accuracy'), 4)} | {_fmt(best, 4)} "
                    f"| {_fmt(r.final('val_crossentropy'), 4)} | {_fmt(r.final('seconds'), 1)} |")
    return Table("\n".join(rows))


def _series(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def plot_race(results: Sequence[RunResult], *, x: str = "epoch", metrics: Sequence[str] = ("loss", "val_accuracy"),
              colors: dict[str, Any] | None = None, title: str | None = None, styles: dict[str, str] | None = None,
              log_x: bool = False) -> Figure:
    """One panel per metric, one line per run, against ``x`` = ``"epoch"`` or ``"time"`` (training seconds);
    ``log_x`` spreads runs of very different lengths (symmetric log, so 0 stays on the axis)."""
    import matplotlib.pyplot as plt

    if x not in ("epoch", "time"):
        raise ValueError(f"x must be 'epoch' or 'time', got {x!r}")
    fig = plt.figure(figsize=(5.2 * len(metrics), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics):
        for i, r in enumerate(results):
            color = (colors or {}).get(r.spec.name, f"C{i % 10}")
            xs = r.history["epoch"] if x == "epoch" else r.history["seconds"]
            ax.plot(xs, _series(r.history[metric]), (styles or {}).get(r.spec.name, "-"), marker=".",
                    color=color, label=r.spec.name)
        ax.set_xlabel("epoch" if x == "epoch" else "training time (s)")
        ax.set_ylabel(METRICS.get(metric, metric))
        if metric in ("loss", "val_crossentropy"):
            ax.set_yscale("log")
        if log_x:
            ax.set_xscale("symlog", linthresh=1.0)
        ax.grid(alpha=0.3)
    if results:
        axes[-1].legend(fontsize=8, loc="lower right" if metrics[-1] == "val_accuracy" else "best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_live(stored: Sequence[RunResult], live: Sequence[RunResult], *, x: str = "epoch") -> Figure:
    """Each live run, dashed, over the stored run of the same name (if any) in the same colour."""
    index = {r.spec.name: r for r in stored}
    pairs = [index[r.spec.name] for r in live if r.spec.name in index]
    mine = [RunResult(replace(r.spec, name=f"{r.spec.name} (live)"), r.setup, r.history) for r in live]
    colors = {n: f"C{i % 10}" for i, r in enumerate(live) for n in (r.spec.name, f"{r.spec.name} (live)")}
    return plot_race([*pairs, *mine], x=x, colors=colors, styles={r.spec.name: "--" for r in mine})


class RaceViewer:
    """Checkboxes (one per run) and an epoch/time switch over a plot of the checked runs.

    ``checkboxes`` maps run name -> ipywidgets.Checkbox; ``x_axis`` is a ToggleButtons; ``update()`` redraws the
    PNG in ``image`` (an Image widget: it shows the same in JupyterLab, Voila and test kernels). ``shown`` lists
    the plotted runs and ``figure`` is the last figure drawn (already closed). Display ``.widget``.
    """

    def __init__(self, results: Sequence[RunResult], shown: Sequence[str] | None = None) -> None:
        import ipywidgets as widgets

        self.results = list(results)
        names = [r.spec.name for r in self.results]
        visible = set(names if shown is None else shown)
        self.colors = {n: f"C{i % 10}" for i, n in enumerate(names)}
        self.checkboxes = {n: widgets.Checkbox(value=n in visible, description=n, indent=False,
                                               layout=widgets.Layout(width="auto")) for n in names}
        self.x_axis = widgets.ToggleButtons(options=[("per epoch", "epoch"), ("per second", "time")],
                                            value="epoch", description="x axis")
        self.image = widgets.Image(format="png")
        for box in self.checkboxes.values():
            box.add_class("mnist-race-checkbox")
            box.observe(lambda change: self.update(), names="value")
        self.x_axis.add_class("mnist-race-x")
        self.x_axis.observe(lambda change: self.update(), names="value")
        self.image.add_class("mnist-race-plot")
        boxes = widgets.HBox(list(self.checkboxes.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([boxes, self.x_axis, self.image])
        self.widget.add_class("mnist-race")
        self.shown: list[str] = []
        self.figure: Figure | None = None
        self.update()

    def update(self) -> None:
        """Redraw the plot with the checked runs, in the order of the results."""
        import io

        import matplotlib.pyplot as plt

        self.shown = [n for n, box in self.checkboxes.items() if box.value]
        self.figure = plot_race(by_name(self.results, *self.shown), x=self.x_axis.value, colors=self.colors)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        plt.close(self.figure)
        self.image.value = buffer.getvalue()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
