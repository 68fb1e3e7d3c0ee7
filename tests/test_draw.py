"""Drawing -> MNIST input: rasterising strokes, the 20x20 fit with centre-of-mass centring, and predictions."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_course.lessons.playground import (
    bounding_box,
    centre_of_mass,
    mnist_preprocess,
    preprocess_steps,
    resize_area,
    strokes_to_image,
)
from mnist_course.predict import probabilities

ANGLES = np.linspace(0, 2 * np.pi, 40)
DRAWN = {  # hand-made strokes on a 280x280 canvas, (x, y) with y downwards, like a mouse would give them
    0: [[(140 + 60 * np.cos(a), 140 + 95 * np.sin(a)) for a in ANGLES]],
    1: [[(140, 40), (140, 240)]],
    2: [[(80, 80), (140, 40), (200, 80), (80, 240), (210, 240)]],
    3: [[(80, 50), (190, 60), (130, 130), (200, 190), (80, 240)]],
    4: [[(180, 40), (80, 170), (210, 170)], [(170, 110), (170, 250)]],
    7: [[(70, 50), (210, 50), (120, 240)]],
}


def test_strokes_become_ink_of_the_pen_width_on_a_blank_background():
    image = strokes_to_image(DRAWN[1], size=280, width=18)
    assert image.shape == (280, 280) and image.dtype == np.uint8
    assert image[140, 140] == 255 and image[140, 100] == 0 and image[10, 140] == 0
    full = np.flatnonzero(image[140] == 255)
    assert 16 <= len(full) <= 19 and full.min() >= 130 and full.max() <= 150
    assert bounding_box(image) == (31, 249, 131, 149)  # round ends: 9 pixels beyond both ends of the stroke
    assert not strokes_to_image([], size=50).any()


def test_a_single_click_is_a_dot_and_points_off_the_canvas_are_clipped():
    dot = strokes_to_image([[(20, 30)]], size=64, width=10)
    assert dot[30, 20] == 255 and bounding_box(dot) == (25, 35, 15, 25)
    edge = strokes_to_image([[(-50, 10), (500, 10)]], size=64, width=4)
    assert (edge[10] == 255).all() and not edge[20:].any()


def test_resize_area_keeps_the_mean_ink():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(217, 93)).astype(float)
    small = resize_area(image, 20, 9)
    assert small.shape == (20, 9)
    assert small.mean() == pytest.approx(image.mean(), rel=1e-9)
    assert np.allclose(resize_area(np.full((70, 35), 7.0), 20, 10), 7.0)


@pytest.mark.parametrize("digit", sorted(DRAWN))
def test_a_drawn_digit_is_fitted_in_20x20_and_centred_by_mass(digit):
    strokes = DRAWN[digit]
    final = mnist_preprocess(strokes_to_image(strokes))
    assert final.shape == (28, 28) and final.dtype == np.uint8
    assert final.max() == 255 and final.min() == 0
    top, bottom, left, right = bounding_box(final)
    assert max(bottom - top, right - left) == 20
    row, col = centre_of_mass(final)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_the_aspect_ratio_is_kept():
    steps = preprocess_steps(strokes_to_image(DRAWN[0]))
    h, w = steps.crop.shape
    top, bottom, left, right = bounding_box(steps.final)
    assert (bottom - top, right - left) == (20, round(20 * w / h))
    assert bottom - top > right - left  # the oval stays taller than wide


def test_a_small_digit_in_a_corner_gives_the_same_input_as_a_big_centred_one():
    big = mnist_preprocess(strokes_to_image(DRAWN[7]))
    small_corner = [[(x / 4 + 10, y / 4 + 200) for x, y in stroke] for stroke in DRAWN[7]]
    small = mnist_preprocess(strokes_to_image(small_corner, width=18 / 4))
    assert np.corrcoef(big.ravel().astype(float), small.ravel().astype(float))[0, 1] > 0.9


def test_the_recipe_reproduces_real_mnist_digits(real_arrays):
    """MNIST digits were made this way: blown up 10x and preprocessed again, they come back (nearly) unchanged."""
    x = real_arrays["x_test"][:200]
    same = [np.array_equal(mnist_preprocess(np.kron(a, np.ones((10, 10), dtype=np.uint8))), a) for a in x]
    assert np.mean(same) >= 0.95


def test_the_steps_report_the_shift_of_the_centre_of_mass():
    steps = preprocess_steps(strokes_to_image(DRAWN[7]))
    assert steps.box.shape == (20, 20) and steps.box.max() == 255
    assert steps.shift[0] > 0  # a 7 is top-heavy: it moves down to bring its mass to row 14
    assert steps.centre_before[0] < 13


def test_an_empty_drawing_gives_an_empty_input():
    steps = preprocess_steps(np.zeros((280, 280), dtype=np.uint8))
    assert steps.final.shape == (28, 28) and not steps.final.any()
    with pytest.raises(ValueError, match="2-D"):
        mnist_preprocess(np.zeros((2, 28, 28), dtype=np.uint8))


def test_predict_scales_int64_pixels_like_uint8():
    """Any integer dtype is scaled by 1/255: int64 pixels reached the model as 0..255 before."""
    import keras

    dense = keras.layers.Dense(10)
    model = keras.Sequential([keras.Input((784,)), dense])
    weights = np.random.default_rng(0).normal(size=(784, 10)).astype(np.float32) / 10
    dense.set_weights([weights, np.zeros(10, dtype=np.float32)])
    image = preprocess_steps(strokes_to_image(DRAWN[7])).final
    logits = image.reshape(784).astype(np.float64) / 255 @ weights
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.allclose(probabilities(model, image)[0], expected, atol=1e-5)
    assert np.allclose(probabilities(model, image.astype(np.int64))[0], expected, atol=1e-5)


@pytest.fixture(scope="module")
def mlp(real_arrays):
    """A dense network trained for a few seconds on 10 000 real MNIST digits (about 90 % test accuracy)."""
    import keras

    keras.utils.set_random_seed(0)
    x, y = real_arrays["x_train"][:10000].reshape(-1, 784) / 255.0, real_arrays["y_train"][:10000]
    model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=128, verbose=0)
    return model


def test_predict_returns_the_models_probabilities(mlp, real_arrays):
    image, label = real_arrays["x_test"][0], int(real_arrays["y_test"][0])
    probs = probabilities(mlp, image)[0]
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    expected = mlp.predict(image.reshape(1, 784) / 255.0, verbose=0)[0]
    assert np.allclose(probs, expected, atol=1e-5)
    assert probs.argmax() == label


def _small_in_corner(strokes):
    return [[(x / 3 + 15, y / 3 + 180) for x, y in stroke] for stroke in strokes]


def test_drawings_preprocessed_like_mnist_are_recognised(mlp):
    predicted = {d: int(probabilities(mlp, mnist_preprocess(strokes_to_image(s))).argmax()) for d, s in DRAWN.items()}
    assert sum(p == d for d, p in predicted.items()) >= 5, predicted
    corner = {
        d: int(probabilities(mlp, mnist_preprocess(strokes_to_image(_small_in_corner(s), width=6))).argmax())
        for d, s in DRAWN.items()
    }
    assert sum(p == d for d, p in corner.items()) >= 5, corner


def test_without_the_mnist_steps_a_small_digit_in_a_corner_is_not_recognised(mlp):
    """Control for the test above: merely shrinking the canvas to 28x28 loses the digits drawn small."""
    naive = {
        d: int(
            probabilities(
                mlp, resize_area(strokes_to_image(_small_in_corner(s), width=6), 28, 28).round().astype(np.uint8)
            ).argmax()
        )
        for d, s in DRAWN.items()
    }
    assert sum(p == d for d, p in naive.items()) <= 2, naive
