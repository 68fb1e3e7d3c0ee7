"""The draw-a-digit pad of notebook 08: draw with mouse or finger, see the MNIST preprocessing, the model's
probabilities and the feature maps of your own drawing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from mnist_course.data import NUM_CLASSES
from mnist_course.draw import Point, preprocess_steps, predict, resize_area, strokes_to_image
from mnist_course.plots import tile_images
from mnist_course.widgets.render import png_bytes

PROMPT = "<i>draw a digit in the box (mouse or finger)</i>"


def bars_html(probabilities: np.ndarray | None) -> str:
    """A horizontal bar per digit 0..9 with its probability in percent; the most likely one in orange."""
    rows = []
    best = int(np.argmax(probabilities)) if probabilities is not None else -1
    for digit in range(NUM_CLASSES):
        p = float(probabilities[digit]) if probabilities is not None else 0.0
        colour = "#ff7f0e" if digit == best else "#1f77b4"
        rows.append(
            f'<div class="mnist-draw-bar" data-digit="{digit}" style="display:flex;align-items:center;height:18px">'
            f'<span style="width:1.2em;font-weight:bold">{digit}</span>'
            f'<span style="display:inline-block;background:{colour};height:12px;width:{round(150 * p)}px"></span>'
            f'<span style="margin-left:4px;font-size:9pt">{100 * p:.1f} %</span></div>')
    return '<div class="mnist-draw-bars">' + "".join(rows) + "</div>"


def maps_mosaic(maps: np.ndarray, *, max_channels: int = 16, ncols: int = 8, gap: int = 1) -> np.ndarray:
    """The first channels of (height, width, channels) maps tiled in a grid as an RGB uint8 image, each channel
    scaled to its own maximum and coloured with viridis (dark = 0); gaps are white."""
    from matplotlib import colormaps

    maps = np.asarray(maps, dtype=np.float64)
    viridis = colormaps["viridis"]
    tiles = []
    for c in range(min(maps.shape[-1], max_channels)):
        channel = maps[..., c] - min(maps[..., c].min(), 0.0)
        top = channel.max()
        tiles.append(np.round(255 * viridis(channel / top if top > 0 else channel)[..., :3]).astype(np.uint8))
    return tile_images(tiles, ncols, gap=gap, fill=255)


def _fit(image: np.ndarray, side: int) -> np.ndarray:
    """Shrink ``image`` (area averaging) so its longer side is at most ``side`` pixels; smaller ones are kept."""
    h, w = image.shape[:2]
    if max(h, w) <= side:
        return image
    s = side / max(h, w)
    return np.round(resize_area(image, max(1, round(h * s)), max(1, round(w * s)))).astype(np.uint8)


def _show(widget: widgets.Image, image: np.ndarray, scale: int = 1) -> None:
    """Put ``image`` (upscaled ``scale`` times) in an Image widget at its own pixel size, not stretched."""
    widget.value = png_bytes(image, scale=scale)
    widget.width, widget.height = image.shape[1] * scale, image.shape[0] * scale
    widget.layout.width, widget.layout.height = f"{image.shape[1] * scale}px", f"{image.shape[0] * scale}px"


def _image(name: str) -> widgets.Image:
    image = widgets.Image(format="png")
    image.add_class(f"mnist-draw-{name}")
    return image


class DrawPad:
    """Draw a digit on an ipycanvas ``canvas``; the strokes are kept in Python (``strokes``). ``update()`` turns them
    into the 28x28 MNIST input (showing crop, 20x20 box and final image), runs ``model`` on it (``probabilities``,
    ``predicted``, bar chart ``bars``) and shows the feature maps of the layer chosen in ``layer``.

    While drawing, the prediction refreshes at most every ``live_interval`` seconds and fully when a stroke ends.
    """

    def __init__(self, model: Any, *, size: int = 280, pen_width: float = 18.0, live_interval: float = 0.3,
                 max_channels: int = 16) -> None:
        from ipycanvas import Canvas

        from mnist_course.features import feature_layers

        self.model, self.size, self.pen_width = model, size, pen_width
        self.live_interval, self.max_channels = live_interval, max_channels
        self.strokes: list[list[Point]] = []
        self.drawing = False
        self.probabilities: np.ndarray | None = None
        self.predicted: int | None = None
        self.image28 = np.zeros((28, 28), dtype=np.uint8)
        self._last_update, self._submodels = 0.0, {}

        self.canvas = Canvas(width=size, height=size, layout=widgets.Layout(border="2px solid #888",
                                                                           width=f"{size + 4}px"))
        self.canvas.add_class("mnist-draw-canvas")
        self.canvas.on_mouse_down(self.start_stroke)
        self.canvas.on_mouse_move(self.extend_stroke)
        self.canvas.on_mouse_up(self.end_stroke)
        self.canvas.on_mouse_out(self.end_stroke)
        self.canvas.on_touch_start(lambda touches: touches and self.start_stroke(*touches[0]))
        self.canvas.on_touch_move(lambda touches: touches and self.extend_stroke(*touches[0]))
        self.canvas.on_touch_end(lambda touches: self.end_stroke())
        self.canvas.on_touch_cancel(lambda touches: self.end_stroke())
        self.clear_button = widgets.Button(description="Clear", icon="eraser")
        self.clear_button.add_class("mnist-draw-clear")
        self.clear_button.on_click(lambda _: self.clear())

        layers = feature_layers(model)
        self.layer = widgets.Dropdown(options=layers or ["(no convolutional layers)"], description="layer",
                                      disabled=not layers)
        self.layer.add_class("mnist-draw-layer")
        self.layer.observe(lambda _: self.update(), names="value")

        self.prediction = widgets.HTML(PROMPT)
        self.prediction.add_class("mnist-draw-prediction")
        self.bars = widgets.HTML(bars_html(None))
        self.steps_caption = widgets.HTML()
        self.crop_image, self.box_image, self.final_image = _image("crop"), _image("box"), _image("input")
        self.maps_caption = widgets.HTML()
        self.maps_image = _image("maps")
        steps = widgets.HBox([self._titled("1. the ink, cropped", self.crop_image),
                              self._titled("2. fitted into 20×20", self.box_image),
                              self._titled("3. the 28×28 input", self.final_image)])
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.canvas, self.clear_button]),
                          widgets.VBox([self.prediction, self.bars], layout=widgets.Layout(min_width="250px")),
                          widgets.VBox([steps, self.steps_caption], layout=widgets.Layout(max_width="480px"))],
                         layout=widgets.Layout(grid_gap="16px")),
            self.layer, self.maps_caption, self.maps_image,
        ])
        self.widget.add_class("mnist-draw")
        self._paper()
        self.update()

    @staticmethod
    def _titled(title: str, image: widgets.Image) -> widgets.VBox:
        return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), image], layout=widgets.Layout(margin="0 12px 0 0"))

    def _paper(self) -> None:
        """White paper and a black round pen on the canvas."""
        self.canvas.clear()
        self.canvas.fill_style = "white"
        self.canvas.fill_rect(0, 0, self.size, self.size)
        self.canvas.stroke_style = "black"
        self.canvas.line_width = self.pen_width
        self.canvas.line_cap = "round"
        self.canvas.line_join = "round"

    def start_stroke(self, x: float, y: float) -> None:
        """Pen down at (x, y): a new stroke (a dot until the pen moves)."""
        self.drawing = True
        self.strokes.append([(float(x), float(y))])
        self.canvas.fill_style = "black"
        self.canvas.fill_circle(x, y, self.pen_width / 2)

    def extend_stroke(self, x: float, y: float) -> None:
        """Pen moved to (x, y): extend the current stroke (ignored when the pen is up); refresh now and then."""
        if not self.drawing or not self.strokes:
            return
        x0, y0 = self.strokes[-1][-1]
        self.strokes[-1].append((float(x), float(y)))
        self.canvas.stroke_line(x0, y0, x, y)
        if time.monotonic() - self._last_update >= self.live_interval:
            self.update(maps=False)

    def end_stroke(self, x: float | None = None, y: float | None = None) -> None:
        """Pen up (or left the canvas): the stroke is finished; update everything."""
        if not self.drawing:
            return
        self.drawing = False
        self.update()

    def clear(self) -> None:
        """Forget every stroke and wipe the canvas and the results."""
        self.strokes, self.drawing = [], False
        self._paper()
        self.update()

    def set_strokes(self, strokes: Sequence[Sequence[Point]]) -> None:
        """Replace the drawing with ``strokes`` (lists of (x, y) points), draw them and update: a drawing from code."""
        self.strokes = [[(float(x), float(y)) for x, y in stroke] for stroke in strokes]
        self.drawing = False
        self._paper()
        for stroke in self.strokes:
            if len(stroke) == 1:
                self.canvas.fill_style = "black"
                self.canvas.fill_circle(*stroke[0], self.pen_width / 2)
            else:
                self.canvas.stroke_lines(stroke)
        self.update()

    def update(self, *, maps: bool = True) -> None:
        """Preprocess the strokes, predict, and redraw the steps, the bars and (with ``maps``) the feature maps."""
        self._last_update = time.monotonic()
        raw = strokes_to_image(self.strokes, size=self.size, width=self.pen_width)
        steps = preprocess_steps(raw)
        self.image28 = steps.final
        if not steps.final.any():
            self.probabilities, self.predicted = None, None
            self.prediction.value, self.bars.value = PROMPT, bars_html(None)
            self.steps_caption.value = self.maps_caption.value = ""
            for image in (self.crop_image, self.box_image, self.final_image, self.maps_image):
                image.value = b""
            return
        self.probabilities = predict(self.model, steps.final)
        self.predicted = int(np.argmax(self.probabilities))
        self.prediction.value = (f'<span style="font-size:16pt">prediction: <b>{self.predicted}</b></span> '
                                 f"({100 * self.probabilities[self.predicted]:.1f} %)")
        self.bars.value = bars_html(self.probabilities)
        _show(self.crop_image, _fit(steps.crop, 140))
        _show(self.box_image, steps.box, 5)
        _show(self.final_image, steps.final, 5)
        dy, dx = steps.shift
        self.steps_caption.value = (
            f"crop {steps.crop.shape[0]}×{steps.crop.shape[1]} px → longer side scaled to 20 → centre of mass "
            f"moved from ({steps.centre_before[0]:.1f}, {steps.centre_before[1]:.1f}) by ({dy:+d}, {dx:+d}) "
            "pixels towards (14, 14)")
        if maps:
            self._show_maps()

    def _show_maps(self) -> None:
        if self.layer.disabled:
            self.maps_caption.value = "<i>this model has no layers with feature maps (it is not convolutional)</i>"
            return
        from mnist_course.features import intermediate_model
        from mnist_course.predict import to_batch

        name = self.layer.value
        if name not in self._submodels:
            self._submodels[name] = intermediate_model(self.model, [name])
        maps = np.asarray(self._submodels[name](to_batch(self.model, self.image28), training=False))[0]
        shown = min(maps.shape[-1], self.max_channels)
        self.maps_caption.value = (f"<b>{name}</b>: {maps.shape[-1]} maps of {maps.shape[0]}×{maps.shape[1]}, "
                                   f"first {shown} shown (yellow = strong)")
        _show(self.maps_image, maps_mosaic(maps, max_channels=self.max_channels), max(1, 48 // maps.shape[0]))

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        return self.widget._repr_mimebundle_(**kwargs)


__all__ = ["DrawPad", "bars_html", "maps_mosaic"]
