"""mnist-course run and student-edition fail cleanly: unsafe parameter values, --in-place in another profile, an
unwritable output folder, a broken parameters cell, a corrupt notebook and an output another run is writing are each
refused in one line naming the file or value and the fix, with no traceback and nothing run or written."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mnist_course import paths
from mnist_course.course import runner
from mnist_course.course.cli import main
from mnist_course.course.parameters import ParameterError, check_plain, parse_text

ALLOWED = "use None, True or False, a finite number, a string, or a list [...] of those"
ALLOWED_RE = re.escape(ALLOWED)


def tiny_notebook(path: Path, params: str, body: str) -> Path:
    """A notebook of a parameters cell (``params``) and one code cell (``body``), for the python3 kernel."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder (the course edition for the test) with ``01_own.ipynb``: no declaration, X and Y in its parameters
    cell, and a cell that leaves a file ``ran`` beside it when it runs."""
    folder = tmp_path / "nbs"
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(folder))
    tiny_notebook(folder / "01_own.ipynb", "X = 1\nY = 'a'", "open('ran', 'w').write(repr((X, Y)))")
    return folder


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3", 3),
        ("-2", -2),
        ("0.5", 0.5),
        ("1e3", 1000.0),
        ("True", True),
        ("False", False),
        ("None", None),
        ("adam", "adam"),
        ("'fast'", "fast"),
        ('"it\'s"', "it's"),
        ("a,b", "a,b"),
        ("[1, 'a', None, 2.5]", [1, "a", None, 2.5]),
        ("'adam', 'sgd'", ["adam", "sgd"]),
        ("", ""),
        ("print(1)", "print(1)"),
    ],
)
def test_command_line_values_are_read_as_papermill_reads_them(text, expected):
    value = parse_text("X", text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("b'x'", "bytes"),
        ("{1, 2}", "set"),
        ("{'a': 1}", "dict"),
        ("1j", "complex"),
        ("[[1]]", "list"),
        ("[b'x']", "list"),
        ("...", "ellipsis"),
    ],
)
def test_command_line_values_python_reads_as_other_types_are_refused(text, kind):
    with pytest.raises(ParameterError) as err:
        parse_text("X", text)
    assert str(err.value) == f"X={text} is a {kind} in Python, not a parameter value: {ALLOWED} " + (
        "(to pass it as text, quote it: \"'...'\")"
    )


@pytest.mark.parametrize(
    "value", [b"x", {1}, {"a": 1}, (1, 2), float("nan"), float("inf"), [[1]], [{"a": 1}], 1j, object()]
)
def test_only_plain_values_pass(value):
    with pytest.raises(ParameterError, match=f"^01_own: X=.* is not allowed; {ALLOWED_RE}$"):
        check_plain("01_own", "X", value)
    for fine in (None, True, 0, -1.5, "", "a\"b'c\\n", [1, "a", None, False, 2.5], []):
        assert check_plain("01_own", "X", fine) == fine


PAYLOAD = 'b\'"; open("pwned", "w").close(); "\''  # papermill would write this bytes' repr between quotes


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["-p", "X", PAYLOAD], f"X={PAYLOAD} is a bytes in Python, not a parameter value"),
        (["-p", "X", "{1, 2}"], "X={1, 2} is a set in Python, not a parameter value"),
        (["-g", "X", "1,{2}"], "X={2} is a set in Python, not a parameter value"),
        (["-p", "X", "{'a': 1}"], "X={'a': 1} is a dict in Python, not a parameter value"),
        (["-p", "X", "nan"], "01_own: X=nan is not allowed; use None"),
        (["-p", "X", "1e400"], "01_own: X=inf is not allowed"),
    ],
)
def test_unsafe_values_are_refused_for_a_notebook_without_declared_parameters(own, tmp_path, capsys, argv, fragment):
    out = tmp_path / "out"
    assert main(["run", "01", "-o", str(out), "--profile", "ci", *argv]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith("mnist-course run: ") and fragment in err and "None, True or False" in err
    assert not out.exists() and not (own / "ran").exists() and not (own / "pwned").exists()


def test_unsafe_values_are_refused_by_the_runner_itself_for_every_notebook(own, tmp_path):
    nb = own / "01_own.ipynb"
    for value in (b"x", {"a"}, (1,), float("nan")):
        with pytest.raises(ParameterError, match="01_own: X=.* is not allowed; use None, True or False"):
            runner.run_batch([nb], tmp_path / "out", "ci", {"X": value}, echo=lambda _: None)
    mlp = tiny_notebook(own / "04_mlp.ipynb", "SEED = 0", "")  # declared: the declaration's checks apply
    with pytest.raises(ParameterError, match=r"04_mlp: SEED=\{1\} is not allowed"):
        runner.plan([mlp], tmp_path / "out", "ci", {"SEED": {1}})
    learns = tiny_notebook(own / "03_how_a_network_learns.ipynb", "LEARNING_RATE = 0.5", "")
    with pytest.raises(ParameterError, match="03_how_a_network_learns: LEARNING_RATE=nan is not allowed; use a number"):
        runner.plan([learns], tmp_path / "out", "ci", {"LEARNING_RATE": math.nan})
    assert not (tmp_path / "out").exists() and not (own / "ran").exists()


def test_plain_values_reach_the_notebook_exactly(own, tmp_path):
    text = "quote \" apostrophe ' backslash \\ newline \n end"
    out = tmp_path / "out"
    argv = ["run", "01", "-o", str(out), "--profile", "ci", "-p", "X", "[1, 'a', None, 2.5, True]", "-p", "Y", text]
    assert main(argv) == 0
    assert (own / "ran").read_text() == repr(([1, "a", None, 2.5, True], text))
    assert json.loads((out / "report.json").read_text())[0]["parameters"] == {"X": [1, "a", None, 2.5, True], "Y": text}


@pytest.mark.parametrize("profile", ["ci", "full"])
def test_in_place_runs_only_in_the_stored_student_profile(own, capsys, profile):
    before = listing(own)
    assert main(["run", "01", "--in-place", "--profile", profile]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"the student profile's: drop --profile {profile}, or run into a folder with -o" in err
    with pytest.raises(runner.RunError, match=f"drop --profile {profile}"):
        runner.run_batch([own / "01_own.ipynb"], None, profile, {}, in_place=True, echo=lambda _: None)
    assert listing(own) == before


def test_in_place_kernels_do_not_see_the_data_folder_of_this_machine(own, monkeypatch):
    monkeypatch.setenv(paths.DATA_ENV, "/somewhere/on/this/machine")
    nb = tiny_notebook(
        own / "02_env.ipynb",
        "X = 1",
        "import os\nfrom mnist_course.notebook import record\n"
        "record(data=os.environ.get('MNIST_COURSE_DATA', 'unset'))",
    )
    [done] = runner.run_batch([nb], None, "student", {}, in_place=True, echo=lambda _: None)
    assert (done.status, done.metrics) == ("ok", {"data": "unset"})


def test_in_place_with_mnist_only_in_the_data_variable_says_to_copy_it_first(own, isolated, monkeypatch, capsys):
    monkeypatch.setenv(paths.DATA_ENV, str(isolated / "mnist.npz"))
    before = listing(own)
    assert main(["run", "01", "--in-place"]) == 2
    err = one_line(capsys.readouterr().err)
    assert 'no cache holds MNIST: copy it there first with `mnist-course data fetch --from "$MNIST_COURSE_DATA"`' in err
    assert listing(own) == before


@pytest.mark.parametrize("how", ["a system folder", "under a file"])
def test_an_unwritable_output_folder_is_one_line_naming_it(own, tmp_path, capsys, how):
    (tmp_path / "file.txt").write_text("a file")
    target = {"a system folder": Path("/sys/mnist-course-out"), "under a file": tmp_path / "file.txt" / "sub"}[how]
    assert main(["run", "01", "-o", str(target), "--profile", "ci"]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"mnist-course run: cannot write into {target} (" in err and "choose another -o folder" in err
    assert "died" not in err and not (own / "ran").exists()


def test_a_parameters_cell_that_is_not_python_is_named_with_its_line(own, tmp_path, capsys):
    bad = tiny_notebook(own / "02_bad.ipynb", "X = 1\nY = = 2", "open('ran', 'w').close()")
    assert main(["run", "02", "-o", str(tmp_path / "out"), "-p", "X", "3"]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"{bad}: its parameters cell is not valid Python (line 2: invalid syntax): fix that cell" in err
    magic = tiny_notebook(own / "03_magic.ipynb", "%matplotlib inline\nX = 1", "")
    assert runner.plan([magic], tmp_path / "out", "ci", {"X": 2})[0][3] == {"X": 2}  # IPython lines are not Python


@pytest.mark.parametrize(
    "content, why",
    [
        (b"not json {", "not JSON"),
        (b"", "not JSON"),
        (b"\xff\xfe garbage", "not UTF-8 text"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "missing an expected key: cells"),
    ],
)
def test_a_corrupt_notebook_is_named_by_run_and_by_student_edition(own, tmp_path, capsys, content, why):
    corrupt = own / "02_corrupt.ipynb"
    corrupt.write_bytes(content)
    out = tmp_path / "out"
    fix = f"restore it (in a clone: git checkout -- {corrupt}) or save it again from Jupyter"
    assert main(["run", "02", "-o", str(out), "--profile", "ci"]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"mnist-course run: {corrupt} is not a readable Jupyter notebook (" in err and why in err and fix in err
    assert main(["student-edition", "02", "-o", str(out)]) == 1
    err = one_line(capsys.readouterr().err)
    assert f"no student edition written: {corrupt} is not a readable Jupyter notebook (" in err and why in err
    assert fix in err
    assert not out.exists()


def test_an_output_another_run_is_writing_is_refused_and_a_dead_runs_lock_is_not(own, tmp_path, capsys):
    out = tmp_path / "out"
    target = out / "01_own.ipynb"
    hold = (
        "import sys, time\nfrom pathlib import Path\nfrom mnist_course.files import lock_for\n"
        "lock = lock_for(Path(sys.argv[1]))\nlock.acquire()\nprint('held', flush=True)\ntime.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert main(["run", "01", "-o", str(out), "--profile", "ci"]) == 2
        err = one_line(capsys.readouterr().err)
        assert f"another mnist-course run is writing {target} now (it holds {target}.lock): wait for it" in err
        late = runner.run_notebook(own / "01_own.ipynb", target, "ci", {})  # taken between the check and the run
        assert (late.status, late.error) == ("failed", runner.busy_message(target))
    finally:
        holder.kill()
        holder.wait()
    assert Path(f"{target}.lock").exists() and not target.exists() and not (own / "ran").exists()
    assert main(["run", "01", "-o", str(out), "--profile", "ci"]) == 0  # the killed holder's lock is free
    assert (own / "ran").read_text() == "(1, 'a')" and not Path(f"{target}.lock").exists()
