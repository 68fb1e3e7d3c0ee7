"""The report of a ``mnist-course run`` batch: a Markdown table, a JSON list and a bar chart of the metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mnist_course.files import write_text_atomic


@dataclass
class NotebookRun:
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


def slug(parameters: dict[str, object]) -> str:
    """A file-name-safe label of parameter values: ``EPOCHS=2-LIVE_RUNS=adam,sgd``."""
    text = "-".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in parameters.items())
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", text) or "default"


def summary_markdown(results: Sequence[NotebookRun]) -> str:
    """A Markdown table: notebook, parameters, status, wall time, peak memory, metrics, error."""
    rows = [
        "| notebook | parameters | status | seconds | peak MiB | metrics | error |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        params = ", ".join(f"{k}={v}" for k, v in r.parameters.items())
        metrics = ", ".join(f"{k}={v}" for k, v in sorted(r.metrics.items()))
        cell = f" (cell {r.failed_cell})" if r.failed_cell else ""
        error = (r.error.splitlines() or [""])[0]
        cells = [
            Path(r.notebook).stem,
            params,
            r.status,
            f"{r.seconds:.1f}",
            f"{r.peak_rss_mib:.0f}",
            metrics,
            error + cell,
        ]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")  # a | in a value keeps its column
    return "\n".join(rows) + "\n"


def plot_report(results: Sequence[NotebookRun], file: Path) -> Path | None:
    """Bar charts of every numeric metric, one bar per run (notebook and its parameters); None if no metrics."""
    keys = sorted({k for r in results for k, v in r.metrics.items() if isinstance(v, (int, float))})
    if not keys:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{Path(r.notebook).stem}\n{slug(r.parameters)}" for r in results]
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


def write_report(results: Sequence[NotebookRun], out_dir: Path) -> list[Path]:
    """Write ``report.md``, ``report.json`` and (when there are metrics) ``report.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / "report.md", out_dir / "report.json"
    plot = plot_report(results, out_dir / "report.png")
    write_text_atomic(
        md, "# mnist-course run\n\n" + summary_markdown(results) + ("\n![metrics](report.png)\n" if plot else "")
    )
    write_text_atomic(js, json.dumps([asdict(r) for r in results], indent=2))
    return [md, js] + ([plot] if plot else [])
