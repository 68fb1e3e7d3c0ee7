"""Notebook 07's statements about the update rules and the losses, held against the code and values worked out by
hand: Adagrad's step never exceeds η (the accumulator already holds this step's g² when it divides), and mean squared
error on a softmax gives the scores a gradient 50 times smaller than cross-entropy's at the start."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_course.lessons.optimizers_and_losses.rules import Adagrad


def test_adagrad_steps_stay_below_eta_and_start_near_3_2_eta_g_for_small_gradients():
    rule, w = Adagrad(learning_rate=0.5), np.zeros(3)
    g = np.array([20.0, 4.0, 0.01])
    first = rule.step(w, g) - w
    # by hand: 0.5·20/√400.1, 0.5·4/√16.1, 0.5·0.01/√0.1001 (ε = 1e-7 is far below the tolerance)
    np.testing.assert_allclose(-first, [0.4999375, 0.4984447, 0.0158035], rtol=2e-6)
    assert -first[2] / (0.5 * 0.01) == pytest.approx(1 / np.sqrt(0.1), rel=1e-3)  # ≈ 3.16·η·|g| while g² << 0.1
    w = w + first
    for _ in range(20):  # the same gradient again and again: every step below η, and each smaller than the last
        new = rule.step(w, g)
        step = np.abs(new - w)
        assert np.all(step < 0.5) and np.all(step < np.abs(first))
        first, w = new - w, new


def test_mean_squared_error_on_a_softmax_gives_the_scores_a_50_times_smaller_gradient():
    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max())
        return e / e.sum()

    y = np.eye(10)[3]

    def gradient(loss, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
        return np.array([(loss(z + h * e) - loss(z - h * e)) / (2 * h) for e in np.eye(10)])

    z = np.zeros(10)  # every p = 0.1
    cross_entropy = gradient(lambda s: -np.log(softmax(s)[3]), z)
    squared_error = gradient(lambda s: np.mean((softmax(s) - y) ** 2), z)
    # by hand: cross-entropy's is p − y; the mean squared error's is (2/10)·J·(p − y) with J = diag(p) − p pᵀ, and
    # J·(p − y) = 0.1·(p − y) because the entries of p − y sum to 0: 0.02·(p − y)
    np.testing.assert_allclose(cross_entropy, np.full(10, 0.1) - y, atol=1e-8)
    np.testing.assert_allclose(squared_error, 0.02 * (np.full(10, 0.1) - y), atol=1e-8)
    confident = 8.0 * np.eye(10)[5]  # confidently wrong: cross-entropy's stays near 1, the other all but vanishes
    assert np.abs(gradient(lambda s: -np.log(softmax(s)[3]), confident)).max() > 0.99
    assert np.abs(gradient(lambda s: np.mean((softmax(s) - y) ** 2), confident)).max() < 1e-3
