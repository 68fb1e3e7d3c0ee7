"""The instructor's batch: the notebooks of the course's student edition that the session's ci run executes with
papermill (CI_RUNS) run in the ci profile from one command (the installed ``mnist-course`` script) into one report, and
every metric they record keeps its ci floor.

The run is the session's one ci execution of the course (``ci_run`` in tests/conftest.py), which the edition and
nbgrader tests read too. The two notebooks whose widgets need a live kernel (BROWSER_RUNS: 01, 08) run with Run All in
JupyterLab instead, where tests/browser/test_jupyterlab.py checks their errors and their ci floors; grids and
parameters are tested on tiny notebooks in tests/test_runner.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import metric_floors
from tests.conftest import BROWSER_RUNS, CI_RUNS, COURSE_STEMS


def test_the_browser_and_the_ci_run_share_out_the_course_and_its_ci_floors():
    assert not set(BROWSER_RUNS) & set(CI_RUNS), "a notebook executed twice in the ci profile"
    assert set(BROWSER_RUNS) | set(CI_RUNS) == set(COURSE_STEMS), "a notebook the ci profile never executes"
    assert set(metric_floors.load()["ci"]) == set(COURSE_STEMS), "every notebook has ci floors, checked once"


def test_every_notebook_runs_from_one_command_into_one_report(ci_run):
    done, report, notebooks = ci_run["done"], ci_run["report"], ci_run["notebooks"]
    assert [nb.stem for nb in notebooks] == list(CI_RUNS) and len(notebooks) >= 2
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert [Path(r["notebook"]).name for r in report] == [nb.name for nb in notebooks]
    assert all(Path(r["notebook"]).parent == ci_run["student"].resolve() for r in report), "the student edition ran"
    assert [r["status"] for r in report] == ["ok"] * len(notebooks), [r["error"] for r in report]
    assert all(r["peak_rss_mib"] > 50 and r["seconds"] > 0 for r in report), "the kernel's memory and time"
    markdown = (ci_run["out"] / "report.md").read_text()
    assert markdown.count("| ok |") == len(report)
    assert all((ci_run["out"] / nb.name).is_file() for nb in notebooks)
    assert f"[{len(report)}/{len(report)}]" in done.stdout  # progress lines
    assert {p: p.read_bytes() for p in ci_run["before"]} == ci_run["before"], "running into -o never touches notebooks/"
    print("ci run (s): " + ", ".join(f"{Path(r['notebook']).stem[:2]} {r['seconds']:.0f}" for r in report))


@pytest.mark.parametrize("stem", CI_RUNS)
def test_the_ci_run_records_metrics_above_their_floors(ci_run, stem):
    runs = {Path(r["notebook"]).stem: r for r in ci_run["report"]}
    assert stem in runs, f"{stem} did not run in the ci batch"
    assert runs[stem]["status"] == "ok", runs[stem]["error"]
    problems = metric_floors.violations("ci", stem, runs[stem]["metrics"])
    assert not problems, "\n".join(problems)
