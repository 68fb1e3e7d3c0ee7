"""The FLOP count of benchmarks/time_to_accuracy.py, checked on a network small enough to count by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import keras

_SPEC = importlib.util.spec_from_file_location(
    "time_to_accuracy", Path(__file__).resolve().parents[1] / "benchmarks" / "time_to_accuracy.py"
)
tta = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(tta)


def test_training_flops_count_forward_and_backward_by_hand() -> None:
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(2, 3),
            keras.layers.MaxPooling2D(1),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    conv = 2 * 3 * 3 * 1 * 2 * (2 * 2)  # 2 FLOPs per multiply-add, 3x3x1 kernel, 2 filters, 2x2 outputs: 144
    dense = 2 * 8 * 3  # 8 inputs, 3 outputs: 48
    # the first layer: forward + weight gradients; later layers also the gradients of their inputs
    assert tta.training_flops_per_image(model) == 2 * conv + 3 * dense == 432


def test_course_cnn_flops_from_its_layer_shapes() -> None:
    from mnist_course.models import zoo as models

    conv1 = 2 * 5 * 5 * 1 * 16 * 24 * 24  # 16 filters, 24 x 24 outputs
    conv2 = 2 * 5 * 5 * 16 * 48 * 8 * 8
    dense = 2 * 768 * 128 + 2 * 128 * 10
    assert tta.training_flops_per_image(models.build_model("course-cnn")) == 2 * conv1 + 3 * (conv2 + dense)
