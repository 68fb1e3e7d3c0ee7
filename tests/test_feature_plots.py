"""mnist_course.lessons.what_the_cnn_sees.plots: one panel per kernel, map or heat map, on pyplot-free figures."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from mnist_course.lessons.what_the_cnn_sees import plots as feature_plots


def blob() -> np.ndarray:
    image = np.zeros((12, 12), dtype=np.float32)
    image[1:4, 1:4] = 1.0
    return image


def test_top_activating_mosaic_puts_each_channels_images_in_its_row_best_first():
    images = np.arange(6, dtype=float)[:, None, None] * np.ones((6, 12, 12))  # image i is filled with the value i
    fig = feature_plots.plot_top_activating(images, np.array([[1, 2, 0], [5, 3, 4]]), gap=2)
    mosaic = np.asarray(fig.axes[0].images[0].get_array())
    assert mosaic.shape == (2 * 14 - 2, 3 * 14 - 2)
    assert [mosaic[0, 14 * j] for j in range(3)] == [1, 2, 0]
    assert [mosaic[14, 14 * j] for j in range(3)] == [5, 3, 4]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["ch 0", "ch 1"]


@pytest.mark.parametrize(
    "draw, axes",
    [
        (lambda: feature_plots.plot_kernels(np.zeros((10, 3, 3)), ncols=4), 12),
        (lambda: feature_plots.plot_feature_maps(np.zeros((5, 5, 40)), max_channels=16), 16),
        (lambda: feature_plots.plot_top_activating(np.zeros((6, 12, 12)), np.array([[1, 2, 0], [5, 3, 4]])), 1),
        (lambda: feature_plots.plot_overlays(blob(), {"a": blob(), "b": -blob()}), 3),
    ],
)
def test_plots_return_figures_with_one_panel_per_item(draw, axes):
    fig = draw()
    assert isinstance(fig, Figure) and len(fig.axes) == axes
    assert fig.canvas.manager is None  # pyplot-free: pyplot never shows it, the notebook does, once
