"""The mnist-course command: data info/verify/fetch and doctor, called as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from mnist_course import paths
from mnist_course.course.cli import main
from tests.test_data_download import serve_idx


def test_data_info_prints_a_verified_source(isolated, monkeypatch, real_data_dir, capsys):
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert f"{real_data_dir} (from $MNIST_COURSE_DATA)" in out
    assert "x_train  (60000, 28, 28)" in out and "verified" in out


def test_data_info_without_any_copy_says_how_to_get_one(isolated, capsys):
    assert main(["data", "info"]) == 1
    assert "mnist-course data fetch" in capsys.readouterr().out


def test_data_verify_refuses_a_bad_copy(isolated, real_data_dir, capsys):
    assert main(["data", "verify", str(real_data_dir / "mnist.npz")]) == 0
    bad = isolated / "mnist.npz"
    with np.load(real_data_dir / "mnist.npz") as npz:
        np.savez(bad, **{**{k: npz[k] for k in npz.files}, "y_train": np.zeros(60000, np.uint8)})
    assert main(["data", "verify", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "NOT VERIFIED" in err and "y_train differs" in err and str(bad) in err


def test_data_fetch_from_local_copy_and_from_mirror(isolated, real_data_dir, local_mirror, capsys):
    assert main(["data", "fetch", "--from", str(real_data_dir)]) == 0
    assert paths.data_cache_file().is_file()
    paths.data_cache_file().unlink()
    mirror = serve_idx(local_mirror, real_data_dir, "school")
    assert main(["data", "fetch", "--mirror", mirror.base_url, "--kind", "idx"]) == 0
    assert "verified" in capsys.readouterr().out
    assert main(["data", "info"]) == 0


def test_the_installed_console_script_runs_doctor_and_its_exit_code_says_whether_it_found_problems(real_data_dir):
    script = Path(sys.executable).with_name("mnist-course")  # what `pip install` put on PATH, not `python -m`
    assert script.is_file(), f'no console script at {script}: pip install -e ".[test]"'
    env = {"MNIST_COURSE_DATA": str(real_data_dir), "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    done = subprocess.run([str(script), "doctor"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    assert "TensorFlow" in done.stdout and "MNIST" in done.stdout
    assert (done.returncode == 0) == ("No problems found." in done.stdout), done.stdout  # whatever this machine has


def test_help_works_outside_a_clone_and_run_then_says_where_the_notebooks_must_be(tmp_path):
    env = {**os.environ, "MNIST_COURSE_NOTEBOOKS": str(tmp_path / "no-notebooks-here")}
    exe = [sys.executable, "-m", "mnist_course.course.cli"]
    for args in (["--help"], ["run", "--help"], ["student-edition", "--help"]):
        done = subprocess.run([*exe, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "usage: mnist-course" in done.stdout, done.stderr
    done = subprocess.run(
        [*exe, "run", "01", "-o", "out"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "set MNIST_COURSE_NOTEBOOKS to its notebooks/ folder" in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
