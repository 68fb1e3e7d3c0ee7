"""Every read of a shipped results file checks it: a truncated file, a field of the wrong type, an impossible
accuracy, a NaN, a summary its values contradict, a plausible hand edit (caught by the manifest) or a missing file
is one ShippedResultsError naming the file, the field and `make results`, never a number shown as fact.

Each test edits a copy of the real shipped files (notebooks/results/ and its MANIFEST.sha256) in a temporary course
folder; the expected messages and values are written out by hand.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mnist_course import paths
from mnist_course.lessons import cnn, mlp
from mnist_course.lessons.optimizers_and_losses import results as race
from mnist_course.shipped import URL_ENV, MissingResultsError, ShippedResultsError, write_results

NAN = float("nan")
REAL = Path(__file__).resolve().parent.parent / "notebooks" / "results"
LOADERS: dict[str, Callable[[str], Any]] = {
    "04_mlp_full.json": mlp.load_results,
    "05_models_full.json": cnn.load_results,
    "05_selection_full.json": cnn.load_results,
    "07_race_full.json": race.load_results,
}


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int) -> Path:
    """A course folder holding copies of the shipped results and their manifest; nothing to fetch from."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "05_cnn.ipynb").write_text("{}")
    shutil.copytree(REAL, notebooks / "results")
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(notebooks))
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{closed_port}/")
    monkeypatch.chdir(tmp_path)
    return notebooks / "results"


def edit(course: Path, name: str, change: Callable[[dict[str, Any]], Any]) -> None:
    """Change one file as a person would: load it, change a value, save it in the same layout."""
    doc = json.loads((course / name).read_text())
    change(doc)
    (course / name).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def refused(name: str, *patterns: str) -> str:
    """Load ``name`` expecting one ShippedResultsError whose one-line message matches every pattern."""
    with pytest.raises(ShippedResultsError) as caught:
        LOADERS[name](name)
    message = str(caught.value)
    assert "\n" not in message and name in message and "make results" in message, message
    for pattern in patterns:
        assert pattern in message, f"{pattern!r} not in {message!r}"
    return message


def race_run(doc: dict[str, Any], name: str, seed: int) -> dict[str, Any]:
    return next(r for r in doc["runs"] if r["spec"]["name"] == name and r["setup"]["seed"] == seed)


def test_the_copies_of_the_real_files_load_as_they_are(course: Path) -> None:
    shipped = cnn.load_results("05_models_full.json")
    assert shipped["models"]["cnn-32-64"]["test_accuracy"] == [0.9917, 0.9917, 0.9917] and shipped["cpus"] == 2
    assert mlp.load_results("04_mlp_full.json")["chosen"]["dense-512"]["epochs"] == 5
    assert cnn.load_results("05_selection_full.json")["studies"][0]["chosen"] == "6 epochs"
    assert len(race.load_results("07_race_full.json")) == 48


@pytest.mark.parametrize("name", list(LOADERS))
def test_a_truncated_file_is_not_valid_json(course: Path, name: str) -> None:
    text = (course / name).read_text()
    (course / name).write_text(text[: len(text) // 2])
    refused(name, "is not valid JSON")


@pytest.mark.parametrize(
    "name, change, expected",
    [
        (
            "05_models_full.json",
            lambda d: d["models"]["cnn-32-64"]["seeds"].__setitem__(1, "43"),
            "models.cnn-32-64.seeds[1] is '43', expected an integer",
        ),
        (
            "04_mlp_full.json",
            lambda d: d["finals"]["dense-512"][0].__setitem__("test_accuracy", "0.9806"),
            "finals.dense-512[0].test_accuracy is '0.9806', expected a number",
        ),
        (
            "07_race_full.json",
            lambda d: race_run(d, "adam", 43)["spec"].__setitem__("batch_size", 128.0),
            "(adam, seed 43).spec.batch_size is 128.0, expected an integer",
        ),
        (
            "05_selection_full.json",
            lambda d: d.__setitem__("studies", {}),
            "studies is an object, expected a list",
        ),
        (
            "04_mlp_full.json",
            lambda d: d["chosen"].__setitem__("dense-512", 5),
            "chosen.dense-512 is 5, but the study's validation curves give {",
        ),
    ],
)
def test_a_field_of_the_wrong_type_is_named(course: Path, name: str, change: Callable, expected: str) -> None:
    edit(course, name, change)
    refused(name, expected)


def test_an_impossible_accuracy_is_refused_before_anything_is_shown(course: Path) -> None:
    edit(course, "05_models_full.json", lambda d: d["models"]["cnn-32-64"]["test_accuracy"].__setitem__(1, 1.7))
    refused("05_models_full.json", "models.cnn-32-64.test_accuracy[1] is 1.7, outside [0, 1]")
    edit(course, "04_mlp_full.json", lambda d: d["finals"]["mlp-3x500"][2].__setitem__("test_accuracy", -0.2))
    refused("04_mlp_full.json", "finals.mlp-3x500[2].test_accuracy is -0.2, outside [0, 1]")
    edit(course, "07_race_full.json", lambda d: race_run(d, "sgd", 44)["history"]["val_accuracy"].__setitem__(4, 1.7))
    refused("07_race_full.json", "(sgd, seed 44).history.val_accuracy[4] is 1.7, outside [0, 1]")


def test_nan_negative_losses_and_seconds_are_refused(course: Path) -> None:
    study = "study['dense-512 constant'][1].val_loss[2]"
    edit(course, "04_mlp_full.json", lambda d: d["study"]["dense-512 constant"][1]["val_loss"].__setitem__(2, NAN))
    assert "NaN" in (course / "04_mlp_full.json").read_text()  # what json.dumps writes for a float nan
    refused("04_mlp_full.json", f"{study} is nan, not a finite number")
    edit(course, "05_models_full.json", lambda d: d["models"]["course-cnn"]["seconds"].__setitem__(0, -45.3))
    refused("05_models_full.json", "models.course-cnn.seconds[0] is -45.3, outside [0, inf]")
    edit(course, "07_race_full.json", lambda d: race_run(d, "adam", 42)["history"]["loss"].__setitem__(3, -0.1))
    refused("07_race_full.json", "(adam, seed 42).history.loss[3] is -0.1, outside [0, inf]")


@pytest.mark.parametrize(
    "name, change, expected",
    [
        (  # the epochs the one-standard-error rule chose on the validation curves
            "04_mlp_full.json",
            lambda d: d["chosen"]["dense-512"].__setitem__("epochs", 6),
            "chosen.dense-512.epochs is 6, but the study's validation curves give 5",
        ),
        (  # the cosine decay won by 0.00801 against a standard error of 0.00194: not "constant"
            "04_mlp_full.json",
            lambda d: d["chosen"]["dense-512"].__setitem__("schedule", "constant"),
            "chosen.dense-512.schedule is 'constant', but the study's validation curves give 'cosine'",
        ),
        (  # the mean of 0.9774, 0.9768 and 0.9758 is 0.976667
            "04_mlp_full.json",
            lambda d: d["chosen"]["dense-512"]["at_chosen_epoch"]["cosine"].__setitem__("val_accuracy", 0.99),
            "at_chosen_epoch.cosine.val_accuracy is 0.99, but the study's validation curves give 0.97666",
        ),
        (  # 99.12 % is more than one standard error (0.08 points) below 99.39 %
            "05_selection_full.json",
            lambda d: d["studies"][0].__setitem__("chosen", "2 epochs"),
            "studies[0].chosen is '2 epochs', but the one-standard-error rule's candidates give '6 epochs'",
        ),
        (  # the course CNN at 6 epochs is one run, shown in five studies
            "05_selection_full.json",
            lambda d: d["studies"][3]["candidates"][0].__setitem__("val_accuracy", 0.9949),
            "studies[3].candidates[0].val_accuracy is 0.9949, but the other studies' ('course-cnn', 6) give 0.9939",
        ),
        (
            "05_models_full.json",
            lambda d: d.__setitem__("complete", False),
            "complete is False, but the models it holds (every one of",
        ),
        (
            "05_models_full.json",
            lambda d: d.__setitem__("seeds", [42, 43]),
            "seeds is [42, 43], but the models' seeds give [42, 43, 44]",
        ),
        (
            "07_race_full.json",
            lambda d: d["settings"].__setitem__("race_seeds", 2),
            "settings.race_seeds is 2, but the runs' seeds give 3",
        ),
        (
            "07_race_full.json",
            lambda d: d.__setitem__("seeds", [42, 43, 45]),
            "seeds[2] is 45, but the runs' seeds give 44",
        ),
        (  # every run of a seed starts from the same weights: the same epoch-0 validation accuracy (534/5000 here)
            "07_race_full.json",
            lambda d: race_run(d, "adam", 42)["history"]["val_accuracy"].__setitem__(0, 0.1068),
            "(adam, seed 42).setup starts from ('c075bc323ac0', 0.1068, 2.391108), the other runs of seed 42 from "
            "('c075bc323ac0', 0.1066, 2.391108)",
        ),
    ],
)
def test_a_summary_its_values_contradict_is_refused(course: Path, name: str, change: Callable, expected: str) -> None:
    edit(course, name, change)
    refused(name, expected)


def test_names_lists_and_empty_parts_are_checked(course: Path) -> None:
    edit(course, "05_models_full.json", lambda d: d["models"].__setitem__("cnn-32-65", d["models"].pop("cnn-32-64")))
    refused("05_models_full.json", "models.cnn-32-65 is not a known name (known: dense-512, mlp-3x500")
    edit(course, "05_models_full.json", lambda d: d.__setitem__("models", {}))
    refused("05_models_full.json", "models holds none of the registry's CNNs (cnn-16-36, cnn-32-64")
    edit(course, "05_models_full.json", lambda d: d.__setitem__("models", {"cnn-32-64-constant": {}}))
    refused("05_models_full.json", "models holds none of the registry's CNNs")  # a rejected alternative only
    edit(
        course,
        "07_race_full.json",
        lambda d: d.__setitem__("runs", [r for r in d["runs"] if r["spec"]["name"] != "adamw"]),
    )
    refused("07_race_full.json", "runs lacks adamw (seed 42), adamw (seed 43), adamw (seed 44) of the full race")
    edit(course, "07_race_full.json", lambda d: race_run(d, "adam", 44)["spec"].__setitem__("name", "adam2"))
    refused("07_race_full.json", "is 'adam2', not one of the known sgd, sgd-momentum")
    edit(course, "07_race_full.json", lambda d: d.__setitem__("runs", []))
    refused("07_race_full.json", "runs has 0 values, expected at least 1")
    edit(course, "04_mlp_full.json", lambda d: d["finals"].pop("mlp-3x500"))
    refused("04_mlp_full.json", "finals.mlp-3x500 is missing")
    edit(course, "04_mlp_full.json", lambda d: d["study"]["dense-512 constant"][2]["val_loss"].pop())
    refused("04_mlp_full.json", "study['dense-512 constant'][2].val_loss has 7 values, expected 8")
    edit(course, "05_selection_full.json", lambda d: d["studies"][5]["candidates"][1].__setitem__("model", "cnn"))
    refused("05_selection_full.json", "studies[5].candidates[1].model is 'cnn', not one of the known")


def test_a_hand_edit_that_keeps_the_schema_is_caught_by_the_manifest(course: Path) -> None:
    # adam at 0.9999 on 5,000 validation images is 4,999.5 images: impossible, whatever the manifest says
    edit(
        course,
        "07_race_full.json",
        lambda d: race_run(d, "adam", 42)["history"]["val_accuracy"].__setitem__(-1, 0.9999),
    )
    refused("07_race_full.json", "val_accuracy[10] is 0.9999, not a whole number of correct images out of 5,000")
    # 0.9998 is 4,999 images: a plausible number, so only the manifest tells it from what `make results` wrote
    edit(
        course,
        "07_race_full.json",
        lambda d: race_run(d, "adam", 42)["history"]["val_accuracy"].__setitem__(-1, 0.9998),
    )
    refused("07_race_full.json", "07_race_full.json was edited by hand since `make results` wrote it", "git checkout")
    edit(course, "05_models_full.json", lambda d: d["models"]["cnn-32-64"]["test_accuracy"].__setitem__(1, 0.999))
    refused("05_models_full.json", "edited by hand")
    text = (course / "04_mlp_full.json").read_text()
    (course / "04_mlp_full.json").write_text(text.replace('"epochs": 9', '"epochs":  9'))  # one space more
    refused("04_mlp_full.json", "edited by hand")


def test_a_file_the_manifest_does_not_list_is_refused(course: Path) -> None:
    manifest = course / "MANIFEST.sha256"
    lines = manifest.read_text().splitlines()
    manifest.write_text("".join(f"{line}\n" for line in lines if not line.endswith("05_selection_full.json")))
    refused("05_selection_full.json", "05_selection_full.json is not in", "MANIFEST.sha256")


def test_dense_rows_refuse_to_compare_with_a_missing_notebook_04(course: Path) -> None:
    rows = cnn.dense_rows()
    assert rows["dense-512"]["test_accuracy"] == [0.9806, 0.9801, 0.9801] and rows["mlp-3x500"]["epochs"] == 9
    (course / "04_mlp_full.json").unlink()
    with pytest.raises(MissingResultsError, match=r"04_mlp_full.json is missing \(its MANIFEST.sha256 lists it\)"):
        cnn.dense_rows()
    manifest = course / "MANIFEST.sha256"
    manifest.write_text("".join(f"{x}\n" for x in manifest.read_text().splitlines() if "04_mlp" not in x))
    with pytest.raises(ShippedResultsError, match=r"04_mlp_full.json are not in .* \(`make results`\)"):
        cnn.dense_rows()  # not listed, not there, not fetchable: still an error, never an empty table


def test_a_models_file_written_now_keeps_cpus_where_notebook_05_reads_it(course: Path) -> None:
    doc = json.loads((course / "05_models_full.json").read_text())
    for key in ("cpus", "python", "software"):  # the layout before "versions"
        doc.pop(key)
    doc["versions"] = {"keras": "3", "backend": "tensorflow", "tensorflow": "2", "python": "3", "cpus": 16}
    write_results(course / "05_models_full.json", doc, fmt=1)  # records it in the manifest, as make results does
    assert cnn.load_results("05_models_full.json")["cpus"] == 16
