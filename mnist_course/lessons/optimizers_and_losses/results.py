"""The race's results on disk and on screen: a stable JSON file (written atomically), accuracies with their
uncertainty over seeds and validation images, and a Markdown table."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mnist_course.fields import Field
from mnist_course.lessons.optimizers_and_losses.race import (
    LOSSES,
    OPTIMIZERS,
    RUN_NAMES,
    RaceRun,
    RunSpec,
    format_metric,
)
from mnist_course.shipped import read_results, versions, write_results
from mnist_course.stats import accuracy_interval, differ, mean_spread, paired_seeds

FORMAT = 2
READABLE = (1, 2)  # format 1: the same runs, without the versions and seeds list


def save_results(
    path: str | os.PathLike[str], results: Sequence[RaceRun], *, settings: dict[str, Any] | None = None
) -> Path:
    """Write the results as reviewable JSON (sorted keys, one value per line, floats as the race rounded them) with
    the seeds, the ``settings`` that produced them, the library versions and the CPU count behind the timings,
    atomically: a reader never sees a half-written file."""
    doc = {
        "machine": versions(),
        "seeds": seeds_in(results),
        "settings": dict(settings or {}),
        "runs": [asdict(r) for r in results],
    }
    return write_results(path, doc, fmt=FORMAT)


def _check_run(run: Field) -> None:
    """One run's spec, setup and history: types, ranges and one value per epoch (``None``: diverged)."""
    spec, setup, history = run["spec"], run["setup"], run["history"]
    spec["optimizer"].text(OPTIMIZERS)
    spec["loss"].text(LOSSES)
    spec["batch_size"].integer(1)
    spec["learning_rate"].number(1e-12)
    for option in spec["options"].fields().values():
        option.number()
    epochs, n_val = setup["epochs"].integer(0), setup["n_val"].integer(1)
    if setup.has("n_train"):
        setup["n_train"].integer(1)
    if setup.has("initial_weights"):
        setup["initial_weights"].text()
    lists = {
        key: history[key].items(epochs + 1, what="epoch 0, then one per epoch")
        for key in ("epoch", "seconds", "loss", "val_accuracy", "val_crossentropy")
    }
    for epoch, field in enumerate(lists["epoch"]):
        field.agrees(epoch, "its position in the list")
    seconds = [field.seconds() for field in lists["seconds"]]
    if seconds[0] != 0 or sorted(seconds) != seconds:
        history["seconds"].fail("is not the cumulative training time from 0 (it never decreases)")
    for field in lists["val_accuracy"]:
        field.accuracy(n_val, null=True)
    for field in lists["loss"] + lists["val_crossentropy"]:
        field.loss(null=True)


def check_results(doc: Field) -> None:
    """Refuse a file :func:`save_results` could not have written: every run's fields of their types and ranges
    (a name of :data:`~mnist_course.lessons.optimizers_and_losses.race.RUN_NAMES`, validation accuracies whole
    numbers of images in [0, 1], losses and seconds finite and >= 0 or null where a run diverged, one value per
    epoch), one run per name and seed, and the summaries beside them: the seeds and settings recorded at the
    top, and one start (initial weights, epoch-0 validation scores) shared by every run of a seed."""
    runs, starts = [], {}
    for index, field in enumerate(doc["runs"].items()):
        name, seed = field["spec"]["name"].text(RUN_NAMES), field["setup"]["seed"].integer()
        run = field.labelled(f"{name}, seed {seed}")
        if any(other["spec"]["name"] == name and other["setup"]["seed"] == seed for other in doc["runs"].value[:index]):
            run.fail("repeats a run of the same name and seed")
        _check_run(run)
        runs.append(run)
        history = run["history"].value
        start = (run["setup"].value.get("initial_weights"), history["val_accuracy"][0], history["val_crossentropy"][0])
        if starts.setdefault(seed, start) != start:
            run["setup"].fail(f"starts from {start}, the other runs of seed {seed} from {starts[seed]}")
    if doc.has("seeds"):
        doc["seeds"].agrees(list(starts), "the runs' seeds")
    settings = doc["settings"].fields() if doc.has("settings") else {}
    for key in ("epochs", "n_train", "n_val"):
        for run in runs if key in settings else []:
            run["setup"][key].agrees(settings[key].integer(0), f"settings.{key}")
    if "race_seeds" in settings:
        settings["race_seeds"].agrees(len(starts), "the runs' seeds")
    if "profile" in settings and settings["profile"].text() == "full":  # the whole race, as write_shipped demands
        have = {(run["spec"].value["name"], run["setup"].value["seed"]) for run in runs}
        missing = [f"{name} (seed {seed})" for seed in starts for name in RUN_NAMES if (name, seed) not in have]
        if missing:
            doc["runs"].fail(f"lacks {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''} of the full race")


def load_results(path: str | os.PathLike[str]) -> list[RaceRun]:
    """Read results written by :func:`save_results`, checked by :func:`check_results`: a missing, malformed or
    hand-edited file is one clear error."""
    fix = "make it again with `make results` (or `mnist-course run 07 --results`), or restore it with git"
    doc = read_results(path, formats=READABLE, required=("runs",), fix=fix, check=check_results)
    return [RaceRun(RunSpec(**r["spec"]), r["setup"], r["history"]) for r in doc["runs"]]


def seeds_in(results: Sequence[RaceRun]) -> list[int]:
    """The seeds the results hold, in the order they first appear."""
    return list(dict.fromkeys(r.setup.get("seed") for r in results))


def runs_named(results: Sequence[RaceRun], name: str) -> list[RaceRun]:
    """Every seed's run of ``name`` (KeyError when there is none)."""
    runs = [r for r in results if r.spec.name == name]
    if not runs:
        raise KeyError(f"no run named {name!r}; runs: {list(dict.fromkeys(r.spec.name for r in results))}")
    return runs


def final_accuracy(results: Sequence[RaceRun], name: str) -> tuple[float, float, float]:
    """``(centre, low, high)`` of run ``name``'s final validation accuracy: over one seed, the value and its Wilson
    95 % interval on the validation images; over several, the mean and the wider of mean ± 2 sd (the seeds'
    spread) and the mean's Wilson interval. A diverged seed counts as accuracy 0."""
    runs = runs_named(results, name)
    values = [r.final("val_accuracy") or 0.0 for r in runs]
    n_val = int(runs[0].setup["n_val"])
    if len(values) == 1:
        return (values[0], *accuracy_interval(values[0], n_val))
    mean, sd = mean_spread(values)
    low, high = accuracy_interval(mean, n_val)
    return mean, max(0.0, min(low, mean - 2 * sd)), min(1.0, max(high, mean + 2 * sd))


def format_final(results: Sequence[RaceRun], name: str) -> str:
    """Run ``name``'s final validation accuracy in percent with its uncertainty: ``"94.54 % (93.9-95.1)"`` for one
    seed, ``"94.51 ± 0.12 % over 3 seeds"`` for several."""
    runs = runs_named(results, name)
    values = [r.final("val_accuracy") or 0.0 for r in runs]
    if len(values) == 1:
        centre, low, high = final_accuracy(results, name)
        return f"{100 * centre:.2f} % ({100 * low:.1f}-{100 * high:.1f})"
    mean, sd = mean_spread(values)
    return f"{100 * mean:.2f} ± {100 * sd:.2f} % over {len(values)} seeds"


def _per_seed(results: Sequence[RaceRun], name: str) -> dict[int, float]:
    """Run ``name``'s final validation accuracy in percent, per seed (a diverged seed counts as 0)."""
    return {r.setup.get("seed"): 100 * (r.final("val_accuracy") or 0.0) for r in runs_named(results, name)}


def compare(results: Sequence[RaceRun], a: str, b: str) -> str:
    """One sentence comparing the final validation accuracies of runs ``a`` and ``b``.

    The race is paired: for each seed both runs start from the same weights, see the same batches and are scored on
    the same validation images. So over the seeds both ran (two or more) the sentence gives the mean difference
    ``a - b`` in points with its 95 % interval (:func:`~mnist_course.stats.paired_seeds`) and says "not resolved"
    when the interval contains 0. With one shared seed it falls back on the two runs' intervals, conservatively: a
    difference only where they do not overlap, else "not resolved" (never "a tie").
    """
    per_a, per_b = _per_seed(results, a), _per_seed(results, b)
    seeds = [seed for seed in per_a if seed in per_b]
    if len(seeds) >= 2:
        xa, xb = [per_a[s] for s in seeds], [per_b[s] for s in seeds]
        means = f"{a} ({sum(xa) / len(xa):.2f} %) − {b} ({sum(xb) / len(xb):.2f} %)"
        if xa == xb:
            return f"{means}: the same accuracy on each of the {len(seeds)} seeds, a difference of 0"
        p = paired_seeds(xa, xb, names=(a, b))
        verdict = f"{a} ends higher" if p.low > 0 else f"{b} ends higher" if p.high < 0 else "not resolved"
        return (
            f"{means} = {p.mean:+.2f} points over {len(seeds)} paired seeds, 95 % interval {p.low:+.2f} to "
            f"{p.high:+.2f}: {verdict}"
        )
    (ca, *ia), (cb, *ib) = final_accuracy(results, a), final_accuracy(results, b)
    if not differ(tuple(ia), tuple(ib)):
        return (
            f"{a} ({format_final(results, a)}) and {b} ({format_final(results, b)}): the intervals overlap, "
            "not resolved (one seed: race more seeds for a paired comparison)"
        )
    high, low = (a, b) if ca > cb else (b, a)
    return f"{high} ({format_final(results, high)}) ends above {low} ({format_final(results, low)})"


def write_shipped(
    path: str | os.PathLike[str],
    results: Sequence[RaceRun],
    *,
    runs: Sequence[str],
    settings: dict[str, Any],
    min_seeds: int = 3,
) -> Path:
    """:func:`save_results` for the shipped file, refusing (one line naming the fix) results that are not a whole
    full-profile race: every run of ``runs`` for each of at least ``min_seeds`` seeds."""
    seeds = seeds_in(results)
    have = {(r.setup.get("seed"), r.spec.name) for r in results}
    missing = [f"{name} (seed {seed})" for seed in seeds for name in runs if (seed, name) not in have]
    if settings.get("profile") != "full" or len(seeds) < min_seeds or missing:
        raise ValueError(
            f"{path}: the shipped results are the whole race of the full profile with >= {min_seeds} "
            f"seeds; got profile {settings.get('profile')!r}, seeds {seeds}, missing {missing[:3]}: run "
            "`mnist-course run 07 --results` (LIVE_RUNS and RACE_SEEDS left at None)"
        )
    return save_results(path, results, settings=settings)


def rerun_check(shipped: Sequence[RaceRun], run: RaceRun) -> tuple[float | None, str]:
    """Compare a run trained here with the shipped run of the same name and seed, like with like.

    Returns ``(gap, sentence)``: ``gap`` is the difference of the final validation accuracies when the settings
    (spec, epochs, seed, training and validation sizes) are the same, else ``None``. The tolerance is the spread
    of the shipped seeds (2 sd) when there are several, else the Wilson 95 % half-width on the validation images:
    the same settings on another machine or library version sum in another order, which moves a run about as much
    as another seed would; on the machine that made the file, the numbers are identical.
    """
    name, seed = run.spec.name, run.setup.get("seed")
    same = [r for r in shipped if r.spec.name == name and r.setup.get("seed") == seed]
    keys = ("epochs", "seed", "n_train", "n_val")
    if not same or same[0].spec != run.spec or any(same[0].setup.get(k) != run.setup.get(k) for k in keys):
        here = ", ".join(f"{k} {run.setup.get(k)}" for k in keys)
        return None, f"{name}: no shipped run with the same settings ({here}): nothing to compare"
    stored, ours = same[0].final("val_accuracy"), run.final("val_accuracy")
    if stored is None or ours is None:
        return None, f"{name}: diverged {'here' if ours is None else 'in the shipped run'}: nothing to compare"
    centre, low, high = final_accuracy(shipped, name)
    seeds = len(runs_named(shipped, name))
    tolerance = (
        max(centre - low, high - centre)
        if seeds == 1
        else 2 * mean_spread([r.final("val_accuracy") or 0.0 for r in runs_named(shipped, name)])[1]
    )
    gap = abs(ours - stored)
    verdict = "within" if gap <= tolerance else "OUTSIDE"
    start = "same" if same[0].setup.get("initial_weights") == run.setup.get("initial_weights") else "other"
    basis = f"2 sd of {seeds} shipped seeds" if seeds > 1 else f"95 % interval on {run.setup['n_val']:,} images"
    return gap, (
        f"{name} (seed {seed}): {100 * ours:.2f} % here, {100 * stored:.2f} % shipped: {100 * gap:.2f} "
        f"points apart, {verdict} the tolerance of {100 * tolerance:.2f} points ({basis}); {start} start "
        "weights"
    )


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if len(finite) == len(values) and finite else None


class Table(str):
    """A Markdown table: rendered in a notebook, the same text as its repr and str elsewhere."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)


def _spread(values: Sequence[float | None], digits: int) -> str:
    """``mean ± sd`` of the values (``diverged`` when one is missing), or the value alone when there is one."""
    if len(values) == 1 or _mean(values) is None:
        return format_metric(_mean(values), digits)
    mean, sd = mean_spread([float(v) for v in values if v is not None])
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def results_table(results: Sequence[RaceRun], names: Sequence[str] | None = None) -> Table:
    """One row per run (``names``, or every run once): its settings, the final validation accuracy in percent with
    its uncertainty (mean ± sd over the seeds, or the Wilson 95 % interval of one seed), the best epoch's validation
    accuracy in percent and the final validation cross-entropy (means over the seeds), and the training seconds
    (mean ± sd over the seeds); ``diverged`` when a seed gave no finite value. Each header says its unit."""
    names = list(dict.fromkeys(r.spec.name for r in results)) if names is None else list(names)
    n_seeds = len(seeds_in(results))
    over = f" (mean ± sd over {n_seeds} seeds)" if n_seeds > 1 else " (95 % interval)"
    mean = " (mean)" if n_seeds > 1 else ""
    rows = [
        f"| run | optimizer | learning rate | loss | batch size | final val accuracy, %{over} "
        f"| best epoch's val accuracy, %{mean} | final val cross-entropy{mean} "
        f"| training time, s{' (mean ± sd)' if n_seeds > 1 else ''} |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        runs = runs_named(results, name)
        s = runs[0].spec
        best = _mean([max((v for v in r.history["val_accuracy"] if v is not None), default=None) for r in runs])
        extra = "".join(f", {k} {v:g}" for k, v in s.options.items())
        if not all(r.final("val_accuracy") for r in runs):
            accuracy = "diverged"
        elif len(runs) == 1:
            centre, low, high = final_accuracy(results, name)
            accuracy = f"{100 * centre:.2f} ({100 * low:.1f}-{100 * high:.1f})"
        else:
            accuracy = _spread([100 * (r.final("val_accuracy") or 0.0) for r in runs], 2)
        rows.append(
            f"| {s.name} | {s.optimizer}{extra} | {s.learning_rate:g} | {s.loss} | {s.batch_size} "
            f"| {accuracy} | {format_metric(None if best is None else 100 * best, 2)} "
            f"| {format_metric(_mean([r.final('val_crossentropy') for r in runs]), 4)} "
            f"| {_spread([r.final('seconds') for r in runs], 1)} |"
        )
    return Table("\n".join(rows))


__all__ = [
    "FORMAT",
    "READABLE",
    "Table",
    "check_results",
    "compare",
    "final_accuracy",
    "format_final",
    "load_results",
    "rerun_check",
    "results_table",
    "runs_named",
    "save_results",
    "seeds_in",
    "write_shipped",
]
