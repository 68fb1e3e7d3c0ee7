"""The two editions of the notebooks: the course edition in ``notebooks/`` (solutions inside, collapsed) and the
student edition written from it (solutions replaced by stubs, outputs cleared), the same cells nbgrader hands out.

The exercises follow nbgrader's conventions (metadata schema 3), so that ``nbgrader generate_assignment`` and
``autograde`` work on the course notebooks as they are:

- an exercise's **solution cell** is a code cell tagged ``exercise`` (collapsed in the course edition) whose first
  line is ``# Exercise N.M: title``; the solution sits between a ``# BEGIN SOLUTION`` and a ``# END SOLUTION`` line.
  nbgrader metadata: ``solution`` true, ``grade_id`` ``ex-N-M-solution``;
- the **check cell** after it is locked and autograded (``grade`` true, ``points``, ``grade_id`` ``ex-N-M-check``)
  and calls ``check.<name>(...).raise_if_wrong()``: ✅ when the answer is right, an error with the hint when not;
- an open question's worked answer is a Markdown **answer cell**, tagged ``solution``, graded by hand (``solution``
  and ``grade`` true, ``points``).

The student edition is what nbgrader's ``ClearSolutions`` makes of these cells with the course's stubs (see
:mod:`mnist_course.course.grading`, which plugs the same stubs into nbgrader): each solution region becomes
:func:`code_stub`, each answer cell :data:`TEXT_STUB`, locked cells lose ``editable``/``deletable`` as nbgrader's
``LockCells`` does, outputs and widget state are cleared, exercise and check cells are tagged ``raises-exception``
("Run all" carries on past an unsolved exercise) and shown expanded. Markdown cells tagged ``solution`` that are not
answer cells are dropped, and the ``## Exercises`` cell gets :data:`STUDENT_INTRO`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import nbformat

from mnist_course import files, paths

EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"
STUDENT_TAGS = ("raises-exception",)  # "Run all" (JupyterLab, nbclient, papermill) goes on past an unsolved stub
BEGIN_DELIMITER, END_DELIMITER = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's: matched anywhere in a line
BEGIN, END = f"# {BEGIN_DELIMITER}", f"# {END_DELIMITER}"
TEXT_STUB = "**Your answer:** _double-click this cell and write it here._"
_TITLE = re.compile(r"^# Exercise (\d+\.\d+): \S")
EXERCISES_HEADING = "## Exercises"
STUDENT_INTRO = (
    "Each exercise has a cell for your code, which raises `NotImplementedError` until you replace that line, and "
    "after it a locked cell that checks your answer: ✅ when it is right, an error with a hint saying what to fix "
    "when it is not. Stuck? The solution is in the course edition of this notebook (`notebooks/{name}` in the "
    "course repository), collapsed inside the same exercise's code cell: click it to reveal it."
)


class EditionError(ValueError):
    """A notebook's exercise cells do not follow the convention above; the message names the notebook and cell."""


class EditionTargetError(EditionError, paths.CourseEditionError):
    """The student edition would be written onto a course notebook, a notebook it reads, or their results."""


class UnreadableNotebook(EditionError):
    """A file that is not a Jupyter notebook (not JSON, not nbformat 4, unreadable); the message names it."""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path`` (nbformat 4), or :class:`UnreadableNotebook` in one line naming the file, why, and
    the fix."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises NotJSONError, jsonschema's ValidationError, TypeError, OSError...
        if isinstance(exc, nbformat.reader.NotJSONError):
            why = "not JSON"
        elif isinstance(exc, UnicodeDecodeError):
            why = "not UTF-8 text"
        elif isinstance(exc, OSError):
            why = exc.strerror or type(exc).__name__
        else:
            why = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise UnreadableNotebook(
            f"{path} is not a readable Jupyter notebook ({why}): restore it (in a clone: git checkout -- {path}) "
            "or save it again from Jupyter"
        ) from None


def exercise_id(source: str) -> str | None:
    """``"3.1"`` from a cell whose first line is ``# Exercise 4.1: ...``; ``None`` for other cells."""
    match = _TITLE.match(source.lstrip().splitlines()[0] if source.strip() else "")
    return match.group(1) if match else None


def code_stub(ident: str) -> str:
    """The line that replaces the solution of exercise ``ident`` in the student edition."""
    return f'raise NotImplementedError("Exercise {ident}: write your code here")'


def grade_id(ident: str, part: str) -> str:
    """nbgrader's id of a part (``solution``, ``check``, ``answer``) of exercise ``ident``: ``ex-4-1-check``."""
    return f"ex-{ident.replace('.', '-')}-{part}"


def nbgrader_metadata(cell: nbformat.NotebookNode) -> dict:
    """The cell's ``nbgrader`` metadata (empty for a cell nbgrader ignores)."""
    return dict(cell.metadata.get("nbgrader", {}))


def exercise_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """``(index, cell)`` of every code cell tagged ``exercise`` (the solution cells), in notebook order."""
    return [
        (i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and EXERCISE_TAG in c.metadata.get("tags", [])
    ]


def check_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """``(index, cell)`` of every autograded check cell (a code cell nbgrader grades that is not a solution)."""
    return [
        (i, c)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and nbgrader_metadata(c).get("grade") and not nbgrader_metadata(c).get("solution")
    ]


def _answer_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """``(index, cell)`` of every Markdown answer cell graded by hand (nbgrader ``solution`` and ``grade``)."""
    return [
        (i, c)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and nbgrader_metadata(c).get("solution") and nbgrader_metadata(c).get("grade")
    ]


def _autograded_points(nb: nbformat.NotebookNode) -> float:
    """The points of the autograded cells: the most ``nbgrader autograde`` can give this notebook."""
    return float(sum(nbgrader_metadata(c).get("points", 0) for _, c in check_cells(nb)))


def strip_solution(source: str, where: str = "this cell", stub: str | None = None) -> str:
    """``source`` with every BEGIN/END SOLUTION region replaced by ``stub`` (default :func:`code_stub` of the
    cell's exercise), indented like the ``BEGIN SOLUTION`` line: what nbgrader's ``ClearSolutions`` does.

    Raises :class:`EditionError` (naming ``where``) for a missing title, no region, or unbalanced markers.
    """
    ident = exercise_id(source)
    if ident is None:
        raise EditionError(f"{where}: an exercise cell must start with '# Exercise N.M: title'")
    stub_lines = (code_stub(ident) if stub is None else stub).split("\n")
    out: list[str] = []
    inside = False
    regions = 0
    for line in source.split("\n"):
        if BEGIN_DELIMITER in line:
            if inside:
                raise EditionError(f"{where}: '{BEGIN}' inside another solution block")
            inside, regions = True, regions + 1
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + stub_line for stub_line in stub_lines)
        elif END_DELIMITER in line:
            if not inside:
                raise EditionError(f"{where}: '{END}' without '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise EditionError(f"{where}: '{BEGIN}' is never closed by '{END}'")
    if not regions:
        raise EditionError(f"{where}: exercise {ident} has no '{BEGIN}' ... '{END}' block")
    return "\n".join(out)


def _solutions_only(source: str) -> str:
    """``source`` with the marker lines removed: the code as it runs in the course edition."""
    return "\n".join(line for line in source.splitlines() if BEGIN_DELIMITER not in line and END_DELIMITER not in line)


def lock(cell: nbformat.NotebookNode) -> None:
    """Make ``cell`` undeletable (and, for a graded or read-only cell, not editable), as nbgrader's ``LockCells``."""
    meta = nbgrader_metadata(cell)
    if meta.get("solution"):
        cell.metadata["deletable"] = False
    elif meta.get("grade") or meta.get("locked"):
        cell.metadata["deletable"] = False
        cell.metadata["editable"] = False


def student_cell(cell: nbformat.NotebookNode, where: str) -> nbformat.NotebookNode | None:
    """The student-edition version of one course-edition cell (changed in place), or ``None`` to drop it."""
    tags = list(cell.metadata.get("tags", []))
    meta = nbgrader_metadata(cell)
    if cell.cell_type == "markdown" and meta.get("solution"):
        cell.source = TEXT_STUB
    elif SOLUTION_TAG in tags:
        return None
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
        for key in ("collapsed", "scrolled"):  # output display state, dropped with the outputs (as nbgrader does)
            cell.metadata.pop(key, None)
        exercise = EXERCISE_TAG in tags
        if exercise != bool(meta.get("solution")):
            raise EditionError(
                f"{where}: a cell tagged '{EXERCISE_TAG}' must be an nbgrader solution cell "
                '("nbgrader": {"solution": true, ...}) and the other way round'
            )
        if exercise:
            cell.source = strip_solution(cell.source, where)
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
        elif BEGIN_DELIMITER in cell.source:
            raise EditionError(f"{where}: a solution region outside a cell tagged '{EXERCISE_TAG}'")
        if exercise or (meta.get("grade") and not meta.get("solution")):
            cell.metadata["tags"] = tags + [t for t in STUDENT_TAGS if t not in tags]
    lock(cell)
    for key in ("execution", "papermill"):
        cell.metadata.pop(key, None)
    return cell


def student_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A student-edition copy of the course-edition notebook ``nb`` (``nb`` itself is not changed)."""
    out = nbformat.from_dict(nb)  # a deep copy
    if not exercise_cells(out):
        raise EditionError(f"{name}: no cell is tagged '{EXERCISE_TAG}'")
    cells = []
    for index, cell in enumerate(out.cells):
        if cell.cell_type == "markdown" and cell.source.startswith(EXERCISES_HEADING):
            cell.source = f"{EXERCISES_HEADING}\n\n{STUDENT_INTRO.format(name=name)}"
        kept = student_cell(cell, f"{name}, cell {index}")
        if kept is not None:
            cells.append(kept)
    out.cells = cells
    for key in ("widgets", "papermill", "celltoolbar"):
        out.metadata.pop(key, None)
    return out


def _results_files(notebooks: Sequence[Path]) -> dict[Path, Path]:
    """``{path inside results/: file}`` of the stored results next to the notebooks (e.g. 07's race)."""
    found: dict[Path, Path] = {}
    for folder in sorted({Path(p).resolve().parent for p in notebooks}):
        results = folder / "results"
        if results.is_dir():
            found.update({f.relative_to(results): f for f in sorted(results.rglob("*")) if f.is_file()})
    return found


def _refuse(targets: list[Path], sources: Sequence[Path]) -> None:
    """Raise :class:`EditionTargetError` if a target resolves to a course notebook (or its folder), to a notebook
    being read, or into the ``results/`` folder beside any of them."""
    fix = "write the student edition into another folder, e.g. `mnist-course student-edition -o student`"
    try:
        paths.refuse_course_targets(targets, command="student-edition", fix=fix)
    except paths.CourseEditionError as exc:
        raise EditionTargetError(str(exc)) from None
    readonly = {Path(p).resolve() for p in [*paths.course_notebooks(), *sources]}
    folders = {p.parent for p in readonly}
    for target in targets:
        real = Path(target).expanduser().resolve()
        if real in readonly or real in folders or any(real.is_relative_to(f / "results") for f in folders):
            raise EditionTargetError(f"student-edition would overwrite {real}, part of a course edition: {fix}")


def write_student_edition(notebooks: Sequence[Path], out_dir: Path) -> list[Path]:
    """Write the student edition of each notebook into ``out_dir`` (same file names), with a copy of the
    ``results/`` folder beside them; returns the written notebooks.

    Every notebook is checked, and every path to be written is compared (resolved, symlinks followed) with the
    course notebooks and the notebooks read, before anything is written: a malformed notebook or a target on a
    course edition (:class:`EditionTargetError`) leaves every file untouched. Each file is written atomically.
    """
    out_dir = Path(out_dir)
    editions = [(Path(p), student_notebook(read_notebook(Path(p)), Path(p).name)) for p in notebooks]
    results = _results_files(notebooks)
    targets = {out_dir / p.name: nb for p, nb in editions}
    if len(targets) < len(editions):
        raise EditionError("two of the notebooks have the same file name: write them into different -o folders")
    copies = {out_dir / "results" / rel: src for rel, src in results.items()}
    _refuse([out_dir, *targets, *copies], notebooks)
    for target, nb in targets.items():
        with files.atomic_path(target, suffix=".ipynb") as tmp:
            nbformat.write(nb, tmp)
    for target, source in copies.items():
        files.write_bytes_atomic(target, source.read_bytes())
    return list(targets)
