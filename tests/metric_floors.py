"""Metric floors: the rules in ``tests/metric_floors.toml`` and the check of a notebook's recorded metrics against them.

A notebook records its key results with ``mnist_course.notebook.record(...)``; the ``ci`` run of the student
edition (the runner's batch for 02, 03, 04 and 06, JupyterLab for 01, 05, 07 and 08) and the nbval session
(``student``) collect them per notebook. Every recorded metric must have a rule and every rule a
recorded metric, so a new ``record(...)`` without a floor, or a floor whose metric is gone, fails with the line to
add or remove.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path

FLOORS_FILE = Path(__file__).with_name("metric_floors.toml")
RULE_KEYS = {"min", "max", "equals", "ignore"}


def load(file: Path = FLOORS_FILE) -> dict[str, dict[str, dict[str, dict[str, object]]]]:
    """``{profile: {notebook stem: {metric: rule}}}``, each rule a dict with some of ``min``, ``max``, ``equals``,
    ``ignore`` (a bare number in the file is ``{"min": number}``). Raises ``ValueError`` naming a malformed rule."""
    raw = tomllib.loads(file.read_text(encoding="utf-8"))
    floors: dict[str, dict[str, dict[str, dict[str, object]]]] = {}
    for profile, notebooks in raw.items():
        for notebook, metrics in notebooks.items():
            floors.setdefault(profile, {}).setdefault(notebook, {})  # an empty table: the notebook records nothing yet
            for metric, rule in metrics.items():
                where = f"{file.name}: [{profile}.{notebook}] {metric}"
                if isinstance(rule, (int, float)) and not isinstance(rule, bool):
                    rule = {"min": rule}
                if not isinstance(rule, dict) or not rule or set(rule) - RULE_KEYS:
                    raise ValueError(f"{where}: a rule is a number (a minimum) or a table of {sorted(RULE_KEYS)}")
                if "ignore" in rule and (len(rule) > 1 or not str(rule["ignore"]).strip()):
                    raise ValueError(f'{where}: ignore = "why" stands alone and says why the value is not checked')
                floors.setdefault(profile, {}).setdefault(notebook, {})[metric] = rule
    return floors


def _suggestion(metric: str, value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{metric} = <floor below {value}, above what a broken model reaches>"
    return f'{metric} = {{equals = {value!r}}}  # or {{ignore = "why"}}'


def violations(
    profile: str,
    notebook: str,
    metrics: Mapping[str, object],
    floors: Mapping[str, Mapping[str, Mapping[str, Mapping[str, object]]]] | None = None,
) -> list[str]:
    """Every way ``metrics`` (what ``notebook`` recorded in ``profile``) breaks the floors file; [] when it keeps it."""
    floors = load() if floors is None else floors
    rules = dict(floors.get(profile, {}).get(notebook, {}))
    where = f"[{profile}.{notebook}]"
    if not rules:
        return [
            f"{where}: no floors in {FLOORS_FILE.name}; it recorded {dict(metrics)}: add a table {where} with "
            "a floor for each metric"
        ]
    problems = []
    for metric, value in metrics.items():
        rule = rules.pop(metric, None)
        if rule is None:
            problems.append(f"{where} {metric}={value!r} has no rule: add `{_suggestion(metric, value)}`")
        elif "ignore" in rule:
            continue
        elif "equals" in rule and value != rule["equals"]:
            problems.append(f"{where} {metric}={value!r}, expected {rule['equals']!r}")
        elif "min" in rule or "max" in rule:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
                problems.append(f"{where} {metric}={value!r} is not a number")
            elif "min" in rule and value < rule["min"]:
                problems.append(f"{where} {metric}={value!r} is below its floor {rule['min']}")
            elif "max" in rule and value > rule["max"]:
                problems.append(f"{where} {metric}={value!r} is above its ceiling {rule['max']}")
    problems += [
        f"{where} {metric}: has a rule but was not recorded (the record() call is gone, renamed, or the "
        "notebook stopped before it)"
        for metric in rules
    ]
    return problems


if __name__ == "__main__":  # python tests/metric_floors.py PROFILE DIR/report.json: check a run's metrics
    import json
    import sys

    profile, report = sys.argv[1], Path(sys.argv[2])
    broken = 0
    for run in json.loads(report.read_text()):
        stem = Path(run["notebook"]).stem
        problems = violations(profile, stem, run["metrics"])
        print(f"{stem}: {run['metrics']}")
        print("\n".join(f"  {p}" for p in problems) or "  keeps its floors")
        broken += bool(problems)
    sys.exit(1 if broken else 0)
