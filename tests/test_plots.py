"""The plotting helpers return figures showing what was asked (panels, titles, bar heights)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from mnist_course.lessons import loading_mnist as plots
from mnist_course.plots import tile_images


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    labels = np.arange(30) % 10
    return images, labels


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_digit_grid_titles_each_image_with_its_label(digits):
    images, labels = digits
    fig = plots.digit_grid(images[:12], labels[:12], ncols=5)
    assert isinstance(fig, Figure)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12
    assert [ax.get_title() for ax in shown] == [str(v) for v in labels[:12]]
    assert np.array_equal(shown[3].images[0].get_array(), images[3])
    assert len(fig.axes) == 15  # 3 rows of 5, the last 3 empty


def test_digit_grid_accepts_channel_axis_and_rejects_mismatched_labels(digits):
    images, labels = digits
    fig = plots.digit_grid(images[:4, ..., np.newaxis], labels[:4])
    assert sum(1 for ax in fig.axes if ax.images) == 4
    with pytest.raises(ValueError, match="labels"):
        plots.digit_grid(images[:4], labels[:3])


def test_label_distribution_bar_heights_are_the_counts():
    labels = np.array([0, 1, 1, 2, 2, 2, 9])
    fig = plots.label_distribution(labels, title="t")
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [1, 2, 3, 0, 0, 0, 0, 0, 0, 1]
    assert ax.get_title() == "t"
    assert "3" in [t.get_text() for t in ax.texts]


def test_mean_images_shows_each_class_mean(digits):
    images, labels = digits
    fig = plots.mean_images(images, labels)
    panels = fig.axes
    assert len(panels) == 10
    assert panels[4].get_title() == "4 (n=3)"
    assert np.allclose(panels[4].images[0].get_array(), images[labels == 4].mean(axis=0))


def test_pixel_histogram_counts_every_value():
    images = np.array([[[0, 0], [255, 7]]], dtype=np.uint8)
    fig = plots.pixel_histogram(images, log=False)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert len(heights) == 256
    assert heights[0] == 2 and heights[7] == 1 and heights[255] == 1 and sum(heights) == 4
    assert fig.axes[0].get_yscale() == "linear"
    assert plots.pixel_histogram(images).axes[0].get_yscale() == "log"


def test_pixel_histogram_refuses_scaled_floats():
    with pytest.raises(TypeError, match="uint8"):
        plots.pixel_histogram(np.zeros((1, 2, 2), dtype=np.float32))


def test_tile_images_lays_tiles_out_row_by_row_with_gaps():
    tiles = [np.full((2, 3), v, dtype=np.uint8) for v in (1, 2, 3)]
    out = tile_images(tiles, 2, gap=1, fill=9)
    assert out.shape == (2 * 3 - 1, 2 * 4 - 1) and out.dtype == np.uint8
    assert out[0, 0] == 1 and out[0, 4] == 2 and out[3, 0] == 3
    assert (out[2, :] == 9).all() and (out[:, 3] == 9).all()  # the gaps
    assert (out[3:, 4:] == 9).all()  # the unused end of the last row
    rgb = tile_images([np.zeros((2, 2, 3), dtype=np.uint8)] * 2, 5, gap=1, fill=255)
    assert rgb.shape == (2, 5, 3) and (rgb[:, 2] == 255).all()
    with pytest.raises(ValueError, match="at least one"):
        tile_images([], 3)
