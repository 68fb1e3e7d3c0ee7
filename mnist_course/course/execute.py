"""Executing one notebook with papermill: its kernel's environment, a lock on its output, expected errors, peak
memory, and a worker process that ends, with its kernel, when the runner ends."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from mnist_course import paths
from mnist_course.course.report import NotebookRun
from mnist_course.files import atomic_path, lock_for, write_text_atomic
from mnist_course.notebook import METRICS_ENV, PROFILE_ENV, RESULTS_ENV, STORED_OUTPUTS_ENV, UNATTENDED_ENV

_VOLATILE_CELL_KEYS = ("papermill", "execution")
RAISES_TAG = "raises-exception"  # a cell whose error is expected: a lesson's point, a student edition's stub
_PAPERMILL_ERROR_CELLS = "papermill-error-cell-tag"
_PR_SET_PDEATHSIG = 1  # prctl(2) option: the signal this process gets when its parent dies (Linux)


class _PeakMemory:
    """Polls the resident memory of this process's children (the kernel) in a background thread."""

    def __init__(self, interval: float = 0.2) -> None:
        self.peak, self._stop, self._interval = 0, threading.Event(), interval
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self._interval)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def end_children_and_exit(signum: int = signal.SIGTERM, frame: object = None) -> None:
    """Kill this process's children, each with its process group (jupyter_client starts a kernel in a session of
    its own, so its group is the kernel and whatever it started), then exit at once: nothing is written after."""
    import psutil

    try:
        children = psutil.Process().children()
    except psutil.Error:
        children = []
    own_group = os.getpgrp()
    for child in children:
        try:
            group = os.getpgid(child.pid)
            if group != own_group:
                os.killpg(group, signal.SIGKILL)
            os.kill(child.pid, signal.SIGKILL)
        except OSError:  # gone already
            pass
    os._exit(128 + int(signum))


def _watch(parent: int, runner: int, interval: float) -> None:
    """Poll the parent's pid and the runner (where no parent-death signal exists, where the parent is a
    forkserver that outlives the runner, or in case the signal's handler cannot run)."""
    while os.getppid() == parent and _alive(runner):
        time.sleep(interval)
    end_children_and_exit(signal.SIGTERM)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie has ended)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def die_with_parent(runner: int, interval: float = 0.5) -> None:
    """Make this worker process (and its kernels) end when ``runner`` ends, even by ``kill -9``: on Linux the
    kernel sends it SIGTERM when its parent ends (``prctl(PR_SET_PDEATHSIG)``), and a thread polls the parent and
    ``runner`` (every ``interval`` seconds: other systems, and a forkserver parent outliving ``runner``); either way
    :func:`end_children_and_exit` runs. The kernel's own parent poller (ipykernel) ends it if the worker is killed
    outright. Call it first in the worker (``ProcessPoolExecutor(initializer=die_with_parent,
    initargs=(os.getpid(),))``)."""
    signal.signal(signal.SIGTERM, end_children_and_exit)
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    threading.Thread(target=_watch, args=(parent, runner, interval), daemon=True, name="watch-runner").start()
    if os.getppid() != parent or not _alive(runner):  # it ended before the signal was asked for
        end_children_and_exit(signal.SIGTERM)


def clean_for_repo(path: Path) -> None:
    """Drop papermill's timestamps, paths and injected-parameters cell from a notebook (rewritten atomically), so
    the stored copy changes only when outputs do."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    write_text_atomic(path, nbformat.writes(nb) + "\n")


def kernel_environment(
    profile: str,
    metrics_file: Path,
    results: bool = False,
) -> dict[str, str]:
    """The variables a notebook's kernel gets from the runner: the profile, where :func:`~mnist_course.notebook.record`
    writes, whether it writes the shipped results, and unattended progress
    (:mod:`mnist_course.live` prints one stable line per epoch instead of redrawing), and outputs made to be stored
    (each widget's static picture an output of its own)."""
    return {
        PROFILE_ENV: profile,
        METRICS_ENV: str(metrics_file.resolve()),
        UNATTENDED_ENV: "1",
        STORED_OUTPUTS_ENV: "1",
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        RESULTS_ENV: "1" if results else "0",
    }


def _unexpected_error(output: Path) -> tuple[str, str, int | None] | None | bool:
    """After papermill reported an error: the first error (name, value, execution count) of a cell not tagged
    ``raises-exception``, else ``False`` once papermill's error banners are removed from ``output`` (papermill goes on
    past such cells, as JupyterLab's Run All and nbval do, but still fails the run); ``None`` if unreadable."""
    import nbformat

    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None
    for cell in nb.cells:
        if RAISES_TAG not in cell.metadata.get("tags", []):
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    return out.ename, out.evalue, cell.execution_count
    nb.cells = [c for c in nb.cells if _PAPERMILL_ERROR_CELLS not in c.metadata.get("tags", [])]
    write_text_atomic(output, nbformat.writes(nb) + "\n")
    return False


def _execute(
    notebook: Path,
    output: Path,
    metrics_file: Path,
    profile: str,
    parameters: dict[str, object],
    in_place: bool,
    timeout: int | None,
    result: NotebookRun,
    results: bool = False,
) -> None:
    """Run papermill from ``notebook`` into ``output`` with the kernel's environment set; fill ``result``. In place,
    the kernel does not see ``$MNIST_COURSE_DATA``: it finds MNIST as a student's machine does, so the stored
    outputs name the course cache, not this machine's folders."""
    import papermill

    kernel_env: dict[str, str | None] = {**kernel_environment(profile, metrics_file, results)}
    if in_place:
        kernel_env[paths.DATA_ENV] = None
    saved = {k: os.environ.get(k) for k in kernel_env}
    _set_environment(kernel_env)  # the kernel papermill starts inherits them
    start = time.perf_counter()
    with _PeakMemory() as memory:
        try:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters=parameters or None,
                cwd=str(notebook.parent),
                kernel_name="python3",
                progress_bar=False,
                execution_timeout=timeout,
            )
        except papermill.PapermillExecutionError as exc:
            unexpected = _unexpected_error(output)
            if unexpected is not False:  # an error in a cell not allowed to raise (or an unreadable output)
                ename, evalue, count = unexpected or (exc.ename, exc.evalue, exc.exec_count)
                result.status, result.error, result.failed_cell = "failed", f"{ename}: {evalue}", count
        except Exception as exc:  # kernel died, timeout, bad notebook: report it, keep the batch going
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            _set_environment(saved)
            result.seconds = round(time.perf_counter() - start, 1)
    result.peak_rss_mib = round(memory.peak / 2**20, 1)
    if metrics_file.is_file():
        result.metrics = json.loads(metrics_file.read_text())


def _set_environment(values: dict[str, str | None]) -> None:
    """Set each variable of ``values``; ``None`` removes it."""
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def busy_message(output: Path) -> str:
    """The one line saying that another run is writing ``output`` now."""
    return (
        f"another mnist-course run is writing {output} now (it holds {output}.lock): wait for it to end, "
        "or choose another -o folder"
    )


def run_notebook(
    notebook: Path,
    output: Path,
    profile: str,
    parameters: dict[str, object],
    in_place: bool = False,
    timeout: int | None = None,
    results: bool = False,
) -> NotebookRun:
    """Execute one notebook with papermill (kernel started in the notebook's folder) and return how it went.

    Into another folder, ``output`` is written as papermill goes (a failed run keeps its error cell there). In
    place (``output`` is ``notebook``), it runs into a temporary folder, and only a successful run, cleaned with
    :func:`clean_for_repo`, replaces the notebook in one rename: failed or interrupted, the notebook is unchanged.
    Either way ``output`` is locked (:func:`mnist_course.files.lock_for`) while it runs: a second run writing the
    same file at the same time fails at once (:func:`busy_message`). With ``results`` the notebook writes the shipped
    results (``notebooks/results/``, see :func:`mnist_course.notebook.writing_results`).
    """
    import filelock

    result = NotebookRun(str(notebook), str(output), dict(parameters))
    lock = lock_for(Path(output), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        result.status, result.error = "failed", busy_message(Path(output))
        return result
    try:
        _run_locked(Path(notebook), Path(output), profile, parameters, in_place, timeout, result, results)
    finally:
        Path(lock.lock_file).unlink(missing_ok=True)  # removed while held: no run ever waits on a stale file
        lock.release()
    return result


def _run_locked(
    notebook: Path,
    output: Path,
    profile: str,
    parameters: dict[str, object],
    in_place: bool,
    timeout: int | None,
    result: NotebookRun,
    results: bool,
) -> None:
    """:func:`run_notebook` once ``output`` is locked."""
    if not in_place:
        metrics_file = output.with_suffix(".metrics.json")
        metrics_file.unlink(missing_ok=True)
        try:
            _execute(notebook, output, metrics_file, profile, parameters, in_place, timeout, result, results)
        finally:
            metrics_file.with_name(metrics_file.name + ".lock").unlink(missing_ok=True)
        return
    scratch = Path(tempfile.mkdtemp(prefix="mnist-course-run-"))
    try:
        executed = scratch / notebook.name
        _execute(notebook, executed, scratch / "metrics.json", profile, parameters, in_place, timeout, result, results)
        if result.status == "ok":
            clean_for_repo(executed)
            with atomic_path(output, suffix=".ipynb") as tmp:
                shutil.copyfile(executed, tmp)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
