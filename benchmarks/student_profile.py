"""Every notebook in the student profile: wall time and peak memory on 2 cores and pinned to one, against budgets.

    python benchmarks/student_profile.py [--notebooks 01 04 ...] [--cores 1|2|both] [--out FOLDER]

Each run executes one notebook with ``mnist_course.course.runner.run_notebook`` (papermill, the kernel a child of this
process) in the ``student`` profile with a fresh, empty model cache, so nothing trained before is reused. The CPUs
are limited with ``os.sched_setaffinity`` on this process before the kernel starts, so the kernel inherits them;
a watcher reads the affinity of every process the run starts (the kernel as the OS sees it) and a run whose kernel
could use more CPUs than asked is marked "not pinned". Budgets (issue 15): at most 90 s on 2 cores, 180 s on one
core, and a peak of 2 GiB (Binder's memory) for the kernel. Prints a table; exit code 1 if any run failed, went
over a budget or was not pinned. Timings are only meaningful on an otherwise idle machine (the load is printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECONDS_BUDGET = {2: 90.0, 1: 180.0}
PEAK_BUDGET_MIB = 2048.0


@dataclass
class Measured:
    """One notebook on some cores: how it ended, its wall time and peak memory, the CPUs its kernel could use."""

    notebook: str
    cores: int
    status: str
    seconds: float
    peak_mib: float
    kernel_cpus: set[int]
    error: str = ""

    def verdict(self) -> str:
        """The string "ok", or every way this run missed: failed, over a budget, not pinned."""
        missed = []
        if self.status != "ok":
            missed.append("FAILED")
        if self.seconds > SECONDS_BUDGET[self.cores]:
            missed.append("OVER TIME")
        if self.peak_mib > PEAK_BUDGET_MIB:
            missed.append("OVER MEMORY")
        if not self.kernel_cpus:
            missed.append("KERNEL NOT SEEN")
        elif len(self.kernel_cpus) > self.cores:
            missed.append("NOT PINNED")
        return ", ".join(missed) or "ok"


class _AffinityWatch:
    """Polls the CPU affinity of every descendant of this process (the kernel papermill starts)."""

    def __init__(self, interval: float = 0.5) -> None:
        self.cpus: set[int] = set()
        self._stop, self._interval = threading.Event(), interval
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children(recursive=True):
                try:
                    self.cpus |= set(child.cpu_affinity())
                except psutil.Error:
                    pass
            self._stop.wait(self._interval)

    def __enter__(self) -> _AffinityWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def measure(notebook: Path, cores: int, out_dir: Path, timeout: int | None) -> Measured:
    """Run ``notebook`` in the student profile on the first ``cores`` CPUs of this process, with a fresh cache."""
    from mnist_course.course import runner

    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < cores:
        raise SystemExit(f"this process may use {len(allowed)} CPU(s), {cores} asked: use --cores 1")
    saved_cache = os.environ.get("MNIST_COURSE_CACHE")
    os.sched_setaffinity(0, set(allowed[:cores]))
    try:
        with tempfile.TemporaryDirectory(prefix="student-profile-cache-") as cache, _AffinityWatch() as watch:
            os.environ["MNIST_COURSE_CACHE"] = cache  # the kernel inherits it: no model trained earlier is reused
            run = runner.run_notebook(
                notebook, out_dir / f"{cores}-core" / notebook.name, "student", {}, timeout=timeout
            )
    finally:
        os.sched_setaffinity(0, set(allowed))
        if saved_cache is None:
            os.environ.pop("MNIST_COURSE_CACHE", None)
        else:
            os.environ["MNIST_COURSE_CACHE"] = saved_cache
    error = (run.error.splitlines() or [""])[0][:120]
    return Measured(notebook.stem, cores, run.status, run.seconds, run.peak_rss_mib, watch.cpus, error)


def table(rows: list[Measured]) -> str:
    """The results as a fixed-width table, one line per run, budgets beside the numbers."""
    head = (
        f"{'notebook':<28} {'cores':>5} {'seconds':>8} {'budget':>6} {'peak MiB':>9} {'budget':>6}  "
        f"{'kernel CPUs':<11}  verdict"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        cpus = ",".join(map(str, sorted(r.kernel_cpus))) or "?"
        verdict = r.verdict() + (f" ({r.error})" if r.error else "")
        lines.append(
            f"{r.notebook:<28} {r.cores:>5} {r.seconds:>8.1f} {SECONDS_BUDGET[r.cores]:>6.0f} "
            f"{r.peak_mib:>9.0f} {PEAK_BUDGET_MIB:>6.0f}  {cpus:<11}  {verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="*", default=[], metavar="NN", help="e.g. 01 04 (default: all)")
    parser.add_argument("--cores", choices=("1", "2", "both"), default="both")
    parser.add_argument("--out", type=Path, help="folder for the executed copies (default: a temporary one)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may take before it fails")
    args = parser.parse_args(argv)
    if not os.environ.get("MNIST_COURSE_DATA") and (ROOT.parent / "shared" / "data").is_dir():
        os.environ["MNIST_COURSE_DATA"] = str(ROOT.parent / "shared" / "data")  # as .ci/run does
    from mnist_course.course import runner

    notebooks = runner.discover(args.notebooks, ROOT / "notebooks")
    core_counts = [2, 1] if args.cores == "both" else [int(args.cores)]
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="student-profile-"))
    load = os.getloadavg()[0]
    print(
        f"student profile, {len(notebooks)} notebook(s) x {core_counts} core(s); load average {load:.1f} on "
        f"{os.cpu_count()} CPUs{' (busy machine: times are inflated)' if load > 0.5 else ''}; copies in {out_dir}",
        flush=True,
    )
    rows = []
    for cores in core_counts:
        for notebook in notebooks:
            rows.append(measure(notebook, cores, out_dir, args.timeout))
            r = rows[-1]
            print(
                f"  {r.notebook} on {cores} core(s): {r.seconds:.1f} s, {r.peak_mib:.0f} MiB, {r.verdict()}", flush=True
            )
    print(table(rows))
    missed = [r for r in rows if r.verdict() != "ok"]
    print(f"{len(rows) - len(missed)} within budget, {len(missed)} not")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
