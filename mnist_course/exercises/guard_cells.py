"""The guard in an autograded notebook: the cell run first, each check cell's guarded source, the verdict it must show.

:func:`guard` changes a notebook before nbgrader executes it: a first cell arming
:mod:`mnist_course.exercises.grading_guard` for the check modules the notebook's exercises use, and each check cell
(``grade_id`` ``ex-N-M-check``) wrapped in :func:`~mnist_course.exercises.grading_guard.verify` and
:func:`~mnist_course.exercises.grading_guard.verified`. :func:`unguard`, after execution, takes both changes back
(the feedback shows the cells as handed out) and applies the rule read outside the kernel: a check cell that raised
nothing scores only if it shows its exercise's ✅ verdict; otherwise (its output cleared, its code replaced by an
input transformer, the guard never armed) it gets an error, so nbgrader gives it 0.
"""

from __future__ import annotations

import ast
import re

import nbformat
from nbformat import NotebookNode

GUARD_KEY = "mnist_course_guard"  # cell metadata while guarded: {"role": "arm"} or {"source": the original source}
GUARD_NAME = "_mnist_course_guard"
_CHECK_ID = re.compile(r"^ex-(\d+)-(\d+)-check$")
_ARM = """# Added by the course's autograde (mnist_course.course.grading): records the check machinery first.
def _mnist_course_arm():
    import os
    import sys

    saved, here = list(sys.path), os.path.realpath(os.getcwd())
    sys.path[:] = [p for p in saved if os.path.realpath(p or os.curdir) != here]  # nothing from the submission
    try:
        from mnist_course.exercises import grading_guard

        grading_guard.arm({lessons!r}, here)
    finally:
        sys.path[:] = saved


_mnist_course_arm()
del _mnist_course_arm
"""


def check_exercise(cell: NotebookNode) -> str | None:
    """``"4.1"`` for an autograded check cell whose grade id is ``ex-4-1-check``; ``None`` for any other cell."""
    meta = cell.metadata.get("nbgrader", {})
    if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
        return None
    match = _CHECK_ID.match(str(meta.get("grade_id", "")))
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None


def arm_source(lessons: tuple[str, ...]) -> str:
    """The source of the first cell: arms the guard for the check modules ``lessons`` (``("lesson04",)``)."""
    return _ARM.format(lessons=lessons)


def guarded_source(source: str, exercise: str) -> str:
    """``source`` (a check cell ending with ``check.name(...).raise_if_wrong()``) with the guard around the check:
    :func:`verify` first, then the last expression passed through :func:`verified`, which returns it for display.
    A cell that does not end with an expression gets :func:`verify` before and after, and shows no verdict."""
    head = f"import mnist_course.exercises.grading_guard as {GUARD_NAME}\n"
    verify = f"{GUARD_NAME}.verify(check, {exercise!r})"
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return f"{head}{verify}\n{source}"
    if not body or not isinstance(body[-1], ast.Expr):
        return f"{head}{verify}\n{source}\n{verify}\n"
    raw, last = source.encode("utf-8"), body[-1]
    starts = [0] + [i + 1 for i, byte in enumerate(raw) if byte == ord("\n")]  # ast offsets count UTF-8 bytes
    begin, end = starts[last.lineno - 1] + last.col_offset, starts[last.end_lineno - 1] + last.end_col_offset
    before, expression, after = (raw[:begin].decode(), raw[begin:end].decode(), raw[end:].decode())
    return f"{head}{verify}\n{before}{GUARD_NAME}.verified(check, {exercise!r}, (\n{expression}\n)){after}"


def guard(nb: NotebookNode) -> bool:
    """Guard ``nb`` in place (see the module's docstring); ``False`` (nothing changed) when it has no check cell."""
    checks = [(cell, check_exercise(cell)) for cell in nb.cells]
    checks = [(cell, exercise) for cell, exercise in checks if exercise]
    if not checks:
        return False
    for cell, exercise in checks:
        cell.metadata[GUARD_KEY] = {"source": cell.source}
        cell.source = guarded_source(cell.source, exercise)
    lessons = tuple(sorted({f"lesson{int(exercise.split('.')[0]):02d}" for _, exercise in checks}))
    arm = nbformat.v4.new_code_cell(arm_source(lessons), metadata={GUARD_KEY: {"role": "arm"}})
    if nb.get("nbformat_minor", 0) < 5:
        arm.pop("id", None)
    nb.cells.insert(0, arm)
    return True


def _error(message: str) -> NotebookNode:
    return nbformat.v4.new_output("error", ename="CheckMachineryModified", evalue=message, traceback=[message])


def _shows_verdict(cell: NotebookNode, exercise: str) -> bool:
    for output in cell.get("outputs", []):
        text = output.get("data", {}).get("text/plain", "") if output.get("output_type") == "execute_result" else ""
        if "".join(text).startswith(f"✅ Exercise {exercise}:"):
            return True
    return False


def unguard(nb: NotebookNode) -> None:
    """Take :func:`guard`'s changes back from ``nb`` and, if the guard's cell was executed, give every check cell
    that raised nothing and shows no ✅ verdict of its exercise (or every check cell, if arming failed) an error."""
    arm = next((c for c in nb.cells if c.metadata.get(GUARD_KEY, {}).get("role") == "arm"), None)
    if arm is None:
        return
    nb.cells.remove(arm)
    executed = arm.get("execution_count") is not None
    arm_failed = [o for o in arm.get("outputs", []) if o.get("output_type") == "error"]
    for cell in nb.cells:
        saved = cell.metadata.pop(GUARD_KEY, None)
        if saved is None:
            continue
        cell.source = saved["source"]
        exercise = check_exercise(cell)
        if not executed or exercise is None or any(o.get("output_type") == "error" for o in cell.outputs):
            continue
        if arm_failed:
            failed = f"{arm_failed[0].get('ename')}: {arm_failed[0].get('evalue')}"
            cell.outputs.append(_error(f"❌ Exercise {exercise}: the check machinery could not be recorded ({failed})"))
        elif not _shows_verdict(cell, exercise):
            cell.outputs.append(
                _error(
                    f"❌ Exercise {exercise}: the check cell shows no ✅ verdict although it raised nothing: its code "
                    "or output was changed by the notebook, so it scores 0. Remove the code that does that."
                )
            )
