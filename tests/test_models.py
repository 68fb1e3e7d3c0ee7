"""Tests for the model registry: architectures, parameter counts, recipes, prepare() and train()."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import keras
import numpy as np
import pytest

from mnist_course.models import zoo as models


def conv(k: int, c_in: int, c_out: int, bias: bool = True) -> int:
    return k * k * c_in * c_out + (c_out if bias else 0)


def dense(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


EXPECTED_PARAMS = {
    "dense-512": dense(784, 512) + dense(512, 10),  # 407,050
    "mlp-3x500": 898_510,
    "cnn-16-36": conv(5, 1, 16) + conv(5, 16, 36) + dense(7 * 7 * 36, 128) + dense(128, 10),
    "cnn-32-64": conv(3, 1, 32) + conv(3, 32, 64) + dense(5 * 5 * 64, 64) + dense(64, 10),
    # 32x32 padded input -> 28x28x36 -> 14x14 -> 10x10x36 -> 5x5x36 = 900 features
    "lenet-avgpool": conv(5, 1, 36) + conv(5, 36, 36) + dense(900, 128) + dense(128, 64) + dense(64, 10),
    "keras-io-convnet": conv(3, 1, 32) + conv(3, 32, 64) + dense(5 * 5 * 64, 10),  # 34,826
    # convs and the hidden dense have no bias; each batch norm holds 4 numbers per channel
    "course-cnn": conv(5, 1, 16, False)
    + 4 * 16
    + conv(5, 16, 48, False)
    + 4 * 48
    + dense(4 * 4 * 48, 128, False)
    + 4 * 128
    + dense(128, 10),
}


def test_registry_lists_every_model_in_the_brief() -> None:
    assert models.list_models() == list(EXPECTED_PARAMS)


@pytest.mark.parametrize("name", list(EXPECTED_PARAMS))
def test_model_builds_compiled_with_right_size_and_output(name: str) -> None:
    model = models.build_model(name, seed=0)
    assert model.name == name
    assert model.output_shape == (None, 10)
    assert model.input_shape == (None, *models.input_shape(name))
    assert model.count_params() == EXPECTED_PARAMS[name]
    assert model.optimizer is not None and model.loss is not None  # compiled


def test_known_parameter_counts_by_hand() -> None:
    assert EXPECTED_PARAMS["dense-512"] == 407_050
    assert EXPECTED_PARAMS["lenet-avgpool"] == 157_606
    assert EXPECTED_PARAMS["keras-io-convnet"] == 34_826


def test_lenet_pads_inside_the_model() -> None:
    model = models.build_model("lenet-avgpool")
    assert isinstance(model.layers[0], keras.layers.ZeroPadding2D)
    assert model.layers[0].output.shape == (None, 32, 32, 1)


def test_logits_model_uses_logits_loss() -> None:
    recipe = models.get_recipe("cnn-32-64")
    model = models.build_model("cnn-32-64")
    assert recipe.from_logits and model.loss.from_logits
    assert model.layers[-1].activation is keras.activations.linear
    assert not models.build_model("dense-512").loss.from_logits


def test_recipes_record_targets_and_inputs() -> None:
    for name in models.list_models():
        recipe = models.get_recipe(name)
        assert recipe.name == name and recipe.description and recipe.source
        assert recipe.input_kind in ("flat", "image")
        assert recipe.target_accuracy is not None
    assert models.get_recipe("mlp-3x500").target_accuracy == 98.1
    assert models.get_recipe("course-cnn").target_accuracy == 99.5


def test_unknown_model_names_the_valid_ones() -> None:
    with pytest.raises(KeyError, match="course-cnn"):
        models.get_recipe("resnet-1000")


def test_restarts_schedule_falls_to_zero_at_each_cycle_end_and_starts_again_at_the_peak() -> None:
    recipe = models.get_recipe("course-cnn")
    assert (recipe.schedule, recipe.cycle_epochs) == ("restarts", 2)
    schedule = models.make_optimizer(recipe, steps_per_epoch=100, epochs=recipe.epochs)._learning_rate
    peak = recipe.learning_rate
    # cycles of 2, 4 and 8 epochs (200, 400, 800 steps): cycle ends at steps 200, 600, 1400
    assert float(schedule(0)) == pytest.approx(peak)
    assert float(schedule(100)) == pytest.approx(peak / 2, rel=1e-3)  # half-way down the first cosine
    assert float(schedule(199)) == pytest.approx(0.0, abs=peak * 1e-3)
    assert float(schedule(200)) == pytest.approx(peak)  # the warm restart
    assert float(schedule(400)) == pytest.approx(peak / 2, rel=1e-3)  # half-way down the second, twice as long
    assert float(schedule(599)) == pytest.approx(0.0, abs=peak * 1e-3)
    assert float(schedule(600)) == pytest.approx(peak)
    assert float(schedule(1399)) == pytest.approx(0.0, abs=peak * 1e-3)


def test_restarts_without_a_cycle_length_is_refused() -> None:
    recipe = dataclasses.replace(models.get_recipe("course-cnn"), cycle_epochs=0)
    with pytest.raises(ValueError, match="cycle_epochs"):
        models.make_optimizer(recipe, steps_per_epoch=10, epochs=2)


@pytest.mark.parametrize("name", ["cnn-32-64", "cnn-32-64-constant"])
def test_cosine_schedule_starts_at_the_recipe_rate_and_ends_at_zero(name: str) -> None:
    recipe = dataclasses.replace(models.get_recipe(name), schedule="cosine")  # cnn-32-64's, also on its alternative
    schedule = models.make_optimizer(recipe, steps_per_epoch=50, epochs=recipe.epochs)._learning_rate
    total = 50 * recipe.epochs
    lr = [float(schedule(step)) for step in (0, total // 2, total)]
    assert lr[0] == pytest.approx(recipe.learning_rate)
    assert lr[1] == pytest.approx(recipe.learning_rate / 2, rel=1e-3)  # half-way down the cosine
    assert lr[2] == pytest.approx(0.0, abs=1e-9)


def test_batches_scale_reshape_and_cover_every_example_once_per_epoch() -> None:
    x = np.arange(10 * 784, dtype=np.int64).reshape(10, 28, 28) % 256
    x = x.astype(np.uint8)
    x[:, 0, 0] = np.arange(10)  # pixel (0, 0) identifies the example
    y = np.arange(10) % 10
    seen = []
    for images, targets in models.batches("course-cnn", x, y, batch_size=4, shuffle_seed=3):
        images, targets = np.asarray(images), np.asarray(targets)
        assert images.dtype == np.float32 and images.shape[1:] == (28, 28, 1) and images.max() <= 1.0
        ids = np.rint(images[:, 0, 0, 0] * 255).astype(int)
        assert targets.tolist() == y[ids].tolist()  # labels travel with their images
        seen += ids.tolist()
    assert sorted(seen) == list(range(10)) and seen != list(range(10))  # all once, shuffled
    flat = next(iter(models.batches("dense-512", x, y, batch_size=10)))[0]
    assert np.asarray(flat).shape == (10, 784)
    assert np.allclose(np.asarray(flat), models.prepare("dense-512", x))  # unshuffled and scaled like prepare()


def test_prepare_scales_and_reshapes_uint8() -> None:
    x = np.full((3, 28, 28), 255, dtype=np.uint8)
    flat, image = models.prepare("dense-512", x), models.prepare("course-cnn", x)
    assert flat.shape == (3, 784) and image.shape == (3, 28, 28, 1)
    assert flat.dtype == image.dtype == np.float32
    assert flat.max() == 1.0
    already = np.full((2, 784), 0.5, dtype=np.float32)
    assert models.prepare("cnn-16-36", already).reshape(2, 784).tolist() == already.tolist()


def test_batches_accept_one_hot_labels() -> None:
    x = np.zeros((3, 28, 28), dtype=np.uint8)
    ((_, targets),) = list(models.batches("dense-512", x, np.eye(10)[[3, 1, 4]], batch_size=3))
    assert np.asarray(targets).tolist() == [3, 1, 4]


def test_prepare_divides_integer_pixels_by_255_of_any_integer_dtype() -> None:
    for dtype in (np.uint8, np.int64):
        x = np.full((1, 28, 28), 51, dtype=dtype)
        assert models.prepare("dense-512", x)[0, :3].tolist() == [np.float32(51) / np.float32(255)] * 3


def weights(model: keras.Model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


def test_build_model_seed_is_the_course_seeding_path() -> None:
    from mnist_course.seeding import seed_everything

    seeded = weights(models.build_model("dense-512", seed=5))
    seed_everything(5)
    by_hand = weights(models.build_model("dense-512"))
    other = weights(models.build_model("dense-512", seed=6))
    assert all(np.array_equal(a, b) for a, b in zip(seeded, by_hand))
    assert not np.array_equal(seeded[0], other[0])


def test_training_repeats_from_the_same_seed() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8), rng.integers(0, 10, 300)
    runs = [models.train("dense-512", x, y, epochs=1, seed=s, verbose=0)[0] for s in (4, 4, 5)]
    a, b, c = (weights(m) for m in runs)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_train_runs_one_epoch_and_returns_history() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(512, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=512)
    model, history, seconds = models.train("course-cnn", x, y, epochs=1, verbose=0, validation_data=(x[:64], y[:64]))
    assert model.name == "course-cnn"
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 1 for v in history.values())
    assert 0 < seconds < 60


def _real_mnist() -> dict[str, np.ndarray]:
    folder = Path(os.environ.get("MNIST_COURSE_DATA", Path(__file__).parents[2] / "shared" / "data"))
    with np.load(folder / "mnist.npz") as data:
        return {k: data[k] for k in ("x_train", "y_train", "x_test", "y_test")}


def test_training_on_real_digits_learns() -> None:
    d = _real_mnist()
    model, history, _ = models.train("dense-512", d["x_train"][:2048], d["y_train"][:2048], epochs=2, verbose=0)
    assert history["loss"][1] < history["loss"][0]
    pred = model.predict(models.prepare("dense-512", d["x_test"][:1000]), verbose=0).argmax(axis=1)
    assert (pred == d["y_test"][:1000]).mean() > 0.8
