"""The image browser of notebook 01: pick a digit (by index, optionally of one label) and see its pixel values."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from mnist_course.data import NUM_CLASSES
from mnist_course.widgets.compat import Shown
from mnist_course.widgets.render import SECONDARY_TEXT, pixel_table_html, png_bytes

ALL = "all"
LABEL_OPTIONS = (ALL, *(str(d) for d in range(NUM_CLASSES)))


def indices_for_label(labels: np.ndarray, label: int | str | None) -> np.ndarray:
    """Indices of the examples with this label, in order; every index for ``None`` or ``"all"``."""
    labels = np.asarray(labels)
    if label is None or label == ALL:
        return np.arange(len(labels))
    return np.flatnonzero(labels == int(label))


def rewind(slider: widgets.IntSlider, count: int) -> None:
    """Put ``slider`` back at 0 with room for ``count`` positions, without firing its observers in between."""
    with slider.hold_trait_notifications():
        slider.value = 0
        slider.max = max(count - 1, 0)


def filter_and_rewind(labels: np.ndarray, label: int | str | None, slider: widgets.IntSlider) -> np.ndarray:
    """The indices of ``label``'s examples (see :func:`indices_for_label`), with ``slider`` rewound over them."""
    indices = indices_for_label(labels, label)
    rewind(slider, len(indices))
    return indices


def caption_html(index: int, label: int, position: int, count: int, filter_label: str) -> str:
    """The line above the image: which example is shown, its label, and where it is in the current selection."""
    among = "all examples" if filter_label == ALL else f"the {count} examples labelled {filter_label}"
    where = f'<span style="{SECONDARY_TEXT}">({position + 1} of {among})</span>'
    return f"<b>example #{index}</b>, label <b>{label}</b> {where}"


class ImageBrowser(Shown):
    """A slider and a label filter over ``images``; shows the chosen digit next to its grid of pixel values.

    The controls are ipywidgets (``label_filter``, ``slider``); ``update()`` redraws ``image``, ``table`` and
    ``caption``. ``shown_index`` and ``shown_label`` say what is on screen. Display it as the last line of a cell.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, scale: int = 7) -> None:
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        if len(self.images) != len(self.labels) or len(self.labels) == 0:
            raise ValueError(f"need as many images as labels (got {len(self.images)} and {len(self.labels)})")
        self.scale = scale
        self.indices = indices_for_label(self.labels, ALL)
        self.label_filter = widgets.Dropdown(options=LABEL_OPTIONS, value=ALL, description="label")
        self.slider = widgets.IntSlider(
            value=0, min=0, max=len(self.indices) - 1, description="index", continuous_update=True
        )
        self.caption = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.table = widgets.HTML()
        for widget, name in (
            (self.label_filter, "label"),
            (self.slider, "slider"),
            (self.caption, "caption"),
            (self.image, "image"),
            (self.table, "table"),
        ):
            widget.add_class(f"mnist-browser-{name}")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.label_filter, self.slider], layout=widgets.Layout(flex_flow="row wrap")),
                self.caption,
                widgets.HBox(
                    [self.image, self.table], layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap")
                ),
            ]
        )
        self.widget.add_class("mnist-browser")
        self.shown_index, self.shown_label = -1, -1
        self.label_filter.observe(self._on_filter, names="value")
        self.slider.observe(self._on_slider, names="value")
        self.update()

    def _on_filter(self, change: dict[str, Any]) -> None:
        self.indices = filter_and_rewind(self.labels, change["new"], self.slider)
        self.update()

    def _on_slider(self, change: dict[str, Any]) -> None:
        self.update()

    def update(self) -> None:
        """Show the example at the slider's position within the current label filter."""
        if len(self.indices) == 0:
            self.shown_index, self.shown_label = -1, -1
            self.caption.value = f"no example labelled {self.label_filter.value}"
            self.table.value = ""
            return
        position = min(self.slider.value, len(self.indices) - 1)
        index = int(self.indices[position])
        image = self.images[index]
        self.shown_index, self.shown_label = index, int(self.labels[index])
        self.caption.value = caption_html(index, self.shown_label, position, len(self.indices), self.label_filter.value)
        self.image.value = png_bytes(image, scale=self.scale)
        self.image.width, self.image.height = image.shape[1] * self.scale, image.shape[0] * self.scale
        self.table.value = pixel_table_html(image)


__all__ = ["ALL", "ImageBrowser", "caption_html", "filter_and_rewind", "indices_for_label", "rewind"]
