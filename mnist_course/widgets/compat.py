"""What differs between ipywidgets 7 (Google Colab) and 8, in one place: how a widget is put into a cell's output."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
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


class Shown:
    """Mixin for the course's widget classes: a cell ending with one shows its ``widget`` (ipywidgets 7 and 8).

    Where widgets cannot run (GitHub, a static export) the output's plain text names the widget in one sentence
    instead of the ipywidgets repr (nested reprs with memory addresses)."""

    widget: widgets.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = widget_bundle(self.widget, **kwargs)
        if isinstance(bundle, tuple):  # (data, metadata), as some ipywidgets versions return
            data, metadata = bundle
            return {**data, "text/plain": self.plain_text()}, metadata
        return {**bundle, "text/plain": self.plain_text()}

    def plain_text(self) -> str:
        """What a reader sees where the widget cannot run."""
        return f"{type(self).__name__}: an interactive widget (run the notebook in JupyterLab, VS Code or Colab)"


__all__ = ["IPYWIDGETS_MAJOR", "WIDGET_VIEW_MIME", "Shown", "widget_bundle"]
