"""The course with the real nbgrader: ``generate_assignment`` on every notebook, then ``autograde`` and
``generate_feedback`` for two students: one who handed in the course edition (full marks), one who handed the stubs in
(zero for every exercise, the stub's message in the feedback); and, for notebook 02 only, a third with known wrong
answers (zero for those exercises only, their hints in the feedback). Everything lives in a temporary course folder.

No notebook is executed again for the first two: nbgrader grades the outputs they already have (its ``ClearOutput``
and ``Execute`` steps switched off). The course edition's stored outputs are the ones strict nbval re-executes and
compares in the same ``make test``; the stubs are the student edition the session's ci run executed
(tests/conftest.py: ``ci_run``). Only the wrong student's 02 is executed by ``autograde`` (ci profile, seconds).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from mnist_course.course import editions, runner

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = runner.discover((), ROOT / "notebooks")
ASSIGNMENTS = {f"lesson{p.name[:2]}": p for p in NOTEBOOKS}
SOLVED, STUBS, WRONG = "solved", "stubs", "wrong"
# The wrong student's mistakes, all in notebook 02 (the quickest to run): a solution cell's new body and words of
# the hint its check must give. Exercise 2.2 keeps its solution there.
WRONG_ASSIGNMENT = "lesson02"
MISTAKES = {
    # a prediction earns its point held or not: the mistake is an answer that is no prediction (two parts of three)
    "ex-2-1-solution": ('return (100, 28, 28, 1), "float64"', "return three things"),
    "ex-2-3-solution": (
        'x_train, x_other = x_train.astype("float32"), x_other.astype("float32")\n'
        "    own = lambda a: (a - a.mean()) / a.std()\n"
        "    return own(x_train), own(x_other)",
        "x_other was standardized with its own mean and standard deviation",
    ),
}


def nbgrader(course: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in the course folder (the venv's, next to this Python), failing with its log."""
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    return done


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _submission(release: nbformat.NotebookNode, course: nbformat.NotebookNode, mistake: bool) -> nbformat.NotebookNode:
    """The release notebook with the course edition's solutions and worked answers pasted back (and, with
    ``mistake``, the known mistakes in place of some solutions)."""
    solutions = {_grade_id(c): c.source for c in course.cells if c.metadata.get("nbgrader", {}).get("solution")}
    out = nbformat.from_dict(release)
    for cell in out.cells:
        gid = _grade_id(cell)
        if gid in solutions:
            cell.source = solutions[gid]
            if mistake and gid in MISTAKES:
                head, _, rest = cell.source.partition(editions.BEGIN)
                cell.source = head + MISTAKES[gid][0] + rest.partition(editions.END)[2]
    return out


def _unexecuted_checks(nb: nbformat.NotebookNode) -> list[str]:
    """The check cells of a handed-in notebook that show no execution: nbgrader, grading outputs as they are, would
    give such a cell its points, so every test of an already executed submission first asserts there is none."""
    return [_grade_id(c) for _, c in editions.check_cells(nb) if c.get("execution_count") is None]


def _text(page: Path) -> str:
    """The visible text of an HTML feedback page (tags stripped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, ci_run) -> dict:
    """A temporary nbgrader course: every notebook generated, two students (three for notebook 02) submitted,
    autograded, fed back."""
    base = tmp_path_factory.mktemp("nbgrader")
    course, home = base / "course", base / "home"
    for folder in (course, home):
        folder.mkdir()
    (course / "nbgrader_config.py").write_text(
        "from mnist_course.course.grading import configure\n"
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(base / 'gradebook.db')!r}\n"
        f"c.Exchange.root = {str(base / 'exchange')!r}\n"
        "c.CourseDirectory.course_id = 'mnist-course'\n"
        "configure(c)\n"
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(home / "jupyter-runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
        "MNIST_COURSE_PROFILE": "ci",
        "MNIST_COURSE_UNATTENDED": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MNIST_COURSE_CACHE": os.environ.get("MNIST_COURSE_CACHE", str(base / "cache")),
    }
    for assignment, path in ASSIGNMENTS.items():
        source = course / "source" / assignment
        source.mkdir(parents=True)
        shutil.copy2(path, source / path.name)
        if (path.parent / "results").is_dir():  # stored results a notebook reads, e.g. 07's race
            shutil.copytree(path.parent / "results", source / "results")
    timings, unexecuted = {}, {}
    started = time.monotonic()
    nbgrader(course, env, "generate_assignment", "lesson*")
    timings["generate_assignment"] = time.monotonic() - started
    for assignment, path in ASSIGNMENTS.items():
        release = nbformat.read(course / "release" / assignment / path.name, as_version=4)
        original = nbformat.read(path, as_version=4)
        # already executed: the course edition (its stored outputs) and the student edition (the ci run's)
        students = [(SOLVED, original), (STUBS, nbformat.read(ci_run["out"] / path.name, as_version=4))]
        unexecuted[SOLVED, assignment], unexecuted[STUBS, assignment] = (_unexecuted_checks(nb) for _, nb in students)
        if assignment == WRONG_ASSIGNMENT:
            students.append((WRONG, _submission(release, original, True)))
        for student, notebook in students:
            folder = course / "submitted" / student / assignment
            shutil.copytree(course / "release" / assignment, folder)  # with results/, as the student got it
            nbformat.write(notebook, folder / path.name)
    graded_as_they_are = ("--ClearOutput.enabled=False", "--Execute.enabled=False")
    for step, args in (
        (
            "autograde (executed already)",
            ("autograde", "lesson*", *graded_as_they_are, f"--CourseDirectory.student_id_exclude={WRONG}"),
        ),
        ("autograde (executes 02)", ("autograde", WRONG_ASSIGNMENT, f"--student={WRONG}")),
        ("generate_feedback", ("generate_feedback", "lesson*")),
    ):
        started = time.monotonic()
        nbgrader(course, env, *args)
        timings[step] = time.monotonic() - started
    print("nbgrader timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return {
        "course": course,
        "db": f"sqlite:///{base / 'gradebook.db'}",
        "unexecuted": unexecuted,
        "ci_errors": {f"lesson{Path(r['notebook']).name[:2]}": r["error"] for r in ci_run["report"]},
    }


def _grades(graded: dict, assignment: str, path: Path, student: str) -> tuple[dict[str, float | None], float, set]:
    """``{grade_id: autograded score}`` of one submitted notebook, its autogradable maximum and the grade ids left
    for manual grading, from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(graded["db"]) as gb:
        notebook = gb.find_submission_notebook(path.stem, assignment, student)
        manual = {g.name for g in notebook.grades if g.needs_manual_grade}
        return {g.name: g.auto_score for g in notebook.grades}, notebook.max_code_score, manual


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_generate_assignment_hands_out_the_student_edition(graded, assignment):
    path = ASSIGNMENTS[assignment]
    release = nbformat.read(graded["course"] / "release" / assignment / path.name, as_version=4)
    student = editions.student_notebook(nbformat.read(path, as_version=4), path.name)
    assert (graded["course"] / "release" / assignment / "results").is_dir() == (path.parent / "results").is_dir()
    assert len(release.cells) == len(student.cells)
    for index, (theirs, ours) in enumerate(zip(release.cells, student.cells)):
        where = f"{path.name} cell {index}"
        assert theirs.cell_type == ours.cell_type, where
        if ours.cell_type == "markdown" and ours.source.startswith(editions.EXERCISES_HEADING):
            continue  # the student edition's own introduction to the exercises
        assert theirs.source == ours.source, where
        assert theirs.get("outputs", []) == [] and ours.get("outputs", []) == [], where
        nbgrader_only = {"checksum", "cell_type"}  # what nbgrader records for itself
        mine = {k: v for k, v in theirs.metadata.get("nbgrader", {}).items() if k not in nbgrader_only}
        assert mine == ours.metadata.get("nbgrader", {}), where
        for key in ("tags", "editable", "deletable", "jupyter"):
            assert theirs.metadata.get(key) == ours.metadata.get(key), f"{where}: metadata {key}"
    stubs = [c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert all(
        "BEGIN SOLUTION" not in s and 'NotImplementedError("Exercise ' in s or s == editions.TEXT_STUB for s in stubs
    ), stubs


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_course_edition_handed_in_gets_full_marks(graded, assignment):
    path = ASSIGNMENTS[assignment]
    course = nbformat.read(path, as_version=4)
    assert not graded["unexecuted"][SOLVED, assignment], (
        f"{path.name}: its stored outputs lack checks {graded['unexecuted'][SOLVED, assignment]}: make regenerate"
    )
    scores, maximum, manual = _grades(graded, assignment, path, SOLVED)
    checks = [_grade_id(c) for _, c in editions.check_cells(course)]
    assert len(checks) >= 3 and maximum == editions._autograded_points(course) == float(len(checks))
    assert {gid: scores[gid] for gid in checks} == {gid: 1.0 for gid in checks}
    answers = {_grade_id(c) for _, c in editions._answer_cells(course)}
    assert manual == answers and all(scores[gid] is None for gid in answers), "answers are graded by hand"
    feedback = _text(graded["course"] / "feedback" / SOLVED / assignment / f"{path.stem}.html")
    for _, cell in editions.exercise_cells(course):
        ident = editions.exercise_id(cell.source)
        verdicts = (
            f"✅ Exercise {ident}: correct.",
            f"✅ Exercise {ident}: prediction recorded; your prediction held.",
        )
        assert any(verdict in feedback for verdict in verdicts), f"{path.name}: exercise {ident}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stubs_get_zero_and_the_feedback_says_which_exercise_waits(graded, assignment):
    path = ASSIGNMENTS[assignment]
    course = nbformat.read(path, as_version=4)
    assert not graded["unexecuted"][STUBS, assignment], (
        f"{path.name}: the ci run stopped before checks {graded['unexecuted'][STUBS, assignment]}: "
        f"{graded['ci_errors'].get(assignment)}"
    )
    scores, _, manual = _grades(graded, assignment, path, STUBS)
    checks = [_grade_id(c) for _, c in editions.check_cells(course)]
    assert {gid: scores[gid] for gid in checks} == {gid: 0.0 for gid in checks}
    answers = [_grade_id(c) for _, c in editions._answer_cells(course)]
    assert not manual and all(scores[gid] == 0.0 for gid in answers), "an answer left as the stub scores 0"
    feedback = _text(graded["course"] / "feedback" / STUBS / assignment / f"{path.stem}.html")
    for _, cell in editions.exercise_cells(course):
        assert f"NotImplementedError: Exercise {editions.exercise_id(cell.source)}: write your code here" in feedback
    assert "✅ Exercise" not in feedback


def test_a_wrong_answer_gets_zero_and_its_hint_in_the_feedback(graded):
    path = ASSIGNMENTS[WRONG_ASSIGNMENT]
    course = nbformat.read(path, as_version=4)
    scores, _, _ = _grades(graded, WRONG_ASSIGNMENT, path, WRONG)
    wrong = {gid.replace("-solution", "-check") for gid in MISTAKES}
    checks = [_grade_id(c) for _, c in editions.check_cells(course)]
    assert {gid: scores[gid] for gid in checks} == {gid: 0.0 if gid in wrong else 1.0 for gid in checks}
    assert len(wrong) < len(checks), "a right answer next to wrong ones keeps its point"
    feedback = _text(graded["course"] / "feedback" / WRONG / WRONG_ASSIGNMENT / f"{path.stem}.html")
    for gid, (_, hint) in MISTAKES.items():
        ident = ".".join(gid.split("-")[1:3])
        line = next(x for x in feedback.splitlines() if f"ExerciseNotSolved: ❌ Exercise {ident}: not yet." in x)
        assert hint in line, line
