"""The convolution stepper of notebook 05: a 3 x 3 kernel slides over a digit one position at a time, showing the
multiply-add there and the feature map filling in, with stride and padding as Keras applies them."""

from __future__ import annotations

import io
import math
from typing import Any

import ipywidgets as widgets
import numpy as np

from mnist_course.data import to_model_input
from mnist_course.plots import SIGNED_CMAP
from mnist_course.widgets.compat import Shown
from mnist_course.widgets.render import png_bytes, text_colour, upscale

KERNELS: dict[str, np.ndarray] = {
    "vertical edge": np.array([[-1, 0, 1]] * 3, dtype=np.float64),
    "horizontal edge": np.array([[-1] * 3, [0] * 3, [1] * 3], dtype=np.float64),
    "blur": np.full((3, 3), 1 / 9),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
}
PADDINGS = ("valid", "same")
ORANGE = (255, 127, 14)  # the window on the input and the current cell of the map
GREY = (150, 150, 150)  # the edge of the image and of the map
NOT_YET = "#c8c8c8"  # grey: map positions not computed yet (white means 0 on the signed scale)


def same_padding(n: int, k: int, stride: int) -> tuple[int, int]:
    """The zeros Keras (TensorFlow) adds before and after one dimension for ``padding="same"``: enough for
    ceil(n / stride) outputs, the odd one after (bottom or right)."""
    total = max((math.ceil(n / stride) - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def output_size(n: int, k: int, stride: int, padding: str) -> int:
    """Keras' output length for one dimension: (n - k) // stride + 1 for "valid", ceil(n / stride) for "same"."""
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return (n - k) // stride + 1 if padding == "valid" else math.ceil(n / stride)


def pad_image(image: np.ndarray, k: int, stride: int, padding: str) -> tuple[np.ndarray, tuple[int, int]]:
    """The image with the zeros the padding adds, and how many rows and columns were added above and left."""
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    if padding == "valid":
        return np.asarray(image, dtype=np.float64), (0, 0)
    rows, cols = same_padding(image.shape[0], k, stride), same_padding(image.shape[1], k, stride)
    return np.pad(np.asarray(image, dtype=np.float64), (rows, cols)), (rows[0], cols[0])


def window_at(padded: np.ndarray, row: int, col: int, k: int, stride: int) -> np.ndarray:
    """The k x k patch of the padded image under the kernel for output position (row, col)."""
    return padded[row * stride : row * stride + k, col * stride : col * stride + k]


def multiply_add(patch: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, float]:
    """The products pixel x weight, one per kernel weight, and their sum: one value of the feature map."""
    products = np.asarray(patch, dtype=np.float64) * np.asarray(kernel, dtype=np.float64)
    return products, float(products.sum())


def feature_map(image: np.ndarray, kernel: np.ndarray, stride: int, padding: str) -> np.ndarray:
    """The whole map, one multiply-add per output position (no bias), like Keras' Conv2D with one filter."""
    k = kernel.shape[0]
    padded, _ = pad_image(image, k, stride, padding)
    out = np.empty((output_size(image.shape[0], k, stride, padding), output_size(image.shape[1], k, stride, padding)))
    for row in range(out.shape[0]):
        for col in range(out.shape[1]):
            out[row, col] = multiply_add(window_at(padded, row, col, k, stride), kernel)[1]
    return out


def map_so_far(full: np.ndarray, position: int) -> np.ndarray:
    """The map with positions 0..``position`` (row by row) filled in and the later ones NaN (not computed yet)."""
    shown = np.array(full, dtype=np.float64).reshape(-1)
    shown[position + 1 :] = np.nan
    return shown.reshape(full.shape)


def _weight(w: float, *, bracket: bool = False) -> str:
    text = f"{w:.3g}".replace("-", "−")
    return f"({text})" if bracket and w < 0 else text


def _number(v: float) -> str:
    """Two decimals with a true minus sign, and no "-0.00" for a product that rounds to zero."""
    text = f"{v:.2f}"
    return "0.00" if text == "-0.00" else text.replace("-", "−")


def sum_html(patch: np.ndarray, kernel: np.ndarray, row: int, col: int) -> str:
    """The multiply-add for one position written out: the 9 products pixel x weight, one kernel row per line, and
    their sum."""
    products, total = multiply_add(patch, kernel)
    lines = []
    for r in range(kernel.shape[0]):
        terms = " + ".join(
            f"{_number(patch[r, c])}×{_weight(kernel[r, c], bracket=True)}" for c in range(kernel.shape[1])
        )
        lines.append(("  " if r == 0 else "+ ") + terms)
    return (
        f"map[{row}, {col}] = the sum of pixel × weight over the window:"
        f"<pre style='margin:2px 0;font-size:9pt'>{'<br>'.join(lines)}<br>= {total:.3f}</pre>"
    )


def size_text(n: int, k: int, stride: int, padding: str) -> str:
    """Keras' rule for the map's side, worked for these numbers."""
    size = output_size(n, k, stride, padding)
    if padding == "valid":
        return f"valid: ({n} − {k}) // {stride} + 1 = {size}"
    before, after = same_padding(n, k, stride)
    return f"same: ceil({n} / {stride}) = {size}, Keras pads {before} zero(s) before and {after} after"


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb[:3])


def signed_rgb(values: np.ndarray, top: float) -> np.ndarray:
    """Values as RGB uint8 on the course's signed scale from -top (blue) through 0 (white) to +top (red); NaN grey."""
    from matplotlib import colormaps

    values = np.asarray(values, dtype=np.float64)
    rgb = np.round(255 * colormaps[SIGNED_CMAP](0.5 + 0.5 * np.nan_to_num(values) / top)[..., :3]).astype(np.uint8)
    rgb[np.isnan(values)] = [int(NOT_YET[i : i + 2], 16) for i in (1, 3, 5)]
    return rgb


def ink_rgb(values: np.ndarray) -> np.ndarray:
    """Pixel values in [0, 1] as RGB uint8, black ink on white as the course draws digits."""
    grey = np.round(255 * (1 - np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0))).astype(np.uint8)
    return np.repeat(grey[..., np.newaxis], 3, axis=-1)


def _outline(rgb: np.ndarray, box: tuple[int, int, int, int], colour: tuple[int, ...], width: int) -> None:
    """Draw the border of box = (top, left, bottom, right) in pixels, ``width`` pixels thick, inside the box."""
    top, left, bottom, right = box
    rgb[top : top + width, left:right] = rgb[bottom - width : bottom, left:right] = colour
    rgb[top:bottom, left : left + width] = rgb[top:bottom, right - width : right] = colour


def input_rgb(padded: np.ndarray, offset: tuple[int, int], shape: tuple[int, ...], cell: tuple[int, int], k: int,
              stride: int, scale: int = 9) -> np.ndarray:  # fmt: skip
    """The (padded) input, black ink on white, each pixel ``scale`` wide, with the window for output ``cell``
    outlined in orange and the image's own edge in grey (inside the padding, if any)."""
    rgb = upscale(ink_rgb(padded), scale)
    top, left = offset[0] * scale, offset[1] * scale
    _outline(rgb, (top, left, top + shape[0] * scale, left + shape[1] * scale), GREY, 1)
    top, left = cell[0] * stride * scale, cell[1] * stride * scale
    _outline(rgb, (top, left, top + k * scale, left + k * scale), ORANGE, 3)
    return rgb


def map_rgb(shown: np.ndarray, top: float, cell: tuple[int, int], side: int = 252) -> np.ndarray:
    """The map so far on the signed scale, later positions grey, the current ``cell`` outlined, about ``side``
    pixels wide whatever its size."""
    scale = max(1, side // max(shown.shape))
    rgb = upscale(signed_rgb(shown, top), scale)
    _outline(rgb, (0, 0, *rgb.shape[:2]), GREY, 1)
    _outline(rgb, (cell[0] * scale, cell[1] * scale, (cell[0] + 1) * scale, (cell[1] + 1) * scale), ORANGE, 2)
    return rgb


def colour_bar_png(top: float) -> bytes:
    """A colour bar for the map: the signed scale from -top to +top."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.1, 2.52), dpi=100)
    ax = fig.add_axes((0.08, 0.04, 0.18, 0.92))
    fig.colorbar(ScalarMappable(Normalize(-top, top), colormaps[SIGNED_CMAP]), cax=ax, label="map value")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _table(title: str, values: np.ndarray, colours: np.ndarray, text: list[str]) -> str:
    cells = []
    for r in range(values.shape[0]):
        row = ""
        for c in range(values.shape[1]):
            background = _hex(colours[r, c])
            ink = text_colour(background)
            row += f'<td style="background:{background};color:{ink}">{text[r * values.shape[1] + c]}</td>'
        cells.append(f"<tr>{row}</tr>")
    style = "border-collapse:collapse;font-family:monospace;font-size:9pt;text-align:center"
    return f'<div><div>{title}</div><table style="{style}" class="mnist-conv-table">{"".join(cells)}</table></div>'


def tables_html(patch: np.ndarray, kernel: np.ndarray, name: str) -> str:
    """The window's pixels (black ink on white), times the kernel's weights, gives the 9 products (kernel and
    products on one signed scale, red positive, blue negative: pixels are at most 1), each value in its cell."""
    products, _ = multiply_add(patch, kernel)
    top = float(np.abs(kernel).max()) or 1.0
    parts = [
        _table("window (pixels)", patch, ink_rgb(patch), [_number(v) for v in patch.reshape(-1)]),
        _table(f"kernel: {name}", kernel, signed_rgb(kernel, top), [_weight(w) for w in kernel.reshape(-1)]),
        _table("products", products, signed_rgb(products, top), [_number(v) for v in products.reshape(-1)]),
    ]
    sign = '<div style="align-self:center;font-size:14pt;padding:0 4px">{}</div>'
    style = "<style>.mnist-conv-table td{width:3.2em;height:1.6em;padding:0 2px}</style>"
    return (
        style
        + '<div style="display:flex;flex-wrap:wrap">'
        + sign.format("").join([parts[0], sign.format("×"), parts[1], sign.format("="), parts[2]])
        + "</div>"
    )


class ConvStepper(Shown):
    """Dropdowns for the image, the kernel, the stride and the padding, a position slider and a "next" button; shows
    the input with the window, the window beside the kernel, the multiply-add and the map so far. ``update()``
    redraws; ``shown_cell``, ``shown_value``, ``shown_map`` (NaN where not yet computed) say what is on screen.
    ``own`` adds an image of the caller's (e.g. a drawing), shown first; ``position`` is where it starts (default: the
    centre of the map)."""

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        *,
        own: np.ndarray | None = None,
        own_name: str = "your drawing",
        kernel: str = "vertical edge",
        position: int | None = None,
    ) -> None:
        pictures = [to_model_input(i).astype(np.float64) for i in np.asarray(images)]
        named = [f"test digit {i}" + ("" if labels is None else f" (a {int(labels[i])})") for i in range(len(pictures))]
        options = [(text, i) for i, text in enumerate(named)]
        if own is not None:
            pictures.append(to_model_input(own).astype(np.float64).reshape(np.shape(own)[-2:]))
            options.append((own_name, len(pictures) - 1))
        if not pictures or any(p.ndim != 2 or min(p.shape) < 3 for p in pictures):
            raise ValueError("ConvStepper needs (N, height, width) images of at least 3 x 3, e.g. x_test[:8]")
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, got {kernel!r}")
        self.pictures = pictures
        start = len(pictures) - 1 if own is not None else 0
        self.image = widgets.Dropdown(options=options, value=start, description="image")
        self.kernel = widgets.Dropdown(options=list(KERNELS), value=kernel, description="kernel")
        self.stride = widgets.Dropdown(options=[1, 2], value=1, description="stride")
        self.padding = widgets.Dropdown(options=list(PADDINGS), value="valid", description="padding")
        self.position = widgets.IntSlider(value=0, min=0, max=1, description="position")
        self.next = widgets.Button(description="next", icon="step-forward")
        self.caption, self.sum = widgets.HTML(), widgets.HTML()
        fit = widgets.Layout(max_width="100%", height="auto")
        self.input, self.map, self.bar = (widgets.Image(format="png", layout=fit) for _ in range(3))
        self.patch = widgets.HTML()
        names = "image kernel stride padding position next caption sum input patch map bar"
        for name in names.split():
            getattr(self, name).add_class(f"mnist-conv-{name}")
        wrap = widgets.Layout(flex_flow="row wrap")
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.image, self.kernel, self.stride, self.padding], layout=wrap),
                widgets.HBox([self.position, self.next], layout=wrap),
                self.caption,
                widgets.HBox([self.input, self.map, self.bar, widgets.VBox([self.patch, self.sum])], layout=wrap),
            ]
        )
        self.widget.add_class("mnist-conv")
        self.full = np.zeros((0, 0))
        self.shown_cell, self.shown_value, self.shown_map = (-1, -1), float("nan"), self.full
        self._settings: tuple[Any, ...] = ()
        self._quiet, self._bar_top = False, 0.0
        for control in (self.image, self.kernel, self.stride, self.padding, self.position):
            control.observe(self._on_change, names="value")
        self.next.on_click(self._on_next)
        self.update()
        rows, cols = self.full.shape  # by default start at the centre: the map half filled in, the window on ink
        self.position.value = (rows // 2) * cols + cols // 2 if position is None else position

    def _on_change(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.update()

    def _on_next(self, button: Any) -> None:
        """One position further, back to the first after the last."""
        self.position.value = self.position.value + 1 if self.position.value < self.position.max else 0

    def _recompute(self, settings: tuple[Any, ...]) -> None:
        """A new image, kernel, stride or padding: compute the whole map; the slider keeps its position when the
        map keeps its shape, stays at the end if it was there, else starts again at 0."""
        index, name, stride, padding = settings
        old_shape, at_end = self.full.shape, self.full.size > 0 and self.position.value == self.position.max
        self.full = feature_map(self.pictures[index], KERNELS[name], stride, padding)
        self._settings, last = settings, self.full.size - 1
        value = self.position.value if self.full.shape == old_shape else last if at_end else 0
        self._quiet = True
        try:
            self.position.max = last
            self.position.value = value
        finally:
            self._quiet = False

    def update(self) -> None:
        """Show the window, the multiply-add and the map so far for the controls' current values."""
        settings = (int(self.image.value), self.kernel.value, int(self.stride.value), self.padding.value)
        if settings != self._settings:
            self._recompute(settings)
        index, name, stride, padding = settings
        image, kernel = self.pictures[index], KERNELS[name]
        position = min(int(self.position.value), self.full.size - 1)
        row, col = divmod(position, self.full.shape[1])
        padded, offset = pad_image(image, kernel.shape[0], stride, padding)
        patch = window_at(padded, row, col, kernel.shape[0], stride)
        self.shown_cell, self.shown_value = (row, col), multiply_add(patch, kernel)[1]
        self.shown_map = map_so_far(self.full, position)
        rows, cols = self.full.shape
        rule = size_text(image.shape[0], kernel.shape[0], stride, padding)
        if image.shape[0] != image.shape[1]:
            rule = f"rows {rule}; columns {size_text(image.shape[1], kernel.shape[0], stride, padding)}"
        self.caption.value = (
            f"{rule}: a <b>{rows} × {cols}</b> map &middot; position <b>{position}</b> of 0 to {self.full.size - 1} "
            f"(row {row}, column {col}), the window moves {stride} pixel(s) per step"
        )
        self.sum.value = sum_html(patch, kernel, row, col)
        self.input.value = png_bytes(input_rgb(padded, offset, image.shape, (row, col), kernel.shape[0], stride))
        self.patch.value = tables_html(patch, kernel, name)
        top = float(np.abs(self.full).max()) or 1.0
        self.map.value = png_bytes(map_rgb(self.shown_map, top, (row, col)))
        if self._bar_top != top:
            self.bar.value, self._bar_top = colour_bar_png(top), top


__all__ = ["KERNELS", "ConvStepper", "feature_map", "map_so_far", "multiply_add", "output_size", "same_padding"]
