"""The race's pictures: validation accuracy and losses per epoch or per second, and live runs over stored ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from mnist_course.plots import finish_figure, new_figure
from mnist_course.race import RaceRun

METRICS = {"loss": "training loss (own objective)", "val_accuracy": "validation accuracy",
           "val_crossentropy": "validation cross-entropy"}


def _series(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def plot_race(results: Sequence[RaceRun], *, x: str = "epoch", metrics: Sequence[str] = ("loss", "val_accuracy"),
              colors: dict[str, Any] | None = None, title: str | None = None, styles: dict[str, str] | None = None,
              log_x: bool = False) -> Figure:
    """One panel per metric, one line per run, against ``x`` = ``"epoch"`` or ``"time"`` (training seconds);
    ``log_x`` spreads runs of very different lengths (symmetric log, so 0 stays on the axis)."""
    if x not in ("epoch", "time"):
        raise ValueError(f"x must be 'epoch' or 'time', got {x!r}")
    fig = new_figure(5.2 * len(metrics), 3.6)
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
    return finish_figure(fig, title)


def compare_live(stored: Sequence[RaceRun], live: Sequence[RaceRun], *, x: str = "epoch") -> Figure:
    """Each live run, dashed, over the stored run of the same name (if any) in the same colour."""
    index = {r.spec.name: r for r in stored}
    pairs = [index[r.spec.name] for r in live if r.spec.name in index]
    mine = [RaceRun(replace(r.spec, name=f"{r.spec.name} (live)"), r.setup, r.history) for r in live]
    colors = {n: f"C{i % 10}" for i, r in enumerate(live) for n in (r.spec.name, f"{r.spec.name} (live)")}
    return plot_race([*pairs, *mine], x=x, colors=colors, styles={r.spec.name: "--" for r in mine})


__all__ = ["METRICS", "compare_live", "plot_race"]
