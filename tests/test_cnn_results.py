"""Tests for notebook 05's shipped results: the one-standard-error rule, the accuracy texts and bands, the files."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pytest

from mnist_course import stats
from mnist_course.lessons import cnn as cnn_results
from mnist_course.models import recipes
from mnist_course.models import zoo as models
from mnist_course.shipped import ShippedResultsError

ROOT = Path(__file__).resolve().parent.parent


def test_one_se_rule_takes_the_simplest_candidate_within_one_error_of_the_best() -> None:
    # best 99.31 %, one standard error 0.083 points: 99.25 % is within it, 99.20 % is not
    assert cnn_results.one_se_choice([0.9925, 0.9927, 0.9927, 0.9931], 10_000) == 0
    assert cnn_results.one_se_choice([0.9920, 0.9927, 0.9931], 10_000) == 1
    assert cnn_results.one_se_choice([0.95, 0.99], 10_000) == 1  # far below the best: the better one
    assert cnn_results.one_se_choice([0.99], 100) == 0
    with pytest.raises(ValueError, match="at least one candidate"):
        cnn_results.one_se_choice([], 100)


def test_accuracy_text_gives_mean_and_spread_over_seeds_else_the_interval() -> None:
    # mean 0.993, sample standard deviation 0.001
    assert cnn_results.accuracy_text([0.992, 0.993, 0.994], 10_000) == "99.30 ± 0.10 % (3 seeds)"
    assert cnn_results.accuracy_text([0.993], 10_000) == stats.format_accuracy(0.993, 10_000)


def test_accuracy_range_covers_the_test_set_and_the_seeds() -> None:
    low, high = stats.accuracy_interval(0.993, 10_000)
    assert cnn_results.accuracy_range([0.993], 10_000) == (low, high)
    # seeds that agree closely: the test set's interval is the wider band
    assert cnn_results.accuracy_range([0.9929, 0.993, 0.9931], 10_000) == pytest.approx((low, high), abs=1e-12)
    # seeds that spread widely: mean +- 2 standard deviations (0.993 +- 0.004), cut at 100 %
    band = cnn_results.accuracy_range([0.989, 0.993, 0.997], 10_000)
    assert band == pytest.approx((0.985, 1.0))


def test_selection_table_marks_the_choice_with_each_standard_error() -> None:
    selection = {
        "train_images": 50_000,
        "validation_images": 10_000,
        "seed": 42,
        "studies": [
            {
                "question": "epochs?",
                "chosen": "2 epochs",
                "candidates": [
                    {"label": "2 epochs", "val_accuracy": 0.9925},
                    {"label": "6 epochs", "val_accuracy": 0.9931},
                ],
            },
            {
                "question": "filters?",
                "chosen": "16",
                "candidates": [
                    {"label": "16", "val_accuracy": 0.994, "seconds": 41.2},
                    {"label": "24", "val_accuracy": 0.9941, "seconds": 55.0},
                ],
            },
        ],
    }
    text = cnn_results.selection_table(selection)
    assert "50,000 training images, 10,000 validation images, seed 42" in text
    assert "2 epochs              99.25 ± 0.09 %  <- chosen" in text
    assert "6 epochs              99.31 ± 0.08 %\n" in text + "\n"
    assert "\nfilters?\n  16                    99.40 ± 0.08 %    41.2 s of training  <- chosen\n" in text
    assert "  24                    99.41 ± 0.08 %    55.0 s of training" in text


SELECTION = {  # one study, by hand: 99.25 % is within one standard error (0.08 points) of 99.31 %
    "format": cnn_results.results.FORMAT,
    "rule": "one-standard-error rule",
    "seed": 7,
    "train_images": 50_000,
    "validation_images": 10_000,
    "validation_data": {"dtype": "uint8", "images": 10_000, "sha256": "0" * 64},
    "studies": [
        {
            "question": "epochs?",
            "chosen": "2 epochs",
            "candidates": [
                {"model": "course-cnn", "epochs": 2, "label": "2 epochs", "val_accuracy": 0.9925, "seconds": 11.7},
                {"model": "course-cnn", "epochs": 6, "label": "6 epochs", "val_accuracy": 0.9931, "seconds": None},
            ],
        }
    ],
}


def test_results_are_saved_as_stable_json_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "05_cnn.ipynb").write_text("{}")
    monkeypatch.setenv("MNIST_COURSE_NOTEBOOKS", str(tmp_path))
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path / "cache"))
    path = cnn_results.save_results("05_test.json", SELECTION)
    assert path == tmp_path / "results" / "05_test.json"
    results = SELECTION | {"seeds": [7], "settings": {"SEED": 7, "TRAIN_SIZE": 60_000}}  # what produced it
    assert path.read_text() == json.dumps(results, indent=1, sort_keys=True) + "\n"
    manifest = (tmp_path / "results" / "MANIFEST.sha256").read_text()
    assert manifest == f"{hashlib.sha256(path.read_bytes()).hexdigest()}  05_test.json\n"  # written with it
    assert cnn_results.load_results("05_test.json") == results
    path.write_text(json.dumps({"format": 0}))
    with pytest.raises(ValueError, match=r"format 0, expected one of \[1\]"):
        cnn_results.load_results("05_test.json")
    monkeypatch.setenv("MNIST_COURSE_RESULTS_URL", "http://127.0.0.1:9/")  # nothing listens: like no network
    with pytest.raises(FileNotFoundError, match="make them with `mnist-course run --results`"):
        cnn_results.load_results("05_missing.json")


def test_a_study_whose_choice_its_candidates_contradict_is_refused(tmp_path: Path) -> None:
    wrong = json.loads(json.dumps(SELECTION))
    wrong["studies"][0]["chosen"] = "6 epochs"  # the rule takes the simpler 2 epochs
    path = tmp_path / "05_selection.json"
    path.write_text(json.dumps(cnn_results.results.with_settings(wrong)))
    with pytest.raises(ShippedResultsError, match=r"studies\[0\].chosen is '6 epochs', but .* give '2 epochs'"):
        cnn_results.load_results(str(path))


def test_published_holds_numbers_only_where_a_source_printed_one() -> None:
    assert models.published("cnn-16-36") == "about 99 %"
    assert models.published("cnn-32-64") == "about 99 %"
    assert models.published("course-cnn") == "-"
    assert models.published("lenet-avgpool") == "99.12 %"


def test_the_alternatives_differ_from_their_base_in_what_they_say_only() -> None:
    base, constant = models.get_recipe("cnn-32-64"), models.get_recipe("cnn-32-64-constant")
    assert (constant.schedule, base.schedule) == ("constant", "cosine")
    assert constant.learning_rate == base.learning_rate and constant.epochs == base.epochs
    no_bn = models.build_model("course-cnn-no-bn")
    assert not any("BatchNormalization" in type(layer).__name__ for layer in no_bn.layers)
    assert models.get_recipe("course-cnn-constant").schedule == "constant"
    assert set(recipes.ALTERNATIVES).isdisjoint(models.list_models())
    assert math.isclose(models.get_recipe("course-cnn-constant").learning_rate, 1e-3)


def test_dense_rows_read_notebook_04s_final_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "05_cnn.ipynb").write_text("{}")
    monkeypatch.setenv("MNIST_COURSE_NOTEBOOKS", str(tmp_path))
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MNIST_COURSE_RESULTS_URL", "http://127.0.0.1:9/")  # nothing listens: like no network
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ShippedResultsError, match="04_mlp_full.json are not in"):
        cnn_results.dense_rows()  # no file from notebook 04: an error, never an empty comparison
    shutil.copytree(ROOT / "notebooks" / "results", tmp_path / "results")
    row = cnn_results.dense_rows()["dense-512"]
    assert row["seeds"] == [42, 43, 44] and row["test_accuracy"] == [0.9806, 0.9801, 0.9801]
    assert row["seconds"] == [61.8, 72.4, 57.9]
    assert row["epochs"] == 5 and row["recipe"] is None and row["from"] == "04_mlp_full.json"
    assert row["parameters"] == 784 * 512 + 512 + 512 * 10 + 10
