"""The race viewer of notebook 07: a checkbox per run and an epoch/time switch over a plot of the checked runs."""

from __future__ import annotations

import io
from collections.abc import Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from mnist_course.lessons.optimizers_and_losses.plots import plot_race, run_color
from mnist_course.lessons.optimizers_and_losses.race import RaceRun, by_name
from mnist_course.widgets.compat import Shown


class RaceViewer(Shown):
    """Checkboxes (one per run) and an epoch/time switch over a plot of the checked runs.

    ``checkboxes`` maps run name -> ipywidgets.Checkbox; ``x_axis`` is a ToggleButtons; ``update()`` redraws the
    PNG in ``image`` (an Image widget: it shows the same in JupyterLab, Voila and test kernels). ``shown`` lists
    the plotted runs and ``figure`` is the last figure drawn. With results of several seeds, ``seed`` picks the seed
    whose curves are drawn (default: the first). Display it as the last line of a cell.
    """

    def __init__(self, results: Sequence[RaceRun], shown: Sequence[str] | None = None, seed: int | None = None) -> None:
        seed = results[0].setup.get("seed") if seed is None and results else seed
        self.results = [r for r in results if r.setup.get("seed") == seed]
        names = [r.spec.name for r in self.results]
        visible = set(names if shown is None else shown)
        self.colors = {n: run_color(n) for n in names}  # the colour each run has in every plot
        self.checkboxes = {
            n: widgets.Checkbox(value=n in visible, description=n, indent=False, layout=widgets.Layout(width="auto"))
            for n in names
        }
        self.x_axis = widgets.ToggleButtons(
            options=[("per epoch", "epoch"), ("per second", "time")], value="epoch", description="x axis"
        )
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        for box in self.checkboxes.values():
            box.add_class("mnist-race-checkbox")
            box.observe(lambda change: self.update(), names="value")
        self.x_axis.add_class("mnist-race-x")
        self.x_axis.observe(lambda change: self.update(), names="value")
        self.image.add_class("mnist-race-plot")
        boxes = widgets.HBox(list(self.checkboxes.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([boxes, self.x_axis, self.image])
        self.widget.add_class("mnist-race")
        self.shown: list[str] = []
        self.figure: Figure | None = None
        self.update()

    def update(self) -> None:
        """Redraw the plot with the checked runs, in the order of the results."""
        self.shown = [n for n, box in self.checkboxes.items() if box.value]
        self.figure = plot_race(by_name(self.results, *self.shown), x=self.x_axis.value, colors=self.colors)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        self.image.value = buffer.getvalue()


__all__ = ["RaceViewer"]
