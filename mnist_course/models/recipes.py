"""The course's recipes: every registered model's architecture, optimizer, schedule, epochs and batch, and where it
comes from (the published MNIST results it reproduces, or notebook 05's validation study for the course CNN)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from keras import layers

from mnist_course.models import layers as model_layers

InputKind = Literal["flat", "image"]
TRAIN_SIZE = 60_000  # size of the full MNIST training set, used when no data size is given


@dataclass(frozen=True)
class Recipe:
    """Everything needed to rebuild and retrain one model the same way every time.

    ``schedule`` is ``"constant"`` (``learning_rate`` throughout), ``"cosine"`` (cosine decay from
    ``learning_rate`` to 0 over all steps) or ``"restarts"``
    (cosine decay from ``learning_rate`` to 0 over ``cycle_epochs`` epochs, then again from ``learning_rate`` over a
    cycle twice as long, and so on: SGDR, Loshchilov and Hutter 2017; stopping at the end of a cycle, after
    ``cycle_epochs`` x 1, 3, 7, ... epochs, ends at a learning rate of 0). ``shift_pixels`` > 0 augments the
    training images: each is moved by a random whole-pixel offset of up to that many pixels, anew every epoch
    (:func:`mnist_course.models.augment.shift_images`). Labels are always
    integer class ids (sparse categorical cross-entropy); ``from_logits`` says whether the last layer outputs logits
    instead of softmax probabilities. Accuracies are test-set accuracies in percent. Every field is part of the
    model cache's key (:mod:`mnist_course.models.key`): changing one retrains that model.
    """

    name: str
    description: str
    source: str
    input_kind: InputKind
    optimizer: str
    learning_rate: float
    epochs: int
    batch_size: int
    schedule: Literal["constant", "cosine", "restarts"] = "constant"
    cycle_epochs: int = 0
    shift_pixels: int = 0
    from_logits: bool = False
    published_accuracy: float | None = None
    target_accuracy: float | None = None

    @property
    def loss(self) -> str:
        """Name of the loss: sparse categorical cross-entropy, on logits or probabilities."""
        suffix = " (from logits)" if self.from_logits else ""
        return f"sparse_categorical_crossentropy{suffix}"


RECIPES: dict[str, Recipe] = {
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
            "Conv 16@5x5 -> maxpool -> BN -> ReLU -> Conv 48@5x5 -> maxpool -> BN -> ReLU -> "
            "Dense 128 -> BN -> ReLU -> dropout 0.3 -> softmax (119,962 parameters). Adam, batch 256, the learning "
            "rate along cosines with warm restarts (from 6e-3 to 0 over 2 epochs, then again over 4: 6 epochs, two "
            "cycles). How chosen: layer sizes, pooling before BN, the peak rate and the 2-epoch first cycle were "
            "set by hand for speed on a CPU; the 6 epochs (against the ends of the first and third cycles, 2 and "
            "14), batch normalization (against the same net without it) and the restarts (against a constant "
            "1e-3) were picked on a 10,000-image validation split of the training set by the one-standard-error "
            "rule, which also kept the images as they are over random shifts of up to 2 pixels and the first "
            "convolution's 16 filters over 24, which train slower (notebook 05, "
            "results/05_selection_full.json); never on the test set. The final model then trains on all the "
            "training images it is given. Stopped after its first cycle (2 epochs, the student profile) it is a "
            "finished model too: the learning rate has come down to 0.",
            "this course (notebook 05)",
            "image",
            "adam",
            6e-3,
            epochs=6,
            batch_size=256,
            schedule="restarts",
            cycle_epochs=2,
            target_accuracy=99.5,
        ),
    ]
}

BUILDERS: dict[str, Callable[[], list[layers.Layer]]] = {
    "dense-512": model_layers.dense_512,
    "mlp-3x500": model_layers.mlp_3x500,
    "cnn-16-36": model_layers.cnn_16_36,
    "cnn-32-64": model_layers.cnn_32_64,
    "lenet-avgpool": model_layers.lenet_avgpool,
    "keras-io-convnet": model_layers.keras_io_convnet,
    "course-cnn": model_layers.course_cnn,
}

# The alternatives that validation rejected (notebook 05's model selection): trained, cached and reported there,
# never part of the course's model list.
ALTERNATIVES: dict[str, tuple[str, dict[str, Any], Callable[[], list[layers.Layer]] | None, str]] = {
    "course-cnn-constant": (
        "course-cnn",
        {"schedule": "constant", "learning_rate": 1e-3, "cycle_epochs": 0},
        None,
        "the course CNN at a constant learning rate of 1e-3 (Adam's default)",
    ),
    "course-cnn-shifted": (
        "course-cnn",
        {"shift_pixels": 2},
        None,
        "the course CNN with each training image shifted by up to 2 pixels, anew every epoch",
    ),
    "course-cnn-no-bn": (
        "course-cnn",
        {},
        model_layers.course_cnn_without_bn,
        "the course CNN without batch normalization (biases instead), same schedule",
    ),
    "course-cnn-conv1-24": (
        "course-cnn",
        {},
        model_layers.course_cnn_conv1_24,
        "the course CNN with 24 filters in its first convolution instead of 16, same schedule",
    ),
    "cnn-32-64-constant": ("cnn-32-64", {"schedule": "constant"}, None, "cnn-32-64 at a constant 1e-3"),
}
for _name, (_base, _changes, _builder, _what) in ALTERNATIVES.items():
    RECIPES[_name] = dataclasses.replace(RECIPES[_base], name=_name, description=_what, **_changes)
    BUILDERS[_name] = _builder or BUILDERS[_base]

# What each source says about its accuracy, in its own terms: a number only where one was published.
PUBLISHED_IN_WORDS = {"cnn-16-36": "about 99 %", "cnn-32-64": "about 99 %", "keras-io-convnet": "~99 %"}

__all__ = ["ALTERNATIVES", "BUILDERS", "PUBLISHED_IN_WORDS", "RECIPES", "TRAIN_SIZE", "InputKind", "Recipe"]
