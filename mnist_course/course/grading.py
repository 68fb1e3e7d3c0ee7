"""The course's exercises in nbgrader: the stubs of the student edition, plugged into ``nbgrader generate_assignment``.

nbgrader's ``ClearSolutions`` replaces every solution region by one ``code_stub`` per kernel language: it cannot
name the exercise. :class:`ClearExerciseSolutions` is that preprocessor with the course's stub for each cell
(``raise NotImplementedError("Exercise 4.1: write your code here")``), the answer cells' :data:`TEXT_STUB`, and the
student edition's two other touches: cleared exercise cells shown expanded, exercise and check cells tagged
``raises-exception``. Put this in the course's ``nbgrader_config.py``::

    from mnist_course.course.grading import configure
    c = get_config()
    configure(c)

Needs nbgrader (``pip install nbgrader``); the rest of the course does not import this module.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions
from traitlets.config import Config

from mnist_course.course import editions

AUTOGRADE_CELL_TIMEOUT_S = 600  # nbgrader's default, 30 s, is shorter than a training cell of the full profile


class ClearExerciseSolutions(ClearSolutions):
    """``ClearSolutions`` whose code stub names the exercise of each solution cell (its ``# Exercise N.M`` line)."""

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], cell_index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Clear the cell's solution as ``ClearSolutions`` does, with the stub of its exercise."""
        ident = editions.exercise_id(cell.source) if cell.cell_type == "code" and utils.is_solution(cell) else None
        stubs = dict(self.code_stub)
        if ident:
            self.code_stub = {**stubs, resources["language"]: editions.code_stub(ident)}
        try:
            cell, resources = super().preprocess_cell(cell, resources, cell_index)
        finally:
            self.code_stub = stubs
        check = cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)
        if ident or check:
            tags = list(cell.metadata.get("tags", []))
            cell.metadata["tags"] = tags + [t for t in editions.STUDENT_TAGS if t not in tags]
        if ident:
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
        return cell, resources


def configure(config: Config) -> Config:
    """Set up nbgrader for the course in ``config`` (the ``c`` of ``nbgrader_config.py``); returns it.

    ``generate_assignment`` then uses :class:`ClearExerciseSolutions` instead of ``ClearSolutions`` and the course's
    answer stub, and ``autograde`` lets a cell run for :data:`AUTOGRADE_CELL_TIMEOUT_S` seconds.
    """
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    config.GenerateAssignment.preprocessors = [ClearExerciseSolutions if p is ClearSolutions else p for p in default]
    config.ClearSolutions.text_stub = editions.TEXT_STUB
    config.Execute.timeout = AUTOGRADE_CELL_TIMEOUT_S
    return config
