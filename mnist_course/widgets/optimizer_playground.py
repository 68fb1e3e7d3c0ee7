"""The optimizer playground of notebook 07: each update rule's path over a 2-D loss surface, step by step, with
sliders for η, μ, ρ and Adam's β's."""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from mnist_course.lessons.optimizers_and_losses.plots import run_color
from mnist_course.lessons.optimizers_and_losses.rules import SGD, Adagrad, Adam, Bowl, Optimizer, RMSprop, RotatedBowl
from mnist_course.plots import finish_figure, new_figure
from mnist_course.widgets.compat import Shown

RULE_NAMES = ("SGD", "momentum", "RMSprop", "Adam", "Adagrad")
DIVERGED = 10.0  # a path has diverged once its loss is above this many times the start's loss


@dataclass(frozen=True)
class Surface:
    """A loss surface of two weights with its frame ``(x_min, x_max, y_min, y_max)`` and the paths' start."""

    title: str
    bowl: Bowl
    extent: tuple[float, float, float, float]
    start: tuple[float, float]


SURFACES = {
    "valley": Surface("the valley f = (x² + 20·y²) / 2", Bowl(1.0, 20.0), (-4.5, 1.5, -1.3, 1.3), (-4.0, 1.0)),
    "turned valley": Surface(
        "the valley turned by 45°", RotatedBowl(1.0, 20.0, 45.0), (-4.5, 1.5, -3.0, 1.5), (-3.5, -2.0)
    ),
}


@dataclass(frozen=True)
class Settings:
    """The hyper-parameters the sliders set: η for every rule, μ for momentum, ρ for RMSprop, β₁ and β₂ for Adam."""

    learning_rate: float = 0.02
    momentum: float = 0.9
    rho: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999


def make_rule(name: str, settings: Settings) -> Optimizer:
    """A fresh rule object of the course (``rules.py``) for ``name`` in :data:`RULE_NAMES`, with ``settings``."""
    eta = settings.learning_rate
    makers = {
        "SGD": lambda: SGD(learning_rate=eta),
        "momentum": lambda: SGD(learning_rate=eta, momentum=settings.momentum),
        "RMSprop": lambda: RMSprop(learning_rate=eta, rho=settings.rho),
        "Adam": lambda: Adam(learning_rate=eta, beta_1=settings.beta_1, beta_2=settings.beta_2),
        "Adagrad": lambda: Adagrad(learning_rate=eta),
    }
    if name not in makers:
        raise ValueError(f"unknown rule {name!r}: pick one of {', '.join(RULE_NAMES)}")
    return makers[name]()


def rule_paths(surface: Surface, names: list[str], steps: int, settings: Settings) -> dict[str, np.ndarray]:
    """Each named rule's path of ``steps`` updates from the surface's start, by the rule's own ``descend``:
    arrays of shape (steps + 1, 2); a diverging path runs on to inf or nan without a warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        return {
            name: make_rule(name, settings).descend(np.array(surface.start), surface.bowl.gradient, steps)
            for name in names
        }


def final_loss(surface: Surface, path: np.ndarray) -> float:
    """The loss at the path's last point (inf where it overflowed)."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(surface.bowl.loss(path[-1]))
    return value if np.isfinite(value) else float("inf")


def has_diverged(surface: Surface, path: np.ndarray) -> bool:
    """True when the loss at the path's last point is not finite or above :data:`DIVERGED` times the start's."""
    return final_loss(surface, path) > DIVERGED * float(surface.bowl.loss(np.array(surface.start)))


def drawable(path: np.ndarray, limit: float = 1e6) -> np.ndarray:
    """The part of a path that can be drawn: its points up to the first one beyond ``limit`` (kept, so the line
    leaves the frame in its true direction); nothing after an overflow."""
    far = np.flatnonzero(~np.all(np.isfinite(path) & (np.abs(path) < limit), axis=1))
    if len(far) == 0:
        return path
    kept = path[: far[0] + 1]
    return kept if np.all(np.isfinite(kept[-1])) else kept[:-1]


def loss_label(surface: Surface, path: np.ndarray) -> str:
    """How the table and the legend give a path's end: its loss to 3 significant digits, or ``diverged``."""
    return "diverged" if has_diverged(surface, path) else f"{final_loss(surface, path):.3g}"


def draw_paths(surface: Surface, paths: dict[str, np.ndarray], steps: int, eta: float) -> Figure:
    """The paths over the surface's contour lines, the view fixed to its frame, the last point of each ringed."""
    x0, x1, y0, y1 = surface.extent
    fig = new_figure(6.2, 3.6 * (y1 - y0) / (x1 - x0) + 1.1)  # the frame drawn to scale, the legend on its right
    ax = fig.subplots()
    xs, ys = np.linspace(x0, x1, 200), np.linspace(y0, y1, 200)
    grid = surface.bowl.loss(np.stack(np.meshgrid(xs, ys), axis=-1))
    ax.contour(xs, ys, grid, levels=np.geomspace(0.01, float(grid.max()), 12), colors="0.75", linewidths=0.7)
    ax.plot(0, 0, "*", color="k", markersize=10, label="minimum")
    for name, path in paths.items():
        shown = drawable(path)
        label = f"{name}: {loss_label(surface, path)}"
        ax.plot(
            shown[:, 0], shown[:, 1], "-", marker=".", markersize=3, linewidth=1.2, color=run_color(name), label=label
        )
        if len(shown) == len(path):  # still on the surface: ring where it is now
            ax.plot(*shown[-1], "o", markersize=8, fillstyle="none", color=run_color(name))
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="weight x", ylabel="weight y", aspect="equal")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), title="loss after the steps", title_fontsize=8)
    return finish_figure(fig, f"{steps} step{'s' if steps != 1 else ''} on {surface.title}, η = {eta:.3g}")


def loss_table_html(surface: Surface, paths: dict[str, np.ndarray], steps: int) -> str:
    """A small table: each rule's loss after ``steps`` steps and that loss as a percentage of the start's."""
    start = float(surface.bowl.loss(np.array(surface.start)))
    cell = 'style="padding:1px 6px;text-align:right"'
    rows = []
    for name, path in paths.items():
        loss = final_loss(surface, path)
        share = "–" if has_diverged(surface, path) else f"{100 * loss / start:.3g} %"
        rows.append(
            f"<tr><td {cell}>{html.escape(name)}</td><td {cell}>{loss_label(surface, path)}</td>"
            f"<td {cell}>{share}</td></tr>"
        )
    head = (
        f"<tr><th {cell}>rule</th><th {cell}>loss after<br>{steps} step{'s' if steps != 1 else ''}</th>"
        f"<th {cell}>% of the<br>start's</th></tr>"
    )
    note = (
        "<div style='font-size:8pt;line-height:1.3;max-width:18em'>"
        f"start ({surface.start[0]:g}, {surface.start[1]:g}): loss {start:.3g}; "
        f"minimum 0 at (0, 0); <i>diverged</i>: loss above {DIVERGED:g} × the start's</div>"
    )
    if not rows:
        return "<i>tick a rule to see its path</i>" + note
    return (
        f'<table class="mnist-playground-losses" style="border-collapse:collapse">{head}{"".join(rows)}</table>{note}'
    )


class OptimizerPlayground(Shown):
    """Sliders for η (log scale), μ, ρ, β₁, β₂ and the number of steps, a "step" button, a surface dropdown and a
    checkbox per rule, over a picture of the ticked rules' paths and a table of their losses. ``update()`` redraws;
    ``paths``, ``shown_steps``, ``shown_rules`` and ``diverged`` say what is on screen, ``figure`` is the last
    figure drawn."""

    def __init__(self, *, steps: int = 60, max_steps: int = 200, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        slider = {"continuous_update": False, "style": {"description_width": "7em"}}
        self.surface = widgets.Dropdown(
            options=list(SURFACES), value="valley", description="surface", style={"description_width": "7em"}
        )
        self.learning_rate = widgets.FloatLogSlider(
            value=settings.learning_rate,
            base=10,
            min=-3,
            max=0.5,
            step=0.05,
            description="η",
            readout_format=".3g",
            **slider,
        )
        self.momentum = widgets.FloatSlider(
            value=settings.momentum, min=0, max=0.99, step=0.01, description="momentum μ", **slider
        )
        self.rho = widgets.FloatSlider(
            value=settings.rho, min=0, max=0.99, step=0.01, description="RMSprop ρ", **slider
        )
        self.beta_1 = widgets.FloatSlider(
            value=settings.beta_1, min=0, max=0.99, step=0.01, description="Adam β₁", **slider
        )
        self.beta_2 = widgets.FloatSlider(
            value=settings.beta_2,
            min=0.9,
            max=0.9999,
            step=0.0001,
            description="Adam β₂",
            readout_format=".4f",
            **slider,
        )
        self.steps = widgets.IntSlider(value=steps, min=0, max=max_steps, description="steps", **slider)
        self.step_button = widgets.Button(description="step", tooltip="one more step")
        self.checkboxes = {
            n: widgets.Checkbox(value=True, description=n, indent=False, layout=widgets.Layout(width="auto"))
            for n in RULE_NAMES
        }
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.table = widgets.HTML()
        controls: list[Any] = [self.surface, self.learning_rate, self.momentum, self.rho, self.beta_1, self.beta_2]
        for widget, name in (
            (self.learning_rate, "eta"),
            (self.steps, "steps"),
            (self.step_button, "step"),
            (self.image, "plot"),
            (self.table, "table"),
        ):
            widget.add_class(f"mnist-playground-{name}")
        for control in [*controls, self.steps, *self.checkboxes.values()]:
            control.observe(self._on_change, names="value")
        self.step_button.on_click(self.step)

        def row(*children: widgets.Widget) -> widgets.HBox:
            return widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap"))

        self.widget = widgets.VBox(
            [
                row(*controls[:2]),
                row(*controls[2:4]),
                row(*controls[4:]),
                row(widgets.HTML("rules shown:"), *self.checkboxes.values()),
                row(self.steps, self.step_button),
                widgets.HBox(
                    [self.image, self.table], layout=widgets.Layout(flex_flow="row wrap", align_items="center")
                ),
            ]
        )
        self.widget.add_class("mnist-playground")
        self.paths: dict[str, np.ndarray] = {}
        self.shown_steps, self.shown_rules, self.diverged = -1, [], []
        self.figure: Figure | None = None
        self.update()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.update()

    def step(self, _: Any = None) -> None:
        """One more step (the button): the steps slider moves on by one, up to its end."""
        self.steps.value = min(self.steps.value + 1, self.steps.max)

    def settings(self) -> Settings:
        """The hyper-parameters the sliders hold now."""
        return Settings(
            float(self.learning_rate.value),
            float(self.momentum.value),
            float(self.rho.value),
            float(self.beta_1.value),
            float(self.beta_2.value),
        )

    def update(self) -> None:
        """Recompute the ticked rules' paths for the sliders' settings, redraw the picture and the table."""
        surface, steps = SURFACES[self.surface.value], int(self.steps.value)
        names = [n for n, box in self.checkboxes.items() if box.value]
        self.paths = rule_paths(surface, names, steps, self.settings())
        self.shown_steps, self.shown_rules = steps, names
        self.diverged = [n for n, path in self.paths.items() if has_diverged(surface, path)]
        self.figure = draw_paths(surface, self.paths, steps, float(self.learning_rate.value))
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        self.image.value = buffer.getvalue()
        self.table.value = loss_table_html(surface, self.paths, steps)

    def plain_text(self) -> str:
        """One sentence for where the widget cannot run."""
        return (
            f"The optimizer playground: {len(self.shown_rules)} update rules, {self.shown_steps} steps on "
            f"{SURFACES[self.surface.value].title} (run the notebook to move its sliders)."
        )


__all__ = [
    "DIVERGED",
    "RULE_NAMES",
    "SURFACES",
    "OptimizerPlayground",
    "Settings",
    "Surface",
    "draw_paths",
    "drawable",
    "final_loss",
    "has_diverged",
    "loss_label",
    "loss_table_html",
    "make_rule",
    "rule_paths",
]
