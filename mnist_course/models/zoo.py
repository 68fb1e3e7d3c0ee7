"""The model zoo: each registered model built, compiled and trained by its recipe (exported by ``models``)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from mnist_course.data import class_ids, to_model_input
from mnist_course.models.augment import shift_images
from mnist_course.models.recipes import ALTERNATIVES as _ALTERNATIVES
from mnist_course.models.recipes import BUILDERS as _BUILDERS
from mnist_course.models.recipes import PUBLISHED_IN_WORDS as _PUBLISHED_IN_WORDS
from mnist_course.models.recipes import RECIPES as _RECIPES
from mnist_course.models.recipes import TRAIN_SIZE, Recipe
from mnist_course.seeding import seed_everything


def list_models() -> list[str]:
    """Names of all registered models, in course order (the validation alternatives are not among them)."""
    return [name for name in _RECIPES if name not in _ALTERNATIVES]


def published(name: str) -> str:
    """What the source of ``name`` published about its test accuracy: ``"97.83 %"``, ``"about 99 %"`` (only
    words), or ``"-"`` (nothing; the course's own model)."""
    recipe = get_recipe(name)
    if recipe.published_accuracy is not None:
        return f"{recipe.published_accuracy:.2f} %"
    return _PUBLISHED_IN_WORDS.get(name, "-")


def get_recipe(name: str) -> Recipe:
    """The recipe registered under ``name``; raises ``KeyError`` listing valid names otherwise."""
    try:
        return _RECIPES[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of {', '.join(_RECIPES)}") from None


def input_shape(name: str) -> tuple[int, ...]:
    """Shape of one input example: ``(784,)`` for flat models, ``(28, 28, 1)`` for image models."""
    return (784,) if get_recipe(name).input_kind == "flat" else (28, 28, 1)


def make_optimizer(recipe: Recipe, steps_per_epoch: int, epochs: int) -> keras.optimizers.Optimizer:
    """A fresh optimizer for ``recipe``, with its learning-rate schedule spread over ``epochs`` epochs."""
    lr: float | keras.optimizers.schedules.LearningRateSchedule = recipe.learning_rate
    if recipe.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=max(1, steps_per_epoch * epochs))
    elif recipe.schedule == "restarts":
        if recipe.cycle_epochs < 1:
            raise ValueError(f"{recipe.name}: the restarts schedule needs cycle_epochs >= 1, not {recipe.cycle_epochs}")
        lr = keras.optimizers.schedules.CosineDecayRestarts(
            recipe.learning_rate, first_decay_steps=steps_per_epoch * recipe.cycle_epochs, t_mul=2.0, m_mul=1.0
        )
    optimizers = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop, "sgd": keras.optimizers.SGD}
    return optimizers[recipe.optimizer](learning_rate=lr)


def build_model(
    name: str, seed: int | None = None, *, n_train: int = TRAIN_SIZE, epochs: int | None = None
) -> keras.Model:
    """Build and compile the registered model ``name`` (``model.name == name``), ready for ``fit``.

    ``seed``, when given, is passed to :func:`mnist_course.seeding.seed_everything` first (the course's one seeding
    path). ``n_train`` and ``epochs`` only matter for scheduled recipes: they fix the length of the learning-rate
    schedule (default: 60,000 images, recipe epochs).
    """
    recipe = get_recipe(name)
    if seed is not None:
        seed_everything(seed)
    model = keras.Sequential([keras.Input(input_shape(name)), *_BUILDERS[name]()], name=name)
    steps = math.ceil(n_train / recipe.batch_size)
    model.compile(
        optimizer=make_optimizer(recipe, steps, epochs or recipe.epochs),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=recipe.from_logits),
        metrics=["accuracy"],
    )
    return model


def prepare(name: str, x: np.ndarray) -> np.ndarray:
    """Images as the model ``name`` expects them: float32 in [0, 1], shape (N, 784) or (N, 28, 28, 1).

    Scaled by :func:`mnist_course.data.to_model_input` (integer pixels / 255; float input taken as scaled).
    """
    out = to_model_input(x)
    return out.reshape((len(out), *input_shape(name)))


class ImageBatches(keras.utils.PyDataset):
    """``(images, integer labels)`` batches shaped for model ``name``, drawn from the uint8 images as given: a
    Keras ``PyDataset``, so the same pipeline feeds every backend (see :func:`batches`)."""

    def __init__(
        self, name: str, x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None, shift_pixels: int
    ) -> None:
        super().__init__()
        self.name, self.x, self.y = name, x, y
        self.batch_size, self.shuffle_seed, self.shift_pixels = batch_size, shuffle_seed, shift_pixels
        self.epoch = 0
        self.order = self._order()

    def _order(self) -> np.ndarray:
        """This epoch's order of the images: as given, or a permutation drawn from (seed, epoch)."""
        if self.shuffle_seed is None:
            return np.arange(len(self.x))
        return np.random.default_rng([self.shuffle_seed, self.epoch]).permutation(len(self.x))

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        picked = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.x[picked]
        if self.shift_pixels:
            rng = np.random.default_rng([self.shuffle_seed or 0, self.epoch, *picked.tolist()])
            images = shift_images(images, self.shift_pixels, rng)
        return prepare(self.name, images), self.y[picked]

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = self._order()


def batches(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle_seed: int | None = None,
    shift_pixels: int = 0,
) -> ImageBatches:
    """The batches of ``(images, integer labels)`` that train and score model ``name``, on any Keras backend.

    Only the images as given are kept (47 MB for all of MNIST as uint8, not copied); each batch is gathered and
    scaled by :func:`prepare` when it is drawn, so training never holds float32 copies of the whole set (188 MB
    each), which keeps the notebooks within Binder's 2 GiB, and training and prediction scale pixels the same way.
    ``shuffle_seed`` reshuffles every epoch, reproducibly (the order is drawn from the seed and the epoch).
    ``shift_pixels`` > 0 moves each image of a batch by its own random offset
    (:func:`~mnist_course.models.augment.shift_images`), drawn from the seed, the epoch and the batch's image
    indices. Labels may be class ids or one-hot rows. (A Keras ``PyDataset`` trains the course CNN as fast as the
    ``tf.data`` pipeline it replaced: ``benchmarks/data_pipeline.py``.)
    """
    return ImageBatches(name, np.asarray(x), class_ids(y), batch_size, shuffle_seed, shift_pixels)


def train(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    *,
    epochs: int | None = None,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    verbose: int = 2,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
) -> tuple[keras.Model, dict[str, list[float]], float]:
    """Train model ``name`` by its recipe on raw (uint8) or prepared images and integer/one-hot labels.

    The data is streamed in batches (see :func:`batches`), shuffled every epoch from ``seed`` and, when the recipe
    says so, shifted (``shift_pixels``).
    Returns ``(model, history_dict, seconds)`` where ``seconds`` is the wall time of ``model.fit``
    (including validation, if ``validation_data`` is given).
    """
    recipe = get_recipe(name)
    epochs = epochs or recipe.epochs
    model = build_model(name, seed=seed, n_train=len(x_train), epochs=epochs)
    data = batches(name, x_train, y_train, recipe.batch_size, shuffle_seed=seed, shift_pixels=recipe.shift_pixels)
    val = None if validation_data is None else batches(name, *validation_data, batch_size=1024)
    start = time.perf_counter()
    history = model.fit(
        data, epochs=epochs, validation_data=val, verbose=verbose, shuffle=False, callbacks=list(callbacks or [])
    )
    seconds = time.perf_counter() - start
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}, seconds


def count_params(name: str) -> int:
    """Number of parameters (trainable and not) of the model ``name``."""
    return build_model(name).count_params()


def describe(name: str) -> dict[str, Any]:
    """The recipe of ``name`` as a plain dict (for tables in notebooks)."""
    recipe = get_recipe(name)
    return {**recipe.__dict__, "loss": recipe.loss}
