"""The widget of notebook 02: one image turning into its 784-long vector, row by row, then scaled to [0, 1]."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from mnist_course.data import to_model_input
from mnist_course.widgets.compat import Shown
from mnist_course.widgets.render import png_bytes

HIGHLIGHT = (214, 39, 40)  # red: where the chosen row lands


def row_positions(row: int, width: int = 28) -> range:
    """The positions in the flattened vector that pixel row ``row`` lands at: ``row*width .. row*width+width-1``."""
    return range(row * width, (row + 1) * width)


def vector_strip(image: np.ndarray, row: int, *, height: int = 16, band: int = 5) -> np.ndarray:
    """An RGB picture of the flattened image: one pixel column per vector position (grey = ink), with a red band
    under the positions of pixel row ``row``."""
    image = np.asarray(image)
    vector = image.reshape(-1).astype(np.float64)
    top = 255.0 if image.dtype == np.uint8 or vector.max() > 1 else 1.0
    grey = np.round(255 * (1 - vector / top)).astype(np.uint8)
    strip = np.repeat(np.repeat(grey[np.newaxis, :, np.newaxis], height, axis=0), 3, axis=2)
    marker = np.full((band, len(vector), 3), 255, dtype=np.uint8)
    cols = row_positions(row, image.shape[1])
    marker[:, cols.start : cols.stop] = HIGHLIGHT
    return np.concatenate([strip, marker], axis=0)


def row_table_html(image: np.ndarray, row: int, *, per_table: int = 14) -> str:
    """HTML tables for one pixel row: its vector positions, the raw uint8 values and the values / 255, in tables
    of ``per_table`` columns side by side that wrap below each other in a narrow window (no sideways scrolling)."""
    image = np.asarray(image)
    values = image[row]
    positions = row_positions(row, image.shape[1])
    scaled = to_model_input(values)
    style = 'style="padding:1px 3px;text-align:right;border:1px solid #ddd"'

    def line(name: str, cells: list[str]) -> str:
        return f"<tr><th {style}>{name}</th>" + "".join(f"<td {style}>{c}</td>" for c in cells) + "</tr>"

    tables = []
    for start in range(0, len(values), per_table):
        part = slice(start, start + per_table)
        tables.append(
            '<table class="mnist-vector-table" style="border-collapse:collapse;font-family:monospace;font-size:7pt">'
            + line("position", [str(p) for p in positions[part]])
            + line("pixel (uint8)", [str(int(v)) for v in values[part]])
            + line("/ 255 (float32)", [f"{v:.2f}" for v in scaled[part]])
            + "</table>"
        )
    return '<div style="display:flex;flex-wrap:wrap;gap:6px">' + "".join(tables) + "</div>"


def summary_html(index: int, label: int, row: int, width: int = 28) -> str:
    """The caption: which example, and where the chosen row goes in the vector."""
    positions = row_positions(row, width)
    return (
        f"<b>example #{index}</b>, label <b>{label}</b>: pixel row <b>{row}</b> becomes vector positions "
        f"<b>{positions.start}..{positions.stop - 1}</b> (red band below the strip)"
    )


class ImageToVector(Shown):
    """Sliders for the example and a pixel row; shows the image, its flattened vector as a strip, and the row's
    raw and scaled values. ``update()`` redraws; ``shown_index`` and ``shown_row`` say what is on screen."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, row: int = 0, scale: int = 6) -> None:
        self.images, self.labels = np.asarray(images), np.asarray(labels)
        if self.images.ndim != 3 or len(self.images) != len(self.labels) or len(self.labels) == 0:
            raise ValueError("need (N, height, width) images and as many labels")
        self.scale = scale
        height = self.images.shape[1]
        self.slider = widgets.IntSlider(value=0, min=0, max=len(self.images) - 1, description="image")
        self.row_slider = widgets.IntSlider(value=row, min=0, max=height - 1, description="pixel row")
        self.caption = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.strip = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.table = widgets.HTML()
        for widget, name in (
            (self.slider, "slider"),
            (self.row_slider, "row"),
            (self.caption, "caption"),
            (self.image, "image"),
            (self.strip, "strip"),
            (self.table, "table"),
        ):
            widget.add_class(f"mnist-vector-{name}")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.slider, self.row_slider], layout=widgets.Layout(flex_flow="row wrap")),
                self.caption,
                self.image,
                widgets.HTML("<i>the 784-long vector, position 0 on the left (shrunk to fit a narrow window)</i>"),
                self.strip,
                self.table,
            ]
        )
        self.widget.add_class("mnist-vector")
        self.shown_index, self.shown_row = -1, -1
        self.slider.observe(self._on_change, names="value")
        self.row_slider.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.update()

    def update(self) -> None:
        """Show the example and pixel row the sliders point at."""
        index, row = int(self.slider.value), int(self.row_slider.value)
        image = self.images[index]
        self.shown_index, self.shown_row = index, row
        self.caption.value = summary_html(index, int(self.labels[index]), row, image.shape[1])
        highlighted = np.stack([np.round(255 * (1 - image / 255.0)).astype(np.uint8)] * 3, axis=-1)
        highlighted[row, :, :] = (0.5 * highlighted[row] + 0.5 * np.array(HIGHLIGHT)).astype(np.uint8)
        self.image.value = png_bytes(highlighted, scale=self.scale)
        self.strip.value = png_bytes(vector_strip(image, row))
        self.table.value = row_table_html(image, row)


__all__ = ["ImageToVector", "row_positions", "row_table_html", "summary_html", "vector_strip"]
