"""What every lesson needs after training: learning curves, a test report, confusion matrix and mistakes.

Plot functions return a :class:`matplotlib.figure.Figure` built without pyplot (:func:`mnist_course.plots.new_figure`),
so it is never shown twice: let the notebook show it as the last expression of a cell, or call ``display(fig)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mnist_course.data import NUM_CLASSES, class_ids
from mnist_course.plots import finish_figure, new_figure
from mnist_course.predict import probabilities
from mnist_course.stats import calibration_bins


def _as_history(run: Any) -> dict[str, list[float]]:
    """A history dict from a dict or a ``keras.callbacks.History``."""
    return dict(getattr(run, "history", run))


def _runs(history: Any) -> dict[str, dict[str, list[float]]]:
    """Normalise one history or a mapping ``name -> history`` to ``{name: history_dict}``."""
    single = hasattr(history, "history") or not all(
        hasattr(v, "history") or isinstance(v, Mapping) for v in dict(history).values()
    )
    return {"": _as_history(history)} if single else {k: _as_history(v) for k, v in history.items()}


def plot_history(history: Any, metrics: Sequence[str] = ("loss", "accuracy"), title: str | None = None) -> Figure:
    """Learning curves, one panel per metric: training solid, validation dashed, one colour per run.

    ``history`` is a history dict, a Keras ``History``, or a dict ``run name -> history`` to overlay runs.
    Returns the Figure: call ``display(fig)`` or let the notebook show it.
    """
    runs = _runs(history)
    fig = new_figure(5 * len(metrics), 3.6, layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for i, (run, hist) in enumerate(runs.items()):
        colour = f"C{i % 10}"
        prefix = f"{run} " if run else ""
        for ax, metric in zip(axes, metrics):
            if metric in hist:
                epochs = np.arange(1, len(hist[metric]) + 1)
                ax.plot(epochs, hist[metric], color=colour, linestyle="-", label=f"{prefix}train")
            if f"val_{metric}" in hist:
                epochs = np.arange(1, len(hist[f"val_{metric}"]) + 1)
                ax.plot(epochs, hist[f"val_{metric}"], color=colour, linestyle="--", label=f"{prefix}validation")
    for ax, metric in zip(axes, metrics):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs only: 1, 2, 3, not 1.25
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts ``cm[true, predicted]`` as an (n_classes, n_classes) int64 array; labels are class ids or one-hot."""
    y_true, y_pred = class_ids(y_true), class_ids(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"need two label vectors of the same length, got {y_true.shape} and {y_pred.shape}")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes**2).reshape(n_classes, n_classes)


@dataclass(frozen=True)
class EvaluationReport:
    """Test-set results: accuracy and per-class accuracy as fractions, confusion matrix ``[true, pred]``."""

    accuracy: float
    per_class: np.ndarray
    confusion: np.ndarray

    @property
    def n(self) -> int:
        """Number of evaluated examples."""
        return int(self.confusion.sum())

    @property
    def errors(self) -> int:
        """Number of misclassified examples."""
        return self.n - int(np.trace(self.confusion))

    def to_text(self) -> str:
        """Readable summary; percentages rounded to 2 decimals so notebook output stays stable."""
        lines = [
            f"test accuracy: {100 * self.accuracy:.2f} % ({self.errors} errors in {self.n} images)",
            "per-class accuracy:",
        ]
        lines += [f"  {digit}: {100 * acc:6.2f} %" for digit, acc in enumerate(self.per_class)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def evaluation_report(model_or_probs: Any, x_test: np.ndarray | None, y_test: np.ndarray) -> EvaluationReport:
    """Evaluate a Keras model on ``(x_test, y_test)``, or score a ready (N, 10) probability array.

    ``y_test`` holds integer labels or one-hot rows; ``x_test`` is ignored when probabilities are given.
    """
    if hasattr(model_or_probs, "predict"):
        probs = probabilities(model_or_probs, x_test)
    else:
        probs = np.asarray(model_or_probs)
    y = class_ids(y_test)
    if probs.shape != (len(y), NUM_CLASSES):
        raise ValueError(f"expected probabilities of shape ({len(y)}, {NUM_CLASSES}), got {probs.shape}")
    cm = confusion_matrix(y, probs.argmax(axis=1))
    support = cm.sum(axis=1)
    per_class = np.divide(np.diag(cm), support, out=np.zeros(NUM_CLASSES), where=support > 0)
    return EvaluationReport(accuracy=float(np.trace(cm) / cm.sum()), per_class=per_class, confusion=cm)


def plot_confusion_matrix(cm: np.ndarray, title: str | None = None) -> Figure:
    """Confusion matrix heat map (rows true digit, columns prediction) with counts written in the cells.

    Returns the Figure: call ``display(fig)`` or let the notebook show it.
    """
    cm = np.asarray(cm)
    fig = new_figure(6, 5.5, layout="constrained")
    ax = fig.subplots()
    off_diagonal = cm.copy()
    np.fill_diagonal(off_diagonal, 0)
    # Colour the mistakes: the diagonal would otherwise wash out every other cell.
    top = max(1, int(off_diagonal.max()))
    image = ax.imshow(off_diagonal, cmap="Reds", vmin=0, vmax=top)
    fig.colorbar(image, ax=ax, shrink=0.8, label="mistakes (off-diagonal count)")
    for (i, j), count in np.ndenumerate(cm):
        dark = i != j and off_diagonal[i, j] > 0.55 * top  # white text on the darkest reds, black elsewhere
        ax.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if dark else ("black" if i != j else "tab:blue"),
            fontweight="bold" if i == j else "normal",
        )
    ax.set_xticks(range(cm.shape[1]))
    ax.set_yticks(range(cm.shape[0]))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title or "confusion matrix (off-diagonal cells coloured)")
    return fig


def misclassified(probs: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Indices of wrongly classified examples, most confidently wrong first."""
    probs = np.asarray(probs)
    y = class_ids(y_true)
    wrong = np.flatnonzero(probs.argmax(axis=1) != y)
    confidence = probs[wrong].max(axis=1)
    return wrong[np.argsort(-confidence, kind="stable")]


def confidence_text(p: float) -> str:
    """A confidence as a percentage with at least one decimal, and as many more (up to 4) as it takes not to round
    a probability below 1 up to 100: ``"97.3 %"``, ``"99.97 %"``, ``"> 99.9999 %"``; ``"100.0 %"`` only for a
    probability of exactly 1 (in float32, anything within about 3e-8 of 1 is stored as 1)."""
    digits = 1
    while digits < 4 and p < 1.0 and round(100 * p, digits) >= 100.0:
        digits += 1
    if p < 1.0 and round(100 * p, digits) >= 100.0:
        return "> 99.9999 %"
    return f"{100 * p:.{digits}f} %"


def plot_misclassified(
    x: np.ndarray, y_true: np.ndarray, probs: np.ndarray, n: int = 16, title: str | None = None
) -> Figure:
    """Gallery of the ``n`` most confident mistakes, each titled like ``true 4, predicted 9`` over ``97.3 % sure`` (see
    :func:`confidence_text`), under ``title`` when given.

    Returns the Figure (one axes per shown image): call ``display(fig)`` or let the notebook show it.
    """
    probs = np.asarray(probs)
    y = class_ids(y_true)
    idx = misclassified(probs, y)[:n]
    images = np.asarray(x)[idx].reshape(len(idx), 28, 28)
    cols = min(8, max(1, math.ceil(math.sqrt(len(idx)))))
    rows = max(1, math.ceil(len(idx) / cols))
    fig = new_figure(1.6 * cols, 1.8 * rows + (0.6 if title else 0.3), layout="constrained")
    if title:
        fig.suptitle(title)
    if len(idx) == 0:
        fig.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        return fig
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, i, image in zip(axes, idx, images):
        pred = int(probs[i].argmax())
        ax.imshow(image, cmap="gray_r")
        ax.set_title(f"true {y[i]}, predicted {pred}\n{confidence_text(float(probs[i, pred]))} sure", fontsize=8)
        ax.set_axis_off()
    for ax in axes[len(idx) :]:
        fig.delaxes(ax)
    return fig


def plot_seed_curves(
    runs: Mapping[str, Sequence[Mapping[str, Sequence[float]]]],
    metrics: Sequence[str] = ("loss", "accuracy"),
    title: str | None = None,
) -> Figure:
    """Learning curves over seeds: for each run (``name -> one history per seed``) the mean over the seeds, training
    solid and validation dashed, with a band of ± one standard deviation, one colour per run.

    Returns the Figure: call ``display(fig)`` or let the notebook show it.
    """
    fig = new_figure(5 * len(metrics), 3.6, layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for i, (run, histories) in enumerate(runs.items()):
        colour = f"C{i % 10}"
        for ax, metric in zip(axes, metrics):
            for key, style, part in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
                if not all(key in h for h in histories):
                    continue
                values = np.array([h[key] for h in histories], dtype=np.float64)
                mean = values.mean(axis=0)
                spread = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros_like(mean)
                epochs = np.arange(1, len(mean) + 1)
                ax.plot(epochs, mean, color=colour, linestyle=style, label=f"{run} {part}")
                ax.fill_between(epochs, mean - spread, mean + spread, color=colour, alpha=0.15, linewidth=0)
    for ax, metric in zip(axes, metrics):
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{metric} (mean over seeds)")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="x-small")
    if title:
        fig.suptitle(title)
    return fig


def plot_reliability(probs: np.ndarray, y: np.ndarray, title: str | None = None, n_bins: int = 15) -> Figure:
    """Reliability diagram: per confidence bin (top-class probability), the accuracy of its answers as a bar and
    their mean confidence as a point, against the diagonal of perfect calibration; below, how many images each bin
    holds (log scale, count written on each bar). The title gives the expected calibration error
    (:func:`mnist_course.stats.calibration_bins`).

    Returns the Figure: call ``display(fig)`` or let the notebook show it.
    """
    cal = calibration_bins(probs, y, n_bins=n_bins)
    fig = new_figure(6, 6)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": (3, 1)})
    edges, full = 100 * cal.edges, cal.count > 0
    centres, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    top.plot([0, 100], [0, 100], color="grey", linestyle="--", label="perfect calibration")
    label = "accuracy of the bin's answers"
    top.bar(
        centres[full],
        100 * cal.accuracy[full],
        width=width[full],
        color="C0",
        alpha=0.7,
        edgecolor="white",
        label=label,
    )
    points = (100 * cal.confidence[full], 100 * cal.accuracy[full])
    top.plot(*points, "o", color="C3", markersize=4, label="(mean confidence, accuracy) of the bin")
    top.set_xlim(0, 100)
    top.set_ylim(0, 102)
    top.set_ylabel("accuracy in the bin (%)")
    top.grid(alpha=0.3)
    top.legend(fontsize="small", loc="upper left")
    bottom.bar(centres[full], cal.count[full], width=width[full], color="grey", alpha=0.7, edgecolor="white")
    for x, count in zip(centres[full], cal.count[full]):
        bottom.text(x, count, f"{count:,}", ha="center", va="bottom", fontsize=6)
    bottom.set_yscale("log")
    bottom.set_ylim(0.5, 5 * max(1, int(cal.count.max())))
    bottom.set_xlabel("confidence: top-class probability (%)")
    bottom.set_ylabel("images in the bin")
    ece = f"ECE {100 * cal.ece:.2f} % ({n_bins} bins, {int(cal.count.sum()):,} images)"
    return finish_figure(fig, f"{title or 'reliability diagram'}: {ece}")
