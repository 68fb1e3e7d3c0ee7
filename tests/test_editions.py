"""The two editions: the course edition's exercise cells follow the convention, and the student edition written
from it runs top to bottom with ``NotImplementedError`` as its only error, raised in exercise cells only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mnist_course import editions, runner

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = runner.discover((), ROOT / "notebooks")
EXAMPLE = '''# Exercise 9.1: add two numbers
def add(a, b):
    """a + b"""
    # BEGIN SOLUTION
    return a + b
    # END SOLUTION


print(add(1, 2))'''


def test_strip_solution_keeps_the_signature_and_the_check_and_indents_the_stub():
    student = editions.strip_solution(EXAMPLE)
    assert student.splitlines() == [
        "# Exercise 9.1: add two numbers", "def add(a, b):", '    """a + b"""',
        '    raise NotImplementedError("Exercise 9.1: write your code here")', "", "", "print(add(1, 2))"]
    assert "return a + b" in editions.solutions_only(EXAMPLE) and "BEGIN" not in editions.solutions_only(EXAMPLE)


@pytest.mark.parametrize("source, problem", [
    (EXAMPLE.replace("# Exercise 9.1: add two numbers", "# add two numbers"), "must start with '# Exercise N.M"),
    (EXAMPLE.replace("    # END SOLUTION\n", ""), "never closed"),
    (EXAMPLE.replace("    # BEGIN SOLUTION\n", ""), "without '# BEGIN SOLUTION'"),
    ("# Exercise 9.1: nothing to hide\nx = 1", "has no '# BEGIN SOLUTION'"),
    (EXAMPLE.replace("    return a + b\n", "    # BEGIN SOLUTION\n"), "inside another solution block"),
])
def test_malformed_exercise_cells_are_refused_with_the_place_named(source, problem):
    with pytest.raises(editions.EditionError, match="07_x.ipynb, cell 3") as err:
        editions.strip_solution(source, "07_x.ipynb, cell 3")
    assert problem in str(err.value)


def _tiny_course(folder: Path, exercise_source: str = EXAMPLE) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    hidden = {"tags": ["exercise"], "jupyter": {"source_hidden": True}}
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"),
                nbformat.v4.new_markdown_cell("## Exercises\n\nIn this course edition the solutions are here."),
                nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="hi\n")],
                                          execution_count=1),
                nbformat.v4.new_code_cell(exercise_source, metadata=hidden, execution_count=2),
                nbformat.v4.new_markdown_cell("the answer is 3", metadata={"tags": ["solution"]})]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "01_tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_command_writes_a_student_edition_and_leaves_the_course_edition_alone(tmp_path):
    course = _tiny_course(tmp_path / "course")
    (tmp_path / "course" / "results").mkdir()
    (tmp_path / "course" / "results" / "race.json").write_text("{}")
    before = course.read_bytes()
    done = subprocess.run([sys.executable, "-m", "mnist_course.cli", "student-edition", "--notebooks",
                           str(tmp_path / "course"), "-o", str(tmp_path / "student")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert course.read_bytes() == before
    student = nbformat.read(tmp_path / "student" / "01_tiny.ipynb", as_version=4)
    assert [c.cell_type for c in student.cells] == ["markdown", "markdown", "code", "code"]  # solution note gone
    assert all(c.outputs == [] and c.execution_count is None for c in student.cells if c.cell_type == "code")
    intro = student.cells[1].source
    assert intro.startswith("## Exercises") and "course edition" not in intro.split("Stuck?")[0]
    assert "`notebooks/01_tiny.ipynb`" in intro  # where the solutions are
    exercise = student.cells[3]
    assert "return a + b" not in exercise.source and "NotImplementedError" in exercise.source
    assert "raises-exception" in exercise.metadata["tags"] and "source_hidden" not in exercise.metadata.get("jupyter", {})
    assert "widgets" not in student.metadata
    assert (tmp_path / "student" / "results" / "race.json").is_file()


def test_a_malformed_notebook_stops_the_command_before_anything_is_written(tmp_path):
    _tiny_course(tmp_path / "course", EXAMPLE.replace("    # END SOLUTION\n", ""))
    done = subprocess.run([sys.executable, "-m", "mnist_course.cli", "student-edition", "--notebooks",
                           str(tmp_path / "course"), "-o", str(tmp_path / "student")], capture_output=True, text=True)
    assert done.returncode == 1
    assert "01_tiny.ipynb, cell 3" in done.stderr and "never closed" in done.stderr
    assert not (tmp_path / "student").exists()


def test_the_student_edition_cannot_overwrite_the_course_edition(tmp_path):
    _tiny_course(tmp_path / "course")
    done = subprocess.run([sys.executable, "-m", "mnist_course.cli", "student-edition", "--notebooks",
                           str(tmp_path / "course"), "-o", str(tmp_path / "course")], capture_output=True, text=True)
    assert done.returncode == 2 and "must not overwrite" in done.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_has_three_checked_exercises_with_collapsed_solutions(path):
    nb = nbformat.read(path, as_version=4)
    cells = editions.exercise_cells(nb)
    assert len(cells) >= 3, f"{path.name}: at least three exercises"
    number = path.name[:2].lstrip("0")
    ids = [editions.exercise_id(c.source) for _, c in cells]
    assert ids == [f"{number}.{k}" for k in range(1, len(cells) + 1)], f"{path.name}: exercises numbered in order"
    for index, cell in cells:
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, f"{path.name} cell {index}: collapsed"
        assert "check." in cell.source.split(editions.END)[-1], f"{path.name} cell {index}: a self-check follows"
        shown = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in cell.outputs)
        assert f"✅ Exercise {editions.exercise_id(cell.source)}: correct" in shown, (
            f"{path.name} cell {index}: the stored output shows the solution passing its check")
    assert "from mnist_course.exercises import lesson" in "".join(c.source for c in nb.cells)


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("student")
    editions.write_student_edition(NOTEBOOKS, out)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_student_edition_raises_only_not_implemented_and_only_in_exercises(path, student_edition):
    nb = nbformat.read(student_edition / path.name, as_version=4)
    # The cells tagged raises-exception let execution go on, as "Run all" does; any other error stops it here.
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    raised = {}
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                raised[index] = out.ename
    exercises = {index for index, _ in editions.exercise_cells(nb)}
    assert raised, "the stubs raise"
    assert set(raised.values()) == {"NotImplementedError"}, raised
    assert set(raised) == exercises, f"errors in cells {sorted(raised)}, exercises are cells {sorted(exercises)}"
