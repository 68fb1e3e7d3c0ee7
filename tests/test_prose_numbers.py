"""Every number a notebook's prose states is one a student can see: a decimal or a percentage in a Markdown cell
appears in that notebook's code (a setting) or in one of its stored outputs (a result), as written or rounded, or it
is a number the sentence itself derives, listed in DERIVED with its derivation."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# decimals (0.9785, 3.2) and percentages (12 %, 98.12 %) not part of a longer number or word
NUMBER = re.compile(r"(?<![\w.,])(\d+\.\d+|\d+(?:\.\d+)?)(\s?%)?(?![\w])")
# worked out in the sentence itself, not measured: (notebook prefix, number) -> the derivation
DERIVED = {
    ("03", "0.25"): "the sigmoid's derivative σ(z)(1 - σ(z)) is largest at z = 0: 1/2 x 1/2",
    ("07", "0.0001"): "a step of η·g with η = 0.01 and g = 0.01",
    ("07", "0.32"): "√0.1, Adagrad's starting sum",
    ("07", "0.999"): "Keras' default β₂ for Adam, from keras.optimizers.Adam's signature",
    ("06", "1.000"): "how a probability just below 1 prints with three decimals",
    ("08", "1.00"): "how a probability just below 1 prints with two decimals",
}
# the course's conventions, the same in every notebook
CONVENTIONS = {"95": "the confidence level of every interval the course prints"}


def shown_text(nb: nbformat.NotebookNode) -> str:
    """The code and every stored output's text of a notebook."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type == "error":
                parts.append(output.evalue)
            else:
                parts += [str(output.get("data", {}).get(k, "")) for k in ("text/plain", "text/html", "text/markdown")]
    return "\n".join(parts)


def prose_numbers(source: str) -> list[str]:
    """The decimals and percentages of a Markdown cell, outside inline code and LaTeX (formulas, not results)."""
    text = re.sub(r"\$[^$]*\$", " ", re.sub(r"`[^`]*`", " ", source))
    return [
        m.group(1)
        for m in NUMBER.finditer(text)
        if ("." in m.group(1) or m.group(2)) and not text[: m.start()].lower().endswith("exercise ")  # "Exercise 4.5"
    ]


def appears(number: str, text: str) -> bool:
    """``number`` is in ``text`` as written, or as a number of ``text`` rounded to its decimals ("near 23 %" for a
    shown 22.71)."""
    if re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", text):
        return True
    decimals = len(number.split(".")[1]) if "." in number else 0
    shown = (float(m) for m in re.findall(r"(?<![\d.])\d+\.\d+(?![\d.])", text))
    return any(round(value, decimals) == float(number) for value in shown)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_number_in_the_prose_is_shown_by_the_notebook(path):
    nb = nbformat.read(path, as_version=4)
    shown = shown_text(nb)
    missing = [
        f"cell {index}: {number}"
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown"
        for number in prose_numbers(cell.source)
        if not appears(number, shown) and (path.name[:2], number) not in DERIVED and number not in CONVENTIONS
    ]
    assert not missing, f"{path.name}: numbers in the prose that no output or code shows: {missing}"


def test_the_check_finds_a_number_no_output_shows():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "The model reaches 98.7 % (see below), loss 0.25, `lr=0.3` and $e^{0.5}$; see Exercise 4.5."
        ),
        nbformat.v4.new_code_cell("print(acc)"),
    ]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="accuracy 98.7 %\n")]
    shown = shown_text(nb)
    found = prose_numbers(nb.cells[0].source)
    assert found == ["98.7", "0.25"]  # code spans and formulas are not results
    assert appears("98.7", shown) and not appears("0.25", shown) and not appears("8.7", shown)
    assert appears("99", "accuracy 98.71 %") and not appears("98.8", "accuracy 98.71 %")  # rounded, not changed
