"""What the notebooks record is checked against floors a broken model cannot reach: the student run nbval executes
(after its cells, in the same session), the ci batch (tests/test_course_batch.py), and the rules themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import metric_floors

ROOT = Path(__file__).resolve().parent.parent
STEMS = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def test_the_floors_file_has_a_table_for_every_notebook_in_the_student_and_ci_profiles():
    floors = metric_floors.load()
    assert set(floors) == {"ci", "student"}, "floors are kept for the profiles the tests run"
    for profile in ("ci", "student"):
        missing = [stem for stem in STEMS if stem not in floors[profile]]
        assert not missing, f"add [{profile}.<notebook>] tables to {metric_floors.FLOORS_FILE.name} for {missing}"
        unknown = sorted(set(floors[profile]) - set(STEMS))
        assert not unknown, f"[{profile}] tables for notebooks that do not exist: {unknown}"


def test_each_kind_of_rule_catches_what_it_is_for(tmp_path):
    rules = tmp_path / "floors.toml"
    rules.write_text(
        '[ci.01_x]\nacc = 0.9\nloss = {max = 0.5}\nname = {equals = "cnn"}\nseconds = {ignore = "a timing"}\n'
    )
    floors = metric_floors.load(rules)
    good = {"acc": 0.95, "loss": 0.1, "name": "cnn", "seconds": 999.0}
    assert metric_floors.violations("ci", "01_x", good, floors) == []
    bad = metric_floors.violations("ci", "01_x", {"acc": 0.11, "loss": 2.3, "name": "mlp", "new": 3}, floors)
    assert bad == [
        "[ci.01_x] acc=0.11 is below its floor 0.9",
        "[ci.01_x] loss=2.3 is above its ceiling 0.5",
        "[ci.01_x] name='mlp', expected 'cnn'",
        "[ci.01_x] new=3 has no rule: add `new = <floor below 3, above what a broken model reaches>`",
        "[ci.01_x] seconds: has a rule but was not recorded (the record() call is gone, renamed, or the "
        "notebook stopped before it)",
    ]
    assert metric_floors.violations("ci", "01_x", {**good, "acc": float("nan")}, floors) == [
        "[ci.01_x] acc=nan is not a number"
    ]
    assert "no floors in" in metric_floors.violations("student", "01_x", good, floors)[0]


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[ci.a]\nx = "0.9"\n', "a rule is a number"),
        ("[ci.a]\nx = {least = 1}\n", "a rule is a number"),
        ('[ci.a]\nx = {ignore = "", min = 1}\n', "stands alone"),
    ],
)
def test_a_malformed_rule_is_refused_with_its_place(tmp_path, text, problem):
    rules = tmp_path / "floors.toml"
    rules.write_text(text)
    with pytest.raises(ValueError, match=problem) as err:
        metric_floors.load(rules)
    assert "[ci.a] x" in str(err.value)


@pytest.mark.after_notebooks
@pytest.mark.parametrize("notebook", STEMS)
def test_the_student_run_reaches_the_floors(nbval_recorded, notebook):
    """nbval executed this notebook in the student profile (root conftest); its kernel recorded these metrics."""
    recorded = nbval_recorded.get(notebook)
    assert recorded, (
        f"{notebook} recorded no metrics under nbval: did its cells run? (each notebook records its "
        "key results with mnist_course.notebook.record)"
    )
    problems = metric_floors.violations("student", notebook, recorded)
    assert not problems, "\n".join(problems)


NBVAL_NOTEBOOK_CELL = """import json, os
from mnist_course.notebook import record
record(profile=os.environ["MNIST_COURSE_PROFILE"], unattended=os.environ.get("MNIST_COURSE_UNATTENDED", "unset"))
print("recorded")"""
AFTER_TEST = """import pytest

@pytest.mark.after_notebooks
@pytest.mark.parametrize("notebook", ["01_tiny", "02_other"])
def test_after(nbval_recorded, notebook):
    print(f"AFTER {notebook} {nbval_recorded.get(notebook)}")

def test_unit():
    import os
    print(f"UNIT {os.environ['MNIST_COURSE_PROFILE']}")
"""


def test_nbval_kernels_run_in_student_unattended_and_their_metrics_are_read_after_every_cell(tmp_path, real_copy):
    import nbformat

    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_after.py").write_text(AFTER_TEST)
    (tmp_path / "notebooks").mkdir()
    for name in ("01_tiny", "02_other"):
        nb = nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_code_cell(
                    NBVAL_NOTEBOOK_CELL,
                    execution_count=1,
                    outputs=[nbformat.v4.new_output("stream", text="recorded\n")],
                )
            ]
        )
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, tmp_path / "notebooks" / f"{name}.ipynb")
    env = {**os.environ, "MNIST_COURSE_PROFILE": "ci", "MNIST_COURSE_DATA": str(real_copy)}  # units run in ci
    env.pop("MNIST_COURSE_UNATTENDED", None)
    args = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    done = subprocess.run(
        [*args, "--nbval", "tests", "notebooks/01_tiny.ipynb"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "UNIT ci" in out
    assert "AFTER 01_tiny {'profile': 'student', 'unattended': '1'}" in out, out
    assert "AFTER 02_other" not in out, "a notebook nbval did not run is deselected, not checked"
    assert out.index("AFTER 01_tiny") > out.index("UNIT ci"), "after the unit tests and the notebook's cells"
    quick = subprocess.run([*args, "tests"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert quick.returncode == 0 and "AFTER" not in quick.stdout and "2 deselected" in quick.stdout, quick.stdout
