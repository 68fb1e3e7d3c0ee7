"""Tests for notebook 04's long runs (:func:`mnist_course.lessons.mlp.long_runs`) and its published figures.

Reading: a copy of the real shipped results and their manifest in a temporary course folder (the real
notebooks/results/ is never touched); the expected values are those of the shipped file, written out by hand.
Retraining: the study and the final runs are replaced by recording stand-ins with made-up curves (no Keras
training), so that the test checks what long_runs asks for in each profile and what it writes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mnist_course import paths
from mnist_course.lessons import mlp
from mnist_course.notebook import RESULTS_ENV
from mnist_course.shipped import URL_ENV, MissingResultsError

REAL = Path(__file__).resolve().parent.parent / "notebooks" / "results"
TRAIN = (np.zeros((10, 784), "float32"), np.zeros(10, "uint8"))  # 10 training images: accuracies in tenths
VAL = (np.zeros((4, 784), "float32"), np.zeros(4, "uint8"))  # 4 validation images: accuracies in quarters
FINAL = (np.zeros((14, 28, 28), "uint8"), np.zeros(14, "uint8"))
TEST = (np.zeros((5, 28, 28), "uint8"), np.zeros(5, "uint8"))


def _course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: int, *, results: bool) -> Path:
    """A course folder (with a copy of the shipped results when ``results``) that nothing can be fetched into."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "04_mlp.ipynb").write_text("{}")
    if results:
        shutil.copytree(REAL, notebooks / "results")
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(notebooks))
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{port}/")
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    return notebooks


def _run(retrain: bool, profile: str = "student", seed: int = 42) -> dict[str, Any]:
    return mlp.long_runs(retrain, profile=profile, seed=seed, train=TRAIN, val=VAL, final=FINAL, test=TEST)


def test_long_runs_reads_the_shipped_file_and_says_so_in_one_line(tmp_path, monkeypatch, closed_port, capsys):
    notebooks = _course(tmp_path, monkeypatch, closed_port, results=True)
    before = (notebooks / "results" / "04_mlp_full.json").read_bytes()
    doc = _run(False)
    assert capsys.readouterr().out == (
        "read results/04_mlp_full.json (made by the full profile with Keras 3.15.1 and TensorFlow 2.21.0)\n"
    )
    assert doc["settings"]["seeds"] == [42, 43, 44] and doc["settings"]["train"] == 55_000
    assert doc["chosen"]["dense-512"]["epochs"] == 5 and doc["chosen"]["dense-512"]["schedule"] == "cosine"
    assert doc["chosen"]["mlp-3x500"]["epochs"] == 9
    assert [run["test_accuracy"] for run in doc["finals"]["mlp-3x500"]] == [0.9816, 0.9824, 0.9785]
    assert len(doc["study"]["mlp-3x500 dropout 0.2"]) == 3  # one history per seed
    assert (notebooks / "results" / "04_mlp_full.json").read_bytes() == before  # read, never rewritten


def test_long_runs_without_the_file_names_the_fix(tmp_path, monkeypatch, closed_port):
    _course(tmp_path, monkeypatch, closed_port, results=False)
    with pytest.raises(MissingResultsError, match=r"04_mlp_full\.json.*make results"):
        _run(False)


def _curves(n_epochs: int, seeds: list[int]) -> list[dict[str, list[float]]]:
    """Made-up histories, one per seed: the validation loss falls every epoch (lowest at the last), accuracies are
    whole numbers of the 10 training and 4 validation images."""
    return [
        {
            "loss": [round(1 / (e + 1), 6) for e in range(n_epochs)],
            "accuracy": [0.6] * n_epochs,
            "val_loss": [round(1 / (e + 1) + 0.01 * i, 6) for e in range(n_epochs)],
            "val_accuracy": [0.75] * n_epochs,
        }
        for i, _ in enumerate(seeds)
    ]


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the training in long_runs by recorders; what they were asked for lands in the returned dict."""
    asked: dict[str, Any] = {}

    def run_study(train, val, *, seeds, epochs_dense, epochs_mlp):
        asked.update(train=train, val=val, seeds=list(seeds), epochs_dense=epochs_dense, epochs_mlp=epochs_mlp)
        return {
            "dense-512 constant": _curves(epochs_dense, seeds),
            "dense-512 cosine": _curves(epochs_dense, seeds),  # the constant curves choose their last epoch
            "mlp-3x500 dropout 0.2": _curves(epochs_mlp, seeds),
            "mlp-3x500 no dropout": _curves(epochs_mlp, seeds),
        }

    def final_runs(x, y, test, *, epochs, seeds):
        asked.update(final=(x, y), test=test, final_epochs=dict(epochs), final_seeds=list(seeds))
        return {name: [{"seed": s, "test_accuracy": 0.8, "seconds": 1.5} for s in seeds] for name in epochs}

    monkeypatch.setattr(mlp, "run_study", run_study)
    monkeypatch.setattr(mlp, "final_runs", final_runs)
    return asked


@pytest.mark.parametrize(
    "profile, seeds, epochs_dense, epochs_mlp",
    [("ci", [7, 8], 2, 2), ("student", [7, 8, 9], 8, 10), ("full", [7, 8, 9], 8, 10)],
)
def test_retraining_runs_the_study_and_the_final_runs_for_the_profile(
    profile, seeds, epochs_dense, epochs_mlp, stand_ins, tmp_path, monkeypatch, closed_port, capsys
):
    notebooks = _course(tmp_path, monkeypatch, closed_port, results=False)
    doc = _run(True, profile=profile, seed=7)
    assert stand_ins["seeds"] == stand_ins["final_seeds"] == seeds
    assert (stand_ins["epochs_dense"], stand_ins["epochs_mlp"]) == (epochs_dense, epochs_mlp)
    assert stand_ins["train"] is TRAIN and stand_ins["val"] is VAL
    assert stand_ins["final"] == FINAL and stand_ins["test"] is TEST
    # the made-up curves fall to their last epoch, so the rule chooses all the epochs studied
    assert stand_ins["final_epochs"] == {"dense-512": epochs_dense, "mlp-3x500": epochs_mlp}
    assert doc["settings"] == {"train": 10, "validation": 4, "final_train": 14, "seeds": seeds, "profile": profile}
    assert doc["finals"]["dense-512"][0] == {"seed": 7, "test_accuracy": 0.8, "seconds": 1.5}
    assert {"keras", "tensorflow"} <= set(doc["versions"])
    assert capsys.readouterr().out == f"trained the long runs here, over the seeds {seeds}\n"
    assert not (notebooks / "results").exists()  # written only while `make results` runs


def test_retraining_while_make_results_runs_writes_a_file_that_reads_back(
    stand_ins, tmp_path, monkeypatch, closed_port, capsys
):
    notebooks = _course(tmp_path, monkeypatch, closed_port, results=False)
    monkeypatch.setenv(RESULTS_ENV, "1")
    doc = _run(True, profile="ci", seed=3)
    written = notebooks / "results" / "04_mlp_full.json"
    assert capsys.readouterr().out.startswith("trained the long runs here and wrote ")
    saved = json.loads(written.read_text())
    assert saved["seeds"] == [3, 4] and saved["settings"]["TRAIN_SIZE"] == 14
    read_back = mlp.load_results(written)["chosen"]  # checked on reading: the choices recomputed from its curves
    assert read_back["dense-512"]["schedule"] == doc["chosen"]["dense-512"]["schedule"] == "constant"  # no gain
    assert doc["chosen"]["dense-512"]["epochs"] == 2 and doc["chosen"]["mlp-3x500"]["epochs"] == 2


def test_published_figures_carry_their_source():
    figure, source = mlp.published_figure("mlp-3x500")
    assert figure == 98.12 and "seed tutorial 002" in source  # issue 28: a course source reports this network
    figure, source = mlp.published_figure("dense-512")
    assert figure == 97.85 and "Chollet" in source  # the book prints test_acc: 0.9785
