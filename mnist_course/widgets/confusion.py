"""A clickable confusion matrix: one button per (true, predicted) cell; a click shows exactly those digits."""

from __future__ import annotations

import base64

import ipywidgets as widgets
import numpy as np

from mnist_course.data import NUM_CLASSES
from mnist_course.evaluation import confusion_matrix, plot_confusion_matrix
from mnist_course.widgets.compat import Shown
from mnist_course.widgets.render import png_bytes, text_colour

# The widget's counts are the evaluation's confusion matrix, under the name notebook 08 teaches.


def cell_indices(y_true: np.ndarray, y_pred: np.ndarray, true: int, pred: int) -> np.ndarray:
    """Indices (in order) of the examples whose true label is ``true`` and predicted label is ``pred``."""
    return np.flatnonzero((np.asarray(y_true) == true) & (np.asarray(y_pred) == pred))


def cell_colour(count: int, top: int, correct: bool) -> str:
    """Background of a cell: white for 0, deeper green (correct) or red (mistakes) as ``count`` nears ``top``."""
    if count == 0 or top == 0:
        return "#ffffff"
    strength = 0.15 + 0.85 * min(count / top, 1.0)
    base = (46, 139, 87) if correct else (214, 39, 40)
    r, g, b = (round(255 - strength * (255 - c)) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def gallery_html(images: np.ndarray, indices: np.ndarray, *, scale: int = 2) -> str:
    """Small pictures of ``images[indices]``, each captioned with its index, as one HTML block."""
    figures = []
    for index in indices:
        data = base64.b64encode(png_bytes(images[int(index)], scale=scale)).decode("ascii")
        figures.append(
            f'<figure style="margin:2px;text-align:center;font-size:8pt">'
            f'<img src="data:image/png;base64,{data}" alt="digit {int(index)}"/>'
            f"<figcaption>#{int(index)}</figcaption></figure>"
        )
    return '<div class="mnist-confusion-digits" style="display:flex;flex-wrap:wrap">' + "".join(figures) + "</div>"


class ConfusionMatrix(Shown):
    """The confusion matrix of ``y_true`` vs ``y_pred`` as a 10x10 grid of buttons (label = count, colour = count,
    green on the diagonal, red off it). Clicking cell (i, j) fills the gallery below with the images whose true
    label is i and predicted label is j (at most ``max_gallery``); ``selected`` and ``shown_indices`` say which.
    """

    def __init__(
        self, images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, *, max_gallery: int = 64, scale: int = 2
    ) -> None:
        self.images, self.y_true, self.y_pred = np.asarray(images), np.asarray(y_true), np.asarray(y_pred)
        if len(self.images) != len(self.y_true):
            raise ValueError(f"{len(self.images)} images but {len(self.y_true)} labels")
        self.counts = confusion_matrix(self.y_true, self.y_pred)
        self.max_gallery, self.scale = max_gallery, scale
        off_diagonal = self.counts[~np.eye(NUM_CLASSES, dtype=bool)]
        top_wrong, top_right = int(off_diagonal.max()), int(np.diag(self.counts).max())
        self.buttons: list[list[widgets.Button]] = []
        cells: list[widgets.Widget] = [widgets.HTML("<b>true ↓ pred →</b>")]
        cells += [
            widgets.HTML(f"<b>{j}</b>", layout=widgets.Layout(justify_content="center")) for j in range(NUM_CLASSES)
        ]
        for i in range(NUM_CLASSES):
            cells.append(widgets.HTML(f"<b>{i}</b>"))
            row = []
            for j in range(NUM_CLASSES):
                count = int(self.counts[i, j])
                button = widgets.Button(
                    description=str(count),
                    tooltip=f"true {i}, predicted {j}: {count}",
                    layout=widgets.Layout(width="auto", height="28px", padding="0"),
                )
                button.style.button_color = cell_colour(count, top_right if i == j else top_wrong, i == j)
                if hasattr(button.style, "text_color"):  # ipywidgets 8; 7's buttons keep their theme's text colour
                    button.style.text_color = text_colour(button.style.button_color)
                button.add_class("mnist-confusion-cell")
                button.on_click(lambda _, i=i, j=j: self.select(i, j))
                row.append(button)
            self.buttons.append(row)
            cells += row
        self.grid = widgets.GridBox(
            cells, layout=widgets.Layout(grid_template_columns="110px " + "52px " * NUM_CLASSES, grid_gap="2px")
        )
        self.grid.add_class("mnist-confusion-grid")
        self.caption = widgets.HTML("<i>click a cell to see its digits</i>")
        self.caption.add_class("mnist-confusion-caption")
        self.gallery = widgets.HTML()
        self.gallery.add_class("mnist-confusion-gallery")
        self.widget = widgets.VBox([self.grid, self.caption, self.gallery])
        self.widget.add_class("mnist-confusion")
        self.selected: tuple[int, int] | None = None
        self.shown_indices = np.zeros(0, dtype=np.int64)

    def static_png(self) -> bytes | None:
        """The stored picture: the matrix as the course's confusion-matrix figure (the buttons hold no images)."""
        import io

        buffer = io.BytesIO()
        plot_confusion_matrix(self.counts, title="the matrix of the widget (click its cells when it runs)").savefig(
            buffer, format="png", facecolor="white"
        )
        return buffer.getvalue()

    def select(self, true: int, pred: int) -> np.ndarray:
        """Show the digits of cell (true, pred) in the gallery and return their indices (all, not just shown)."""
        every = cell_indices(self.y_true, self.y_pred, true, pred)
        self.selected, self.shown_indices = (true, pred), every[: self.max_gallery]
        kind = "correct" if true == pred else "mistakes"
        more = f", showing the first {len(self.shown_indices)}" if len(every) > len(self.shown_indices) else ""
        self.caption.value = (
            f"<b>true {true}, predicted {pred}</b>: {len(every)} digits ({kind}){more}"
            if len(every)
            else f"<b>true {true}, predicted {pred}</b>: no digit here"
        )
        self.gallery.value = gallery_html(self.images, self.shown_indices, scale=self.scale)
        return every


__all__ = ["ConfusionMatrix", "cell_colour", "cell_indices", "gallery_html"]
