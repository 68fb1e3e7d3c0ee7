"""Where a dense stack's weights start (notebook 03): Glorot's and He's scales against their formulas worked out by
hand, the uniform draw's spread, and the activations' spread layer by layer against what variance arithmetic
predicts (a ReLU halves the mean square, a near-linear tanh multiplies the spread by sqrt(width) * std)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mnist_course.lessons.how_a_network_learns import initialisation as init


def test_glorot_and_he_scales_match_their_formulas_and_a_number_is_taken_as_the_std():
    assert init.weight_std("glorot", 784, 64) == pytest.approx(math.sqrt(2 / 848))  # 0.04856
    assert init.weight_std("glorot", 64, 64) == pytest.approx(0.125)
    assert init.weight_std("he", 64, 10) == pytest.approx(math.sqrt(2 / 64))  # 0.1768, fan_out plays no part
    assert init.weight_std(0.01, 784, 64) == 0.01 and init.weight_std(1, 3, 3) == 1.0


@pytest.mark.parametrize(
    ("scheme", "fan_in", "fragment"),
    [
        ("xavier", 4, "unknown scale 'xavier'"),
        (0.0, 4, "unknown scale 0.0"),
        (True, 4, "unknown scale True"),
        ("he", 0, "need >= 1"),
    ],
)
def test_bad_scales_and_sizes_are_refused_with_the_fix(scheme, fan_in, fragment):
    with pytest.raises(ValueError, match=fragment):
        init.weight_std(scheme, fan_in, 4)


def test_init_weights_are_uniform_with_the_asked_standard_deviation_and_seeded():
    w = init.init_weights(1000, 1000, 0.1, np.random.default_rng(0))
    assert w.shape == (1000, 1000) and w.dtype == np.float64
    assert np.abs(w).max() <= math.sqrt(3) * 0.1 and np.abs(w).max() > 0.99 * math.sqrt(3) * 0.1
    assert w.std() == pytest.approx(0.1, rel=0.01) and abs(w.mean()) < 0.001
    again = init.init_weights(1000, 1000, 0.1, np.random.default_rng(0))
    assert np.array_equal(w, again)


def _inputs() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(500, 400))


def test_relu_at_glorot_scale_loses_half_the_mean_square_per_layer_and_at_he_scale_keeps_it():
    x = _inputs()
    glorot = init.activation_spreads(x, "relu", depth=11, width=400, scheme="glorot", seed=3)
    he = init.activation_spreads(x, "relu", depth=11, width=400, scheme="he", seed=3)
    # fan_in = fan_out = 400: Glorot's variance is 1 / 400, so each layer halves the mean square: 10 layers, 2 ** -5
    assert glorot[-1] / glorot[0] == pytest.approx(2**-5, rel=0.2)
    assert he[-1] / he[0] == pytest.approx(1.0, rel=0.2)
    assert glorot.shape == he.shape == (11,)


def test_tanh_at_a_tiny_scale_shrinks_the_spread_by_sqrt_width_times_std_per_layer():
    spreads = init.activation_spreads(_inputs(), "tanh", depth=4, width=100, scheme=0.01, seed=0)
    # tanh(z) ~ z for small z, so each layer multiplies the spread by sqrt(100) * 0.01 = 0.1
    assert np.allclose(spreads[1:] / spreads[:-1], 0.1, rtol=0.1)


def test_tanh_at_a_large_scale_saturates_near_its_limit_of_one():
    spreads = init.activation_spreads(_inputs(), "tanh", depth=3, width=100, scheme=1.0, seed=0)
    assert (spreads > 0.9).all() and (spreads <= 1).all()


def test_activation_spreads_are_seeded_and_refuse_bad_settings():
    x = _inputs()[:20]
    a = init.activation_spreads(x, "sigmoid", depth=2, width=8, scheme="glorot", seed=7)
    assert np.array_equal(a, init.activation_spreads(x, "sigmoid", depth=2, width=8, scheme="glorot", seed=7))
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        init.activation_spreads(x, "swish", depth=2, width=8, scheme="he")
    with pytest.raises(ValueError, match="depth >= 1"):
        init.activation_spreads(x, "relu", depth=0, width=8, scheme="he")
