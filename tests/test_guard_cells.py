"""The guard without nbgrader, in seconds: how a check cell's source is guarded and given back, the verdict rule read
outside the kernel, and the guard itself armed in this process (the kernel tests are tests/test_grading_guard.py)."""

from __future__ import annotations

import ast
import sys

import nbformat
import numpy as np
import pytest

from mnist_course.exercises import Feedback, grading_guard, guard_cells, lesson08
from tests.grading_course import exercise_notebook

CALL = "check.crop_to_ink(crop_to_ink).raise_if_wrong()"
CHECK = f"# Checks exercise 8.3: ✅ when your answer is right, an error with a hint when it is not\n{CALL}"
SPEC = {"exercise": "8.3", "signature": "def crop_to_ink(image):", "solution": "    return image", "check": CALL}


def _crop(image):
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _empty(image):
    return np.zeros((6, 8), dtype=np.uint8)


@pytest.fixture
def armed(tmp_path):
    """The guard armed in this process for lesson08, as the first cell of an autograded notebook arms it; disarmed
    afterwards (its import hook taken out of sys.meta_path)."""
    grading_guard.arm(("lesson08",), tmp_path)
    yield tmp_path
    grading_guard._STATE.update(snapshot=None, failed=None, events=[])
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_RecordWhenImported"]


def _run(source: str, namespace: dict) -> object:
    """Run a cell's source as IPython does: its statements, then its last expression, whose value it shows."""
    *statements, last = ast.parse(source).body
    exec(compile(ast.Module(statements, type_ignores=[]), "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)


def test_a_check_cell_is_known_by_its_grade_id():
    nb = exercise_notebook(SPEC)
    assert [guard_cells.check_exercise(c) for c in nb.cells] == [None, None, None, None, "8.3"]


def test_the_guarded_source_verifies_before_and_after_and_ends_with_the_check():
    source = guard_cells.guarded_source(CHECK, "8.3")
    lines = source.splitlines()
    assert lines[0] == "import mnist_course.exercises.grading_guard as _mnist_course_guard"
    assert lines[1] == "_mnist_course_guard.verify(check, '8.3')"
    assert lines[2] == CHECK.splitlines()[0]  # the comment, ✅ and all
    assert lines[3:] == [
        "_mnist_course_guard.verified(check, '8.3', (",
        "check.crop_to_ink(crop_to_ink).raise_if_wrong()",
        "))",
    ]
    compile(source, "<cell>", "exec")


def test_a_cell_not_ending_with_an_expression_is_verified_before_and_after():
    source = guard_cells.guarded_source("result = check.crop_to_ink(crop_to_ink)", "8.3")
    assert source.splitlines()[-1] == "_mnist_course_guard.verify(check, '8.3')"
    assert source.count("verify(check, '8.3')") == 2


def test_guard_then_unguard_without_execution_gives_the_notebook_back():
    nb = exercise_notebook(SPEC)
    original = nbformat.from_dict(nb)
    assert guard_cells.guard(nb)
    assert nb.cells[0].source.startswith("# Added by the course's autograde")
    assert "grading_guard.arm(('lesson08',), here)" in nb.cells[0].source
    assert nb.cells[-1].source == guard_cells.guarded_source(CHECK, "8.3")
    guard_cells.unguard(nb)
    assert nb.cells == original.cells, "not executed (autograde with Execute off): nothing added"


def test_a_notebook_without_check_cells_is_left_alone():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    assert not guard_cells.guard(nb) and len(nb.cells) == 1


def _executed(check_outputs: list, arm_outputs: list = ()) -> nbformat.NotebookNode:
    nb = exercise_notebook(SPEC)
    guard_cells.guard(nb)
    nb.cells[0].execution_count, nb.cells[0].outputs = 1, list(arm_outputs)
    nb.cells[-1].outputs = check_outputs
    guard_cells.unguard(nb)
    return nb


def _result(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("execute_result", data={"text/plain": text}, execution_count=2)


def test_a_passed_check_keeps_its_verdict_and_nothing_else():
    nb = _executed([_result("✅ Exercise 8.3: correct. The same crop.")])
    assert [o.output_type for o in nb.cells[-1].outputs] == ["execute_result"]
    assert nb.cells[-1].source == CHECK


PRINTED = nbformat.v4.new_output("stream", name="stdout", text="✅ Exercise 8.3: correct.")


@pytest.mark.parametrize(
    "outputs", [[], [_result("✅ Exercise 8.2: correct.")], [PRINTED]], ids=["cleared", "another-exercise", "printed"]
)
def test_a_check_cell_that_raised_nothing_without_its_verdict_gets_an_error(outputs):
    nb = _executed(outputs)
    errors = [o for o in nb.cells[-1].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "CheckMachineryModified"
    assert errors[0].evalue.startswith("❌ Exercise 8.3: the check cell shows no ✅ verdict although it raised nothing")


def test_a_check_cell_with_its_own_error_is_left_as_it_is():
    error = nbformat.v4.new_output("error", ename="ExerciseNotSolved", evalue="❌ Exercise 8.3: not yet.", traceback=[])
    nb = _executed([error])
    assert nb.cells[-1].outputs == [error]


def test_when_arming_failed_every_check_cell_gets_an_error():
    failed = nbformat.v4.new_output("error", ename="CheckMachineryModified", evalue="numpy was imported", traceback=[])
    nb = _executed([_result("✅ Exercise 8.3: correct.")], [failed])
    assert nb.cells[-1].outputs[-1].evalue == (
        "❌ Exercise 8.3: the check machinery could not be recorded (CheckMachineryModified: numpy was imported)"
    )


def test_armed_a_guarded_check_cell_shows_the_verdict_of_a_right_answer(armed):
    namespace = {"check": lesson08, "crop_to_ink": _crop}
    shown = _run(guard_cells.guarded_source(CHECK, "8.3"), namespace)
    assert type(shown) is Feedback and shown.ok and repr(shown).startswith("✅ Exercise 8.3: correct.")


def test_armed_a_patched_array_equal_makes_the_check_cell_raise(armed, monkeypatch):
    monkeypatch.setattr(np, "array_equal", lambda *args, **kwargs: True)
    assert lesson08.crop_to_ink(_empty).ok, "without the guard the empty crop would pass"
    with pytest.raises(grading_guard.CheckMachineryModified, match=r"\(numpy.array_equal was replaced\)"):
        _run(guard_cells.guarded_source(CHECK, "8.3"), {"check": lesson08, "crop_to_ink": _empty})


def test_armed_a_verdict_that_is_not_a_passed_feedback_is_refused(armed):
    with pytest.raises(grading_guard.CheckMachineryModified, match="verdict is a Feedback, not a passed Feedback"):
        grading_guard.verified(lesson08, "8.3", lesson08.crop_to_ink(_empty))


def test_not_armed_every_check_is_refused():
    grading_guard._STATE.update(snapshot=None, failed=None)
    with pytest.raises(grading_guard.CheckMachineryModified, match="the guard was not armed before the notebook"):
        grading_guard.verify(lesson08, "8.3")
