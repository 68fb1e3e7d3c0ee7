"""The shipped full-profile results (``notebooks/results/*.json``, written by ``make results``) are what the code as it
is would produce: each names its notebook, seeds, library versions and settings, the settings are the current
full-profile parameters, the race's runs are notebook 07's current ``RUNS``, and the file is stable, reviewable JSON.

A shipped number whose settings the code no longer uses fails here: rerun ``make results`` (or the one notebook with
``mnist-course run NN --results``) and commit the new file.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict
from pathlib import Path

import pytest

from mnist_course.course import parameters

ROOT = Path(__file__).resolve().parent.parent
RESULTS = sorted((ROOT / "notebooks" / "results").glob("*.json"))
NOTEBOOKS = {p.name[:2]: p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}


def _notebook(path: Path) -> str:
    stem = NOTEBOOKS.get(path.name[:2])
    assert stem, f"{path.name}: a shipped result is named NN_what_full.json after its notebook NN_*.ipynb"
    return stem


def _floats(value: object):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _floats(v)
    elif isinstance(value, list):
        for v in value:
            yield from _floats(v)


def test_there_are_shipped_results():
    assert RESULTS, "notebooks/results/ holds the shipped full-profile results (make results)"


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_a_shipped_result_says_what_produced_it_in_stable_json(path):
    _notebook(path)
    assert path.name.endswith("_full.json"), f"{path.name}: shipped results come from the full profile"
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    seeds = doc.get("seeds", [doc["seed"]] if isinstance(doc.get("seed"), int) else None)
    assert isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds), (
        f'{path.name}: the seeds that produced it, as "seeds": [...]'
    )
    assert isinstance(doc.get("settings"), dict) and doc["settings"], (
        f'{path.name}: the settings that produced it, as "settings": {{PARAMETER: value}} (the notebook\'s resolved '
        "parameters)"
    )
    versions = doc.get("versions") or doc.get("machine") or doc.get("software") or {}
    assert {"tensorflow", "keras"} <= set(versions), (
        f'{path.name}: the TensorFlow and Keras versions, as "versions": {{...}}'
    )
    indent = len(text.split("\n", 2)[1]) - len(text.split("\n", 2)[1].lstrip(" ")) if "\n" in text else None
    assert text == json.dumps(doc, indent=indent, sort_keys=True) + "\n", (
        f"{path.name}: write it with json.dumps(..., indent=N, sort_keys=True) (one stable order to review)"
    )
    long = [v for v in _floats(doc) if math.isfinite(v) and round(v, 6) != v]
    assert not long, f"{path.name}: round floats to at most 6 decimals, e.g. {long[:3]}"


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_a_shipped_results_settings_are_the_current_full_profile_parameters(path):
    stem = _notebook(path)
    declared = parameters.DECLARED[stem]
    settings = json.loads(path.read_text()).get("settings", {})
    checked = 0
    for key, value in settings.items():
        param = declared.get(key.upper())
        if param is None or not param.by_profile or param.by_profile.get("full") is None:
            continue
        checked += 1
        assert value == param.by_profile["full"], (
            f"{path.name}: {key}={value!r}, but the full profile now uses {param.by_profile['full']!r} "
            f"(mnist_course/course/declared.py): rerun `mnist-course run {stem[:2]} --results`"
        )
    assert checked, f"{path.name}: its settings name none of {stem}'s full-profile parameters ({sorted(declared)})"


def _race_specs() -> dict[str, dict]:
    """Notebook 07's race (``RUNS`` of its lesson module): ``{name: RunSpec as a dict}``."""
    from mnist_course.lessons.optimizers_and_losses.race import RUNS

    return {spec.name: asdict(spec) for spec in RUNS}


@pytest.mark.parametrize("path", [p for p in RESULTS if p.name.startswith("07_race")], ids=lambda p: p.name)
def test_the_shipped_race_runs_are_notebook_07s_runs_as_they_are_now(path):
    doc = json.loads(path.read_text())
    specs = _race_specs()
    epochs = parameters.DECLARED["07_optimizers_and_losses"]["EPOCHS"].by_profile["full"]
    for run in doc["runs"]:
        name = run["spec"]["name"]
        assert run["spec"] == specs.get(name), f"{path.name}: run {name!r} is not notebook 07's RUNS entry now"
        assert run["setup"]["seed"] in doc.get("seeds", []), f"{path.name}: run {name!r}'s seed is not in seeds"
        assert run["setup"]["epochs"] == epochs, f"{path.name}: run {name!r} trained {run['setup']['epochs']} epochs, "
        f"the full profile now trains {epochs}"
        history = run["history"]
        assert len(history["val_accuracy"]) == run["setup"]["epochs"] + 1, f"{name}: one value per epoch, and epoch 0"
    by_seed = {}
    for run in doc["runs"]:
        by_seed.setdefault(run["setup"]["seed"], set()).add(run["spec"]["name"])
    assert all(names == set(specs) for names in by_seed.values()), "every seed ran every run of the race"


def _loaders() -> dict[str, object]:
    """Each shipped file's reader: the lesson module that owns it (its load_results checks every field)."""
    from mnist_course.lessons import cnn, mlp
    from mnist_course.lessons.optimizers_and_losses import results as race

    return {
        "04_mlp_full.json": mlp.load_results,
        "05_models_full.json": cnn.load_results,
        "05_selection_full.json": cnn.load_results,
        "07_race_full.json": race.load_results,
    }


def test_every_shipped_file_has_its_reader():
    assert sorted(p.name for p in RESULTS) == sorted(_loaders())


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_a_shipped_file_passes_its_lessons_checks_and_the_manifest(path):
    """Read as notebooks 04, 05 and 07 read it: types, ranges, the summaries recomputed, and its sha256 the one
    notebooks/results/MANIFEST.sha256 records (a failure here: rerun `make results`, or restore the file)."""
    assert _loaders()[path.name](path.name)


def test_the_manifest_records_exactly_the_shipped_files_as_they_are():
    manifest = (ROOT / "notebooks" / "results" / "MANIFEST.sha256").read_text()
    expected = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in RESULTS)
    assert manifest == expected, "notebooks/results/MANIFEST.sha256 is written by `make results` (write_results)"
