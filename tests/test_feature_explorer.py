"""The feature explorer of notebook 06, driven without a browser: its controls change what it shows."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from matplotlib import colormaps

from mnist_course.widgets.feature_explorer import (
    PRE,
    FeatureExplorer,
    colour_map,
    kernel_mosaic,
    layer_options,
    scale_for,
)

VERTICAL = np.array([[-1.0, 0.0, 1.0]] * 3)


def tiny_cnn() -> keras.Model:
    """12x12 -> Conv2D 'c1' (relu built in; 2 filters: vertical, horizontal edges) -> max pool -> Conv2D 'c2'
    (3 filters, 1x1: vertical only, 2 x vertical + horizontal, horizontal - vertical) -> Flatten -> Dense(10)."""
    inputs = keras.Input((12, 12, 1))
    c1 = keras.layers.Conv2D(2, 3, activation="relu", use_bias=False, name="c1")
    c2 = keras.layers.Conv2D(3, 1, use_bias=False, name="c2")
    x = c2(keras.layers.MaxPooling2D(2, name="pool")(c1(inputs)))
    outputs = keras.layers.Dense(10, activation="softmax", name="out")(keras.layers.Flatten()(x))
    c1.set_weights([np.stack([VERTICAL, VERTICAL.T], axis=-1)[:, :, np.newaxis, :]])
    c2.set_weights([np.array([[1.0, 2.0, -1.0], [0.0, 1.0, 1.0]])[np.newaxis, np.newaxis]])
    return keras.Model(inputs, outputs)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """Four uint8 12x12 images: vertical bars (labels 7, 3) and horizontal bars (labels 3, 1)."""
    images = np.zeros((4, 12, 12), dtype=np.uint8)
    images[0, :, 5:8] = 255
    images[1, :, 2:4] = 200
    images[2, 6:9, :] = 255
    images[3, 2:4, :] = 120
    return images, np.array([7, 3, 3, 1])


@pytest.fixture
def explorer() -> FeatureExplorer:
    images, labels = digits()
    return FeatureExplorer(tiny_cnn(), images, labels)


def test_layer_options_list_every_map_layer_with_a_before_activation_entry():
    assert layer_options(tiny_cnn()) == [
        ("convolution 1 before relu (10x10x2)", "c1" + PRE),
        ("convolution 1 (10x10x2)", "c1"),
        ("max pooling 1 (5x5x2)", "pool"),
        ("convolution 2 (5x5x3)", "c2"),
    ]


def test_controls_have_descriptions_and_css_classes(explorer):
    for name in ("digit", "example", "layer", "channel"):
        control = getattr(explorer, name)
        assert control.description == name
        assert f"mnist-features-{name}" in control._dom_classes
    for name in ("input", "map", "kernel"):
        assert f"mnist-features-{name}" in getattr(explorer, f"{name}_image")._dom_classes
    assert "mnist-features" in explorer.widget._dom_classes


def test_starts_on_the_first_example_first_layer_first_channel(explorer):
    assert (explorer.shown_index, explorer.shown_layer, explorer.shown_channel) == (0, "c1" + PRE, 0)
    assert explorer.shown_map.shape == (10, 10)
    assert explorer.shown_map.min() == -3.0  # the right edge of the bar, before ReLU removes it
    np.testing.assert_array_equal(explorer.shown_kernel, VERTICAL)
    assert bytes(explorer.input_image.value).startswith(b"\x89PNG")
    assert "example #0" in explorer.caption.value and "label <b>7</b>" in explorer.caption.value


def test_changing_the_layer_changes_the_map(explorer):
    before_png = explorer.map_image.value
    explorer.layer.value = "c1"
    assert explorer.shown_map.min() == 0.0 and explorer.shown_map.max() == 3.0  # after the built-in ReLU
    assert bytes(explorer.map_image.value) != bytes(before_png)
    explorer.layer.value = "pool"
    assert explorer.shown_map.shape == (5, 5)
    assert explorer.shown_kernel.shape == (3, 3)  # pooling has no kernel: the one of c1 made this channel


def test_changing_the_channel_changes_the_map_and_the_kernel(explorer):
    explorer.layer.value = "c2"
    assert explorer.channel.max == 2
    first_map = explorer.shown_map.copy()
    first_png, first_map_png = explorer.kernel_image.value, explorer.map_image.value
    np.testing.assert_array_equal(explorer.shown_kernel, [[1.0, 0.0, 0.0]])  # weights 1, 0 with a gap between
    assert first_map.max() == 3.0
    explorer.channel.value = 2
    np.testing.assert_allclose(explorer.shown_map, -first_map)  # a vertical bar: horizontal - vertical = -vertical
    np.testing.assert_array_equal(explorer.shown_kernel, [[-1.0, 0.0, 1.0]])
    assert bytes(explorer.kernel_image.value) != bytes(first_png)
    assert bytes(explorer.map_image.value) != bytes(first_map_png)
    explorer.layer.value = "pool"  # 2 channels: the channel is clipped to the new range
    assert explorer.channel.max == 1 and explorer.shown_channel == 1


def test_filtering_by_digit_and_moving_the_slider_changes_the_example(explorer):
    first_png = explorer.input_image.value
    explorer.digit.value = "3"
    assert explorer.shown_index == 1 and explorer.example.max == 1
    assert bytes(explorer.input_image.value) != bytes(first_png)
    explorer.example.value = 1
    assert explorer.shown_index == 2
    explorer.layer.value = "c1"
    explorer.channel.value = 1  # horizontal edges: the horizontal bar lights it up
    assert explorer.shown_map.max() == 3.0
    explorer.digit.value = "5"
    assert "no example labelled 5" in explorer.caption.value


def test_kernel_mosaic_tiles_the_input_channels_with_white_gaps():
    kernel = np.arange(1, 37, dtype=float).reshape(3, 3, 4)
    mosaic = kernel_mosaic(kernel)
    assert mosaic.shape == (7, 7)
    np.testing.assert_array_equal(mosaic[:3, :3], kernel[..., 0])
    np.testing.assert_array_equal(mosaic[4:, 4:], kernel[..., 3])
    assert np.all(mosaic[3] == 0) and np.all(mosaic[:, 3] == 0)
    np.testing.assert_array_equal(kernel_mosaic(kernel[..., :1]), kernel[..., 0])


def test_colour_map_draws_red_above_zero_white_at_zero_and_blue_below_on_a_symmetric_scale():
    signed = colour_map(np.array([[-1.0, 0.0, 1.0, 0.5]]))
    assert signed.dtype == np.uint8 and signed.shape == (1, 4, 3)
    assert signed[0, 1].min() >= 240  # 0 is white (RdBu_r's middle is a very light grey)
    assert signed[0, 0, 2] > 2 * signed[0, 0, 0] and signed[0, 2, 0] > 2 * signed[0, 2, 2]  # blue below, red above
    np.testing.assert_array_equal(signed[0, 2], np.round(255 * np.array(colormaps["RdBu_r"](1.0)[:3])))
    non_negative = colour_map(np.array([[0.0, 2.0]]))  # after a ReLU: white to red, the same colours as the figures
    assert non_negative[0, 0].min() >= 240 and non_negative[0, 1, 0] > 2 * non_negative[0, 1, 2]
    assert colour_map(np.zeros((2, 2))).min() >= 240  # an all-zero map is white, not an error
    with pytest.raises(ValueError, match="2-D"):
        colour_map(np.zeros((2, 2, 2)))


def test_scale_for_makes_the_longer_side_about_the_target_size():
    assert scale_for((28, 28)) == 6 and scale_for((3, 3), 84) == 28 and scale_for((500, 10)) == 1
