"""Tests for the model cache: paths, round trip, sidecar, corrupt files and atomic writes."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from mnist_course import model_store
from mnist_course.models import build_model, train


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path))
    return tmp_path


class Trainer:
    """A train_fn that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> keras.Model:
        self.calls += 1
        return build_model("dense-512", seed=self.calls)


X = np.random.default_rng(1).random((8, 784), dtype=np.float32)


def test_model_path_lives_in_the_cache(cache: Path) -> None:
    assert model_store.model_path("course-cnn", "full") == cache / "models" / "course-cnn-full.keras"
    assert model_store.info_path("course-cnn", "full") == cache / "models" / "course-cnn-full.json"


def test_round_trip_trains_once_then_loads_equal_model(cache: Path) -> None:
    trainer = Trainer()
    first = model_store.load_or_train("dense-512", "tiny", trainer)
    second = model_store.load_or_train("dense-512", "tiny", trainer)
    assert trainer.calls == 1
    assert second is not first
    np.testing.assert_allclose(second.predict(X, verbose=0), first.predict(X, verbose=0), rtol=1e-6)
    assert sorted(p.name for p in (cache / "models").iterdir()) == ["dense-512-tiny.json", "dense-512-tiny.keras"]


def test_retrain_ignores_the_cache(cache: Path) -> None:
    trainer = Trainer()
    model_store.load_or_train("dense-512", "tiny", trainer)
    model_store.load_or_train("dense-512", "tiny", trainer, retrain=True)
    assert trainer.calls == 2


def test_corrupt_file_is_retrained_with_a_warning(cache: Path) -> None:
    path = model_store.model_path("dense-512", "tiny")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip file")
    trainer = Trainer()
    with pytest.warns(RuntimeWarning, match="could not be loaded"):
        model = model_store.load_or_train("dense-512", "tiny", trainer)
    assert trainer.calls == 1 and model.name == "dense-512"
    assert keras.models.load_model(path).count_params() == model.count_params()  # replaced by a good file


def test_sidecar_keeps_history_seconds_and_test_accuracy(cache: Path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64)

    def train_fn() -> tuple[keras.Model, dict[str, list[float]], float]:
        return train("dense-512", x, y, epochs=2, verbose=0)

    model = model_store.load_or_train("dense-512", "sidecar", train_fn, test_data=(x, y))
    info = model_store.load_info("dense-512", "sidecar")
    assert info is not None
    assert info["name"] == "dense-512" and info["profile"] == "sidecar"
    assert len(info["history"]["loss"]) == 2 and info["seconds"] > 0
    expected = (model.predict(x.reshape(64, 784) / 255, verbose=0).argmax(axis=1) == y).mean()
    assert info["test_accuracy"] == pytest.approx(expected)
    assert model_store.load_info("dense-512", "missing") is None


def test_failed_save_keeps_the_old_file_and_leaves_no_temp(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = build_model("dense-512", seed=0)
    path = model_store.save_model(model, "dense-512", "atomic")
    before = path.read_bytes()

    def broken_save(self: keras.Model, filepath: str, *args: object, **kwargs: object) -> None:
        Path(filepath).write_bytes(b"half written")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        model_store.save_model(model, "dense-512", "atomic")
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["dense-512-atomic.json", "dense-512-atomic.keras"]
