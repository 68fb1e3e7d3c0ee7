"""A canvas to draw on with mouse, pen or finger, as an anywidget: its JavaScript travels with the widget (no build
step, no front-end extension to install), so it renders in JupyterLab, Jupyter Notebook, VS Code and Colab alike."""

from __future__ import annotations

from collections.abc import Sequence

import anywidget
import traitlets

# The front end (an ES module, run by anywidget in the browser). It draws every stroke itself, so drawing feels
# immediate, and sends the strokes to Python while the pen moves (at most every SEND_MS) and when it is lifted.
ESM = r"""
const SEND_MS = 80;

function render({ model, el }) {
  const canvas = document.createElement("canvas");
  canvas.className = "mnist-draw-canvas";
  const ctx = canvas.getContext("2d");
  let strokes = [], drawing = false, lastSent = 0;

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
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    strokes.push([point(event)]);
    paint();
    send();
  }
  function move(event) {
    if (!drawing) return;
    event.preventDefault();
    strokes[strokes.length - 1].push(point(event));
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
"""

CSS = """
.mnist-draw-canvas-box { flex: 0 0 auto; line-height: 0; }
.mnist-draw-canvas { border: 2px solid #888; box-sizing: content-box; cursor: crosshair; touch-action: none;
                     display: block; }
"""


class DrawCanvas(anywidget.AnyWidget):
    """A ``size`` x ``size`` white square drawn on in black, ``pen_width`` pixels wide with round ends.

    ``strokes`` (synced both ways) holds the drawing as lists of [x, y] canvas points; ``drawing`` is true while
    the pen is down. Setting ``strokes`` from Python redraws the canvas; the browser sets both as the pen moves.
    """

    _esm = ESM
    _css = CSS
    size = traitlets.Int(280).tag(sync=True)
    pen_width = traitlets.Float(18.0).tag(sync=True)
    strokes = traitlets.List(traitlets.List()).tag(sync=True)
    drawing = traitlets.Bool(False).tag(sync=True)

    def show(self, strokes: Sequence[Sequence[Sequence[float]]], drawing: bool = False) -> None:
        """Set ``strokes`` and ``drawing`` together (one change for observers, one message to the browser)."""
        with self.hold_sync(), self.hold_trait_notifications():
            self.strokes = [[[float(x), float(y)] for x, y in stroke] for stroke in strokes]
            self.drawing = drawing


__all__ = ["CSS", "ESM", "DrawCanvas"]
