"""How much of the stored notebooks strict nbval compares: per notebook and overall, the code cells with outputs
(figures and widgets alone excluded: nbval does not compare images or widget views), and those compared (not tagged
``nbval-ignore-output`` or ``nbval-skip``). Run ``python tests/nbval_share.py`` to print the table."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOT_COMPARED = {"nbval-ignore-output", "nbval-skip"}
TARGET = 0.75  # issue 16: at least three quarters of the output cells compared
FIGURE_MIMES = {"image/png", "image/jpeg", "image/svg+xml"}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@dataclass
class Share:
    """One notebook's count: cells with outputs (figures and widgets alone excluded) and those nbval compares."""

    notebook: str
    with_outputs: int
    compared: int
    figures_or_widgets: int

    @property
    def share(self) -> float:
        return self.compared / self.with_outputs if self.with_outputs else 1.0


def only_figures_or_widgets(cell: nbformat.NotebookNode) -> bool:
    """True when every output is a figure or a widget view (their text/plain repr is masked by the sanitizer)."""
    for out in cell.outputs:
        data = out.get("data", {})
        shown = out.output_type in ("display_data", "execute_result")
        if not shown or not set(data) & (FIGURE_MIMES | {WIDGET_MIME}):
            return False
    return True


def count(path: Path) -> Share:
    """The share of one stored notebook."""
    nb = nbformat.read(path, as_version=4)
    with_outputs = compared = excluded = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.get("outputs"):
            continue
        if only_figures_or_widgets(cell):
            excluded += 1
            continue
        with_outputs += 1
        compared += not (NOT_COMPARED & set(cell.metadata.get("tags", [])))
    return Share(path.stem, with_outputs, compared, excluded)


def shares(folder: Path = ROOT / "notebooks") -> list[Share]:
    """Every course notebook's share, in order."""
    return [count(p) for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))]


def table(rows: list[Share]) -> str:
    """A plain-text table with a total line."""
    lines = [f"{'notebook':32} {'outputs':>7} {'compared':>8} {'share':>6}  figures/widgets (excluded)"]
    for r in rows:
        lines.append(f"{r.notebook:32} {r.with_outputs:7} {r.compared:8} {r.share:6.0%}  {r.figures_or_widgets}")
    total = Share(
        "all", sum(r.with_outputs for r in rows), sum(r.compared for r in rows), sum(r.figures_or_widgets for r in rows)
    )
    lines.append(f"{'all':32} {total.with_outputs:7} {total.compared:8} {total.share:6.0%}  {total.figures_or_widgets}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(shares(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "notebooks")))
