"""Interactive widgets of the notebooks, built so their logic can be tested without a browser.

Each widget is imported only when first asked for (``from mnist_course.widgets import ImageBrowser`` loads the image
browser alone, not anywidget, the race or the feature code).
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module of this package that defines it
_WHERE = {
    "ConfusionMatrix": "confusion",
    "ConvStepper": "conv_stepper",
    "DrawCanvas": "draw_canvas",
    "DrawPad": "draw_pad",
    "FeatureExplorer": "feature_explorer",
    "ImageBrowser": "browser",
    "ImageToVector": "vector",
    "OptimizerPlayground": "optimizer_playground",
    "RaceViewer": "race_viewer",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}: the widgets are {', '.join(__all__)}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
