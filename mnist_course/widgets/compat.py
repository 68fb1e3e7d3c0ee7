"""What differs between ipywidgets 7 (Google Colab) and 8, in one place: how a widget is put into a cell's output."""

from __future__ import annotations

import base64
import io
import os
from typing import Any

import ipywidgets as widgets

from mnist_course.notebook import STORED_OUTPUTS_ENV

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
# With $MNIST_COURSE_STORED_OUTPUTS at "1" the static picture becomes an output of its own, shown before the widget:
# nbconvert's HTML and nbviewer show a widget view's script (never the PNG beside it in one output), offline nothing.
IPYWIDGETS_MAJOR = int(widgets.__version__.split(".")[0])


def widget_bundle(widget: widgets.Widget, **kwargs: Any) -> Any:
    """The output bundle showing ``widget``: its own ``_repr_mimebundle_`` in ipywidgets 8; in ipywidgets 7, which
    has none (it displays through ``_ipython_display_``), the same view reference built here."""
    own = getattr(widget, "_repr_mimebundle_", None)
    if own is not None:
        return own(**kwargs)
    plain = repr(widget)
    bundle = {"text/plain": plain[:110] + ("…" if len(plain) > 110 else "")}
    if widget._view_name is not None:
        bundle[WIDGET_VIEW_MIME] = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
        displayed = getattr(widget, "_handle_displayed", None)  # ipywidgets 7: runs the on_displayed callbacks
        if displayed is not None:
            displayed()
    return bundle


def pictures(widget: widgets.Widget) -> list[bytes]:
    """The PNG images a widget shows, depth first: every ``Image`` widget's value among its children."""
    found: list[bytes] = []
    if isinstance(widget, widgets.Image) and widget.format == "png" and widget.value:
        found.append(bytes(widget.value))
    for child in getattr(widget, "children", ()):
        found += pictures(child)
    return found


def snapshot_png(widget: widgets.Widget) -> bytes | None:
    """One static PNG of what ``widget`` shows now (its images side by side, on white), or None when it shows none:
    what GitHub, nbviewer and ``jupyter nbconvert`` display where the widget itself cannot run."""
    images = pictures(widget)
    if not images:
        return None
    import matplotlib.image
    from matplotlib.figure import Figure

    arrays = [matplotlib.image.imread(io.BytesIO(png), format="png") for png in images]
    height = max(a.shape[0] for a in arrays)
    width = sum(a.shape[1] for a in arrays) + 12 * (len(arrays) - 1)
    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
    left = 0
    for array in arrays:
        ax = fig.add_axes((left / width, 1 - array.shape[0] / height, array.shape[1] / width, array.shape[0] / height))
        ax.imshow(array, cmap="gray", interpolation="nearest")
        ax.set_axis_off()
        left += array.shape[1] + 12
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


STILL_CAPTION = "the pictures the widget below shows as it starts (for where widgets cannot run)"


class Shown:
    """Mixin for the course's widget classes: a cell ending with one shows its ``widget`` (ipywidgets 7 and 8).

    Where widgets cannot run (GitHub, nbviewer, a static export) the output carries a static PNG of the widget's
    images as they are when shown, and plain text naming the widget in one sentence (not the ipywidgets repr, with its
    memory addresses). With ``$MNIST_COURSE_STORED_OUTPUTS`` set to "1" the PNG is shown as an output of its own just
    before the widget (see :data:`STORED_OUTPUTS_ENV`)."""

    widget: widgets.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = widget_bundle(self.widget, **kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, None)  # some versions return a pair
        data = {**data, "text/plain": self.plain_text()}
        still = self.static_png()
        if still is not None:
            data["image/png"] = base64.b64encode(still).decode("ascii")
        return data if metadata is None else (data, metadata)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        bundle = self._repr_mimebundle_()
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, None)
        if os.environ.get(STORED_OUTPUTS_ENV) == "1" and "image/png" in data:
            data = dict(data)
            still = {"image/png": data.pop("image/png"), "text/plain": f"{type(self).__name__}: {STILL_CAPTION}"}
            display(still, raw=True)
        display(data, metadata=metadata, raw=True)

    def static_png(self) -> bytes | None:
        """The picture stored with the output: the widget's images side by side (:func:`snapshot_png`)."""
        return snapshot_png(self.widget)

    def plain_text(self) -> str:
        """What a reader sees where the widget cannot run."""
        return f"{type(self).__name__}: an interactive widget (run the notebook in JupyterLab, VS Code or Colab)"


__all__ = [
    "IPYWIDGETS_MAJOR",
    "STORED_OUTPUTS_ENV",
    "WIDGET_VIEW_MIME",
    "Shown",
    "pictures",
    "snapshot_png",
    "widget_bundle",
]
