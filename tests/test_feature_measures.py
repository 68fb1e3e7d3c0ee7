"""mnist_course.lessons.what_the_cnn_sees.measures: kernel smoothness against chance, and what a batch normalisation
after a max pooling learnt, on cases whose answers are known by hand."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mnist_course.lessons.what_the_cnn_sees import measures


def test_neighbour_correlation_is_one_for_a_ramp_minus_one_for_a_checkerboard():
    ramp = np.add.outer(np.arange(5.0), np.arange(5.0))  # each weight one more than its left and upper neighbours
    checker = (-1.0) ** np.add.outer(np.arange(4), np.arange(4))
    flat = np.zeros((3, 3))
    assert np.allclose(measures.neighbour_correlation(np.stack([ramp[:4, :4], checker])), [1.0, -1.0])
    assert measures.neighbour_correlation(flat[None]) == pytest.approx([0.0])  # no variation: 0, not a division by 0
    with pytest.raises(ValueError, match="height, width >= 2"):
        measures.neighbour_correlation(np.zeros((2, 1, 5)))


def test_chance_level_of_random_kernels_is_small_and_positive_and_reproducible():
    level = measures.chance_level((5, 5))
    assert 0.05 < level < 0.5  # 40 pairs of independent weights: a correlation's spread is about 1 / sqrt(40) = 0.16
    assert measures.chance_level((5, 5)) == level
    assert measures.chance_level((5, 5), quantile=0.5) < level


def _block_model(gamma: np.ndarray, moving_mean: np.ndarray, beta: float = 0.0) -> keras.Model:
    """Conv2D(2, 1) copying the image into both channels -> MaxPooling2D(2) -> BatchNormalization -> ReLU -> Dense."""
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(2, 1),
            keras.layers.MaxPooling2D(2),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )
    model.layers[0].set_weights([np.ones((1, 1, 1, 2), np.float32), np.zeros(2, np.float32)])
    model.layers[2].set_weights([gamma, np.full(2, beta, np.float32), moving_mean, np.ones(2, np.float32)])
    return model


IMAGES = np.array(
    [[[0.0, 0.2, 0.0, 0.0], [0.1, 0.0, 0.0, 0.8], [1.0, 0.0, 0.3, 0.3], [0.0, 0.0, 0.3, 0.3]]], dtype=np.float32
)


def test_pool_norm_order_measures_the_block_and_finds_the_orders_equal_when_every_scale_is_positive():
    found = measures.pool_norm_order(_block_model(np.array([1.0, 2.0], np.float32), np.array([0.1, 0.3])), IMAGES)
    assert found is not None
    assert found.channels == 2 and found.negative_scales == 0
    assert found.mean_full == pytest.approx(IMAGES.mean())  # 3.3 / 16: the convolution copies the image
    assert found.mean_pooled == pytest.approx((0.2 + 0.8 + 1.0 + 0.3) / 4)  # the maxima of the four 2 x 2 blocks
    assert found.running_mean == pytest.approx(0.2)
    assert found.same_at_inference
    assert [name.split("_")[0] for name in found.names] == ["conv2d", "max", "batch", "re"]


def test_a_negative_scale_makes_the_two_orders_differ():
    # gamma -1 and beta 1: the batch normalisation computes 1 - x, so pooling after it keeps 1 - (the block's minimum)
    found = measures.pool_norm_order(_block_model(np.array([1.0, -1.0], np.float32), np.zeros(2), beta=1.0), IMAGES)
    assert found.negative_scales == 1 and not found.same_at_inference


def test_a_model_without_the_block_gives_none():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 1), keras.layers.Flatten()])
    assert measures.pool_norm_order(model, IMAGES) is None
