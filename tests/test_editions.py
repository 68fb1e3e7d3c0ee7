"""The two editions: the course edition's exercises follow nbgrader's conventions, the student edition is the cells
nbgrader's preprocessors hand out, it runs top to bottom with ``NotImplementedError`` as its only error (raised in
check cells: here for the notebooks the ci run executes with papermill, in tests/browser/test_jupyterlab.py for the
two run in JupyterLab), and it is never written onto a course edition, whatever the arguments."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mnist_course.course import editions, runner
from tests.conftest import CI_RUNS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = runner.discover((), ROOT / "notebooks")
CI_NOTEBOOKS = [p for p in NOTEBOOKS if p.stem in CI_RUNS]  # the student editions the ci run executes with papermill
EXAMPLE = '''# Exercise 9.1: add two numbers
def add(a, b):
    """a + b"""
    # BEGIN SOLUTION
    return a + b
    # END SOLUTION'''
CHECK = "# Checks exercise 9.1\ncheck.add(add).raise_if_wrong()"


def _meta(part: str, **flags) -> dict:
    return {"nbgrader": {"schema_version": 3, "task": False, "grade_id": f"ex-9-1-{part}", **flags}}


def test_strip_solution_keeps_the_signature_and_indents_the_stub():
    student = editions.strip_solution(EXAMPLE)
    assert student.splitlines() == [
        "# Exercise 9.1: add two numbers",
        "def add(a, b):",
        '    """a + b"""',
        '    raise NotImplementedError("Exercise 9.1: write your code here")',
    ]
    assert "return a + b" in editions._solutions_only(EXAMPLE) and "BEGIN" not in editions._solutions_only(EXAMPLE)


@pytest.mark.parametrize(
    "source, problem",
    [
        (EXAMPLE.replace("# Exercise 9.1: add two numbers", "# add two numbers"), "must start with '# Exercise N.M"),
        (EXAMPLE.replace("    # END SOLUTION", ""), "never closed"),
        (EXAMPLE.replace("    # BEGIN SOLUTION\n", ""), "without '# BEGIN SOLUTION'"),
        ("# Exercise 9.1: nothing to hide\nx = 1", "has no '# BEGIN SOLUTION'"),
        (EXAMPLE.replace("    return a + b\n", "    # BEGIN SOLUTION\n"), "inside another solution block"),
    ],
)
def test_malformed_exercise_cells_are_refused_with_the_place_named(source, problem):
    with pytest.raises(editions.EditionError, match="07_x.ipynb, cell 3") as err:
        editions.strip_solution(source, "07_x.ipynb, cell 3")
    assert problem in str(err.value)


def _tiny_course(folder: Path, exercise_source: str = EXAMPLE, name: str = "01_tiny.ipynb") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    solution = {
        "tags": ["exercise"],
        "jupyter": {"source_hidden": True},
        **_meta("solution", solution=True, grade=False, locked=False),
    }
    check = _meta("check", solution=False, grade=True, locked=True, points=1)
    answer = {"tags": ["solution"], **_meta("answer", solution=True, grade=True, locked=False, points=2)}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_markdown_cell("## Exercises\n\nIn this course edition the solutions are here."),
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="hi\n")], execution_count=1),
        nbformat.v4.new_code_cell(exercise_source, metadata=solution, execution_count=2),
        nbformat.v4.new_code_cell(
            CHECK, metadata=check, execution_count=3, outputs=[nbformat.v4.new_output("stream", text="✅\n")]
        ),
        nbformat.v4.new_markdown_cell("the answer is 3, because ...", metadata=answer),
        nbformat.v4.new_markdown_cell("what to expect: 3", metadata={"tags": ["solution"]}),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def _cli(*args: str, cwd: Path, course: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if course is not None:
        env["MNIST_COURSE_NOTEBOOKS"] = str(course)  # the course edition this installation protects
    return subprocess.run(
        [sys.executable, "-m", "mnist_course.course.cli", "student-edition", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_command_writes_a_student_edition_and_leaves_the_course_edition_alone(tmp_path):
    course = _tiny_course(tmp_path / "course")
    (tmp_path / "course" / "results").mkdir()
    (tmp_path / "course" / "results" / "race.json").write_text('{"runs": []}')
    before = _snapshot(tmp_path / "course")
    done = _cli("--notebooks", str(course.parent), "-o", str(tmp_path / "student"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _snapshot(tmp_path / "course") == before
    assert sorted(_snapshot(tmp_path / "student")) == ["01_tiny.ipynb", "results/race.json"]  # no temporary left
    assert (tmp_path / "student" / "results" / "race.json").read_text() == '{"runs": []}'
    student = nbformat.read(tmp_path / "student" / "01_tiny.ipynb", as_version=4)
    assert [c.cell_type for c in student.cells] == ["markdown", "markdown", "code", "code", "code", "markdown"]
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")
    intro = student.cells[1].source
    assert intro.startswith("## Exercises") and "course edition" not in intro.split("Stuck?")[0]
    assert "`notebooks/01_tiny.ipynb`" in intro  # where the solutions are
    exercise, check, answer = student.cells[3:]
    assert exercise.source.endswith('    raise NotImplementedError("Exercise 9.1: write your code here")')
    assert "return a + b" not in exercise.source and "source_hidden" not in exercise.metadata.get("jupyter", {})
    assert exercise.metadata["tags"] == ["exercise", "raises-exception"] and exercise.metadata["deletable"] is False
    assert check.source == CHECK and check.metadata["tags"] == ["raises-exception"]
    assert check.metadata["editable"] is False and check.metadata["deletable"] is False  # locked, as nbgrader does
    assert answer.source == editions.TEXT_STUB and "what to expect" not in str(student.cells)  # answers gone
    assert "widgets" not in student.metadata


def test_a_malformed_notebook_stops_the_command_before_anything_is_written(tmp_path):
    _tiny_course(tmp_path / "course", EXAMPLE.replace("    # END SOLUTION", ""))
    done = _cli("--notebooks", str(tmp_path / "course"), "-o", str(tmp_path / "student"), cwd=tmp_path)
    assert done.returncode == 1
    assert "01_tiny.ipynb, cell 3" in done.stderr and "never closed" in done.stderr
    assert not (tmp_path / "student").exists()


def test_the_student_edition_cannot_overwrite_the_course_edition(tmp_path):
    _tiny_course(tmp_path / "course")
    done = _cli("--notebooks", str(tmp_path / "course"), "-o", str(tmp_path / "course"), cwd=tmp_path)
    assert done.returncode == 2 and "must not overwrite" in done.stderr


@pytest.fixture
def course_copies(tmp_path) -> dict[str, Path]:
    """A copy of the real course edition (the protected one, via $MNIST_COURSE_NOTEBOOKS), a second clone's
    notebooks, an empty folder, and the protected files' bytes."""
    course, clone, empty = tmp_path / "course" / "notebooks", tmp_path / "clone" / "notebooks", tmp_path / "empty"
    for folder in (course, clone):
        shutil.copytree(ROOT / "notebooks", folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    empty.mkdir()
    return {"course": course, "clone": clone, "empty": empty, "before": _snapshot(course), "base": tmp_path}


def _refused(done: subprocess.CompletedProcess, copies: dict[str, Path]) -> None:
    assert done.returncode != 0, done.stdout
    assert "overwrite" in done.stderr, done.stderr
    assert _snapshot(copies["course"]) == copies["before"], "a course file changed"


def test_a_named_notebook_with_another_notebooks_folder_cannot_replace_a_course_notebook(course_copies):
    course = course_copies["course"]
    done = _cli(
        str(course / "04_mlp.ipynb"),
        "--notebooks",
        str(course_copies["empty"]),
        "-o",
        str(course),
        cwd=course_copies["base"],
        course=course,
    )
    _refused(done, course_copies)


@pytest.mark.parametrize("output", ["notebooks", "./x/../notebooks", "link-to-notebooks"])
def test_another_clone_cannot_be_written_onto_the_course_notebooks(course_copies, output):
    base = course_copies["base"] / "course"  # the working folder: relative -o paths start here
    (base / "x").mkdir()
    (base / "link-to-notebooks").symlink_to(course_copies["course"], target_is_directory=True)
    done = _cli("--notebooks", str(course_copies["clone"]), "-o", output, cwd=base, course=course_copies["course"])
    _refused(done, course_copies)


@pytest.mark.parametrize("link", ["results", "04_mlp.ipynb"])
def test_a_symlink_in_the_output_folder_cannot_lead_onto_the_course(course_copies, link):
    out = course_copies["base"] / "out"
    out.mkdir()
    (out / link).symlink_to(course_copies["course"] / link)
    done = _cli(
        "--notebooks",
        str(course_copies["clone"]),
        "-o",
        str(out),
        cwd=course_copies["base"],
        course=course_copies["course"],
    )
    _refused(done, course_copies)
    assert sorted(p.name for p in out.iterdir()) == [link], "nothing else was written"


def test_write_student_edition_itself_checks_every_file_it_would_write(course_copies, monkeypatch):
    course, clone = course_copies["course"], course_copies["clone"]
    monkeypatch.setenv("MNIST_COURSE_NOTEBOOKS", str(course))
    out = course_copies["base"] / "out"
    out.mkdir()
    (out / "results").symlink_to(course / "results")
    for notebooks, target in [
        ([course / "04_mlp.ipynb"], course),
        (sorted(clone.glob("0*.ipynb")), course),
        (sorted(clone.glob("0*.ipynb")), out),
        ([clone / "01_loading_mnist.ipynb"], clone),
    ]:
        with pytest.raises(editions.EditionTargetError, match="would overwrite .*-o student"):
            editions.write_student_edition(notebooks, target)
    assert _snapshot(course) == course_copies["before"] and sorted(p.name for p in out.iterdir()) == ["results"]
    assert _snapshot(clone) == course_copies["before"]  # a notebook being read is not overwritten either


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_has_three_nbgrader_exercises_with_collapsed_solutions(path):
    nb = nbformat.read(path, as_version=4)
    cells = editions.exercise_cells(nb)
    assert len(cells) >= 3, f"{path.name}: at least three exercises"
    number = path.name[:2].lstrip("0")
    ids = [editions.exercise_id(c.source) for _, c in cells]
    assert ids == [f"{number}.{k}" for k in range(1, len(cells) + 1)], f"{path.name}: exercises numbered in order"
    for (index, cell), ident in zip(cells, ids):
        where = f"{path.name} cell {index}"
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{where}: collapsed"
        assert cell.metadata["nbgrader"] == {
            "schema_version": 3,
            "solution": True,
            "grade": False,
            "locked": False,
            "task": False,
            "grade_id": editions.grade_id(ident, "solution"),
        }, where
        assert cell.source.rstrip().endswith(editions.END) and not cell.outputs, f"{where}: the check is separate"
        check = nb.cells[index + 1]
        assert check.metadata.get("nbgrader", {}) == {
            "schema_version": 3,
            "solution": False,
            "grade": True,
            "locked": True,
            "task": False,
            "points": 1,
            "grade_id": editions.grade_id(ident, "check"),
        }, f"{where}: a locked, autograded check follows"
        assert check.source.splitlines()[-1].startswith("check.") and check.source.endswith(".raise_if_wrong()")
        shown = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in check.outputs)
        passing = (f"✅ Exercise {ident}: correct", f"✅ Exercise {ident}: prediction recorded; your prediction held")
        assert any(p in shown for p in passing), f"{where}: the stored output shows the solution passing"
    assert [i for i, _ in editions.check_cells(nb)] == [i + 1 for i, _ in cells], f"{path.name}: no other check"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and editions.SOLUTION_TAG in cell.metadata.get("tags", []):
            meta = cell.metadata.get("nbgrader", {})
            assert meta.get("solution") and meta.get("grade") and meta.get("points", 0) > 0, (
                f"{path.name} cell {index}: a worked answer must be an nbgrader answer cell, or nbgrader hands it out"
            )
    assert "from mnist_course.exercises import lesson" in "".join(c.source for c in nb.cells)


def _nbgrader_student_cells(path: Path) -> nbformat.NotebookNode:
    """The notebook through the preprocessors of ``nbgrader generate_assignment`` that change cells, configured
    as the course's ``nbgrader_config.py`` does."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, LockCells
    from traitlets.config import Config

    from mnist_course.course.grading import ClearExerciseSolutions, configure

    config = configure(Config())
    nb, resources = nbformat.read(path, as_version=4), {}
    for preprocessor in (CheckCellMetadata, LockCells, ClearExerciseSolutions, ClearOutput, CheckCellMetadata):
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_student_edition_is_what_nbgrader_hands_out(path):
    theirs = _nbgrader_student_cells(path)
    ours = editions.student_notebook(nbformat.read(path, as_version=4), path.name)
    assert len(theirs.cells) == len(ours.cells), "no cell is dropped: worked answers are answer cells"
    for index, (a, b) in enumerate(zip(theirs.cells, ours.cells)):
        if b.cell_type == "markdown" and b.source.startswith(editions.EXERCISES_HEADING):
            assert a.source.startswith(editions.EXERCISES_HEADING)  # the student edition rewrites it
            continue
        assert (a.cell_type, a.source) == (b.cell_type, b.source), f"{path.name} cell {index}"
        for key in ("tags", "editable", "deletable", "jupyter", "nbgrader"):
            assert a.metadata.get(key) == b.metadata.get(key), f"{path.name} cell {index}: metadata {key}"
        assert a.get("outputs", []) == b.get("outputs", []) == []


@pytest.mark.parametrize("path", CI_NOTEBOOKS, ids=[p.stem for p in CI_NOTEBOOKS])
def test_the_student_edition_raises_only_not_implemented_and_only_in_checks(path, ci_run):
    # The session's ci run executed the student edition of CI_RUNS with papermill (tests/conftest.py: ci_run); the
    # cells tagged raises-exception let execution go on, as "Run all" does, and any other error would have stopped it
    # there. BROWSER_RUNS (01, 08) ran with Run All in JupyterLab instead: tests/browser/test_jupyterlab.py
    # (test_notebook_runs_in_jupyterlab) checks the same of them, from the tracebacks the page shows.
    run = next(r for r in ci_run["report"] if Path(r["notebook"]).name == path.name)
    assert run["status"] == "ok", f"{path.name}: {run['error']} (cell {run['failed_cell']})"
    nb = nbformat.read(ci_run["out"] / path.name, as_version=4)
    assert [c.source for c in nb.cells] == [c.source for c in nbformat.read(ci_run["student"] / path.name, 4).cells]
    course = nbformat.read(path, as_version=4).cells
    assert len(course) == len(nb.cells)
    on_purpose = {i for i, cell in enumerate(course) if "raises-exception" in cell.metadata.get("tags", [])}
    raised = {}
    for index, cell in enumerate(nb.cells):
        if index in on_purpose:
            continue  # a mistake the lesson itself runs (test_packaging checks it is stored with its error)
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                raised[index] = (out.ename, out.evalue)
    checks = [index for index, _ in editions.check_cells(nb)]
    assert sorted(raised) == checks, f"errors in cells {sorted(raised)}, the checks are cells {checks}"
    for index, solution in editions.exercise_cells(nb):
        ident = editions.exercise_id(solution.source)
        assert raised[index + 1] == ("NotImplementedError", f"Exercise {ident}: write your code here"), raised
