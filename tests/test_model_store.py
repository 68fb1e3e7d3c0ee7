"""Tests for the model cache: one entry per training setting, checked on load, atomic, locked, never losing a model."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from mnist_course.models import key as model_key
from mnist_course.models import store as model_store
from mnist_course.models import zoo as models

RNG = np.random.default_rng(1)
X = RNG.integers(0, 256, (64, 28, 28), dtype=np.uint8)
Y = RNG.integers(0, 10, 64)
PROBE = RNG.random((8, 784), dtype=np.float32)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path))
    monkeypatch.setenv("MNIST_COURSE_CACHE_KEY", str(tmp_path / "key" / "cache-key"))  # this test's own secret
    return tmp_path


class FakeTrain:
    """A cheap train_fn: the recipe's dense-512, initialised from the seed, with its optimizer built; no fitting.
    Records every call; ``delay`` seconds of "training" let tests overlap two callers."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(
        self, name: str, x: Any, y: Any, *, epochs: int, seed: int, validation_data: Any, verbose: int
    ) -> tuple[keras.Model, dict[str, list[float]], float]:
        with self._lock:
            self.calls.append({"name": name, "images": len(x), "epochs": epochs, "seed": seed})
        model = models.build_model(name, seed=seed)
        model.optimizer.build(model.trainable_variables)
        time.sleep(self.delay)
        return model, {"loss": [1.0] * epochs}, 0.25


def in_threads(target: Any, args: list[Any], stagger: float = 0.0) -> None:
    """Run ``target(arg)`` for each arg in its own thread; re-raise the first error a thread met."""
    errors: list[BaseException] = []

    def guarded(arg: Any) -> None:
        try:
            target(arg)
        except BaseException as err:  # noqa: BLE001 (handed back to the test below)
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(a,)) for a in args]
    for t in threads:
        t.start()
        time.sleep(stagger)
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def predictions(model: keras.Model) -> np.ndarray:
    return np.asarray(model.predict(PROBE, verbose=0))


def model_files(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "models").glob("*.keras"))


def test_entry_file_is_named_by_model_and_key_hash(cache: Path) -> None:
    key = model_store.cache_key("course-cnn", X, Y, seed=3)
    path = model_store.entry_path(key)
    assert path.parent == cache / "models"
    assert re.fullmatch(r"course-cnn-[0-9a-f]{12}\.keras", path.name)


def test_round_trip_trains_once_then_loads_the_same_weights(cache: Path, capsys: pytest.CaptureFixture) -> None:
    train = FakeTrain()
    first = model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    second = model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    assert len(train.calls) == 1 and second is not first
    np.testing.assert_array_equal(predictions(second), predictions(first))
    out = capsys.readouterr().out.splitlines()
    epochs = models.get_recipe("dense-512").epochs
    assert out[0] == f"dense-512: not in the course cache yet: training on 64 images, {epochs} epoch(s), seed 1..."
    assert out[1].startswith(f"dense-512: loaded from the course cache (64 images, {epochs} epoch(s), seed 1)")
    assert len(model_files(cache)) == 1


def test_different_train_size_gets_its_own_entry_and_both_are_kept(cache: Path, capsys: pytest.CaptureFixture) -> None:
    train = FakeTrain()
    big = model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    small = model_store.load_or_train("dense-512", X[:16], Y[:16], seed=2, train_fn=train)
    assert "the cached dense-512 was trained on 64 images, this run asks for 16" in capsys.readouterr().out
    assert len(model_files(cache)) == 2
    again_big = model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    again_small = model_store.load_or_train("dense-512", X[:16], Y[:16], seed=2, train_fn=train)
    assert [c["images"] for c in train.calls] == [64, 16]  # nothing retrained, nothing replaced
    np.testing.assert_array_equal(predictions(again_big), predictions(big))
    np.testing.assert_array_equal(predictions(again_small), predictions(small))


def test_same_size_other_images_is_another_entry(cache: Path) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X[:32], Y[:32], train_fn=train)
    model_store.load_or_train("dense-512", X[32:], Y[32:], train_fn=train)
    assert len(train.calls) == 2 and len(model_files(cache)) == 2


@pytest.mark.parametrize("change", [{"seed": 2}, {"epochs": 3}])
def test_other_seed_or_epochs_is_another_entry(
    cache: Path, change: dict[str, int], capsys: pytest.CaptureFixture
) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, seed=1, epochs=1, train_fn=train)
    model_store.load_or_train("dense-512", X, Y, **{"seed": 1, "epochs": 1, **change}, train_fn=train)
    assert len(train.calls) == 2 and len(model_files(cache)) == 2
    what = "with seed 1, this run asks for 2" if "seed" in change else "for 1 epoch(s), this run asks for 3"
    assert what in capsys.readouterr().out


def test_recipe_epochs_spelled_out_or_left_to_the_recipe_share_an_entry() -> None:
    # notebook 06 passes epochs=None where 05 passed the recipe's own: both must find the same model
    epochs = models.get_recipe("course-cnn").epochs
    assert model_store.cache_key("course-cnn", X, Y, epochs=None) == model_store.cache_key(
        "course-cnn", X, Y, epochs=epochs
    )
    assert model_store.cache_key("course-cnn", X, Y, epochs=None) != model_store.cache_key(
        "course-cnn", X, Y, epochs=epochs + 1
    )
    one_hot = np.eye(10, dtype=np.float32)[Y]
    assert model_store.cache_key("course-cnn", X, one_hot) == model_store.cache_key("course-cnn", X, Y)


def test_every_recipe_field_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    base = model_key.digest(model_store.cache_key("dense-512", X, Y))
    recipe = models.get_recipe("dense-512")
    for field in dataclasses.fields(recipe):
        value = getattr(recipe, field.name)
        valid = {
            "optimizer": "sgd",
            "input_kind": "image",  # other values that still build
            "schedule": "cosine" if recipe.schedule == "constant" else "constant",
        }
        other = valid.get(field.name) or {
            str: lambda v: f"{v}!",
            int: lambda v: v + 1,
            float: lambda v: v * 2 + 1,
            bool: lambda v: not v,
            type(None): lambda v: 1.0,
        }[type(value)](value)
        monkeypatch.setitem(models._RECIPES, "dense-512", dataclasses.replace(recipe, **{field.name: other}))
        assert model_key.digest(model_store.cache_key("dense-512", X, Y)) != base, field.name
    monkeypatch.setitem(models._RECIPES, "dense-512", recipe)
    assert model_key.digest(model_store.cache_key("dense-512", X, Y)) == base


def test_architecture_and_software_versions_are_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    base = model_store.cache_key("dense-512", X, Y)
    monkeypatch.setattr(keras, "__version__", "2.0.0")
    assert model_store.cache_key("dense-512", X, Y) != base
    monkeypatch.undo()

    def wider() -> list[keras.layers.Layer]:
        return [keras.layers.Dense(513, activation="relu"), keras.layers.Dense(10, activation="softmax")]

    monkeypatch.setitem(models._BUILDERS, "dense-512", wider)
    assert model_store.cache_key("dense-512", X, Y)["architecture_sha256"] != base["architecture_sha256"]


def test_a_foreign_model_saved_under_the_key_is_detected_and_retrained(cache: Path) -> None:
    key = model_store.cache_key("dense-512", X, Y, train_fn=(train := FakeTrain()))
    foreign = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")], name="dense-512")
    model_store.save_model(foreign, key)  # a valid .keras file with the right metadata, but not the recipe's model
    with pytest.warns(RuntimeWarning, match="7,850 parameters.*architecture is not the recipe's dense-512"):
        model = model_store.load_or_train("dense-512", X, Y, train_fn=train)
    assert len(train.calls) == 1 and model.count_params() == 407_050
    assert keras.models.load_model(model_store.entry_path(key)).count_params() == 407_050  # replaced


def test_an_entry_copied_from_other_settings_is_detected(cache: Path) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    model_store.load_or_train("dense-512", X, Y, seed=2, train_fn=train)
    one, two = (
        model_store.entry_path(model_store.cache_key("dense-512", X, Y, seed=s, train_fn=train)) for s in (1, 2)
    )
    shutil.copyfile(two, one)  # seed 2's model (and metadata) under seed 1's name
    with pytest.warns(RuntimeWarning, match="was trained with seed 2, this run asks for 1"):
        model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    assert [c["seed"] for c in train.calls] == [1, 2, 1]


def test_weights_swapped_behind_the_metadata_are_detected(cache: Path) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    model_store.load_or_train("dense-512", X, Y, seed=2, train_fn=train)
    one, two = (
        model_store.entry_path(model_store.cache_key("dense-512", X, Y, seed=s, train_fn=train)) for s in (1, 2)
    )
    with zipfile.ZipFile(one) as a:
        meta = a.read(model_store.INFO_MEMBER)
    with zipfile.ZipFile(two) as b, zipfile.ZipFile(one, "w") as out:  # seed 2's weights, seed 1's metadata
        for item in b.namelist():
            out.writestr(item, meta if item == model_store.INFO_MEMBER else b.read(item))
    with pytest.warns(RuntimeWarning, match=r"other files than the ones saved.*model\.weights\.h5 changed"):
        model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    assert len(train.calls) == 3


def test_a_plain_keras_file_under_the_key_is_not_trusted(cache: Path) -> None:
    train = FakeTrain()
    path = model_store.entry_path(model_store.cache_key("dense-512", X, Y, train_fn=train))
    path.parent.mkdir(parents=True)
    models.build_model("dense-512").save(path)
    with pytest.warns(RuntimeWarning, match="not written by the course cache"):
        model_store.load_or_train("dense-512", X, Y, train_fn=train)
    assert len(train.calls) == 1


def test_corrupt_file_is_retrained_with_the_reason(cache: Path) -> None:
    train = FakeTrain()
    path = model_store.entry_path(model_store.cache_key("dense-512", X, Y, train_fn=train))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a zip file")
    with pytest.warns(RuntimeWarning, match=r"could not be read \(BadZipFile.*retraining"):
        model = model_store.load_or_train("dense-512", X, Y, train_fn=train)
    assert len(train.calls) == 1 and model.name == "dense-512"
    assert keras.models.load_model(path).count_params() == 407_050  # replaced by a good file


def test_retrain_says_so_and_replaces_the_entry(cache: Path, capsys: pytest.CaptureFixture) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, train_fn=train)
    model_store.load_or_train("dense-512", X, Y, train_fn=train, retrain=True)
    assert len(train.calls) == 2
    assert "dense-512: retrain=True: training on 64 images" in capsys.readouterr().out
    assert len(model_files(cache)) == 1


def test_metadata_keeps_history_seconds_and_the_test_accuracy_of_its_test_set(cache: Path) -> None:
    def train_fn(name: str, x: Any, y: Any, **kwargs: Any) -> Any:
        return models.train(name, x, y, **{**kwargs, "epochs": 2})

    model = model_store.load_or_train("dense-512", X, Y, test_data=(X[:40], Y[:40]), train_fn=train_fn)
    info = model_store.info_of(model)
    assert info["trained"] and len(info["history"]["loss"]) == 2 and info["seconds"] > 0
    expected = (model.predict(X[:40].reshape(40, 784) / 255, verbose=0).argmax(axis=1) == Y[:40]).mean()
    assert info["test_accuracy"] == pytest.approx(expected)
    # loaded later with another test set: the accuracy is measured on that one, not copied from the other
    again = model_store.load_or_train("dense-512", X, Y, test_data=(X[40:], Y[40:]), train_fn=train_fn)
    other = (again.predict(X[40:].reshape(24, 784) / 255, verbose=0).argmax(axis=1) == Y[40:]).mean()
    assert not model_store.info_of(again)["trained"]
    assert model_store.info_of(again)["test_accuracy"] == pytest.approx(other)
    assert model_store.info_of(model_store.load_or_train("dense-512", X, Y, train_fn=train_fn))["test_accuracy"] is None
    with pytest.raises(KeyError, match="not returned by model_store.load_or_train"):
        model_store.info_of(models.build_model("dense-512"))


def test_a_model_that_cannot_be_saved_is_still_returned_with_a_warning(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(self: keras.Model, filepath: str, *args: object, **kwargs: object) -> None:
        Path(filepath).write_bytes(b"half written")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", full_disk)
    train = FakeTrain()
    with pytest.warns(
        RuntimeWarning,
        match=rf"could not be saved in {re.escape(str(cache / 'models'))}.*"
        r"No space left.*MNIST_COURSE_CACHE",
    ):
        model = model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    assert model.count_params() == 407_050 and model_store.info_of(model)["path"] is None
    assert [p.name for p in (cache / "models").iterdir() if not p.name.endswith(".lock")] == []  # no debris


def test_an_unwritable_cache_still_loads_and_still_trains(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train = FakeTrain()
    cached = model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)

    def no_lock(path: Path, timeout: float = 0) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(model_store, "lock_for", no_lock)
    np.testing.assert_array_equal(
        predictions(model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)), predictions(cached)
    )
    monkeypatch.setattr(keras.Model, "save", lambda *a, **k: no_lock(cache / "models"))
    with pytest.warns(RuntimeWarning, match="could not be saved"):
        model_store.load_or_train("dense-512", X, Y, seed=2, train_fn=train)
    assert [c["seed"] for c in train.calls] == [1, 2]


def test_a_failed_save_keeps_the_old_entry(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, train_fn=train)
    path = model_store.entry_path(model_store.cache_key("dense-512", X, Y, train_fn=train))
    before = path.read_bytes()

    def broken_save(self: keras.Model, filepath: str, *args: object, **kwargs: object) -> None:
        Path(filepath).write_bytes(b"half written")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.warns(RuntimeWarning, match="disk full"):
        model_store.load_or_train("dense-512", X, Y, train_fn=train, retrain=True)
    assert path.read_bytes() == before and model_files(cache) == [path.name]


def test_two_callers_of_the_same_entry_train_once(cache: Path, capsys: pytest.CaptureFixture) -> None:
    train = FakeTrain(delay=1.5)
    results: dict[int, keras.Model] = {}

    def run(i: int) -> None:
        results[i] = model_store.load_or_train("dense-512", X, Y, seed=7, train_fn=train)

    in_threads(run, [0, 1], stagger=0.3)  # the second asks while the first is training
    assert len(train.calls) == 1
    np.testing.assert_array_equal(predictions(results[0]), predictions(results[1]))
    out = capsys.readouterr().out
    assert "waiting for it" in out and "just trained by another process" in out


def test_a_parallel_grid_keeps_every_writer(cache: Path) -> None:
    train = FakeTrain(delay=0.3)
    trained: dict[int, keras.Model] = {}

    def run(seed: int) -> None:
        trained[seed] = model_store.load_or_train("dense-512", X, Y, seed=seed, train_fn=train)

    in_threads(run, [1, 2, 3])
    assert len(model_files(cache)) == 3
    for seed, model in trained.items():
        np.testing.assert_array_equal(
            predictions(model_store.load_or_train("dense-512", X, Y, seed=seed, train_fn=train)), predictions(model)
        )
    assert sorted(c["seed"] for c in train.calls) == [1, 2, 3]


def test_a_train_fn_returning_another_architecture_is_not_cached(cache: Path) -> None:
    def wrong(name: str, x: Any, y: Any, **kwargs: Any) -> keras.Model:
        return models.build_model("cnn-32-64")

    with pytest.warns(RuntimeWarning, match="not the recipe's architecture: it is not cached"):
        model_store.load_or_train("dense-512", X, Y, train_fn=wrong)
    assert model_files(cache) == []


def test_metadata_is_inside_the_single_cache_file(cache: Path) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, seed=5, train_fn=train)
    (path,) = (cache / "models").glob("*.keras")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read(model_store.INFO_MEMBER))
    assert meta["key"]["seed"] == 5 and meta["key"]["train_data"]["images"] == 64 and meta["seconds"] == 0.25
    assert sorted(p.name for p in (cache / "models").iterdir()) == [path.name, path.name + ".lock"]


def test_fingerprint_of_all_training_images_is_fast(real_arrays: dict[str, np.ndarray]) -> None:
    x, y = real_arrays["x_train"], real_arrays["y_train"]
    start = time.perf_counter()
    first = model_key.data_fingerprint(x, y)
    assert time.perf_counter() - start < 1.0
    changed = x.copy()
    changed[59_999, 27, 27] ^= 1  # one bit of the last pixel
    assert model_key.data_fingerprint(changed, y)["sha256"] != first["sha256"]
    assert first["images"] == 60_000
