"""Notebook 01 (loading MNIST): a grid of digits, label counts, the mean image of each digit, a pixel histogram."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from mnist_course.data import NUM_CLASSES
from mnist_course.plots import finish_figure, new_figure


def digit_grid(
    images: np.ndarray, labels: Sequence[int] | np.ndarray | None = None, *, ncols: int = 10, title: str | None = None
) -> Figure:
    """The images in a grid of ``ncols`` columns, in order, each titled with its label when labels are given."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"digit_grid() expects a non-empty (N, height, width) array, got shape {images.shape}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    fig = new_figure(1.1 * ncols, 1.25 * nrows + (0.3 if title else 0))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray_r")
            if labels is not None:
                ax.set_title(str(int(labels[i])), fontsize=11)
    return finish_figure(fig, title)


def label_distribution(labels: np.ndarray, *, title: str = "How many examples of each digit") -> Figure:
    """A bar chart of how often each digit 0..9 occurs in ``labels``, with the count written on each bar."""
    counts = np.bincount(np.asarray(labels).astype(np.int64), minlength=NUM_CLASSES)
    fig = new_figure(7, 3.2)
    ax = fig.subplots()
    bars = ax.bar(np.arange(len(counts)), counts, color="tab:blue")
    ax.bar_label(bars, labels=[str(c) for c in counts], fontsize=8)
    ax.set_xticks(np.arange(len(counts)))
    ax.set_xlabel("digit")
    ax.set_ylabel("examples")
    ax.set_ylim(0, counts.max() * 1.15)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def mean_images(images: np.ndarray, labels: np.ndarray) -> Figure:
    """One panel per digit 0..9: the pixel-wise mean of all its images (the 'average' handwritten digit)."""
    images, labels = np.asarray(images), np.asarray(labels)
    fig = new_figure(11, 1.6)
    axes = fig.subplots(1, NUM_CLASSES)
    for digit, ax in enumerate(axes):
        chosen = images[labels == digit]
        ax.axis("off")
        if len(chosen):
            ax.imshow(chosen.mean(axis=0), cmap="gray_r")
        ax.set_title(f"{digit} (n={len(chosen)})", fontsize=9)
    fig.suptitle("Mean image of each digit")
    fig.tight_layout()
    return fig


def pixel_histogram(images: np.ndarray, *, log: bool = True) -> Figure:
    """How often each pixel value 0..255 occurs in uint8 ``images`` (log scale by default: most pixels are 0)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"pixel_histogram() expects uint8 pixels 0..255, got {images.dtype}")
    counts = np.bincount(images.ravel(), minlength=256)
    fig = new_figure(7, 3)
    ax = fig.subplots()
    ax.bar(np.arange(256), counts, width=1.0, color="tab:gray")
    if log:
        ax.set_yscale("log")
    ax.set_xlim(-1, 256)
    ax.set_xlabel("pixel value (0 = background, 255 = full ink)")
    ax.set_ylabel("pixels" + (" (log scale)" if log else ""))
    ax.set_title("Pixel intensities")
    fig.tight_layout()
    return fig


__all__ = ["digit_grid", "label_distribution", "mean_images", "pixel_histogram"]
