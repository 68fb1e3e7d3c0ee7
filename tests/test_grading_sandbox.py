"""The isolated autograde (``python -m mnist_course.course.grading autograde-isolated``) with the real nbgrader and
bubblewrap: a submission that tries to read and overwrite another student's submitted notebook, the gradebook and
the grading folder finds none of them, leaves them byte for byte as they were, and is still graded itself (its own
folder writable); the same submission under the plain ``nbgrader autograde`` does overwrite the other notebook,
which is what the sandbox is for."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from mnist_course.course import grading
from tests.grading_course import GradingCourse, submission
from tests.test_grading_guard import BACKPROP, BACKPROP_RIGHT

ATTACK = """
import json
import os

tried = {}
for what, path in TARGETS.items():
    try:
        with open(path, "rb") as file:
            file.read(10)
        tried["read " + what] = "read"
    except OSError as err:
        tried["read " + what] = type(err).__name__
    try:
        with open(path, "ab") as file:
            file.write(b"overwritten by another student")
        tried["write " + what] = "written"
    except OSError as err:
        tried["write " + what] = type(err).__name__
try:
    tried["list course"] = sorted(os.listdir(COURSE))
except OSError as err:
    tried["list course"] = type(err).__name__
with open("mine.txt", "w") as file:
    file.write("my own folder is writable")
print("TRIED " + json.dumps(tried, sort_keys=True))
"""


def _course(base, targets: tuple[str, ...]) -> tuple[GradingCourse, dict[str, str]]:
    """A course with one exercise (3.3), the victim's correct submission and the attacker's: a correct answer too,
    plus :data:`ATTACK` on ``targets`` among the victim's notebook, the gradebook and the course's configuration."""
    course = GradingCourse(base)
    course.add_assignment("backprop", BACKPROP)
    course.nbgrader("generate_assignment", "backprop")
    release = course.release("backprop")
    answer = f"import numpy as np\n\n\n{BACKPROP['signature']}\n{BACKPROP_RIGHT}\n"
    victim = course.submit("victim", "backprop", submission(release, "3.3", answer))
    paths = {"victim": str(victim), "gradebook": str(course.db), "config": str(course.root / "nbgrader_config.py")}
    paths = {what: path for what, path in paths.items() if what in targets}
    attack = f"TARGETS = {paths!r}\nCOURSE = {str(course.root)!r}\n" + ATTACK
    course.submit("attacker", "backprop", submission(release, "3.3", answer + attack))
    return course, paths


def _tried(course: GradingCourse) -> dict:
    notebook = course.root / "autograded" / "attacker" / "backprop" / "backprop.ipynb"
    text = "".join(o.get("text", "") for c in nbformat.read(notebook, as_version=4).cells for o in c.get("outputs", []))
    (line,) = [x for x in text.splitlines() if x.startswith("TRIED ")]
    return json.loads(line.removeprefix("TRIED "))


def test_bubblewrap_is_installed():
    assert shutil.which("bwrap"), "the isolated autograde needs bubblewrap: apt-get install bubblewrap"


@pytest.mark.executes_notebooks
def test_in_the_sandbox_a_submission_cannot_reach_another_one_nor_the_gradebook(tmp_path_factory):
    course, targets = _course(tmp_path_factory.mktemp("sandbox"), ("victim", "gradebook", "config"))
    before = {what: open(path, "rb").read() for what, path in targets.items() if what != "gradebook"}
    done = course.run("-m", "mnist_course.course.grading", "autograde-isolated", "backprop")
    assert done.returncode == 0, done.stderr[-4000:]
    assert "autograded 2 student(s) in sandboxes" in done.stdout
    assert {what: open(path, "rb").read() for what, path in targets.items() if what != "gradebook"} == before
    tried = _tried(course)
    for what in targets:
        assert tried[f"read {what}"] == "FileNotFoundError", tried
        assert tried[f"write {what}"] in ("FileNotFoundError", "OSError"), tried  # OSError: read-only file system
    assert tried["list course"] == ["autograded"], "only the way to its own copy exists"
    assert (course.root / "autograded" / "attacker" / "backprop" / "mine.txt").read_text() == (
        "my own folder is writable"
    )
    assert course.score("attacker", "backprop") == 1.0 and course.score("victim", "backprop") == 1.0


@pytest.mark.executes_notebooks
def test_without_the_sandbox_the_same_submission_overwrites_another_students_notebook(tmp_path_factory):
    course, targets = _course(tmp_path_factory.mktemp("plain"), ("victim",))
    victim = open(targets["victim"], "rb").read()
    course.nbgrader("autograde", "backprop", "--student=attacker")
    tried = _tried(course)
    assert tried["read victim"] == "read" and tried["write victim"] == "written", tried
    assert open(targets["victim"], "rb").read() == victim + b"overwritten by another student"


def test_the_sandbox_command_hides_the_course_and_makes_only_the_own_copy_writable(tmp_path):
    root, own = tmp_path / "course", tmp_path / "course" / "autograded" / "ann" / "backprop"
    box = {"hide": [str(root), str(tmp_path / "home")], "show": [str(tmp_path / "home" / "cache")], "rw": [], "env": {}}
    argv = grading.sandbox_argv(["python", "-m", "ipykernel_launcher"], own, box)
    pairs = list(zip(argv, argv[1:]))
    assert argv[0].endswith("bwrap") and argv[-3:] == ["python", "-m", "ipykernel_launcher"]
    assert ("--ro-bind", "/") in pairs and ("--tmpfs", str(root)) in pairs and ("--bind", str(own)) in pairs
    assert ("--ro-bind", str(tmp_path / "home" / "cache")) in pairs
    assert argv.index("--bind") > argv.index(str(root)), "the own copy is mounted over the hidden course"
    assert "--unshare-all" in argv and "--share-net" not in argv and "--clearenv" in argv
    assert ("--uid", "65534") in pairs and "--disable-userns" in argv


def test_an_environment_made_under_tmp_is_shown_again_inside_the_sandbox(tmp_path):
    """The sandbox gets a private /tmp; a Python environment the grader made under /tmp (as CI's fresh clone is) must
    still start there, read-only, while the rest of the real /tmp stays out of sight."""
    import subprocess
    import sys
    import venv

    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env)
    secret = tmp_path / "other-student.txt"
    secret.write_text("not for the sandbox")
    own = tmp_path / "own"
    own.mkdir()
    box = {"hide": [], "show": [str(env)], "rw": [], "env": {}}
    code = f"import os, sys; print(sys.prefix, os.path.exists({str(secret)!r}))"
    argv = grading.sandbox_argv([str(env / "bin" / "python"), "-c", code], own, box)
    assert ("--ro-bind", str(env)) in list(zip(argv, argv[1:])) and argv.index(str(env)) > argv.index("/tmp")
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split() == [str(env), "False"], (done.stdout, sys.prefix)
