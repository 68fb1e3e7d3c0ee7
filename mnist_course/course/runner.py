"""Executing notebooks with papermill under a profile: one, all, a parameter grid, or in place for the repo."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from mnist_course import paths
from mnist_course.course import parameters as declared_parameters  # not `parameters`: the runs' own values
from mnist_course.course.editions import read_notebook
from mnist_course.course.execute import (  # noqa: F401  (the runner's API: tests and benchmarks use them from here)
    RAISES_TAG,
    busy_message,
    clean_for_repo,
    die_with_parent,
    kernel_environment,
    run_notebook,
)
from mnist_course.course.report import NotebookRun, plot_report, summary_markdown, write_report  # noqa: F401
from mnist_course.course.report import slug as _slug
from mnist_course.files import lock_for
from mnist_course.notebook import DEFAULT_PROFILE, check_profile

STORED_PROFILE = DEFAULT_PROFILE  # the profile of the outputs stored in the course notebooks (--in-place)


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


def _job(args: tuple[Path, Path, str, dict[str, object], bool, int | None], results: bool) -> NotebookRun:
    return run_notebook(*args, results=results)


def _check_writable(folder: Path, fix: str) -> None:
    """Raise :class:`RunError` unless a file can be created in ``folder`` (made if missing; the probe leaves no
    file behind)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise RunError(f"cannot write into {folder} ({exc.strerror or exc}): {fix}") from None


def _check_not_busy(target: Path) -> None:
    """Raise :class:`RunError` if another run holds ``target``'s lock now (a lock file left by a dead run is free)."""
    import filelock

    if not target.parent.is_dir():  # nothing there yet, so no lock either (and lock_for makes no folder)
        return
    lock = lock_for(target, timeout=0)
    if not Path(lock.lock_file).exists():
        return
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RunError(busy_message(target)) from None
    lock.release()


def plan(
    notebooks: Iterable[Path],
    out_dir: Path | None,
    profile: str,
    parameters: dict[str, object],
    grid: dict[str, Sequence[object]] | None = None,
    in_place: bool = False,
    timeout: int | None = None,
) -> list[tuple[Path, Path, str, dict[str, object], bool, int | None]]:
    """The runs of a batch, every notebook read, every parameter checked and every target allowed, before any
    notebook runs: in place only in the stored profile (:data:`STORED_PROFILE`), no target another run is writing,
    and a writable output folder (created here, the last check).

    Raises :class:`RunError` (or ``ParameterError``/``CourseEditionError``/``UnreadableNotebook``, all
    ``ValueError``) in one line naming the file or value and the fix."""
    check_profile(profile)
    if in_place and (parameters or grid):
        raise RunError(
            "--in-place stores the outputs of each notebook's own parameters cell: drop -p/-g, "
            "or run into a folder with -o"
        )
    if in_place and profile != STORED_PROFILE:
        raise RunError(
            f"--in-place stores the outputs the course ships, which are the {STORED_PROFILE} profile's: "
            f"drop --profile {profile}, or run into a folder with -o"
        )
    fix = "choose another -o folder (only --in-place regenerates them)"
    if not in_place:
        if out_dir is None:
            raise RunError("no output folder: pass -o FOLDER (or --in-place to regenerate the course notebooks)")
        paths.refuse_course_targets([out_dir], command="this run", fix=fix)
        if out_dir.exists() and not out_dir.is_dir():
            raise RunError(f"-o {out_dir} is a file, not a folder: choose a folder for the executed notebooks")
    notebooks = list(notebooks)
    for nb in notebooks:
        read_notebook(nb)
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
    for target in targets:
        _check_not_busy(target)
    if in_place:
        for folder in sorted({nb.parent for nb in notebooks}):
            _check_writable(folder, "--in-place replaces the notebooks there: make the folder writable")
    else:
        assert out_dir is not None
        _check_writable(out_dir, "choose another -o folder, or make this one writable")
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
    The worker processes, and their kernels, end with this process, even when it is killed
    (:func:`~mnist_course.course.execute.die_with_parent`).
    ``write_results``: the notebooks write the shipped results (``mnist-course run --results``)."""
    tasks = plan(notebooks, out_dir, profile, parameters, grid, in_place, timeout)
    results: list[NotebookRun] = []
    echo(f"running {len(tasks)} notebook(s), profile {profile}, {jobs} at a time")
    with ProcessPoolExecutor(max_workers=max(1, jobs), initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_job, t, write_results): t for t in tasks}
        for future in as_completed(futures):
            try:
                res = future.result()
            except Exception as exc:
                nb, target, _, params, _, _ = futures[future]
                why = f"the process running it died ({exc})" if isinstance(exc, BrokenProcessPool) else str(exc)
                res = NotebookRun(str(nb), str(target), params, status="failed", error=f"{type(exc).__name__}: {why}")
            results.append(res)
            extra = f"  {res.error}" if res.error else ""
            echo(f"[{len(results)}/{len(tasks)}] {res.status:6} {Path(res.output).name} {res.seconds:.1f} s{extra}")
    order = {str(t[1]): i for i, t in enumerate(tasks)}
    results.sort(key=lambda r: order[r.output])
    return results
