"""The figures of notebook 03: loss curves (one colour per run, labelled) and gradient norms layer by layer."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from mnist_course.plots import SIGNED_CMAP, finish_figure, new_figure

# One colour per run, the same in every figure of the notebook (matplotlib's tab10 order).
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray")


def loss_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    xlabel: str,
    ylabel: str = "validation loss",
    title: str | None = None,
    log_y: bool = False,
    colours: Mapping[str, str] | None = None,
    points_only: Collection[str] = (),
) -> Figure:
    """One labelled line per ``name: (x, y)`` in ``curves``, coloured from ``colours`` (else in :data:`COLOURS`
    order), with markers so that a curve of two points still shows; the curves named in ``points_only`` get markers
    and no line (measurements too far apart to join); a logarithmic y axis with ``log_y``."""
    if not curves:
        raise ValueError("loss_curves() needs at least one curve")
    fig = new_figure(7, 3.6)
    ax = fig.add_subplot()
    for i, (name, (xs, ys)) in enumerate(curves.items()):
        colour = (colours or {}).get(name, COLOURS[i % len(COLOURS)])
        if name in points_only:
            ax.plot(xs, ys, marker="o", markersize=6, linestyle="none", color=colour, label=name)
        else:
            ax.plot(xs, ys, marker="o", markersize=3, color=colour, label=name)
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return finish_figure(fig, title)


def gradient_norms(
    norms: Mapping[str, np.ndarray], *, title: str | None = None, colours: Mapping[str, str] | None = None
) -> Figure:
    """The gradient norm of each hidden layer (layer 1 = next to the input) per activation, on a log scale."""
    if not norms:
        raise ValueError("gradient_norms() needs at least one activation")
    fig = new_figure(7, 3.6)
    ax = fig.add_subplot()
    for i, (name, values) in enumerate(norms.items()):
        layers = np.arange(1, len(values) + 1)
        ax.plot(layers, values, marker="o", color=(colours or {}).get(name, COLOURS[i % len(COLOURS)]), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("hidden layer (1 = next to the input)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("norm of d loss / d weights")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return finish_figure(fig, title)


def spreads_by_layer(
    spreads: Mapping[str, Mapping[str, np.ndarray]],
    *,
    title: str | None = None,
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """One panel per activation (``spreads[activation][scale]``: the activations' spread after each hidden layer),
    one line per starting scale, layers numbered from 1, on a logarithmic y axis shared by the panels."""
    if not spreads or not all(spreads.values()):
        raise ValueError("spreads_by_layer() needs at least one activation with at least one scale")
    fig = new_figure(4.2 * len(spreads), 3.6)
    axes = fig.subplots(1, len(spreads), sharey=True, squeeze=False)[0]
    for ax, (activation, by_scale) in zip(axes, spreads.items()):
        for i, (scale, values) in enumerate(by_scale.items()):
            colour = (colours or {}).get(scale, COLOURS[i % len(COLOURS)])
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, color=colour, label=scale)
        ax.set_yscale("log")
        ax.set_title(activation)
        ax.set_xlabel("hidden layer (1 = next to the input)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("spread (std) of the activations")
    axes[0].legend()
    return finish_figure(fig, title)


def weight_images(weights: np.ndarray, *, title: str | None = None) -> Figure:
    """The 784 weights of each of the classes (columns of ``weights``, (784, classes)) as 28 x 28 images on one
    scale symmetric about 0 (:data:`SIGNED_CMAP`): red where ink raises the class's score, blue where it lowers
    it, white for 0, with a colour bar giving the values."""
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.shape[0] != 784:
        raise ValueError(f"weight_images() expects weights of shape (784, classes), got {weights.shape}")
    limit = float(np.abs(weights).max()) or 1.0
    classes = weights.shape[1]
    fig = new_figure(1.1 * classes + 0.8, 1.7)
    axes = fig.subplots(1, classes + 1, gridspec_kw={"width_ratios": [1] * classes + [0.08]})
    for k, ax in enumerate(axes[:-1]):
        image = ax.imshow(weights[:, k].reshape(28, 28), cmap=SIGNED_CMAP, vmin=-limit, vmax=limit)
        ax.set_title(str(k))
        ax.axis("off")
    fig.colorbar(image, cax=axes[-1], label="weight")
    return finish_figure(fig, title)


__all__ = ["COLOURS", "SIGNED_CMAP", "gradient_norms", "loss_curves", "spreads_by_layer", "weight_images"]
