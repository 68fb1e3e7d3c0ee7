"""The explorer of notebook 06: pick a test digit, a layer and a channel; see the input, the feature map, the kernel."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from mnist_course.lessons.what_the_cnn_sees import features
from mnist_course.plots import SIGNED_CMAP, tile_images
from mnist_course.predict import probabilities, to_batch
from mnist_course.widgets.browser import ALL, LABEL_OPTIONS, filter_and_rewind, indices_for_label
from mnist_course.widgets.compat import Shown
from mnist_course.widgets.render import SECONDARY_TEXT, png_bytes

PRE = ":pre"  # layer key suffix: a Conv2D's maps before its built-in activation


def colour_map(values: np.ndarray) -> np.ndarray:
    """A 2-D array as an RGB uint8 image in the course's signed colours, like ``plot_feature_maps``: divided by its
    largest |value|, red (positive), white (0), blue (negative), so a map after ReLU shows no blue."""
    from matplotlib import colormaps

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"colour_map() expects a 2-D array, got shape {values.shape}")
    limit = np.abs(values).max()
    rgba = colormaps[SIGNED_CMAP](0.5 + 0.5 * values / limit if limit > 0 else np.full(values.shape, 0.5))
    return np.round(255 * rgba[..., :3]).astype(np.uint8)


def kernel_mosaic(kernel: np.ndarray, *, pad: int = 1) -> np.ndarray:
    """A (height, width, in_channels) filter as one 2-D picture: its input-channel slices tiled in a square-ish
    grid, separated by ``pad`` zeros (white on the red/blue scale). A 2-D kernel is returned as it is."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim == 2:
        return kernel
    count = kernel.shape[-1]
    if count == 1:
        return kernel[..., 0]
    return tile_images([kernel[..., i] for i in range(count)], int(np.ceil(np.sqrt(count))), gap=pad, fill=0.0)


def scale_for(shape: tuple[int, ...], size: int = 168) -> int:
    """The whole-number upscaling factor that makes the longer side of ``shape`` about ``size`` pixels (>= 1)."""
    return max(1, size // max(shape[:2]))


def layer_options(model: Any) -> list[tuple[str, str]]:
    """(label, key) pairs for the layer dropdown: every feature layer by the lessons' name for it (``layer_titles``:
    "convolution 1") with its output shape; a Conv2D with a built-in activation also gets a "before <activation>"
    entry, keyed ``name + ":pre"``."""
    options = []
    titles = features.layer_titles(model)  # "convolution 1": Keras' automatic names change from session to session
    for name in features.feature_layers(model):
        layer = model.get_layer(name)
        h, w, c = layer.output.shape[1:]
        if type(layer).__name__ == "Conv2D" and features.has_activation(layer):
            options.append((f"{titles[name]} before {layer.activation.__name__} ({h}x{w}x{c})", name + PRE))
        options.append((f"{titles[name]} ({h}x{w}x{c})", name))
    return options


def caption_html(
    index: int,
    label: int,
    layer_label: str,
    channel: int,
    channels: int,
    kernel_from: str | None,
    prediction: int | None = None,
) -> str:
    """The line above the pictures: the example, its label (and the model's guess), the layer and the channel."""
    guess = "" if prediction is None else f", predicted <b>{prediction}</b>"
    kernel = f"kernel of {kernel_from}, filter {channel}" if kernel_from else "no convolution before this layer"
    return (
        f"<b>example #{index}</b>, label <b>{label}</b>{guess} &middot; layer <b>{layer_label}</b>, "
        f"channel <b>{channel}</b> of {channels} &middot; <span style='{SECONDARY_TEXT}'>{kernel}</span>"
    )


class FeatureExplorer(Shown):
    """Controls for a digit (label filter and example slider), a layer and a channel; shows the input, the chosen
    channel's feature map and the kernel of the convolution that made it.

    ``update()`` redraws; ``shown_index``, ``shown_layer``, ``shown_channel``, ``shown_map`` and ``shown_kernel``
    hold what is on screen. Display it as the last line of a cell."""

    def __init__(self, model: Any, images: np.ndarray, labels: np.ndarray, *, size: int = 168) -> None:
        self.model, self.images, self.labels = model, np.asarray(images), np.asarray(labels)
        if len(self.images) != len(self.labels) or len(self.labels) == 0:
            raise ValueError(f"need as many images as labels (got {len(self.images)} and {len(self.labels)})")
        self.size = size
        self.indices = indices_for_label(self.labels, ALL)
        options = layer_options(model)
        self._labels_by_key = {key: label for label, key in options}
        self._maps_model = features.intermediate_model(model, features.feature_layers(model))
        self._cache: dict[str, Any] = {"index": None}
        self.digit = widgets.Dropdown(options=LABEL_OPTIONS, value=ALL, description="digit")
        self.example = widgets.IntSlider(value=0, min=0, max=len(self.indices) - 1, description="example")
        self.layer = widgets.Dropdown(options=options, value=options[0][1], description="layer")
        self.channel = widgets.IntSlider(value=0, min=0, max=0, description="channel")
        self.caption = widgets.HTML()
        self.input_image, self.map_image, self.kernel_image = (widgets.Image(format="png") for _ in range(3))
        titles = [widgets.HTML(f"<b>{t}</b>") for t in ("input", "feature map", "kernel")]
        for widget, name in (
            (self.digit, "digit"),
            (self.example, "example"),
            (self.layer, "layer"),
            (self.channel, "channel"),
            (self.caption, "caption"),
            (self.input_image, "input"),
            (self.map_image, "map"),
            (self.kernel_image, "kernel"),
        ):
            widget.add_class(f"mnist-features-{name}")
        panels = [
            widgets.VBox([title, image], layout=widgets.Layout(margin="0 16px 0 0"))
            for title, image in zip(titles, (self.input_image, self.map_image, self.kernel_image))
        ]
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.digit, self.example], layout=widgets.Layout(flex_flow="row wrap")),
                widgets.HBox([self.layer, self.channel], layout=widgets.Layout(flex_flow="row wrap")),
                self.caption,
                widgets.HBox(panels, layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap")),
            ]
        )
        self.widget.add_class("mnist-features")
        self.shown_index, self.shown_layer, self.shown_channel = -1, "", -1
        self.shown_map: np.ndarray | None = None
        self.shown_kernel: np.ndarray | None = None
        self.digit.observe(self._on_digit, names="value")
        self.example.observe(lambda change: self.update(), names="value")
        self.layer.observe(self._on_layer, names="value")
        self.channel.observe(lambda change: self.update(), names="value")
        self._set_channel_range()
        self.update()

    def _on_digit(self, change: dict[str, Any]) -> None:
        self.indices = filter_and_rewind(self.labels, change["new"], self.example)
        self.update()

    def _on_layer(self, change: dict[str, Any]) -> None:
        self._set_channel_range()
        self.update()

    def _set_channel_range(self) -> None:
        name = self.layer.value.removesuffix(PRE)
        channels = int(self.model.get_layer(name).output.shape[-1])
        with self.channel.hold_trait_notifications():
            self.channel.max = channels - 1
            self.channel.value = min(self.channel.value, channels - 1)

    def maps(self, index: int, key: str) -> np.ndarray:
        """The (height, width, channels) maps of example ``index`` at layer ``key`` (cached for the current example)."""
        if self._cache["index"] != index:
            import keras

            x = to_batch(self.model, self.images[index])
            out = self._maps_model(x, training=False)
            out = out if isinstance(out, (list, tuple)) else [out]
            names = features.feature_layers(self.model)
            self._cache = {"index": index, **{n: keras.ops.convert_to_numpy(m)[0] for n, m in zip(names, out)}}
            self._cache["prediction"] = int(np.argmax(probabilities(self.model, self.images[index])[0]))
        if key not in self._cache:
            self._cache[key] = features.feature_maps(
                self.model, self.images[index], key.removesuffix(PRE), pre_activation=True
            )
        return self._cache[key]

    def update(self) -> None:
        """Show the chosen example, its map at the chosen layer and channel, and the kernel that produced it."""
        if len(self.indices) == 0:
            self.caption.value = f"no example labelled {self.digit.value}"
            return
        index = int(self.indices[min(self.example.value, len(self.indices) - 1)])
        key, channel = self.layer.value, int(self.channel.value)
        maps = self.maps(index, key)
        channel = min(channel, maps.shape[-1] - 1)
        kernel_from = features.source_conv(self.model, key.removesuffix(PRE))
        kernel_title = features.layer_titles(self.model).get(kernel_from, kernel_from) if kernel_from else None
        image = self.images[index].reshape(self.images.shape[1], self.images.shape[2])
        self.shown_index, self.shown_layer, self.shown_channel = index, key, channel
        self.shown_map = maps[..., channel]
        self.shown_kernel = (
            kernel_mosaic(features.conv_kernel(self.model, kernel_from)[channel]) if kernel_from else None
        )
        self.caption.value = caption_html(
            index,
            int(self.labels[index]),
            self._labels_by_key[key],
            channel,
            maps.shape[-1],
            kernel_title,
            self._cache["prediction"],
        )
        vmax = 255.0 if image.dtype == np.uint8 else 1.0
        factor = scale_for(image.shape, self.size)
        self._show(self.input_image, png_bytes(image, scale=factor, vmax=vmax), image.shape, factor)
        factor = scale_for(self.shown_map.shape, self.size)
        self._show(self.map_image, png_bytes(colour_map(self.shown_map), scale=factor), self.shown_map.shape, factor)
        if self.shown_kernel is None:
            self.kernel_image.value, self.kernel_image.width, self.kernel_image.height = b"", "0", "0"
        else:
            # one small kernel at half size, a mosaic of many input channels at full size
            target = self.size if max(self.shown_kernel.shape) > 8 else self.size // 2
            factor = scale_for(self.shown_kernel.shape, target)
            self._show(
                self.kernel_image,
                png_bytes(colour_map(self.shown_kernel), scale=factor),
                self.shown_kernel.shape,
                factor,
            )

    @staticmethod
    def _show(target: widgets.Image, png: bytes, shape: tuple[int, ...], factor: int) -> None:
        target.value = png
        target.width, target.height = str(shape[1] * factor), str(shape[0] * factor)


__all__ = ["FeatureExplorer", "caption_html", "colour_map", "kernel_mosaic", "layer_options", "scale_for"]
