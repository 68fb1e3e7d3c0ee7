"""mnist-course run: papermill execution, parameters, grids, failures that don't stop a batch, and the report."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from mnist_course import runner
from mnist_course.cli import main


def make_notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("PROFILE = None\nEPOCHS = 1\nSEED = 0")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# tiny"),
        params,
        nbformat.v4.new_code_cell(
            "from mnist_course.notebook import current_profile, record\n"
            "PROFILE = PROFILE or current_profile()\n" + body
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    make_notebook(folder / "01_ok.ipynb", "record(score=EPOCHS * 10 + SEED, profile=PROFILE)\nprint('done')")
    make_notebook(folder / "02_broken.ipynb", "raise RuntimeError(f'broken with EPOCHS={EPOCHS}')")
    return folder


def test_discover_by_number_stem_and_order(notebooks):
    assert [p.name for p in runner.discover((), notebooks)] == ["01_ok.ipynb", "02_broken.ipynb"]
    assert [p.name for p in runner.discover(("02",), notebooks)] == ["02_broken.ipynb"]
    with pytest.raises(FileNotFoundError, match="choose from"):
        runner.discover(("07",), notebooks)


def test_expand_grid():
    assert runner.expand_grid({}) == [{}]
    assert runner.expand_grid({"A": [1, 2], "B": ["x"]}) == [{"A": 1, "B": "x"}, {"A": 2, "B": "x"}]


def test_batch_with_grid_reports_metrics_failures_and_exit_code(notebooks, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "--notebooks", str(notebooks), "-o", str(out), "--profile", "ci",
                 "-p", "SEED", "3", "-g", "EPOCHS", "1,2", "-j", "2"])
    assert code == 1, "a failed notebook must make the exit code say so"
    report = json.loads((out / "report.json").read_text())
    assert [(Path(r["notebook"]).stem, r["parameters"]["EPOCHS"], r["status"]) for r in report] == [
        ("01_ok", 1, "ok"), ("01_ok", 2, "ok"), ("02_broken", 1, "failed"), ("02_broken", 2, "failed")]
    assert [r["metrics"] for r in report[:2]] == [{"score": 13, "profile": "ci"}, {"score": 23, "profile": "ci"}]
    assert report[2]["error"] == "RuntimeError: broken with EPOCHS=1" and report[2]["failed_cell"] == 3
    assert all(r["peak_rss_mib"] > 10 and r["seconds"] > 0 for r in report)
    assert (out / "01_ok" / "EPOCHS=2.ipynb").is_file()
    markdown = (out / "report.md").read_text()
    assert "| 01_ok | SEED=3, EPOCHS=2 | ok |" in markdown and "broken with EPOCHS=2 (cell 3)" in markdown
    assert "report.md" in capsys.readouterr().out
    assert (out / "report.png").stat().st_size > 1000 and "![metrics](report.png)" in markdown


def test_in_place_run_stores_clean_outputs(notebooks):
    nb_path = notebooks / "01_ok.ipynb"
    results = runner.run_batch([nb_path], None, "full", {}, in_place=True, echo=lambda *_: None)
    assert results[0].status == "ok" and results[0].metrics == {"score": 10, "profile": "full"}
    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2]
    assert code[1].outputs[0]["text"] == "done\n"
    assert "papermill" not in nb.metadata and all("papermill" not in c.metadata for c in nb.cells)
    assert not list(notebooks.glob("*.metrics.json"))


def test_only_an_in_place_run_tells_the_notebook_it_is_regenerating(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb_path = make_notebook(folder / "01_flag.ipynb",
                            "from mnist_course.notebook import regenerating\nrecord(regenerating=int(regenerating()))")
    elsewhere = runner.run_batch([nb_path], tmp_path / "out", "ci", {}, echo=lambda *_: None)
    in_place = runner.run_batch([nb_path], None, "ci", {}, in_place=True, echo=lambda *_: None)
    assert elsewhere[0].metrics == {"regenerating": 0}
    assert in_place[0].metrics == {"regenerating": 1}
