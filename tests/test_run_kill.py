"""A killed ``mnist-course run`` leaves nothing behind: its worker and the kernel end with it (even after
``kill -9``), nothing writes its output afterwards, and a rerun into the same folder is not blocked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from tests.test_run_errors import tiny_notebook

NAP = 4  # seconds the notebook sleeps between its two marker files


def gone(process: psutil.Process) -> bool:
    """Whether ``process`` has ended (a zombie waiting for its new parent to reap it has ended)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_kill_9_of_the_runner_ends_worker_and_kernel_and_nothing_writes_the_output_later(tmp_path):
    started, finished = tmp_path / "started", tmp_path / "finished"
    body = (
        f"import pathlib, time\npathlib.Path({str(started)!r}).write_text('1')\ntime.sleep(NAP)\n"
        f"pathlib.Path({str(finished)!r}).write_text('1')"
    )
    notebook = tiny_notebook(tmp_path / "nbs" / "01_nap.ipynb", f"NAP = {NAP}", body)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "mnist_course.course.cli", "run", str(notebook), "-o", str(out), "--profile", "ci"]
    runner = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[psutil.Process] = []
    try:
        assert wait_for(started.exists, 120), "the notebook never started"
        children = psutil.Process(runner.pid).children(recursive=True)
        assert any("ipykernel" in " ".join(c.cmdline()) for c in children), "the kernel runs under the runner"
        assert len(children) >= 2, "a pool worker and its kernel"
        before = out.joinpath(notebook.name).read_bytes()  # papermill wrote it when the run began
        os.kill(runner.pid, signal.SIGKILL)
        killed = time.monotonic()
        runner.wait()
        assert wait_for(lambda: all(gone(c) for c in children), 5), [c.cmdline() for c in children if not gone(c)]
        time.sleep(max(0.0, killed + NAP + 2 - time.monotonic()))  # past the moment the nap would have ended
        assert not finished.exists(), "the kernel went on running the notebook"
        assert out.joinpath(notebook.name).read_bytes() == before, "something wrote the output after the kill"
    finally:
        for child in children:
            if not gone(child):
                child.kill()
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    rerun = subprocess.run([*command, "-p", "NAP", "0"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert finished.exists() and not list(out.glob("*.lock"))
