"""Executing notebooks with papermill under a profile: one, all, a parameter grid, or in place for the repo."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from mnist_course import paths
from mnist_course.course import parameters as declared_parameters  # not `parameters`: the runs' own values
from mnist_course.course.report import NotebookRun, plot_report, summary_markdown, write_report  # noqa: F401
from mnist_course.course.report import slug as _slug
from mnist_course.files import atomic_path, write_text_atomic
from mnist_course.notebook import METRICS_ENV, PROFILE_ENV, RESULTS_ENV, UNATTENDED_ENV, check_profile

_VOLATILE_CELL_KEYS = ("papermill", "execution")


class RunError(ValueError):
    """A batch that cannot start (bad parameter, output onto the course edition...): one line saying the fix."""


def discover(
    names: Sequence[str] = (), folder: Path | None = None, echo: Callable[[str], object] = lambda _: None
) -> list[Path]:
    """Notebooks to run: every ``NN_*.ipynb`` in ``folder`` (default :func:`mnist_course.paths.notebooks_dir`) in
    order, or those named (path, file name, stem or ``03``), each once (a repeat is dropped with a note to ``echo``).
    Raises ``FileNotFoundError`` naming the unknown notebook and the choices."""
    folder = paths.notebooks_dir() if folder is None else Path(folder)
    every = sorted(p.resolve() for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not every and (not names or not all(Path(n).suffix == ".ipynb" for n in names)):
        raise FileNotFoundError(f"no notebooks (NN_*.ipynb) in {folder}: pass --notebooks with the right folder")
    if not names:
        return every
    chosen: list[Path] = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            hits = [path.resolve()]
        else:
            hits = [p for p in every if p.name == name or p.stem == name or p.name.startswith(f"{name}_")]
        if not hits:
            raise FileNotFoundError(f"no notebook {name!r} in {folder}; choose from {', '.join(p.stem for p in every)}")
        for hit in hits:
            if hit in chosen:
                echo(f"note: {hit.name} is named more than once; it runs once")
            else:
                chosen.append(hit)
    return chosen


def expand_grid(grid: dict[str, Sequence[object]]) -> list[dict[str, object]]:
    """Every combination of a parameter grid, e.g. {"EPOCHS": [1, 2], "SEED": [0, 1]} -> 4 dicts ([{}] if empty)."""
    keys = list(grid)
    once = [[v for i, v in enumerate(grid[k]) if v not in list(grid[k])[:i]] for k in keys]  # 1,1 runs once
    return [dict(zip(keys, combo)) for combo in itertools.product(*once)]


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
    (:mod:`mnist_course.live` prints one stable line per epoch instead of redrawing)."""
    return {
        PROFILE_ENV: profile,
        METRICS_ENV: str(metrics_file.resolve()),
        UNATTENDED_ENV: "1",
        "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        RESULTS_ENV: "1" if results else "0",
    }


RAISES_TAG = "raises-exception"  # a cell whose error is expected: a lesson's point, a student edition's stub
_PAPERMILL_ERROR_CELLS = "papermill-error-cell-tag"


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
    """Run papermill from ``notebook`` into ``output`` with the kernel's environment set; fill ``result``."""
    import papermill

    kernel_env = kernel_environment(profile, metrics_file, results)
    saved = {k: os.environ.get(k) for k in kernel_env}
    os.environ.update(kernel_env)  # the kernel papermill starts inherits them
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
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            result.seconds = round(time.perf_counter() - start, 1)
    result.peak_rss_mib = round(memory.peak / 2**20, 1)
    if metrics_file.is_file():
        result.metrics = json.loads(metrics_file.read_text())


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
    With ``results`` the notebook writes the shipped results (``notebooks/results/``, see
    :func:`mnist_course.notebook.writing_results`).
    """
    result = NotebookRun(str(notebook), str(output), dict(parameters))
    if not in_place:
        output.parent.mkdir(parents=True, exist_ok=True)
        metrics_file = output.with_suffix(".metrics.json")
        metrics_file.unlink(missing_ok=True)
        try:
            _execute(notebook, output, metrics_file, profile, parameters, in_place, timeout, result, results)
        finally:
            metrics_file.with_name(metrics_file.name + ".lock").unlink(missing_ok=True)
        return result
    scratch = Path(tempfile.mkdtemp(prefix="mnist-course-run-"))
    try:
        executed = scratch / notebook.name
        _execute(notebook, executed, scratch / "metrics.json", profile, parameters, in_place, timeout, result, results)
        if result.status == "ok":
            clean_for_repo(executed)
            with atomic_path(Path(output), suffix=".ipynb") as tmp:
                shutil.copyfile(executed, tmp)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _job(args: tuple[Path, Path, str, dict[str, object], bool, int | None], results: bool) -> NotebookRun:
    return run_notebook(*args, results=results)


def plan(
    notebooks: Iterable[Path],
    out_dir: Path | None,
    profile: str,
    parameters: dict[str, object],
    grid: dict[str, Sequence[object]] | None = None,
    in_place: bool = False,
    timeout: int | None = None,
) -> list[tuple[Path, Path, str, dict[str, object], bool, int | None]]:
    """The runs of a batch, every parameter checked and every target allowed, before anything is written.

    Raises :class:`RunError` (or its subclass ``ParameterError``/``CourseEditionError``, both ``ValueError``)."""
    check_profile(profile)
    if in_place and (parameters or grid):
        raise RunError(
            "--in-place stores the outputs of each notebook's own parameters cell: drop -p/-g, "
            "or run into a folder with -o"
        )
    fix = "choose another -o folder (only --in-place regenerates them)"
    if not in_place:
        if out_dir is None:
            raise RunError("no output folder: pass -o FOLDER (or --in-place to regenerate the course notebooks)")
        paths.refuse_course_targets([out_dir], command="this run", fix=fix)
        if out_dir.exists() and not out_dir.is_dir():
            raise RunError(f"-o {out_dir} is a file, not a folder: choose a folder for the executed notebooks")
    combos = expand_grid(grid or {})
    tasks = []
    for nb in notebooks:
        for combo in combos:
            params = declared_parameters.check_for(nb, {**parameters, **combo})
            if in_place:
                target = nb
            else:
                assert out_dir is not None
                target = out_dir / (f"{nb.stem}/{_slug(combo)}.ipynb" if grid else nb.name)
            tasks.append((nb, target, profile, params, in_place, timeout))
    targets = [t[1] for t in tasks]
    clash = next((t for i, t in enumerate(targets) if t in targets[:i]), None)
    if clash is not None:
        raise RunError(f"two runs would write {clash}: give grid values that differ in their file names")
    if not in_place:
        paths.refuse_course_targets(targets, command="this run", fix=fix)
    return tasks


def run_batch(
    notebooks: Iterable[Path],
    out_dir: Path | None,
    profile: str,
    parameters: dict[str, object],
    grid: dict[str, Sequence[object]] | None = None,
    jobs: int = 1,
    in_place: bool = False,
    timeout: int | None = None,
    echo: Callable[[str], object] = print,
    write_results: bool = False,
) -> list[NotebookRun]:
    """Run every notebook for every grid combination (``jobs`` at a time); a failure does not stop the others,
    and a worker process that dies is reported as a failed run. Everything is checked first (see :func:`plan`).
    ``write_results``: the notebooks write the shipped results (``mnist-course run --results``)."""
    tasks = plan(notebooks, out_dir, profile, parameters, grid, in_place, timeout)
    results: list[NotebookRun] = []
    echo(f"running {len(tasks)} notebook(s), profile {profile}, {jobs} at a time")
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_job, t, write_results): t for t in tasks}
        for future in as_completed(futures):
            try:
                res = future.result()
            except Exception as exc:  # the worker died (killed, out of memory): BrokenProcessPool
                nb, target, _, params, _, _ = futures[future]
                res = NotebookRun(
                    str(nb),
                    str(target),
                    params,
                    status="failed",
                    error=f"{type(exc).__name__}: the process running it died ({exc})",
                )
            results.append(res)
            extra = f"  {res.error}" if res.error else ""
            echo(f"[{len(results)}/{len(tasks)}] {res.status:6} {Path(res.output).name} {res.seconds:.1f} s{extra}")
    order = {str(t[1]): i for i, t in enumerate(tasks)}
    results.sort(key=lambda r: order[r.output])
    return results
