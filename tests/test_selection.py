"""Tests for selection: notebook 04's choices read off validation curves over seeds, and its shipped results file.
The curves here are made up, with expected values worked out by hand; only build() touches Keras (no training)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest

from mnist_course.lessons import mlp as selection
from mnist_course.models import zoo as models

SHIPPED = Path(__file__).resolve().parent.parent / "notebooks" / "results"

# Three seeds' validation losses over five epochs: the lowest mean (0.30) is at epoch 4, with a spread of 0.03 there,
# so one standard error is 0.03 / sqrt(3) = 0.0173; epoch 3's mean, 0.31, is within it, epoch 2's, 0.40, is not.
LOSSES = [[0.50, 0.42, 0.28, 0.27, 0.35], [0.52, 0.40, 0.31, 0.30, 0.36], [0.48, 0.38, 0.34, 0.33, 0.40]]
HISTORIES = [{"val_loss": v, "val_accuracy": [1 - x for x in v]} for v in LOSSES]


def test_mean_curve_is_the_mean_and_sample_spread_over_the_seeds():
    mean, spread = selection.mean_curve(HISTORIES, "val_loss")
    assert np.allclose(mean, [0.50, 0.40, 0.31, 0.30, 0.37])
    assert math.isclose(spread[3], 0.03) and math.isclose(spread[0], 0.02)


def test_best_epoch_is_counted_from_one_lowest_loss_highest_accuracy():
    assert selection.best_epoch(HISTORIES) == 4
    assert selection.best_epoch(HISTORIES, "val_accuracy") == 4


def test_one_standard_error_rule_takes_the_fewest_epochs_validation_cannot_tell_from_the_best():
    assert selection.one_standard_error(HISTORIES) == 3
    tight = [{"val_loss": [0.5, 0.31, 0.30]}, {"val_loss": [0.5, 0.31, 0.30]}]  # no spread: only the best itself
    assert selection.one_standard_error(tight) == 3


def _runs(final_losses, spread):
    """Three seeds' histories ending at the given mean loss, spread ± ``spread`` over the seeds."""
    return [
        {"val_loss": [0.5, 0.45, final_losses + d], "val_accuracy": [0.9, 0.95, 0.97]} for d in (-spread, 0, spread)
    ]


@pytest.mark.parametrize("cosine_loss, schedule", [(0.30, "cosine"), (0.395, "constant"), (0.41, "constant")])
def test_choose_keeps_the_constant_rate_unless_the_cosine_wins_by_more_than_one_standard_error(cosine_loss, schedule):
    # constant: lowest at epoch 3 (0.40 ± 0.01); the standard error of the difference is sqrt(2 * 0.01**2 / 3) = 0.0082
    study = {
        "dense-512 constant": _runs(0.40, 0.01),
        "dense-512 cosine": _runs(cosine_loss, 0.01),
        "mlp-3x500 dropout 0.2": HISTORIES,
        "mlp-3x500 no dropout": _runs(0.2, 0.0),
    }
    chosen = selection.choose(study)
    assert chosen["dense-512"]["epochs"] == 3 and chosen["dense-512"]["schedule"] == schedule
    assert math.isclose(chosen["dense-512"]["standard_error"], math.sqrt(2 * 0.01**2 / 3))
    assert math.isclose(chosen["dense-512"]["cosine_gain"], 0.40 - cosine_loss)
    assert chosen["mlp-3x500"] == {"epochs": 3, "lowest_mean_val_loss_at": 4, "no_dropout_lowest_mean_val_loss_at": 3}


def test_results_round_trip_as_stable_json(tmp_path):
    # the study, choices and final runs of the shipped file, written again by save_results and read back
    shipped = json.loads((SHIPPED / selection.RESULTS_NAME).read_text())
    study = shipped["study"]
    study["mlp-3x500 no dropout"][0]["val_loss"][0] = 1 / 3  # stored to 6 decimals; epoch 4 stays the lowest mean
    settings = {k: shipped["settings"][k] for k in ("seeds", "final_train", "train", "validation", "profile")}
    path = tmp_path / "results" / selection.RESULTS_NAME
    path.parent.mkdir()
    written = selection.save_results(
        path, settings=settings, study=study, chosen=shipped["chosen"], finals=shipped["finals"]
    )
    text = written.read_text()
    doc = selection.load_results(path)
    assert doc["study"]["mlp-3x500 no dropout"][0]["val_loss"][0] == 0.333333 and doc["seeds"] == [42, 43, 44]
    assert doc["settings"] == {**settings, "SEED": 42, "TRAIN_SIZE": 60_000}  # as parameters
    assert doc["chosen"] == shipped["chosen"] and doc["finals"] == shipped["finals"]
    assert set(doc["versions"]) == {"python", "keras", "backend", "tensorflow", "numpy", "cpus"}
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True) + "\n"  # sorted keys: diffs stay readable
    assert not (tmp_path / "results" / "MANIFEST.sha256").exists()  # a folder of its own: no manifest to keep


def test_missing_or_foreign_results_say_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="make results.*mnist-course run 04.*RETRAIN_SHIPPED = True"):
        selection.load_results(tmp_path / "nothing.json")
    (tmp_path / "old.json").write_text(json.dumps({"format": 0}))
    with pytest.raises(ValueError, match=r"format 0, expected one of \[1\]"):
        selection.load_results(tmp_path / "old.json")


def test_build_variants_change_only_what_they_name():
    recipe = models.get_recipe("mlp-3x500")
    without = selection.build("mlp-3x500", seed=1, n_train=1000, epochs=2, dropout=False)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in without.layers)
    assert without.count_params() == models.count_params("mlp-3x500") == 898_510
    assert isinstance(without.optimizer, keras.optimizers.Adam) and recipe.schedule == "constant"
    cosine = selection.build("dense-512", seed=1, n_train=1280, epochs=2, schedule="cosine")
    schedule = (
        cosine.optimizer.learning_rate_schedule
        if hasattr(cosine.optimizer, "learning_rate_schedule")
        else cosine.optimizer._learning_rate
    )
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert schedule.decay_steps == 20  # 1,280 images in batches of 128, over 2 epochs
    assert cosine.count_params() == 407_050
