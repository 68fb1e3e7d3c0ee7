"""Pictures of what a CNN sees: kernels, feature maps, top-activating images and heat maps over a digit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from mnist_course.plots import SIGNED_CMAP, new_figure, tile_images

RELATIVE = "value / largest |value|\nof its panel"


def signed_image(ax: Axes, values: np.ndarray, limit: float | None = None, **kwargs: object) -> AxesImage:
    """Draw ``values`` on ``ax`` in the course's signed colours (red > 0, blue < 0, white = 0), on the scale
    -``limit``..+``limit`` (default: the largest |value|), and return the image for a colour bar."""
    values = np.asarray(values)
    top = float(np.abs(values).max()) if limit is None else float(limit)
    top = top or 1.0
    return ax.imshow(values, cmap=SIGNED_CMAP, vmin=-top, vmax=top, interpolation="nearest", **kwargs)


def _titled(fig: Figure, title: str | None) -> Figure:
    """``fig`` with its title (constrained layout does the rest)."""
    if title:
        fig.suptitle(title)
    return fig


def _panels(
    images: Sequence[np.ndarray], ncols: int, title: str | None, shared_limit: float | None, label: str
) -> Figure:
    """A grid of numbered panels in the signed colours with one colour bar: on one scale of +-``shared_limit``,
    else each panel divided by its own largest |value| (the colour bar then reads ``RELATIVE``)."""
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    fig = new_figure(1.1 * ncols + 1.1, max(1.1 * nrows + 0.5, 2.0), layout="constrained")  # room for the bar
    axes = fig.subplots(nrows, ncols, squeeze=False)
    shown = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            panel = np.asarray(images[i], dtype=np.float64)
            if shared_limit is None:
                panel = panel / (float(np.abs(panel).max()) or 1.0)
            shown = signed_image(ax, panel, shared_limit or 1.0)
            ax.set_title(str(i), fontsize=8)
    if shown is not None:
        fig.colorbar(shown, ax=axes, shrink=0.9, label=label if shared_limit else RELATIVE)
    return _titled(fig, title)


def plot_kernels(
    kernels: np.ndarray, *, ncols: int = 8, title: str = "First-layer kernels", label: str = "kernel weight"
) -> Figure:
    """One panel per (height, width) kernel, all on one scale (red positive, blue negative), with its colour bar."""
    kernels = np.asarray(kernels)
    return _panels(list(kernels), ncols, title, float(np.abs(kernels).max()) or 1.0, label)


def plot_feature_maps(
    maps: np.ndarray, *, ncols: int = 8, max_channels: int | None = 32, title: str | None = None
) -> Figure:
    """The channels of one (height, width, channels) stack, each divided by its own largest |value| (red > 0,
    blue < 0, white 0) so that a weak channel is as readable as a strong one; the colour bar says so."""
    maps = np.asarray(maps)
    count = maps.shape[-1] if max_channels is None else min(maps.shape[-1], max_channels)
    return _panels([maps[..., i] for i in range(count)], ncols, title, None, RELATIVE)


def plot_map_steps(
    steps: Sequence[tuple[str, np.ndarray]], channels: Sequence[int], *, title: str | None = None
) -> Figure:
    """One row per ``(name, (height, width, channels) maps)`` step and one column per channel, each panel divided
    by its own largest |value| (red > 0, blue < 0, white 0), with one colour bar for all."""
    channels = list(channels)
    fig = new_figure(1.5 * len(channels) + 1.0, 1.55 * len(steps) + 0.5, layout="constrained")
    axes = fig.subplots(len(steps), len(channels), squeeze=False)
    shown = None
    for row, (name, stack) in zip(axes, steps):
        for ax, channel in zip(row, channels):
            panel = np.asarray(stack[..., channel], dtype=np.float64)
            shown = signed_image(ax, panel / (float(np.abs(panel).max()) or 1.0), 1.0)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(name, fontsize=8)
    for ax, channel in zip(axes[0], channels):
        ax.set_title(f"channel {channel}", fontsize=8)
    if shown is not None:
        fig.colorbar(shown, ax=axes, shrink=0.8, label=RELATIVE)
    return _titled(fig, title)


def plot_top_activating(
    images: np.ndarray,
    indices: np.ndarray,
    *,
    channels: Sequence[int] | None = None,
    title: str | None = None,
    gap: int = 2,
) -> Figure:
    """A row per channel of ``indices`` (channels, k) showing its k most exciting images, best on the left, drawn
    as one mosaic (tiles ``gap`` pixels apart) so that the figure stays light."""
    images, indices = np.asarray(images, dtype=np.float64), np.asarray(indices)
    images = images.reshape(len(images), images.shape[1], images.shape[2])
    channels = list(range(len(indices))) if channels is None else list(channels)
    k, h = indices.shape[1], images.shape[1]
    mosaic = tile_images([images[indices[channel, j]] for channel in channels for j in range(k)], k, gap=gap)
    fig = new_figure(0.7 * k + 0.6, 0.7 * len(channels) + 0.5)
    ax = fig.subplots()
    ax.imshow(mosaic, cmap="gray_r", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([row * (h + gap) + h / 2 for row in range(len(channels))], [f"ch {c}" for c in channels])
    ax.tick_params(length=0, labelsize=8)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_overlays(image: np.ndarray, heatmaps: dict[str, np.ndarray], *, title: str | None = None) -> Figure:
    """The digit, then each heat map drawn over it in the signed colours (red > 0, blue < 0, white 0, centred
    at 0 whatever the map's range), each with its own colour bar."""
    image = np.asarray(image).reshape(np.asarray(image).shape[:2])
    fig = new_figure(2.9 * (1 + len(heatmaps)), 3.0, layout="constrained")
    axes = fig.subplots(1, 1 + len(heatmaps), squeeze=False)[0]
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title("input", fontsize=10)
    for ax, (name, heat) in zip(axes[1:], heatmaps.items()):
        ax.imshow(image, cmap="gray_r")
        shown = signed_image(ax, np.asarray(heat), alpha=0.6)
        ax.set_title(name, fontsize=10)
        fig.colorbar(shown, ax=ax, shrink=0.8)
    for ax in axes:
        ax.axis("off")
    return _titled(fig, title)


__all__ = [
    "RELATIVE",
    "SIGNED_CMAP",
    "plot_feature_maps",
    "plot_kernels",
    "plot_map_steps",
    "plot_overlays",
    "plot_top_activating",
    "signed_image",
]
