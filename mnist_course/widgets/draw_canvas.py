"""A canvas to draw on with mouse, pen or finger, as an anywidget: its JavaScript travels with the widget (no build
step, no front-end extension to install), so it renders in JupyterLab, Jupyter Notebook, VS Code and Colab alike."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import anywidget
import traitlets

from mnist_course.lessons.playground import MAX_POINTS, MAX_STROKES, check_strokes

logger = logging.getLogger(__name__)

# The front end (an ES module, run by anywidget in the browser). It draws every stroke itself, so drawing feels
# immediate, and sends the strokes to Python while the pen moves (at most every SEND_MS) and when it is lifted. It
# stops adding points at MAX_POINTS and strokes at MAX_STROKES, the most Python accepts.
ESM = r"""
const SEND_MS = 80;
const MAX_POINTS = __MAX_POINTS__, MAX_STROKES = __MAX_STROKES__;

function render({ model, el }) {
  const canvas = document.createElement("canvas");
  canvas.className = "mnist-draw-canvas";
  const ctx = canvas.getContext("2d");
  let strokes = [], drawing = false, lastSent = 0, count = 0;

  function resize() {
    const size = model.get("size");
    canvas.width = size;
    canvas.height = size;
    canvas.style.width = size + "px";
    canvas.style.height = size + "px";
  }
  function paint() {
    const pen = model.get("pen_width");
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = ctx.strokeStyle = "black";
    ctx.lineWidth = pen;
    ctx.lineCap = ctx.lineJoin = "round";
    for (const stroke of strokes) {
      ctx.beginPath();
      if (stroke.length === 1) {
        ctx.arc(stroke[0][0], stroke[0][1], pen / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.moveTo(stroke[0][0], stroke[0][1]);
      for (const [x, y] of stroke.slice(1)) ctx.lineTo(x, y);
      ctx.stroke();
    }
  }
  function fromModel() {
    if (drawing) return;  // our own stroke in progress wins over an echo
    strokes = (model.get("strokes") || []).map((s) => s.map(([x, y]) => [x, y]));
    count = strokes.reduce((n, s) => n + s.length, 0);
    paint();
  }
  function point(event) {
    const box = canvas.getBoundingClientRect(), scale = canvas.width / box.width;
    const clamp = (v) => Math.round(10 * Math.min(Math.max(v * scale, 0), canvas.width)) / 10;
    return [clamp(event.clientX - box.left), clamp(event.clientY - box.top)];
  }
  function send() {
    lastSent = Date.now();
    model.set("strokes", strokes.map((s) => s.map(([x, y]) => [x, y])));
    model.set("drawing", drawing);
    model.save_changes();
  }
  function down(event) {
    event.preventDefault();
    if (count >= MAX_POINTS || strokes.length >= MAX_STROKES) return;
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    strokes.push([point(event)]);
    count += 1;
    paint();
    send();
  }
  function move(event) {
    if (!drawing) return;
    event.preventDefault();
    if (count >= MAX_POINTS) return;
    strokes[strokes.length - 1].push(point(event));
    count += 1;
    paint();
    if (Date.now() - lastSent >= SEND_MS) send();
  }
  function up(event) {
    if (!drawing) return;
    drawing = false;
    if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
    send();
  }
  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  const onSize = () => { resize(); paint(); };
  model.on("change:strokes", fromModel);
  model.on("change:size", onSize);
  model.on("change:pen_width", paint);
  resize();
  fromModel();
  el.classList.add("mnist-draw-canvas-box");
  el.appendChild(canvas);
  return () => {
    model.off("change:strokes", fromModel);
    model.off("change:size", onSize);
    model.off("change:pen_width", paint);
  };
}

export default { render };
""".replace("__MAX_POINTS__", str(MAX_POINTS)).replace("__MAX_STROKES__", str(MAX_STROKES))

CSS = """
.mnist-draw-canvas-box { flex: 0 0 auto; line-height: 0; }
.mnist-draw-canvas { border: 2px solid #888; box-sizing: content-box; cursor: crosshair; touch-action: none;
                     display: block; }
"""


class DrawCanvas(anywidget.AnyWidget):
    """A ``size`` x ``size`` white square drawn on in black, ``pen_width`` pixels wide with round ends.

    ``strokes`` (synced both ways) holds the drawing as lists of [x, y] canvas points; ``drawing`` is true while
    the pen is down. Setting ``strokes`` from Python redraws the canvas; the browser sets both as the pen moves.
    Strokes set from Python are checked (:func:`~mnist_course.lessons.playground.check_strokes`, a TraitError when
    malformed); a malformed state from the browser is ignored with a logged warning and the last good state kept.
    """

    _esm = ESM
    _css = CSS
    size = traitlets.Int(280).tag(sync=True)
    pen_width = traitlets.Float(18.0).tag(sync=True)
    strokes = traitlets.List(traitlets.List()).tag(sync=True)
    drawing = traitlets.Bool(False).tag(sync=True)

    @traitlets.validate("strokes")
    def _check_strokes(self, proposal: dict[str, Any]) -> list[list[list[float]]]:
        try:
            return _as_lists(proposal["value"])
        except ValueError as error:
            raise traitlets.TraitError(str(error)) from None

    def set_state(self, sync_data: Any) -> None:
        """Apply a state update from the browser: a malformed part is left out with a warning, never raised."""
        if not isinstance(sync_data, dict):
            logger.warning("ignored a canvas update that is not a dict of traits: %.80r", sync_data)
            return
        state = dict(sync_data)
        if "strokes" in state:
            try:
                state["strokes"] = _as_lists(state["strokes"])
            except ValueError as error:
                logger.warning("ignored the strokes sent by the drawing canvas, keeping the last good ones: %s", error)
                del state["strokes"]
        if "drawing" in state and not isinstance(state["drawing"], bool):
            logger.warning("ignored a canvas 'drawing' that is not true or false: %.80r", state["drawing"])
            del state["drawing"]
        if not state:
            return
        try:
            super().set_state(state)
        except (traitlets.TraitError, TypeError, ValueError) as error:
            logger.warning("ignored a malformed canvas update %.80r: %s", state, error)

    def show(self, strokes: Sequence[Sequence[Sequence[float]]], drawing: bool = False) -> None:
        """Set ``strokes`` and ``drawing`` together (one change for observers, one message to the browser); malformed
        strokes raise a ValueError and change nothing."""
        checked = _as_lists(strokes)
        with self.hold_sync(), self.hold_trait_notifications():
            self.strokes = checked
            self.drawing = drawing


def _as_lists(strokes: object) -> list[list[list[float]]]:
    """Checked strokes as JSON-ready lists of [x, y] floats (a ValueError when malformed, see ``check_strokes``)."""
    return [[[x, y] for x, y in stroke] for stroke in check_strokes(strokes)]


__all__ = ["CSS", "ESM", "DrawCanvas"]
