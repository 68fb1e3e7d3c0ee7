"""The course's model zoo: Keras recipes that reproduce published MNIST results, plus the fast course CNN."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import keras
import numpy as np
from keras import layers

from mnist_course import cnn_architectures
from mnist_course.data import class_ids, to_model_input
from mnist_course.seeding import seed_everything

InputKind = Literal["flat", "image"]
TRAIN_SIZE = 60_000  # size of the full MNIST training set, used when no data size is given


@dataclass(frozen=True)
class Recipe:
    """Everything needed to rebuild and retrain one model the same way every time.

    ``schedule`` is ``"constant"`` (``learning_rate`` throughout), ``"cosine"`` (cosine decay from
    ``learning_rate`` to 0 over all steps) or ``"one-cycle"``: linear warm-up from ``learning_rate / 10`` to
    ``learning_rate`` over the first ``warmup_fraction`` of all steps, then cosine decay to 0. Labels are always
    integer class ids (sparse categorical cross-entropy); ``from_logits`` says whether the last layer outputs logits
    instead of softmax probabilities. Accuracies are test-set accuracies in percent. Every field is part of the
    model cache's key (:mod:`mnist_course.model_key`): changing one retrains that model.
    """

    name: str
    description: str
    source: str
    input_kind: InputKind
    optimizer: str
    learning_rate: float
    epochs: int
    batch_size: int
    schedule: Literal["constant", "cosine", "one-cycle"] = "constant"
    warmup_fraction: float = 0.0
    from_logits: bool = False
    published_accuracy: float | None = None
    target_accuracy: float | None = None

    @property
    def loss(self) -> str:
        """Name of the loss: sparse categorical cross-entropy, on logits or probabilities."""
        suffix = " (from logits)" if self.from_logits else ""
        return f"sparse_categorical_crossentropy{suffix}"


def _dense_512() -> list[layers.Layer]:
    return [layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")]


def _mlp_3x500() -> list[layers.Layer]:
    hidden: list[layers.Layer] = []
    for _ in range(3):
        hidden += [layers.Dense(500, activation="relu"), layers.Dropout(0.2)]
    return hidden + [layers.Dense(10, activation="softmax")]


_RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            "dense-512",
            "One hidden layer: Dense 512 ReLU -> softmax 10, RMSprop, batch 128, 5 epochs, as in the "
            "book, with one change: the learning rate decays from 1e-3 to 0 along a cosine over those epochs. How "
            "chosen: the 5 epochs by the one-standard-error rule on the mean validation loss over 3 seeds at the "
            "book's constant rate (5,000-image validation split of the training set), and the cosine because over "
            "those epochs it lowered that mean by more than one standard error (notebook 04, "
            "results/04_mlp_full.json); never on the test set.",
            "F. Chollet, Deep Learning with Python, ch. 2 (prints test_acc: 0.9785)",
            "flat",
            "rmsprop",
            1e-3,
            epochs=5,
            batch_size=128,
            schedule="cosine",
            published_accuracy=97.85,
            target_accuracy=97.8,
        ),
        Recipe(
            "mlp-3x500",
            "3 x (Dense 500 ReLU + Dropout 0.2) -> softmax 10, 898,510 parameters. Optimizer not part "
            "of the architecture: Adam, learning rate 1e-3. How chosen: the 9 epochs by the one-standard-error rule "
            "on the mean validation loss over 3 seeds (5,000-image validation split of the training set, notebook "
            "04, results/04_mlp_full.json); never on the test set.",
            "a common tutorial MLP (3 hidden layers of 500, dropout 0.2); no published accuracy checked",
            "flat",
            "adam",
            1e-3,
            epochs=9,
            batch_size=128,
            target_accuracy=98.1,
        ),
        Recipe(
            "cnn-16-36",
            "Conv 16@5x5 same -> maxpool 2 -> Conv 36@5x5 same -> maxpool 2 -> dropout 0.25 -> "
            "Dense 128 -> dropout 0.5 -> softmax. Not given by the source, chosen here: ReLU, dropout rates "
            "0.25/0.5, Adam 1e-3, 10 epochs, batch 128.",
            "Hvass-Labs TensorFlow tutorial #02 (convolutional network, about 99 %)",
            "image",
            "adam",
            1e-3,
            epochs=10,
            batch_size=128,
            target_accuracy=99.0,
        ),
        Recipe(
            "cnn-32-64",
            "Conv 32@3x3 -> maxpool -> Conv 64@3x3 -> maxpool -> flatten -> Dense 64 -> 10 logits "
            "(loss from logits), Adam 1e-3, 10 epochs. Not given by the source, chosen here: batch 128 (Keras' "
            "usual), and the learning rate decaying from 1e-3 to 0 along a cosine, chosen over a constant 1e-3 on a "
            "10,000-image validation split of the training set by the one-standard-error rule (notebook 05, "
            "results/05_selection_full.json), never on the test set.",
            "TensorFlow-tutorial style small CNN (about 99 %)",
            "image",
            "adam",
            1e-3,
            epochs=10,
            batch_size=128,
            schedule="cosine",
            from_logits=True,
            target_accuracy=99.0,
        ),
        Recipe(
            "lenet-avgpool",
            "ZeroPadding2D 28->32, Conv 36@5x5 valid -> avgpool 2 -> Conv 36@5x5 valid -> "
            "avgpool 2 -> Dense 128 -> dropout 0.3 -> Dense 64 -> dropout 0.3 -> softmax.",
            "LeNet-5-style network with average pooling (99.12 % reported)",
            "image",
            "adam",
            1e-3,
            epochs=20,
            batch_size=128,
            published_accuracy=99.12,
            target_accuracy=99.1,
        ),
        Recipe(
            "keras-io-convnet",
            "Conv 32@3x3 -> maxpool -> Conv 64@3x3 -> maxpool -> flatten -> dropout 0.5 -> "
            "softmax. The reference for the time-to-accuracy benchmark.",
            "keras.io example 'Simple MNIST convnet' (F. Chollet: \"achieves ~99% test accuracy\")",
            "image",
            "adam",
            1e-3,
            epochs=15,
            batch_size=128,
            target_accuracy=99.0,
        ),
        Recipe(
            "course-cnn",
            "Conv 24@5x5 -> maxpool -> BN -> ReLU -> Conv 48@5x5 -> maxpool -> BN -> ReLU -> "
            "Dense 128 -> BN -> ReLU -> dropout 0.3 -> softmax (129,794 parameters). Adam, one-cycle schedule "
            "(linear warm-up 6e-4 -> 6e-3 over the first 20 % of steps, cosine to 0), batch 256, 2 epochs. How "
            "chosen: layer sizes, pooling before BN and the peak rate were set by hand for speed on a CPU; batch "
            "normalization (against the same net without it), the one-cycle schedule (against a constant 1e-3) "
            "and the 2 epochs (against 3, 4 and 6) were picked on a 10,000-image validation split of the training "
            "set by the one-standard-error rule (notebook 05, results/05_selection_full.json), never on the test "
            "set; the final model then trains on all the training images it is given.",
            "this course (notebook 05)",
            "image",
            "adam",
            6e-3,
            epochs=2,
            batch_size=256,
            schedule="one-cycle",
            warmup_fraction=0.2,
            target_accuracy=99.3,
        ),
    ]
}

_BUILDERS: dict[str, Callable[[], list[layers.Layer]]] = {
    "dense-512": _dense_512,
    "mlp-3x500": _mlp_3x500,
    "cnn-16-36": cnn_architectures.cnn_16_36,
    "cnn-32-64": cnn_architectures.cnn_32_64,
    "lenet-avgpool": cnn_architectures.lenet_avgpool,
    "keras-io-convnet": cnn_architectures.keras_io_convnet,
    "course-cnn": cnn_architectures.course_cnn,
}

# The alternatives that validation rejected (notebook 05's model selection): trained, cached and reported there,
# never part of the course's model list.
_ALTERNATIVES: dict[str, tuple[str, dict[str, Any], Callable[[], list[layers.Layer]] | None, str]] = {
    "course-cnn-constant": (
        "course-cnn",
        {"schedule": "constant", "learning_rate": 1e-3, "warmup_fraction": 0.0},
        None,
        "the course CNN at a constant learning rate of 1e-3 (Adam's default)",
    ),
    "course-cnn-no-bn": (
        "course-cnn",
        {},
        cnn_architectures.course_cnn_without_bn,
        "the course CNN without batch normalization (biases instead), same schedule",
    ),
    "cnn-32-64-constant": ("cnn-32-64", {"schedule": "constant"}, None, "cnn-32-64 at a constant 1e-3"),
}
for _name, (_base, _changes, _builder, _what) in _ALTERNATIVES.items():
    _RECIPES[_name] = dataclasses.replace(_RECIPES[_base], name=_name, description=_what, **_changes)
    _BUILDERS[_name] = _builder or _BUILDERS[_base]

# What each source says about its accuracy, in its own terms: a number only where one was published.
_PUBLISHED_IN_WORDS = {"cnn-16-36": "about 99 %", "cnn-32-64": "about 99 %", "keras-io-convnet": "~99 %"}


def list_models() -> list[str]:
    """Names of all registered models, in course order (the validation alternatives are not among them)."""
    return [name for name in _RECIPES if name not in _ALTERNATIVES]


def alternatives() -> dict[str, str]:
    """The alternatives validation compared in notebook 05, ``{name: what differs from its base model}``."""
    return {name: what for name, (_, _, _, what) in _ALTERNATIVES.items()}


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
    elif recipe.schedule == "one-cycle":
        total = max(2, steps_per_epoch * epochs)
        warmup = max(1, int(recipe.warmup_fraction * total))
        lr = keras.optimizers.schedules.CosineDecay(
            recipe.learning_rate / 10,
            decay_steps=total - warmup,
            alpha=0.0,
            warmup_target=recipe.learning_rate,
            warmup_steps=warmup,
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


def batches(name: str, x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle_seed: int | None = None) -> Any:
    """A ``tf.data`` pipeline of ``(images, integer labels)`` batches shaped for model ``name``.

    Only the images as given are kept (47 MB for all of MNIST as uint8, not copied); each batch is gathered and
    scaled by :func:`prepare` when it is drawn, so training never holds float32 copies of the whole set (188 MB
    each), which keeps the notebooks within Binder's 2 GiB, and training and prediction scale pixels the same way.
    ``shuffle_seed`` reshuffles every epoch, reproducibly. Labels may be class ids or one-hot rows.
    """
    import tensorflow as tf

    x, y = np.asarray(x), class_ids(y)
    targets = tf.constant(y)

    def scaled(index: np.ndarray) -> np.ndarray:
        return prepare(name, x[index])

    def gather(index: Any) -> tuple[Any, Any]:
        batch = tf.numpy_function(scaled, [index], tf.float32, stateful=False)
        batch.set_shape((None, *input_shape(name)))
        return batch, tf.gather(targets, index)

    order = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:
        order = order.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    return order.batch(batch_size).map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


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

    The data is streamed in batches (see :func:`batches`), shuffled every epoch from ``seed``.
    Returns ``(model, history_dict, seconds)`` where ``seconds`` is the wall time of ``model.fit``
    (including validation, if ``validation_data`` is given).
    """
    recipe = get_recipe(name)
    epochs = epochs or recipe.epochs
    model = build_model(name, seed=seed, n_train=len(x_train), epochs=epochs)
    data = batches(name, x_train, y_train, recipe.batch_size, shuffle_seed=seed)
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
