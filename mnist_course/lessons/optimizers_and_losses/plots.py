"""The race's pictures: validation accuracy and losses per epoch or per second, live runs over stored ones, and
optimizer paths on a 2-D loss surface. Every run keeps one colour in every plot (:data:`RUN_COLORS`)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from mnist_course.lessons.optimizers_and_losses.entrants import RUN_NAMES
from mnist_course.lessons.optimizers_and_losses.race import RaceRun
from mnist_course.plots import finish_figure, new_figure

METRICS = {
    "loss": "training loss (own objective)",
    "val_accuracy": "validation accuracy (%)",
    "val_crossentropy": "validation cross-entropy",
}
# One colour per run of notebook 07, in every figure: the optimizers in strong colours, variants of a run in a
# lighter shade of a related one, plain SGD (the reference of the loss, batch and learning-rate groups) black.
_PALETTE = (  # in the order of RUN_NAMES
    "#000000",
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#98df8a",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#c5b0d5",
    "#ffbb78",
    "#ff9896",
)
RUN_COLORS = dict(zip(RUN_NAMES, _PALETTE, strict=True))
RUN_COLORS["sgd-nesterov"] = "#6baed6"  # Nesterov's path in the update-rule figures
# The optimizer names of the update-rule figures share the runs' colours.
RUN_COLORS.update(
    {
        "SGD": RUN_COLORS["sgd"],
        "momentum": RUN_COLORS["sgd-momentum"],
        "Nesterov": RUN_COLORS["sgd-nesterov"],
        "RMSprop": RUN_COLORS["rmsprop"],
        "Adam": RUN_COLORS["adam"],
        "Adagrad": RUN_COLORS["adagrad"],
        "AdamW": RUN_COLORS["adamw"],
    }
)
# A curve that lies on another is dashed so both stay visible: adam-sparse on adam (the same loss for two label
# formats), adamw on adam (a weight decay too small to show in ten epochs).
RUN_STYLES = {"adam-sparse": "--", "adamw": "--"}
_SPARE = ("#843c39", "#637939", "#e7ba52", "#7b4173", "#3182bd", "#31a354", "#756bb1", "#636363")


def run_color(name: str) -> str:
    """The colour of run ``name`` in every plot: its entry in :data:`RUN_COLORS`, else a spare colour chosen by a
    stable hash of the name (the same in every session)."""
    base = name.removesuffix(" (live)")
    return RUN_COLORS.get(base) or _SPARE[zlib.crc32(base.encode()) % len(_SPARE)]


def _series(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def plot_race(
    results: Sequence[RaceRun],
    *,
    x: str = "epoch",
    metrics: Sequence[str] = ("loss", "val_accuracy"),
    colors: Mapping[str, Any] | None = None,
    title: str | None = None,
    styles: Mapping[str, str] | None = None,
    log_x: bool = False,
) -> Figure:
    """One panel per metric, one line per run, against ``x`` = ``"epoch"`` or ``"time"`` (training seconds).

    Colours come from :func:`run_color` (``colors`` overrides), line styles from :data:`RUN_STYLES` (``styles``
    overrides). ``log_x`` uses a plain logarithmic x axis, for runs whose lengths differ by orders of magnitude;
    the start (epoch 0, time 0) has no place on it and is left out. Epochs are ticked in whole numbers,
    accuracies in percent; without a ``title`` the figure is titled by what it shows.
    """
    if x not in ("epoch", "time"):
        raise ValueError(f"x must be 'epoch' or 'time', got {x!r}")
    fig = new_figure(5.2 * len(metrics), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    first = 1 if log_x else 0
    for ax, metric in zip(axes, metrics):
        for r in results:
            name = r.spec.name
            xs = r.history["epoch"] if x == "epoch" else r.history["seconds"]
            style = {**RUN_STYLES, **(styles or {})}.get(name, "-")
            ax.plot(
                xs[first:],
                _series(r.history[metric])[first:],
                style,
                marker="." if style == "-" else None,
                color=(colors or {}).get(name, run_color(name)),
                label=name,
            )  # no dots hiding a dashed line
        ax.set_xlabel(("epoch" if x == "epoch" else "training time (s)") + (", log scale" if log_x else ""))
        ax.set_ylabel(METRICS.get(metric, metric))
        if metric in ("loss", "val_crossentropy"):
            ax.set_yscale("log")
        if metric == "val_accuracy":
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0, symbol=""))
        if log_x:
            ax.set_xscale("log")
        elif x == "epoch":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    if results:
        axes[-1].legend(fontsize=8, loc="lower right" if metrics[-1] == "val_accuracy" else "best")
    what = " and ".join(METRICS.get(m, m).split(" (")[0] for m in metrics)
    default = f"{what[:1].upper()}{what[1:]} per {'epoch' if x == 'epoch' else 'second of training'}"
    return finish_figure(fig, title or default)


def compare_live(
    stored: Sequence[RaceRun], live: Sequence[RaceRun], *, x: str = "epoch", title: str | None = None
) -> Figure:
    """Each live run, dashed, over the stored run of the same name (if any) in the same colour."""
    index: dict[str, RaceRun] = {}
    for r in stored:
        index.setdefault(r.spec.name, r)
    pairs = [index[r.spec.name] for r in live if r.spec.name in index]
    mine = [RaceRun(replace(r.spec, name=f"{r.spec.name} (live)"), r.setup, r.history) for r in live]
    styles = {**{r.spec.name: "-" for r in pairs}, **{r.spec.name: "--" for r in mine}}
    return plot_race([*pairs, *mine], x=x, styles=styles, title=title)


def plot_paths(
    loss: Any,
    paths: Mapping[str, np.ndarray],
    *,
    extent: tuple[float, float, float, float],
    title: str | None = None,
    styles: Mapping[str, str] | None = None,
) -> Figure:
    """Optimizer paths (arrays of (x, y) points, one per step) over the contour lines of ``loss`` (a function of
    points whose last axis holds x and y) in ``extent = (x_min, x_max, y_min, y_max)``; left the paths, right the
    loss per step on a log scale. ``styles`` gives a line style per name (e.g. ``"--"`` for a path that runs along
    another one). Each panel has its own title; ``title`` (by default a plain description) heads the figure."""
    fig = new_figure(11, 4.0)
    ax, curve = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    xs, ys = np.linspace(extent[0], extent[1], 200), np.linspace(extent[2], extent[3], 200)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    ax.contour(
        xs, ys, loss(grid), levels=np.geomspace(0.01, float(loss(grid).max()), 12), colors="0.75", linewidths=0.7
    )
    for name, path in paths.items():
        path = np.asarray(path)
        style = (styles or {}).get(name, "-")
        ax.plot(
            path[:, 0], path[:, 1], style, marker=".", color=run_color(name), label=name, markersize=3, linewidth=1.2
        )
        curve.plot(np.arange(len(path)), loss(path), style, color=run_color(name), label=name)
    ax.plot(0, 0, "*", color="k", markersize=10)
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="weight x", ylabel="weight y", aspect="equal")
    ax.set_title("paths over the loss's contour lines (★ the minimum)", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    curve.set(yscale="log", xlabel="step", ylabel="loss (log scale)")
    curve.set_title("loss after each step", fontsize=10)
    curve.xaxis.set_major_locator(MaxNLocator(integer=True))
    curve.grid(alpha=0.3)
    return finish_figure(fig, title or "Optimizer paths on a loss surface")


__all__ = ["METRICS", "RUN_COLORS", "RUN_STYLES", "compare_live", "plot_paths", "plot_race", "run_color"]
