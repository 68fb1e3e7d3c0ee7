"""Random whole-pixel shifts of training images (mnist_course.models.augment) and their use in the training pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_course.models import zoo as models
from mnist_course.models.augment import shift_images


def one_pixel_images(n: int, size: int = 9) -> np.ndarray:
    images = np.zeros((n, size, size), np.uint8)
    images[:, size // 2, size // 2] = 200
    return images


def test_each_image_moves_by_its_own_offset_within_the_limit() -> None:
    shifted = shift_images(one_pixel_images(500), 2, np.random.default_rng(0))
    assert shifted.shape == (500, 9, 9) and shifted.dtype == np.uint8
    rows, cols = np.nonzero(shifted.reshape(500, -1) == 200)[1] // 9, np.nonzero(shifted.reshape(500, -1) == 200)[1] % 9
    assert len(rows) == 500  # the pixel is still there, once, in every image
    offsets = set(zip((rows - 4).tolist(), (cols - 4).tolist()))
    assert offsets == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}  # all 25 offsets occur, no others


def test_a_shift_moves_the_whole_image_and_fills_with_black() -> None:
    image = np.arange(1, 26, dtype=np.uint8).reshape(1, 5, 5)
    rng = np.random.default_rng(3)
    dy, dx = np.random.default_rng(3).integers(-1, 2, size=(2, 1))[:, 0]
    out = shift_images(image, 1, rng)[0]
    expected = np.zeros((5, 5), np.uint8)
    for i in range(5):
        for j in range(5):
            if 0 <= i - dy < 5 and 0 <= j - dx < 5:
                expected[i, j] = image[0, i - dy, j - dx]
    assert (out == expected).all()


def test_channels_last_images_keep_their_shape_and_zero_shift_is_a_copy() -> None:
    images = np.random.default_rng(1).integers(0, 256, size=(4, 28, 28, 1), dtype=np.uint8)
    assert shift_images(images, 3, np.random.default_rng(0)).shape == (4, 28, 28, 1)
    same = shift_images(images, 0, np.random.default_rng(0))
    assert (same == images).all() and same is not images


@pytest.mark.parametrize("bad", [-1, 28])
def test_a_shift_outside_the_frame_is_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="max_shift"):
        shift_images(np.zeros((1, 28, 28), np.uint8), bad, np.random.default_rng(0))


def test_shifted_batches_are_reproducible_differ_per_epoch_and_keep_labels() -> None:
    x = np.zeros((12, 28, 28), np.uint8)
    x[:, 12:16, 12:16] = np.arange(1, 13, dtype=np.uint8)[:, None, None]  # the value says which image it is
    y = np.arange(12) % 10

    def epochs(seed: int, count: int = 2) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        data = models.batches("course-cnn", x, y, batch_size=4, shuffle_seed=seed, shift_pixels=2)
        drawn = []
        for _ in range(count):
            drawn.append([(np.asarray(data[i][0]), np.asarray(data[i][1])) for i in range(len(data))])
            data.on_epoch_end()  # what Keras' fit calls after each epoch of a PyDataset
        return drawn

    first, again = epochs(7), epochs(7)
    for run_a, run_b in zip(first, again):
        for (xa, ya), (xb, yb) in zip(run_a, run_b):
            assert (xa == xb).all() and (ya == yb).all()  # the same seed gives the same shifts
    where = [np.argwhere(images[..., 0] > 0)[:, 1:].min(axis=0) for images, _ in first[0]]
    assert any((w != (12, 12)).any() for w in where)  # the squares moved
    for images, labels in first[0]:
        ids = np.rint(images.max(axis=(1, 2, 3)) * 255).astype(int) - 1
        assert (y[ids] == labels).all()  # labels travel with their images
        assert np.allclose(images.sum(axis=(1, 2, 3)) * 255, 16 * (ids + 1), atol=1e-3)  # the square is whole
    top_lefts = [
        sorted(map(tuple, np.array([np.argwhere(im[..., 0] > 0).min(axis=0) for im in images]).tolist()))
        for images, _ in first[0] + first[1]
    ]
    assert top_lefts[:3] != top_lefts[3:]  # the second epoch draws new shifts
