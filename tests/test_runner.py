"""mnist-course run: papermill execution, parameters, grids, failures that don't stop a batch, and the report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import papermill
import pytest

from mnist_course import notebook, paths
from mnist_course.course import runner
from mnist_course.course.cli import main

ROOT = Path(__file__).resolve().parent.parent
QUIET = {"echo": lambda *_: None}


def make_notebook(path: Path, body: str, params_source: str = "PROFILE = None\nEPOCHS = 1\nSEED = 0") -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(params_source)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# tiny"),
        params,
        nbformat.v4.new_code_cell(
            "from mnist_course.notebook import current_profile, record\nPROFILE = PROFILE or current_profile()\n" + body
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two tiny notebooks in tmp_path/notebooks, which is the course edition for the test (nothing real is at risk)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(folder))
    make_notebook(folder / "01_ok.ipynb", "record(score=EPOCHS * 10 + SEED, profile=PROFILE)\nprint('done')")
    make_notebook(folder / "02_broken.ipynb", "raise RuntimeError(f'broken with EPOCHS={EPOCHS}')")
    return folder


def test_discover_by_number_stem_and_order(notebooks):
    assert [p.name for p in runner.discover((), notebooks)] == ["01_ok.ipynb", "02_broken.ipynb"]
    assert [p.name for p in runner.discover(("02",), notebooks)] == ["02_broken.ipynb"]
    with pytest.raises(FileNotFoundError, match="choose from"):
        runner.discover(("07",), notebooks)


def test_expand_grid():
    assert runner.expand_grid({}) == [{}]
    assert runner.expand_grid({"A": [1, 2], "B": ["x"]}) == [{"A": 1, "B": "x"}, {"A": 2, "B": "x"}]


def test_batch_with_grid_reports_metrics_failures_and_exit_code(notebooks, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--notebooks",
            str(notebooks),
            "-o",
            str(out),
            "--profile",
            "ci",
            "-p",
            "SEED",
            "3",
            "-g",
            "EPOCHS",
            "1,2",
            "-j",
            "2",
        ]
    )
    assert code == 1, "a failed notebook must make the exit code say so"
    report = json.loads((out / "report.json").read_text())
    assert [(Path(r["notebook"]).stem, r["parameters"]["EPOCHS"], r["status"]) for r in report] == [
        ("01_ok", 1, "ok"),
        ("01_ok", 2, "ok"),
        ("02_broken", 1, "failed"),
        ("02_broken", 2, "failed"),
    ]
    assert [r["metrics"] for r in report[:2]] == [{"score": 13, "profile": "ci"}, {"score": 23, "profile": "ci"}]
    assert report[2]["error"] == "RuntimeError: broken with EPOCHS=1" and report[2]["failed_cell"] == 3
    assert all(r["peak_rss_mib"] > 10 and r["seconds"] > 0 for r in report)
    assert (out / "01_ok" / "EPOCHS=2.ipynb").is_file()
    markdown = (out / "report.md").read_text()
    assert "| 01_ok | SEED=3, EPOCHS=2 | ok |" in markdown and "broken with EPOCHS=2 (cell 3)" in markdown
    assert "report.md" in capsys.readouterr().out
    assert (out / "report.png").stat().st_size > 1000 and "![metrics](report.png)" in markdown


def test_in_place_run_stores_clean_outputs(notebooks):
    nb_path = notebooks / "01_ok.ipynb"
    results = runner.run_batch([nb_path], None, "student", {}, in_place=True, **QUIET)
    assert results[0].status == "ok" and results[0].metrics == {"score": 10, "profile": "student"}
    assert sorted(p.name for p in notebooks.iterdir()) == ["01_ok.ipynb", "02_broken.ipynb"], "no file left beside"
    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2]
    assert code[1].outputs[0]["text"] == "done\n"
    assert "papermill" not in nb.metadata and all("papermill" not in c.metadata for c in nb.cells)
    assert not list(notebooks.glob("*.metrics.json"))


def test_kernels_run_unattended_and_only_results_runs_write_the_shipped_results(tmp_path, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    body = (
        "import os\nfrom mnist_course.notebook import writing_results\n"
        "record(unattended=os.environ.get('MNIST_COURSE_UNATTENDED', 'unset'), results=int(writing_results()), "
        "profile=PROFILE)"
    )
    make_notebook(folder / "01_flags.ipynb", body)
    assert main(["run", "--notebooks", str(folder), "-o", str(tmp_path / "plain"), "--profile", "ci"]) == 0
    assert main(["run", "--notebooks", str(folder), "-o", str(tmp_path / "results"), "--results"]) == 0
    plain, results = (json.loads((tmp_path / name / "report.json").read_text())[0] for name in ("plain", "results"))
    assert plain["metrics"] == {"unattended": "1", "results": 0, "profile": "ci"}
    assert results["metrics"] == {"unattended": "1", "results": 1, "profile": "full"}  # --results means full
    assert "writing the shipped results into" in capsys.readouterr().err
    for argv, fragment in (
        (["--profile", "student"], "drop --profile student"),
        (["-p", "SEED", "1"], "drop --in"),
        (["--in-place"], "drop --in-place"),
    ):
        assert main(["run", "--notebooks", str(folder), "--results", *argv]) == 2
        assert fragment in capsys.readouterr().err


def test_a_cell_tagged_raises_exception_may_raise_and_the_run_goes_on(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    path = make_notebook(folder / "01_expected.ipynb", "record(before=1)")
    nb = nbformat.read(path, as_version=4)
    stub = nbformat.v4.new_code_cell('raise NotImplementedError("Exercise 9.1: write your code here")')
    stub.metadata["tags"] = ["raises-exception"]
    nb.cells += [stub, nbformat.v4.new_code_cell("record(after=2)")]
    nbformat.write(nb, path)
    broken = make_notebook(folder / "02_unexpected.ipynb", "record(before=1)")
    nb = nbformat.read(broken, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell("1 / 0"), nbformat.v4.new_code_cell("record(after=2)")]
    nbformat.write(nb, broken)
    ok, failed = runner.run_batch([path, broken], tmp_path / "out", "ci", {}, **QUIET)
    assert (ok.status, ok.error, ok.metrics) == ("ok", "", {"before": 1, "after": 2})
    executed = nbformat.read(tmp_path / "out" / "01_expected.ipynb", as_version=4)
    assert [c.source.splitlines()[0] for c in executed.cells] == [
        c.source.splitlines()[0] for c in nbformat.read(path, as_version=4).cells
    ]
    assert executed.cells[3].outputs[0]["ename"] == "NotImplementedError"  # the error stays where it was raised
    assert (failed.status, failed.error, failed.failed_cell, failed.metrics) == (
        "failed",
        "ZeroDivisionError: division by zero",
        3,
        {"before": 1},
    )


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_discover_defaults_to_the_course_folder_and_runs_a_notebook_named_twice_once(notebooks, tmp_path, capsys):
    assert runner.discover() == [notebooks / "01_ok.ipynb", notebooks / "02_broken.ipynb"]  # $MNIST_COURSE_NOTEBOOKS
    notes: list[str] = []
    assert runner.discover(("01", "01_ok", str(notebooks / "01_ok.ipynb")), notebooks, echo=notes.append) == [
        notebooks / "01_ok.ipynb"
    ]
    assert notes == ["note: 01_ok.ipynb is named more than once; it runs once"] * 2
    out = tmp_path / "out"
    assert main(["run", "01", "01_ok", "-o", str(out), "--profile", "ci"]) == 0
    assert len(json.loads((out / "report.json").read_text())) == 1
    assert "named more than once" in capsys.readouterr().err


def test_in_place_failure_leaves_the_notebook_byte_for_byte_unchanged(notebooks):
    before = listing(notebooks)
    results = runner.run_batch([notebooks / "02_broken.ipynb"], None, "student", {}, in_place=True, **QUIET)
    assert results[0].status == "failed" and results[0].error == "RuntimeError: broken with EPOCHS=1"
    assert listing(notebooks) == before


def test_in_place_interrupted_leaves_the_notebook_byte_for_byte_unchanged(notebooks, monkeypatch):
    nb_path = notebooks / "01_ok.ipynb"
    before = listing(notebooks)

    def interrupted(input_path: str, output_path: str, **kwargs: object) -> None:
        Path(output_path).write_text('{"cells": []}')  # papermill writes its output as it goes ...
        raise KeyboardInterrupt  # ... and Ctrl-C arrives

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.run_notebook(nb_path, nb_path, "ci", {}, in_place=True)
    assert listing(notebooks) == before


def test_in_place_refuses_parameters_so_stored_outputs_come_from_the_parameters_cell(notebooks, capsys):
    before = listing(notebooks)
    with pytest.raises(runner.RunError, match="--in-place stores the outputs of each notebook's own parameters"):
        runner.run_batch([notebooks / "01_ok.ipynb"], None, "ci", {"SEED": 1}, in_place=True, **QUIET)
    assert main(["run", "01", "--in-place", "-g", "SEED", "1,2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mnist-course run: --in-place") and err.count("\n") == 1
    assert listing(notebooks) == before


def test_clean_for_repo_drops_the_injected_parameters_cell(notebooks, tmp_path):
    executed = tmp_path / "executed.ipynb"
    papermill.execute_notebook(
        str(notebooks / "01_ok.ipynb"), str(executed), parameters={"SEED": 5}, kernel_name="python3", progress_bar=False
    )
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nbformat.read(executed, 4).cells)
    runner.clean_for_repo(executed)
    nb = nbformat.read(executed, as_version=4)
    assert [c.source.splitlines()[0] for c in nb.cells] == [
        "# tiny",
        "PROFILE = None",
        "from mnist_course.notebook import current_profile, record",
    ]
    assert "papermill" not in nb.metadata


@pytest.mark.parametrize("how", ["folder", "symlink", "relative", "dotdot", "notebook file", "report into it"])
def test_run_refuses_to_write_onto_the_course_notebooks(notebooks, tmp_path, monkeypatch, capsys, how):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(notebooks, target_is_directory=True)
    target = {
        "folder": str(notebooks),
        "symlink": str(tmp_path / "link"),
        "relative": "../notebooks",
        "dotdot": str(elsewhere / ".." / "link" / "."),
        "notebook file": "../link/01_ok.ipynb",
        "report into it": "../notebooks/",
    }[how]
    monkeypatch.chdir(elsewhere)
    before = listing(tmp_path)
    assert main(["run", "01", "-o", target, "--profile", "ci"]) == 2
    err = capsys.readouterr().err
    assert f"would overwrite the course notebooks in {notebooks.resolve()}" in err and err.count("\n") == 1
    assert listing(tmp_path) == before
    with pytest.raises(paths.CourseEditionError):
        runner.run_batch([notebooks / "01_ok.ipynb"], Path(target), "ci", {}, **QUIET)
    assert listing(tmp_path) == before


def test_the_real_course_folder_is_refused_before_anything_runs(monkeypatch, capsys):
    monkeypatch.delenv(paths.NOTEBOOKS_ENV, raising=False)
    monkeypatch.chdir(ROOT)

    def must_not_run(*args: object) -> None:
        raise AssertionError("a notebook ran although the output folder is the course edition")

    monkeypatch.setattr(runner, "run_batch", must_not_run)
    real = ROOT / "notebooks"
    before = {p.name: p.stat().st_mtime_ns for p in real.iterdir()}
    assert main(["run", "01", "-o", "notebooks", "--profile", "ci"]) == 2
    assert main(["run", "01", "-o", str(real / "01_loading_mnist.ipynb"), "--profile", "ci"]) == 2
    assert capsys.readouterr().err.count("would overwrite the course notebooks in") == 2
    assert {p.name: p.stat().st_mtime_ns for p in real.iterdir()} == before


def test_a_missing_notebook_an_output_file_or_an_unknown_parameter_is_one_line_and_exit_2(notebooks, tmp_path, capsys):
    out = tmp_path / "out"
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a folder")
    cases = [
        (["run", "07", "-o", str(out)], "no notebook '07' in"),
        (["run", "01", "-o", str(a_file)], "is a file, not a folder"),
        (["run", "01", "-o", str(out), "-p", "NOPE", "1"], "01_ok has no parameter 'NOPE'"),
        (["run", "-o", str(out), "-g", "EPOCHS", "1,2", "-p", "SEEED", "3"], "01_ok has no parameter 'SEEED'"),
    ]
    for argv, fragment in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert fragment in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert not out.exists() and a_file.read_text() == "not a folder"
    with pytest.raises(SystemExit) as exit_:
        main(["run", "-j", "0", "-o", str(out)])
    assert exit_.value.code == 2


def declared_notebook(folder: Path, stem: str, body: str) -> Path:
    """A tiny notebook under a course notebook's name: its real parameters cell, then ``use_parameters``."""
    real = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    source = next(c.source for c in real.cells if "parameters" in c.metadata.get("tags", []))
    folder.mkdir(parents=True, exist_ok=True)
    return make_notebook(folder / f"{stem}.ipynb", body, source)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["-p", "SEEED", "1"], "04_mlp has no parameter 'SEEED': use one of PROFILE, SEED, TRAIN_SIZE"),
        (["-p", "SEED", "notanumber"], "04_mlp: SEED='notanumber' is not allowed; use an integer from 0 to"),
        (["-p", "EPOCHS_DENSE", "-1"], "04_mlp: EPOCHS_DENSE=-1 is not allowed; use an integer from 1 to 200"),
        (["-p", "TRAIN_SIZE", "5"], "04_mlp: TRAIN_SIZE=5 is not allowed; use an integer from 120 to 60000"),
        (["-g", "SEED", "1,x"], "04_mlp: SEED='x' is not allowed"),
        (["-p", "PROFILE", "'fast'"], "04_mlp: PROFILE='fast' is not allowed; use one of 'ci', 'student', 'full'"),
    ],
)
def test_declared_parameters_are_checked_before_any_cell_runs(tmp_path, capsys, argv, fragment):
    folder = declared_notebook(tmp_path / "nbs", "04_mlp", "raise RuntimeError('a cell ran')").parent
    out = tmp_path / "out"
    assert main(["run", "04", "--notebooks", str(folder), "-o", str(out), "--profile", "ci", *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1
    assert not out.exists()


def test_checked_values_reach_the_notebook_and_none_means_the_profile_default(tmp_path):
    body = (
        "from mnist_course.course.parameters import use_parameters\nuse_parameters('04_mlp', globals())\n"
        "record(train_size=TRAIN_SIZE, epochs_dense=EPOCHS_DENSE, seed=SEED)"
    )
    folder = declared_notebook(tmp_path / "nbs", "04_mlp", body).parent
    declared_notebook(
        folder,
        "07_optimizers_and_losses",
        body.replace("04_mlp", "07_optimizers_and_losses").replace(
            "record(train_size=TRAIN_SIZE, epochs_dense=EPOCHS_DENSE, seed=SEED)",
            "record(live='+'.join(LIVE_RUNS), epochs=EPOCHS)",
        ),
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                "run",
                "04",
                "--notebooks",
                str(folder),
                "-o",
                str(out),
                "--profile",
                "ci",
                "-p",
                "TRAIN_SIZE",
                "600",
                "-g",
                "SEED",
                "0,7",
                "-j",
                "2",
            ]
        )
        == 0
    )
    report = json.loads((out / "report.json").read_text())
    assert [r["metrics"] for r in report] == [
        {"train_size": 600, "epochs_dense": 1, "seed": 0},
        {"train_size": 600, "epochs_dense": 1, "seed": 7},
    ]
    assert (
        main(
            [
                "run",
                "07",
                "--notebooks",
                str(folder),
                "-o",
                str(out / "race"),
                "--profile",
                "full",
                "-p",
                "LIVE_RUNS",
                "adam,sgd",
            ]
        )
        == 0
    )
    report = json.loads((out / "race" / "report.json").read_text())
    assert report[0]["parameters"] == {"LIVE_RUNS": ["adam", "sgd"]}
    assert report[0]["metrics"] == {"live": "adam+sgd", "epochs": 10}
    assert not list(out.glob("*.lock")) and not list(out.glob(".*"))


def test_a_dead_worker_is_a_failed_run_and_the_report_is_still_written(notebooks, tmp_path):
    make_notebook(notebooks / "03_dies.ipynb", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    out = tmp_path / "out"
    assert main(["run", "01", "03", "-o", str(out), "--profile", "ci"]) == 1
    report = json.loads((out / "report.json").read_text())
    assert [(Path(r["notebook"]).stem, r["status"]) for r in report] == [("01_ok", "ok"), ("03_dies", "failed")]
    assert report[1]["error"].startswith("BrokenProcessPool: the process running it died")
    assert "03_dies" in (out / "report.md").read_text()


def _record_many(args: tuple[str, int]) -> None:
    target, worker = args
    os.environ[notebook.METRICS_ENV] = target
    for i in range(25):
        notebook.record(**{f"w{worker}_{i}": i})


def test_record_from_many_processes_at_once_loses_nothing_and_leaves_no_partial_file(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    target = tmp_path / "run.metrics.json"
    with ProcessPoolExecutor(4) as pool:
        list(pool.map(_record_many, [(str(target), w) for w in range(4)]))
    merged = json.loads(target.read_text())
    assert merged == {f"w{w}_{i}": i for w in range(4) for i in range(25)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.metrics.json", "run.metrics.json.lock"]


def test_grid_values_run_once_and_file_names_stay_safe(notebooks, tmp_path):
    assert runner.expand_grid({"SEED": [1, 1, 2]}) == [{"SEED": 1}, {"SEED": 2}]
    assert runner._slug({"LIVE_RUNS": ["adam", "sgd"], "NAME": "a/b c"}) == "LIVE_RUNS=adam,sgd-NAME=a_b_c"
    with pytest.raises(runner.RunError, match="two runs would write .*01_ok/EPOCHS=a_b.ipynb"):
        runner.plan([notebooks / "01_ok.ipynb"], tmp_path / "out", "ci", {}, {"EPOCHS": ["a/b", "a_b"]})
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no notebooks \\(NN_\\*.ipynb\\) in .*empty: pass --notebooks"):
        runner.discover((), tmp_path / "empty")


def test_the_markdown_table_keeps_its_columns_when_an_error_holds_a_pipe():
    run = runner.NotebookRun(
        "x/01_a.ipynb", "out/01_a.ipynb", {"SEED": 1}, status="failed", error="ValueError: a | b\nmore", failed_cell=4
    )
    row = runner.summary_markdown([run]).splitlines()[2]
    assert row == "| 01_a | SEED=1 | failed | 0.0 | 0 |  | ValueError: a \\| b (cell 4) |"


def test_record_takes_numpy_scalars_and_names_a_value_it_cannot_store(tmp_path, monkeypatch):
    import numpy as np

    target = tmp_path / "m.metrics.json"
    monkeypatch.setenv(notebook.METRICS_ENV, str(target))
    assert notebook.record(acc=np.float32(0.25), n=np.int64(3), ok=True, name="x") == {
        "acc": 0.25,
        "n": 3,
        "ok": True,
        "name": "x",
    }
    assert json.loads(target.read_text()) == {"acc": 0.25, "n": 3, "ok": True, "name": "x"}
    with pytest.raises(TypeError, match="record\\(bad=...\\) takes a number or a string, got list"):
        notebook.record(bad=[1, 2])
