"""Pictures of what a CNN sees: kernels, feature maps, top-activating images and heat maps over a digit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from mnist_course.plots import finish_figure, new_figure, tile_images


def _panels(images: Sequence[np.ndarray], ncols: int, title: str | None, shared_limit: float | None) -> Figure:
    """A grid of numbered panels: on one red/blue scale of +-``shared_limit``, else each scaled on its own
    (viridis from 0 when non-negative, red/blue around 0 otherwise)."""
    ncols = max(1, min(ncols, len(images)))
    fig = new_figure(1.1 * ncols, 1.1 * -(-len(images) // ncols) + 0.4)
    axes = fig.subplots(-(-len(images) // ncols), ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            panel = images[i]
            limit = shared_limit or float(np.abs(panel).max()) or 1.0
            if shared_limit or panel.min() < 0:
                ax.imshow(panel, cmap="bwr", vmin=-limit, vmax=limit, interpolation="nearest")
            else:
                ax.imshow(panel, cmap="viridis", vmin=0, vmax=limit, interpolation="nearest")
            ax.set_title(str(i), fontsize=8)
    return finish_figure(fig, title)


def plot_kernels(kernels: np.ndarray, *, ncols: int = 8, title: str = "First-layer kernels") -> Figure:
    """One panel per (height, width) kernel, all on one symmetric red (positive) / blue (negative) scale."""
    kernels = np.asarray(kernels)
    return _panels(list(kernels), ncols, title, float(np.abs(kernels).max()) or 1.0)


def plot_feature_maps(
    maps: np.ndarray, *, ncols: int = 8, max_channels: int | None = 32, title: str | None = None
) -> Figure:
    """The channels of one (height, width, channels) stack, each scaled on its own: viridis for non-negative maps
    (after ReLU, pooling), red/blue around 0 when there are negative values (before the activation)."""
    maps = np.asarray(maps)
    count = maps.shape[-1] if max_channels is None else min(maps.shape[-1], max_channels)
    return _panels([maps[..., i] for i in range(count)], ncols, title, None)


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
    """The digit, then each heat map drawn over it (red = important; red/blue around 0 for signed maps)."""
    image = np.asarray(image).reshape(np.asarray(image).shape[:2])
    fig = new_figure(2.6 * (1 + len(heatmaps)), 2.9)
    axes = fig.subplots(1, 1 + len(heatmaps), squeeze=False)[0]
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title("input", fontsize=10)
    for ax, (name, heat) in zip(axes[1:], heatmaps.items()):
        ax.imshow(image, cmap="gray_r")
        heat = np.asarray(heat)
        limit = float(np.abs(heat).max()) or 1.0
        signed = heat.min() < 0
        ax.imshow(heat, cmap="bwr" if signed else "Reds", vmin=-limit if signed else 0, vmax=limit, alpha=0.6)
        ax.set_title(name, fontsize=10)
    for ax in axes:
        ax.axis("off")
    return finish_figure(fig, title)


__all__ = ["plot_feature_maps", "plot_kernels", "plot_overlays", "plot_top_activating"]
