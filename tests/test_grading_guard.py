"""Autograde's guard with the real nbgrader, on tiny assignments built here (one exercise each, no course notebook):
a correct submission gets full marks; each way of tampering with the check machinery a tester found, and a variant of
each family, scores 0 for its check cell with a message saying the machinery was modified (or that no verdict was
shown); the cheats are first shown to work on the plain checks, in this process, so the tests prove the guard is what
stops them."""

from __future__ import annotations

import html
import re

import nbformat
import numpy as np
import pytest

from mnist_course.exercises import Feedback, lesson02, lesson03, lesson08
from tests.grading_course import GradingCourse, submission

# Exercise 3.3 (lesson03.tanh_backprop, defined in lesson03_backprop): gradients of a tanh layer; all-zeros
# gradients are wrong.
BACKPROP_RIGHT = """\
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d2 = (p - y) / len(x)
    d1 = (d2 @ W2.T) * (1 - h**2)
    return x.T @ d1, d1.sum(axis=0), h.T @ d2, d2.sum(axis=0)"""
BACKPROP_ZEROS = "    return [np.zeros_like(a) for a in (W1, b1, W2, b2)]"
BACKPROP = {
    "exercise": "3.3",
    "signature": "def tanh_gradients(x, y, W1, b1, W2, b2):",
    "solution": BACKPROP_RIGHT,
    "check": "check.tanh_backprop(tanh_gradients).raise_if_wrong()",
}
# Exercise 2.1 (lesson02.predicted_input): a prediction of shape, dtype and bytes. A prediction earns the point held
# or not, so the wrong answer is one that is no prediction: two parts instead of three.
SHAPES = {
    "exercise": "2.1",
    "signature": "def predicted_input():",
    "solution": '    return (100, 28, 28, 1), "float64", 627200',
    "check": "check.predicted_input(predicted_input).raise_if_wrong()",
}
SHAPES_WRONG = '    return (100, 28, 28, 1), "float64"'
# Exercise 8.3 (lesson08.crop_to_ink): the crop to the ink; an all-zeros array is wrong.
CROP = {
    "exercise": "8.3",
    "signature": "def crop_to_ink(image):",
    "solution": "    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))\n"
    "    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]",
    "check": "check.crop_to_ink(crop_to_ink).raise_if_wrong()",
}
CROP_ZEROS = "    return np.zeros((6, 8), dtype=np.uint8)"

ALL_PASS = """
class _AllPass:
    def __getattr__(self, name):
        return lambda *args, **kwargs: Feedback("3.3", True, "correct.")
"""
# What a course notebook does before its exercises (mnist_course.start's steps, a widget, an inline plot, Keras
# imported and a model trained): none of it may look like tampering.
COURSE_LIKE = """
from mnist_course import backend, seeding
from mnist_course.data import load_mnist
from mnist_course.widgets import ImageToVector

backend.import_quietly()
seeding.seed_everything(42)
get_ipython().run_line_magic("matplotlib", "inline")
import keras
import matplotlib.pyplot as plt

(x_train, y_train), _ = load_mnist()
display(ImageToVector(x_train, y_train))
plt.plot([0, 1])
plt.show()
model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])
model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train[:256].reshape(-1, 784) / 255, y_train[:256], epochs=1, verbose=0)
print(keras.utils.to_categorical(y_train[:3], 10))
"""
# student -> (assignment, the body of the answer function, code after the function in the same cell)
STUDENTS = {
    "solved": ("backprop", BACKPROP_RIGHT, ""),
    "zeros": ("backprop", BACKPROP_ZEROS, ""),
    "allclose": ("backprop", BACKPROP_ZEROS, "np.allclose = lambda *args, **kwargs: True"),
    "raise-if-wrong": ("backprop", BACKPROP_ZEROS, "Feedback.raise_if_wrong = lambda self: self"),
    "bool": ("backprop", BACKPROP_RIGHT, "Feedback.__bool__ = lambda self: True"),
    "check-object": ("backprop", BACKPROP_ZEROS, ALL_PASS + "check = _AllPass()"),
    "sys-modules": (
        "backprop",
        BACKPROP_ZEROS,
        ALL_PASS + 'sys.modules["mnist_course.exercises.lesson03"] = _AllPass()\n'
        'check = importlib.import_module("mnist_course.exercises.lesson03")',
    ),
    "code": (
        "backprop",
        BACKPROP_ZEROS,
        'check.tanh_backprop.__code__ = (lambda gradients: right("3.3", "")).__code__',
    ),
    "inside-the-check": (
        "backprop",
        "    np.allclose = lambda *args, **kwargs: True  # patched while the check runs\n" + BACKPROP_ZEROS,
        "",
    ),
    "transformer": (
        "backprop",
        BACKPROP_ZEROS,
        "get_ipython().input_transformers_post.append(\n"
        "    lambda lines: ['pass\\n'] if 'check' in ''.join(lines) else lines\n"
        ")",
    ),
    "course-like": ("shapes", SHAPES["solution"], COURSE_LIKE),
    "keras": ("shapes", SHAPES["solution"], "import keras\nkeras.utils.to_categorical = lambda y, n=None: y"),
    "lesson02-names": (
        "shapes",
        SHAPES_WRONG,
        "from mnist_course.exercises import lesson02\nlesson02.wrong = lesson02.right",
    ),
    "array-equal": ("crop", CROP_ZEROS, "np.array_equal = lambda *args, **kwargs: True"),
}
PREAMBLE = "import importlib\nimport sys\n\nimport numpy as np\n\nfrom mnist_course.exercises import Feedback\n"
MODIFIED = "CheckMachineryModified: ❌ Exercise {}: the check machinery was modified ({})"
# student -> the words after "modified (" in its feedback
DETECTED = {
    "allclose": "numpy.allclose was replaced",
    "raise-if-wrong": "mnist_course.exercises.feedback.Feedback.raise_if_wrong was replaced",
    "bool": "mnist_course.exercises.feedback.Feedback.__bool__ was replaced",
    "check-object": "`check` is a _AllPass, not the module mnist_course.exercises.lesson03",
    "sys-modules": "`check` is a _AllPass, not the module mnist_course.exercises.lesson03",
    "code": "mnist_course.exercises.lesson03_backprop.tanh_backprop.__code__ was set",
    "inside-the-check": "numpy.allclose was replaced",
    "lesson02-names": "mnist_course.exercises.lesson02.wrong was replaced",
    "array-equal": "numpy.array_equal was replaced",
    "keras": "keras.utils.to_categorical was replaced",
}
ASSIGNMENTS = {"backprop": BACKPROP, "shapes": SHAPES, "crop": CROP}


def _zeros(x, y, W1, b1, W2, b2):  # noqa: N803 - the exercise's names
    return [np.zeros_like(a) for a in (W1, b1, W2, b2)]


# The cheats work on the plain checks (no guard): in this process, each makes a wrong answer pass.


def test_without_the_guard_patching_numpy_allclose_passes_all_zero_gradients(monkeypatch):
    assert not lesson03.tanh_backprop(_zeros).ok
    monkeypatch.setattr(np, "allclose", lambda *args, **kwargs: True)
    assert lesson03.tanh_backprop(_zeros).raise_if_wrong().ok


def test_without_the_guard_replacing_raise_if_wrong_lets_a_wrong_answer_through(monkeypatch):
    monkeypatch.setattr(Feedback, "raise_if_wrong", lambda self: self)
    assert not lesson03.tanh_backprop(_zeros).raise_if_wrong().ok  # no error: the cell would score


def test_without_the_guard_wrong_rebound_to_right_passes_a_wrong_prediction(monkeypatch, real_copy):
    def wrong_prediction():  # no prediction: two parts instead of three
        return (100, 28, 28, 1), "float64"

    assert not lesson02.predicted_input(wrong_prediction).ok
    monkeypatch.setattr(lesson02, "wrong", lesson02.right)
    assert lesson02.predicted_input(wrong_prediction).ok


def test_without_the_guard_patching_array_equal_passes_an_empty_crop(monkeypatch):
    def crop(image):
        return np.zeros((6, 8), dtype=np.uint8)

    assert not lesson08.crop_to_ink(crop).ok
    monkeypatch.setattr(np, "array_equal", lambda *args, **kwargs: True)
    assert lesson08.crop_to_ink(crop).ok


def test_without_the_guard_a_check_object_of_ones_own_passes_anything():
    namespace = {"Feedback": Feedback}
    exec(ALL_PASS + "check = _AllPass()", namespace)
    assert namespace["check"].tanh_backprop(_zeros).raise_if_wrong().ok


# The same cheats under the real nbgrader autograde, configured by the course (mnist_course.course.grading).


@pytest.fixture(scope="module")
def graded(tmp_path_factory, real_copy) -> GradingCourse:
    """A tiny nbgrader course: three one-exercise assignments, every student of STUDENTS submitted, autograded and
    fed back (guarded, as ``configure`` sets it up)."""
    course = GradingCourse(tmp_path_factory.mktemp("guard"))
    for name, spec in ASSIGNMENTS.items():
        course.add_assignment(name, spec)
    course.nbgrader("generate_assignment", "*")
    for student, (assignment, body, after) in STUDENTS.items():
        spec = ASSIGNMENTS[assignment]
        code = f"{PREAMBLE}\n\n{spec['signature']}\n{body}\n\n\n{after}\n"
        course.submit(student, assignment, submission(course.release(assignment), spec["exercise"], code))
    for assignment in ASSIGNMENTS:
        course.nbgrader("autograde", assignment)
    course.nbgrader("generate_feedback", "*")
    return course


def _feedback(course: GradingCourse, student: str) -> str:
    assignment = STUDENTS[student][0]
    page = course.root / "feedback" / student / assignment / f"{assignment}.html"
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


@pytest.mark.executes_notebooks
@pytest.mark.parametrize("student", ["solved", "course-like"])
def test_a_correct_submission_gets_full_marks_and_its_verdict(graded, student):
    assignment = STUDENTS[student][0]
    exercise = ASSIGNMENTS[assignment]["exercise"]
    assert graded.score(student, assignment) == 1.0
    text = _feedback(graded, student)
    verdict = "prediction recorded; your prediction held." if assignment == "shapes" else "correct."  # 2.1 predicts
    assert f"✅ Exercise {exercise}: {verdict}" in text
    assert "mnist_course_guard" not in text, "the feedback shows the check cell as handed out"


@pytest.mark.executes_notebooks
def test_a_wrong_answer_without_tampering_gets_zero_and_its_hint(graded):
    assert graded.score("zeros", "backprop") == 0.0
    assert "ExerciseNotSolved: ❌ Exercise 3.3: not yet. dW1, db1, dW2, db2 differ" in _feedback(graded, "zeros")


@pytest.mark.executes_notebooks
@pytest.mark.parametrize("student", sorted(DETECTED))
def test_tampering_with_the_check_machinery_scores_zero_and_says_so(graded, student):
    assignment = STUDENTS[student][0]
    assert graded.score(student, assignment) == 0.0
    expected = MODIFIED.format(ASSIGNMENTS[assignment]["exercise"], DETECTED[student])
    assert expected in _feedback(graded, student)


@pytest.mark.executes_notebooks
def test_an_input_transformer_that_empties_the_check_cell_scores_zero(graded):
    assert graded.score("transformer", "backprop") == 0.0
    assert "Exercise 3.3: the check cell shows no ✅ verdict although it raised nothing" in _feedback(
        graded, "transformer"
    )


@pytest.mark.executes_notebooks
def test_the_autograded_notebook_keeps_the_cells_as_handed_out(graded):
    release = graded.release("backprop")
    autograded = nbformat.read(graded.root / "autograded" / "solved" / "backprop" / "backprop.ipynb", as_version=4)
    assert [c.source for c in autograded.cells if c.cell_type == "markdown"] == [
        c.source for c in release.cells if c.cell_type == "markdown"
    ]
    checks = [c for c in autograded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex-3-3-check"]
    assert len(checks) == 1 and checks[0].source.splitlines()[-1] == BACKPROP["check"]
    assert len(autograded.cells) == len(release.cells)
    assert not any("mnist_course_guard" in str(c.metadata) for c in autograded.cells)


@pytest.mark.executes_notebooks
def test_graded_as_they_are_the_guard_changes_nothing(tmp_path):
    """``autograde`` with ``Execute`` off (as tests/test_nbgrader.py grades notebooks executed already): the stored
    outputs are graded as they are, and the cells come back as handed out."""
    course = GradingCourse(tmp_path)
    course.add_assignment("backprop", BACKPROP)
    course.nbgrader("generate_assignment", "backprop")
    release = course.release("backprop")
    outputs = {
        "shown": nbformat.v4.new_output("execute_result", data={"text/plain": "✅ Exercise 3.3: correct."}),
        "raised": nbformat.v4.new_output("error", ename="ExerciseNotSolved", evalue="❌ not yet.", traceback=[]),
    }
    for student, output in outputs.items():
        nb = submission(release, "3.3", f"import numpy as np\n\n\n{BACKPROP['signature']}\n{BACKPROP_RIGHT}\n")
        check = nb.cells[-1]
        check.outputs, check.execution_count, output.execution_count = [output], 2, 2
        course.submit(student, "backprop", nb)
    course.nbgrader("autograde", "backprop", "--ClearOutput.enabled=False", "--Execute.enabled=False")
    assert {s: course.score(s, "backprop") for s in outputs} == {"shown": 1.0, "raised": 0.0}
    for student in outputs:
        graded = nbformat.read(course.root / "autograded" / student / "backprop" / "backprop.ipynb", as_version=4)
        assert [c.source for c in graded.cells] == [c.source for c in release.cells[:-2]] + [
            f"# Exercise 3.3: the exercise\nimport numpy as np\n\n\n{BACKPROP['signature']}\n{BACKPROP_RIGHT}\n",
            release.cells[-1].source,
        ]
        assert [o.output_type for o in graded.cells[-1].outputs] == [outputs[student].output_type]
