"""The draw-a-digit pad of notebook 08: draw with mouse or finger, see the MNIST preprocessing, the model's
probabilities and the feature maps of your own drawing. Its parts wrap onto new lines in a narrow window."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from mnist_course.data import NUM_CLASSES
from mnist_course.lessons.playground import Point, preprocess_steps, resize_area, strokes_to_image
from mnist_course.plots import tile_images
from mnist_course.predict import probabilities
from mnist_course.widgets.compat import Shown
from mnist_course.widgets.draw_canvas import DrawCanvas
from mnist_course.widgets.render import png_bytes

PROMPT = "<i>draw a digit in the box (mouse or finger)</i>"
TOO_MUCH_INK = "<i>the ink covers most of the box: press Clear and draw one digit</i>"


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
            f'<span style="margin-left:4px;font-size:9pt">{100 * p:.1f} %</span></div>'
        )
    return '<div class="mnist-draw-bars">' + "".join(rows) + "</div>"


def maps_mosaic(maps: np.ndarray, *, max_channels: int = 16, ncols: int = 8, gap: int = 1) -> np.ndarray:
    """The first channels of (height, width, channels) maps tiled in a grid as an RGB uint8 image, each channel on
    the course's signed scale (red positive, blue negative, white 0), divided by its own largest |value|; gaps are
    light grey."""
    from mnist_course.widgets.feature_explorer import colour_map

    maps = np.asarray(maps, dtype=np.float64)
    tiles = [colour_map(maps[..., c]) for c in range(min(maps.shape[-1], max_channels))]
    return tile_images(tiles, ncols, gap=gap, fill=200)


def _fit(image: np.ndarray, side: int) -> np.ndarray:
    """Shrink ``image`` (area averaging) so its longer side is at most ``side`` pixels; smaller ones are kept."""
    h, w = image.shape[:2]
    if max(h, w) <= side:
        return image
    s = side / max(h, w)
    return np.round(resize_area(image, max(1, round(h * s)), max(1, round(w * s)))).astype(np.uint8)


def _show(widget: widgets.Image, image: np.ndarray, scale: int = 1) -> None:
    """Put ``image`` (upscaled ``scale`` times) in an Image widget at its own pixel size, shrunk (never stretched)
    only when its box is narrower."""
    widget.value = png_bytes(image, scale=scale)
    widget.width, widget.height = str(image.shape[1] * scale), str(image.shape[0] * scale)
    widget.layout.width, widget.layout.height = f"{image.shape[1] * scale}px", "auto"


def _image(name: str) -> widgets.Image:
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
    image.add_class(f"mnist-draw-{name}")
    return image


def _column(children: list[widgets.Widget], flex: str, **layout: str) -> widgets.VBox:
    """A column of the pad that keeps its own width (``flex`` "0 0 auto") or shares what is left ("1 1 ...")."""
    return widgets.VBox(children, layout=widgets.Layout(flex=flex, **layout))


class DrawPad(Shown):
    """Draw a digit on ``canvas`` (a :class:`DrawCanvas`); the strokes arrive in Python (``strokes``). ``update()``
    turns them into the 28x28 MNIST input (showing crop, 20x20 box and final image), runs ``model`` on it
    (``probabilities``, ``predicted``, bar chart ``bars``) and shows the feature maps of the layer chosen in ``layer``.

    While the pen is down the prediction refreshes at most every ``live_interval`` seconds, and fully when it is
    lifted. ``set_strokes`` draws from code; ``start_stroke``/``extend_stroke``/``end_stroke`` move the pen from code
    (malformed points raise a ValueError there). Malformed strokes from the browser are ignored with a logged warning
    (see :class:`DrawCanvas`); a drawing that covers most of the box gets a message instead of a prediction.
    """

    def __init__(
        self,
        model: Any,
        *,
        size: int = 280,
        pen_width: float = 18.0,
        live_interval: float = 0.3,
        max_channels: int = 16,
    ) -> None:
        from mnist_course.lessons.what_the_cnn_sees.features import feature_layers, layer_titles

        self.model, self.size, self.pen_width = model, size, pen_width
        self.live_interval, self.max_channels = live_interval, max_channels
        self.probabilities: np.ndarray | None = None
        self.predicted: int | None = None
        self.image28 = np.zeros((28, 28), dtype=np.uint8)
        self._last_update, self._submodels, self._shown = 0.0, {}, None

        self.canvas = DrawCanvas(size=size, pen_width=pen_width)
        self.canvas.observe(self._on_canvas, names=["strokes", "drawing"])
        self.clear_button = widgets.Button(description="Clear", icon="eraser")
        self.clear_button.add_class("mnist-draw-clear")
        self.clear_button.on_click(lambda _: self.clear())

        layers = feature_layers(model)
        titles = layer_titles(model)
        self.layer = widgets.Dropdown(
            options=[(titles.get(name, name), name) for name in layers] or ["(no convolutional layers)"],
            description="layer",
            disabled=not layers,
        )
        self.layer.add_class("mnist-draw-layer")
        self.layer.observe(lambda _: self.update(), names="value")

        self.prediction = widgets.HTML(PROMPT)
        self.prediction.add_class("mnist-draw-prediction")
        self.bars = widgets.HTML(bars_html(None))
        self.steps_caption = widgets.HTML()
        self.crop_image, self.box_image, self.final_image = _image("crop"), _image("box"), _image("input")
        self.maps_caption = widgets.HTML()
        self.maps_image = _image("maps")
        steps = widgets.HBox(
            [
                self._titled("1. the ink, cropped", self.crop_image),
                self._titled("2. fitted into 20×20", self.box_image),
                self._titled("3. the 28×28 input", self.final_image),
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        top = widgets.HBox(
            [
                _column([self.canvas, self.clear_button], "0 0 auto"),
                _column([self.prediction, self.bars], "0 0 auto", width="250px"),
                _column([steps, self.steps_caption], "1 1 320px", min_width="0", max_width="480px"),
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start", grid_gap="12px 16px"),
        )
        top.add_class("mnist-draw-top")
        self.widget = widgets.VBox(
            [top, self.layer, self.maps_caption, self.maps_image], layout=widgets.Layout(max_width="100%")
        )
        self.widget.add_class("mnist-draw")
        self.update()

    def static_png(self) -> bytes | None:
        """The stored picture: what the pad shows (its images), or before anything is drawn, the empty canvas beside
        the ten bars at 0 %, so a reader without a kernel sees what the widget looks like."""
        shown = super().static_png()
        if shown is not None:
            return shown
        import io

        from matplotlib.figure import Figure

        fig = Figure(figsize=(5.0, 2.6), dpi=100, facecolor="white")
        pad, bars = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
        pad.set(xlim=(0, 1), ylim=(0, 1), xticks=[], yticks=[], aspect="equal")
        pad.text(0.5, 0.5, "draw a digit here", ha="center", va="center", color="0.45")
        bars.barh(range(10), [0] * 10)
        bars.set(xlim=(0, 100), yticks=range(10), xlabel="probability (%)", title="the model's answer")
        bars.invert_yaxis()
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()

    @staticmethod
    def _titled(title: str, image: widgets.Image) -> widgets.VBox:
        return widgets.VBox(
            [widgets.HTML(f"<b>{title}</b>"), image],
            layout=widgets.Layout(margin="0 12px 8px 0", flex="0 1 auto", min_width="0"),
        )

    @property
    def strokes(self) -> list[list[Point]]:
        """The drawing: one list of (x, y) canvas points per stroke, as the canvas holds it."""
        return [[(float(x), float(y)) for x, y in stroke] for stroke in self.canvas.strokes]

    @property
    def drawing(self) -> bool:
        """Whether the pen is down (a stroke is being drawn)."""
        return self.canvas.drawing

    def _on_canvas(self, change: dict[str, Any]) -> None:
        """The canvas changed (the browser's pen, or code): refresh now and then while drawing, fully when done."""
        if self.canvas.drawing:
            if time.monotonic() - self._last_update >= self.live_interval:
                self.update(maps=False)
        elif self._shown != self.canvas.strokes:
            self.update()

    def start_stroke(self, x: float, y: float) -> None:
        """Pen down at (x, y): a new stroke (a dot until the pen moves)."""
        self.canvas.show([*self.canvas.strokes, [[x, y]]], drawing=True)

    def extend_stroke(self, x: float, y: float) -> None:
        """Pen moved to (x, y): extend the current stroke (ignored when the pen is up)."""
        if self.canvas.drawing and self.canvas.strokes:
            self.canvas.show([*self.canvas.strokes[:-1], [*self.canvas.strokes[-1], [x, y]]], drawing=True)

    def end_stroke(self) -> None:
        """Pen up: the stroke is finished; everything is updated."""
        if self.canvas.drawing:
            self.canvas.drawing = False

    def clear(self) -> None:
        """Forget every stroke and wipe the canvas and the results."""
        self.canvas.show([], drawing=False)

    def set_strokes(self, strokes: Sequence[Sequence[Point]]) -> None:
        """Replace the drawing with ``strokes`` (lists of (x, y) points), draw them and update: a drawing from code."""
        self.canvas.show(strokes, drawing=False)

    def update(self, *, maps: bool = True) -> None:
        """Preprocess the strokes, predict, and redraw the steps, the bars and (with ``maps``) the feature maps."""
        self._last_update = time.monotonic()
        self._shown = None if self.canvas.drawing else [list(map(list, s)) for s in self.canvas.strokes]
        raw = strokes_to_image(self.strokes, size=self.size, width=self.pen_width)
        try:
            steps = preprocess_steps(raw)
        except ValueError as error:  # a canvas covered in ink is refused as black-on-white: no prediction for it
            self._show_nothing(TOO_MUCH_INK if np.median(raw) >= 128 else f"<i>{html.escape(str(error))}</i>")
            return
        self.image28 = steps.final
        if not steps.final.any():
            self._show_nothing(PROMPT)
            return
        self.probabilities = probabilities(self.model, steps.final)[0]
        self.predicted = int(np.argmax(self.probabilities))
        self.prediction.value = (
            f'<span style="font-size:16pt">prediction: <b>{self.predicted}</b></span> '
            f"({100 * self.probabilities[self.predicted]:.1f} %)"
        )
        self.bars.value = bars_html(self.probabilities)
        _show(self.crop_image, _fit(steps.crop, 140))
        _show(self.box_image, steps.box, 5)
        _show(self.final_image, steps.final, 5)
        dy, dx = steps.shift
        self.steps_caption.value = (
            f"crop {steps.crop.shape[0]}×{steps.crop.shape[1]} px → longer side scaled to 20 → centre of mass "
            f"moved from ({steps.centre_before[0]:.1f}, {steps.centre_before[1]:.1f}) by ({dy:+d}, {dx:+d}) "
            "pixels towards (14, 14)"
        )
        if maps:
            self._show_maps()

    def _show_nothing(self, message: str) -> None:
        """No prediction: ``message`` instead, empty bars, steps and maps, and a blank 28x28 input."""
        self.image28 = np.zeros((28, 28), dtype=np.uint8)
        self.probabilities, self.predicted = None, None
        self.prediction.value, self.bars.value = message, bars_html(None)
        self.steps_caption.value = self.maps_caption.value = ""
        for image in (self.crop_image, self.box_image, self.final_image, self.maps_image):
            image.value = b""

    def _show_maps(self) -> None:
        if self.layer.disabled:
            self.maps_caption.value = "<i>this model has no layers with feature maps (it is not convolutional)</i>"
            return
        import keras

        from mnist_course.lessons.what_the_cnn_sees.features import intermediate_model
        from mnist_course.predict import to_batch

        name = self.layer.value
        if name not in self._submodels:
            self._submodels[name] = intermediate_model(self.model, [name])
        maps = keras.ops.convert_to_numpy(self._submodels[name](to_batch(self.model, self.image28), training=False))[0]
        shown = min(maps.shape[-1], self.max_channels)
        self.maps_caption.value = (
            f"<b>{self.layer.label}</b>: {maps.shape[-1]} maps of {maps.shape[0]}×{maps.shape[1]}, first {shown} "
            "shown, each on its own scale (red positive, blue negative, white 0)"
        )
        _show(self.maps_image, maps_mosaic(maps, max_channels=self.max_channels), max(1, 48 // maps.shape[0]))


__all__ = ["DrawPad", "bars_html", "maps_mosaic"]
