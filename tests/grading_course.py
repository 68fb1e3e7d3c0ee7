"""A tiny nbgrader course in a temporary folder, for the grading tests: one-exercise assignments written here in the
course's nbgrader format (notebooks/README.md), submissions made from the released notebook, the real nbgrader run
in the course folder, and the scores read back from its gradebook."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

SOLUTION = "# BEGIN SOLUTION\n{}\n    # END SOLUTION"


def _meta(grade_id: str, solution: bool, grade: bool, locked: bool, points: int | None = None) -> dict:
    meta = {"schema_version": 3, "solution": solution, "grade": grade, "locked": locked, "task": False}
    meta["grade_id"] = grade_id
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def exercise_notebook(spec: dict) -> nbformat.NotebookNode:
    """A course-edition notebook holding one exercise: ``spec`` gives its ``exercise`` ("3.3"), the answer
    function's ``signature`` and ``solution`` body, and the ``check`` call of its check cell."""
    ident, lesson = spec["exercise"], f"lesson{int(spec['exercise'].split('.')[0]):02d}"
    part = ident.replace(".", "-")
    solution = f"# Exercise {ident}: the exercise\nimport numpy as np\n\n\n{spec['signature']}\n    " + SOLUTION.format(
        spec["solution"]
    )
    cells = [
        nbformat.v4.new_markdown_cell("## Exercises"),
        nbformat.v4.new_code_cell(f"from mnist_course.exercises import {lesson} as check"),
        nbformat.v4.new_markdown_cell(f"### Exercise {ident}: the exercise"),
        nbformat.v4.new_code_cell(
            solution, metadata={"tags": ["exercise"], **_meta(f"ex-{part}-solution", True, False, False)}
        ),
        nbformat.v4.new_code_cell(
            f"# Checks exercise {ident}: ✅ when your answer is right, an error with a hint when it is not\n"
            + spec["check"],
            metadata=_meta(f"ex-{part}-check", False, True, True, points=1),
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def submission(release: nbformat.NotebookNode, exercise: str, code: str) -> nbformat.NotebookNode:
    """The released notebook with ``code`` as the answer of ``exercise`` (the whole solution cell)."""
    out = nbformat.from_dict(release)
    grade_id = f"ex-{exercise.replace('.', '-')}-solution"
    (cell,) = [c for c in out.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    cell.source = f"# Exercise {exercise}: the exercise\n{code}"
    return out


class GradingCourse:
    """An nbgrader course folder under ``base``: ``root`` (with ``nbgrader_config.py`` calling the course's
    ``configure``), its gradebook beside it, a home of its own, and the environment nbgrader runs with."""

    def __init__(self, base: Path) -> None:
        self.base, self.root, self.home = base, base / "course", base / "home"
        for folder in (self.root, self.home):
            folder.mkdir(parents=True)
        self.db = base / "gradebook.db"
        (self.root / "nbgrader_config.py").write_text(
            "from mnist_course.course.grading import configure\n"
            "c = get_config()\n"
            f"c.CourseDirectory.root = {str(self.root)!r}\n"
            f"c.CourseDirectory.db_url = {'sqlite:///' + str(self.db)!r}\n"
            f"c.Exchange.root = {str(base / 'exchange')!r}\n"
            "c.CourseDirectory.course_id = 'tiny'\n"
            "configure(c)\n"
        )
        home = self.home
        self.env = {
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
        }

    def add_assignment(self, name: str, spec: dict) -> None:
        """``source/<name>/<name>.ipynb``: the exercise of ``spec`` (see :func:`exercise_notebook`)."""
        folder = self.root / "source" / name
        folder.mkdir(parents=True)
        nbformat.write(exercise_notebook(spec), folder / f"{name}.ipynb")

    def release(self, name: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "release" / name / f"{name}.ipynb", as_version=4)

    def submit(self, student: str, name: str, nb: nbformat.NotebookNode) -> Path:
        folder = self.root / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{name}.ipynb")
        return folder / f"{name}.ipynb"

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """``python ARGS`` in the course folder with the course's environment (not checked)."""
        return subprocess.run(
            [sys.executable, *args], cwd=self.root, env=self.env, capture_output=True, text=True, timeout=1200
        )

    def nbgrader(self, *args: str) -> subprocess.CompletedProcess:
        """``nbgrader ARGS``, failing with its log when it fails."""
        done = self.run("-m", "nbgrader", *args)
        assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
        return done

    def score(self, student: str, name: str) -> float | None:
        """The autograded score of the check cell of ``student``'s notebook ``name`` in the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.db}") as gb:
            notebook = gb.find_submission_notebook(name, name, student)
            (grade,) = [g for g in notebook.grades if g.name.endswith("-check")]
            return grade.auto_score
