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


def colour_bars(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


@pytest.mark.parametrize(
    "draw, panels, bars",
    [
        (lambda: feature_plots.plot_kernels(np.zeros((10, 3, 3)), ncols=4), 12, 1),  # 3 rows of 4, 2 left empty
        (lambda: feature_plots.plot_feature_maps(np.zeros((5, 5, 40)), max_channels=16), 16, 1),
        (lambda: feature_plots.plot_map_steps([("a", np.ones((5, 5, 4))), ("b", -np.ones((3, 3, 4)))], [0, 2]), 4, 1),
        (lambda: feature_plots.plot_top_activating(np.zeros((6, 12, 12)), np.array([[1, 2, 0], [5, 3, 4]])), 1, 0),
        (lambda: feature_plots.plot_overlays(blob(), {"a": blob(), "b": -blob()}), 3, 2),
    ],
)
def test_plots_return_figures_with_one_panel_per_item_and_a_colour_bar_where_colour_is_a_value(draw, panels, bars):
    fig = draw()
    assert isinstance(fig, Figure) and len(fig.axes) == panels + bars
    assert len(colour_bars(fig)) == bars
    assert fig.canvas.manager is None  # pyplot-free: pyplot never shows it, the notebook does, once


def rgb(image, value: float) -> tuple[float, float, float]:
    return tuple(float(v) for v in image.cmap(image.norm(value))[:3])


def test_signed_values_are_red_above_zero_blue_below_and_white_at_zero_on_a_symmetric_scale():
    fig = Figure()
    image = feature_plots.signed_image(fig.subplots(), np.array([[-1.0, 0.0, 3.0]]))
    assert image.norm.vmin == -3.0 and image.norm.vmax == 3.0  # symmetric about 0, from the largest |value|
    red, green, blue = rgb(image, 3.0)
    assert red > 0.3 and red > 2 * blue and red > 2 * green
    red, green, blue = rgb(image, -3.0)
    assert blue > 0.3 and blue > 2 * red
    assert min(rgb(image, 0.0)) > 0.9  # white (RdBu_r's middle is a very light grey)
    assert feature_plots.signed_image(fig.subplots(), np.zeros((2, 2))).norm.vmax == 1.0  # all zeros: a valid scale


def test_kernels_share_one_scale_and_their_colour_bar_says_weight():
    kernels = np.stack([np.full((3, 3), 0.5), np.full((3, 3), -2.0)])
    fig = feature_plots.plot_kernels(kernels)
    limits = {(im.norm.vmin, im.norm.vmax) for ax in fig.axes for im in ax.images if ax.get_label() != "<colorbar>"}
    assert limits == {(-2.0, 2.0)}
    assert colour_bars(fig)[0].get_ylabel() == "kernel weight"


def test_feature_maps_are_each_divided_by_their_own_largest_value_and_the_colour_bar_says_so():
    maps = np.stack([np.full((4, 4), 0.01), np.full((4, 4), -50.0)], axis=-1)
    fig = feature_plots.plot_feature_maps(maps)
    shown = [np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    assert np.allclose(shown[0], 1.0) and np.allclose(shown[1], -1.0)  # a weak map as visible as a strong one
    assert colour_bars(fig)[0].get_ylabel() == feature_plots.RELATIVE


def test_map_steps_put_one_step_per_row_and_one_channel_per_column():
    steps = [("conv", np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3) - 5), ("pool", np.ones((1, 1, 3)))]
    fig = feature_plots.plot_map_steps(steps, [2, 0], title="block")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in panels[:2]] == ["channel 2", "channel 0"]
    assert [panels[0].get_ylabel(), panels[2].get_ylabel()] == ["conv", "pool"]
    first = np.asarray(panels[0].images[0].get_array())  # channel 2 of conv: [[-3, 0], [3, 6]] / 6
    assert np.allclose(first, [[-0.5, 0.0], [0.5, 1.0]])
    assert fig.get_suptitle() == "block"
