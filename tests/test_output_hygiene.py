"""Stored notebook outputs show a student what a lesson means, never the machinery: no progress text, object reprs,
escape codes, machine paths, cache file names, automatic layer names or TODOs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FORBIDDEN = {
    "an ANSI escape code": re.compile(r"\x1b\[|\[0;3\dm"),
    "an object repr": re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>|<class '[\w.]+'>|kwargs=<"),
    "a machine path": re.compile(r"(/root/|/home/\w|/tmp/|/work/|/Users/|site-packages|[A-Z]:\\\\)"),
    "Keras progress text": re.compile(r"\d+/\d+ - \d+m?s - |\d+/\d+ \[=*>?\.*\]|ms/step"),
    "a progress counter": re.compile(r"(?m)^[\w ()-]+: \d+/\d+\s*$|epoch \d+/\d+\b"),
    "a cache file name": re.compile(r"[\w-]+-[0-9a-f]{12}\.keras"),
    "an automatic layer name": re.compile(r"\b(conv2d|dense|max_pooling2d|flatten|dropout|input_layer)_(?!512\b)\d+\b"),
    "a TODO": re.compile(r"\bTODO\b|\bFIXME\b"),
}


def texts(output: nbformat.NotebookNode) -> list[str]:
    """The text a reader sees of one output (streams, error lines, the richest text of a display: HTML or Markdown
    where the output has it, else its plain text), images excluded."""
    if output.output_type == "stream":
        return [output.text]
    if output.output_type == "error":
        return [output.ename, output.evalue, *output.traceback]
    data = output.get("data", {})
    rich = [str(data[k]) for k in ("text/html", "text/markdown") if k in data]
    return rich or [str(data[k]) for k in ("text/plain",) if k in data]


def findings(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            for text in texts(output):
                for what, pattern in FORBIDDEN.items():
                    if m := pattern.search(text):
                        found.append(f"cell {index}: {what}: {text[max(0, m.start() - 40) : m.end() + 40]!r}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_show_no_machinery(path):
    found = findings(path)
    assert not found, f"{path.name}:\n" + "\n".join(found)


def test_the_check_finds_each_kind_of_noise(tmp_path):
    """The patterns themselves: one notebook holding one example of each kind is refused for each."""
    examples = [
        "\x1b[0;31mValueError\x1b[0m",
        "<mnist_course.widgets.draw_canvas.DrawCanvas object at 0x7f00deadbeef>",
        "loaded from /root/.cache/mnist-course/models",
        "79/79 - 3s - 44ms/step",
        "race runs: 0/3",
        "course-cnn-5003ec92f3d5.keras",
        "expected conv2d_19 to have 1 channel",
        "# TODO: finish",
    ]
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in examples]
    nb.cells = [cell]
    path = tmp_path / "noise.ipynb"
    nbformat.write(nb, path)
    kinds = {line.split(": ")[1] for line in findings(path)}
    assert kinds == set(FORBIDDEN), kinds
    clean = nbformat.v4.new_notebook()
    ok = nbformat.v4.new_code_cell("x")
    ok.outputs = [nbformat.v4.new_output("stream", name="stdout", text="test accuracy 98.78 % (epoch 3 of 5)\n")]
    clean.cells = [ok]
    nbformat.write(clean, tmp_path / "clean.ipynb")
    assert findings(tmp_path / "clean.ipynb") == []


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTEBOOKS = {"01", "02", "05", "06", "07", "08"}  # the notebooks that show widgets


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_widget_output_comes_after_a_static_picture_of_it(path):
    """Where a widget cannot run (GitHub, nbviewer, nbconvert's HTML) the output just before it, a PNG of its own,
    shows what it shows when it starts; the stored widget state is valid against nbformat's schema."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)  # outputs and widget state as nbformat's schema wants them
    views = 0
    for index, cell in enumerate(nb.cells):
        outputs = cell.get("outputs", [])
        for position, output in enumerate(outputs):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                views += 1
                before = outputs[position - 1].get("data", {}) if position else {}
                assert "image/png" in before and WIDGET_VIEW not in before, (
                    f"{path.name}, cell {index}: a widget output without its static picture just before it"
                )
                caption = before.get("text/plain", "")
                assert "the pictures the widget below shows" in caption, f"{path.name}, cell {index}"
                assert " object at 0x" not in str(data.get("text/plain", "")), f"{path.name}, cell {index}"
    if path.name[:2] in WIDGET_NOTEBOOKS:
        assert views >= 1, f"{path.name}: no widget output found"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] in WIDGET_NOTEBOOKS], ids=lambda p: p.name)
def test_nbconvert_html_shows_an_image_for_every_widget(path):
    """`jupyter nbconvert --to html` (its default lab template) of the stored notebook: every widget's place in the
    page has an embedded PNG right before it, in the same cell's outputs, so the page shows each widget's picture
    with no network and no widget JavaScript."""
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nbformat.read(path, as_version=4))
    widget_script = f'<script type="{WIDGET_VIEW}">'
    stored = sum(WIDGET_VIEW in o.get("data", {}) for c in nbformat.read(path, 4).cells for o in c.get("outputs", []))
    assert html.count(widget_script) == stored >= 1
    # each output of a cell is one "jp-OutputArea-child" block: the one before a widget's block holds its picture
    blocks = re.split(r'<div class="jp-OutputArea-child', html)
    for number, block in enumerate(blocks):
        if widget_script in block:
            assert number > 0 and re.search(
                r'<img[^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{200,}', blocks[number - 1]
            ), f"{path.name}: nbconvert's HTML shows widget {number} with no picture before it"
