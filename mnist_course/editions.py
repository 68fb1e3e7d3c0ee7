"""The two editions of the notebooks: the course edition in ``notebooks/`` (solutions inside, collapsed) and the
student edition written from it (solutions replaced by ``NotImplementedError`` stubs, outputs cleared).

An exercise is one code cell tagged ``exercise`` whose first line is ``# Exercise N.M: title``. The solution sits
between the lines ``# BEGIN SOLUTION`` and ``# END SOLUTION``; the self-check call follows in the same cell, so
that it runs right after the student's code. Markdown cells tagged ``solution`` (worked answers, "what to expect")
are dropped from the student edition, and the text of the ``## Exercises`` Markdown cell is replaced by
:data:`STUDENT_INTRO`, which tells the student where the solutions are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import nbformat

EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"
STUDENT_TAGS = ("raises-exception",)  # "Run all" (JupyterLab, nbclient, papermill) goes on past an unsolved stub
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
_TITLE = re.compile(r"^# Exercise (\d+\.\d+): \S")
EXERCISES_HEADING = "## Exercises"
STUDENT_INTRO = (
    "Each exercise cell below raises `NotImplementedError` until you replace that line with your code; the check on "
    "the cell's last line then says what is right or what to fix. Stuck? The solution is in the course edition of "
    "this notebook (`notebooks/{name}` in the course repository), collapsed inside the same exercise's cell: click "
    "it to reveal it."
)


class EditionError(ValueError):
    """A notebook's exercise cells do not follow the convention above; the message names the notebook and cell."""


def exercise_id(source: str) -> str | None:
    """``"3.1"`` from a cell whose first line is ``# Exercise 3.1: ...``; ``None`` for other cells."""
    match = _TITLE.match(source.lstrip().splitlines()[0] if source.strip() else "")
    return match.group(1) if match else None


def exercise_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """``(index, cell)`` of every code cell tagged ``exercise``, in notebook order."""
    return [(i, c) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and EXERCISE_TAG in c.metadata.get("tags", [])]


def strip_solution(source: str, where: str = "this cell") -> str:
    """``source`` with every BEGIN/END SOLUTION block replaced by a stub raising ``NotImplementedError``.

    The stub keeps the indentation of the ``# BEGIN SOLUTION`` line, so it works inside a function body.
    Raises :class:`EditionError` (naming ``where``) for a missing title, no block, or unbalanced markers.
    """
    ident = exercise_id(source)
    if ident is None:
        raise EditionError(f"{where}: an exercise cell must start with '# Exercise N.M: title'")
    out: list[str] = []
    inside = False
    blocks = 0
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise EditionError(f"{where}: '{BEGIN}' inside another solution block")
            inside, blocks = True, blocks + 1
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("Exercise {ident}: write your code here")')
        elif marker == END:
            if not inside:
                raise EditionError(f"{where}: '{END}' without '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise EditionError(f"{where}: '{BEGIN}' is never closed by '{END}'")
    if not blocks:
        raise EditionError(f"{where}: exercise {ident} has no '{BEGIN}' ... '{END}' block")
    return "\n".join(out)


def solutions_only(source: str) -> str:
    """``source`` with the marker lines removed: the code as it runs in the course edition."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


def student_notebook(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """A student-edition copy of the course-edition notebook ``nb`` (``nb`` itself is not changed)."""
    out = nbformat.from_dict(nb)  # a deep copy
    cells = []
    found = 0
    for index, cell in enumerate(out.cells):
        tags = list(cell.metadata.get("tags", []))
        if SOLUTION_TAG in tags:
            continue
        if cell.cell_type == "markdown" and cell.source.startswith(EXERCISES_HEADING):
            cell.source = f"{EXERCISES_HEADING}\n\n{STUDENT_INTRO.format(name=name)}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if EXERCISE_TAG in tags:
                found += 1
                cell.source = strip_solution(cell.source, f"{name}, cell {index}")
                cell.metadata.get("jupyter", {}).pop("source_hidden", None)
                cell.metadata["tags"] = tags + [t for t in STUDENT_TAGS if t not in tags]
        for key in ("execution", "papermill"):
            cell.metadata.pop(key, None)
        cells.append(cell)
    if not found:
        raise EditionError(f"{name}: no cell is tagged '{EXERCISE_TAG}'")
    out.cells = cells
    for key in ("widgets", "papermill"):
        out.metadata.pop(key, None)
    return out


def write_student_edition(notebooks: Sequence[Path], out_dir: Path) -> list[Path]:
    """Write the student edition of each notebook into ``out_dir`` (same file names); returns the written paths.

    Every notebook is checked before anything is written, so a malformed one leaves ``out_dir`` untouched.
    """
    editions = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        editions.append((path, student_notebook(nb, path.name)))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, nb in editions:
        target = out_dir / path.name
        tmp = target.with_suffix(".ipynb.tmp")
        nbformat.write(nb, tmp)
        tmp.replace(target)
        written.append(target)
    return written
