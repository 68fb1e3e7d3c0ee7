"""The instructor's batch: every notebook of the course, ci profile, a two-value grid, one command, one report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mnist_course import runner

ROOT = Path(__file__).resolve().parent.parent


def test_all_notebooks_with_a_seed_grid_from_one_command(tmp_path):
    out = tmp_path / "batch"
    notebooks = runner.discover((), ROOT / "notebooks")
    assert len(notebooks) >= 2, "the course has notebooks"
    course_edition = {p: p.read_bytes() for p in notebooks}
    done = subprocess.run(
        [sys.executable, "-m", "mnist_course.cli", "run", "--notebooks", str(ROOT / "notebooks"), "--profile", "ci",
         "-g", "SEED", "0,1", "-j", "2", "-o", str(out)],
        capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert len(report) == 2 * len(notebooks)
    assert {(Path(r["notebook"]).name, r["parameters"]["SEED"]) for r in report} == {
        (nb.name, seed) for nb in notebooks for seed in (0, 1)}
    assert all(r["status"] == "ok" and r["peak_rss_mib"] > 50 for r in report)
    markdown = (out / "report.md").read_text()
    assert markdown.count("| ok |") == len(report)
    for nb in notebooks:
        assert (out / nb.stem / "SEED=0.ipynb").is_file() and (out / nb.stem / "SEED=1.ipynb").is_file()
    assert "[" in done.stdout and f"[{len(report)}/{len(report)}]" in done.stdout  # progress lines
    assert {p: p.read_bytes() for p in notebooks} == course_edition, "running into -o never touches notebooks/"
