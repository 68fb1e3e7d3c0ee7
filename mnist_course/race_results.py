"""The race's results on disk and on screen: a JSON file (written atomically) and a Markdown table."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from mnist_course.files import write_text_atomic
from mnist_course.race import RaceRun, RunSpec, format_metric

FORMAT = 1


def save_results(path: str | os.PathLike[str], results: Sequence[RaceRun]) -> Path:
    """Write the results as JSON (with the TensorFlow version and CPU count that produced the timings), atomically:
    a reader never sees a half-written file."""
    import tensorflow as tf

    doc = {"format": FORMAT, "machine": {"tensorflow": tf.__version__, "cpu_count": os.cpu_count()},
           "runs": [asdict(r) for r in results]}
    return write_text_atomic(Path(path), json.dumps(doc, indent=1) + "\n")


def load_results(path: str | os.PathLike[str]) -> list[RaceRun]:
    """Read results written by :func:`save_results`."""
    doc = json.loads(Path(path).read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: results format {doc.get('format')!r}, expected {FORMAT}")
    return [RaceRun(RunSpec(**r["spec"]), r["setup"], r["history"]) for r in doc["runs"]]


class Table(str):
    """A Markdown table: rendered in a notebook, the same text as its repr and str elsewhere."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


def results_table(results: Sequence[RaceRun]) -> Table:
    """One row per run: its settings, final and best validation accuracy, validation cross-entropy, seconds."""
    rows = ["| run | optimizer | learning rate | loss | batch | val accuracy | best | val cross-entropy | seconds |",
            "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for r in results:
        s, h = r.spec, r.history
        best = max((v for v in h["val_accuracy"] if v is not None), default=None)
        extra = "".join(f", {k} {v:g}" for k, v in s.options.items())
        rows.append(f"| {s.name} | {s.optimizer}{extra} | {s.learning_rate:g} | {s.loss} | {s.batch_size} "
                    f"| {format_metric(r.final('val_accuracy'), 4)} | {format_metric(best, 4)} "
                    f"| {format_metric(r.final('val_crossentropy'), 4)} | {format_metric(r.final('seconds'), 1)} |")
    return Table("\n".join(rows))


__all__ = ["FORMAT", "Table", "load_results", "results_table", "save_results"]
