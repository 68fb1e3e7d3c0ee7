"""Executing notebooks with papermill under a profile: one, all, a parameter grid, or in place for the repo."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mnist_course.notebook import METRICS_ENV, PROFILE_ENV, REGENERATE_ENV, check_profile

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
_VOLATILE_CELL_KEYS = ("papermill", "execution")


@dataclass
class RunResult:
    """One executed notebook: where it went, how it ended, how long and how much memory it took, its metrics."""

    notebook: str
    output: str
    parameters: dict[str, object]
    status: str = "ok"
    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    metrics: dict[str, object] = field(default_factory=dict)
    error: str = ""
    failed_cell: int | None = None


def discover(names: Sequence[str] = (), folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Notebooks to run: every ``NN_*.ipynb`` in ``folder`` in order, or those named (path, file name or ``03``)."""
    every = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            chosen.append(path.resolve())
            continue
        hits = [p for p in every if p.name == name or p.stem == name or p.name.startswith(f"{name}_")]
        if not hits:
            raise FileNotFoundError(f"no notebook {name!r} in {folder}; choose from {[p.stem for p in every]}")
        chosen.extend(hits)
    return chosen


def expand_grid(grid: dict[str, Sequence[object]]) -> list[dict[str, object]]:
    """Every combination of a parameter grid, e.g. {"EPOCHS": [1, 2], "SEED": [0, 1]} -> 4 dicts ([{}] if empty)."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def _slug(parameters: dict[str, object]) -> str:
    return "-".join(f"{k}={v}" for k, v in parameters.items()).replace("/", "_") or "default"


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

    def __enter__(self) -> "_PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def clean_for_repo(path: Path) -> None:
    """Drop papermill's timestamps and paths from a notebook so the stored copy changes only when outputs do."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    nbformat.write(nb, path)


def run_one(notebook: Path, output: Path, profile: str, parameters: dict[str, object],
            in_place: bool = False, timeout: int | None = None) -> RunResult:
    """Execute one notebook with papermill (kernel started in the notebook's folder) and return its result."""
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    metrics_file = output.with_suffix(".metrics.json")
    metrics_file.unlink(missing_ok=True)
    kernel_env = {PROFILE_ENV: profile, METRICS_ENV: str(metrics_file.resolve()),
                  "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
                  REGENERATE_ENV: "1" if in_place else "0"}
    saved = {k: os.environ.get(k) for k in kernel_env}
    os.environ.update(kernel_env)  # the kernel papermill starts inherits them
    result = RunResult(str(notebook), str(output), dict(parameters))
    start = time.perf_counter()
    with _PeakMemory() as memory:
        try:
            papermill.execute_notebook(
                str(notebook), str(output), parameters=parameters or None, cwd=str(notebook.parent),
                kernel_name="python3", progress_bar=False, execution_timeout=timeout,
            )
        except papermill.PapermillExecutionError as exc:
            result.status, result.error = "failed", f"{exc.ename}: {exc.evalue}"
            result.failed_cell = exc.exec_count
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
        if in_place:
            metrics_file.unlink()
    if in_place and result.status == "ok":
        clean_for_repo(output)
    return result


def _job(args: tuple[Path, Path, str, dict[str, object], bool, int | None]) -> RunResult:
    return run_one(*args)


def run_batch(notebooks: Iterable[Path], out_dir: Path | None, profile: str, parameters: dict[str, object],
              grid: dict[str, Sequence[object]] | None = None, jobs: int = 1, in_place: bool = False,
              timeout: int | None = None, echo=print) -> list[RunResult]:
    """Run every notebook for every grid combination (``jobs`` at a time); a failure does not stop the others."""
    check_profile(profile)
    combos = expand_grid(grid or {})
    tasks = []
    for nb in notebooks:
        for combo in combos:
            params = {**parameters, **combo}
            if in_place:
                target = nb
            else:
                assert out_dir is not None
                target = out_dir / (f"{nb.stem}/{_slug(combo)}.ipynb" if grid else nb.name)
            tasks.append((nb, target, profile, params, in_place, timeout))
    results: list[RunResult] = []
    echo(f"running {len(tasks)} notebook(s), profile {profile}, {jobs} at a time")
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_job, t): t for t in tasks}
        for future in as_completed(futures):
            res = future.result()
            results.append(res)
            extra = f"  {res.error}" if res.error else ""
            echo(f"[{len(results)}/{len(tasks)}] {res.status:6} {Path(res.output).name} {res.seconds:.1f} s{extra}")
    order = {t[1]: i for i, t in enumerate(tasks)}
    results.sort(key=lambda r: order[Path(r.output)])
    return results


def summary_markdown(results: Sequence[RunResult]) -> str:
    """A Markdown table: notebook, parameters, status, wall time, peak memory, metrics, error."""
    rows = ["| notebook | parameters | status | seconds | peak MiB | metrics | error |", "|---|---|---|---|---|---|---|"]
    for r in results:
        params = ", ".join(f"{k}={v}" for k, v in r.parameters.items())
        metrics = ", ".join(f"{k}={v}" for k, v in sorted(r.metrics.items()))
        cell = f" (cell {r.failed_cell})" if r.failed_cell else ""
        rows.append(f"| {Path(r.notebook).stem} | {params} | {r.status} | {r.seconds:.1f} | {r.peak_rss_mib:.0f} "
                    f"| {metrics} | {r.error.splitlines()[0] if r.error else ''}{cell} |")
    return "\n".join(rows) + "\n"


def plot_report(results: Sequence[RunResult], file: Path) -> Path | None:
    """Bar charts of every numeric metric, one bar per run (notebook and its parameters); None if no metrics."""
    keys = sorted({k for r in results for k, v in r.metrics.items() if isinstance(v, (int, float))})
    if not keys:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{Path(r.notebook).stem}\n{_slug(r.parameters)}" for r in results]
    fig, axes = plt.subplots(len(keys), 1, figsize=(max(6, 1.2 * len(results)), 2.8 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        values = [r.metrics.get(key, float("nan")) for r in results]
        ax.bar(range(len(results)), values, color=["C0" if r.status == "ok" else "C3" for r in results])
        ax.set_xticks(range(len(results)), labels, fontsize=7)
        ax.set_ylabel(key)
    fig.suptitle("mnist-course run: metrics per run (red: failed)")
    fig.tight_layout()
    fig.savefig(file, dpi=100)
    plt.close(fig)
    return file


def write_report(results: Sequence[RunResult], out_dir: Path) -> list[Path]:
    """Write ``report.md``, ``report.json`` and (when there are metrics) ``report.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / "report.md", out_dir / "report.json"
    plot = plot_report(results, out_dir / "report.png")
    md.write_text("# mnist-course run\n\n" + summary_markdown(results) + ("\n![metrics](report.png)\n" if plot else ""))
    js.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return [md, js] + ([plot] if plot else [])
