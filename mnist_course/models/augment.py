"""Data augmentation for training: every image moved by a few whole pixels, a different random shift each time."""

from __future__ import annotations

import numpy as np


def shift_images(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """``images`` (N, H, W) or (N, H, W, C), each moved by its own random whole-pixel offset (dy, dx), both drawn
    uniformly from ``-max_shift .. max_shift``; what moves out of the frame is lost and what comes in is 0 (black).

    MNIST digits sit in a 20 x 20 box inside their 28 x 28 frame, so a shift of up to 4 pixels keeps every stroke.
    Returns a new array of the same shape and dtype; ``max_shift=0`` returns a copy. Raises ``ValueError`` for a
    negative ``max_shift`` or one that leaves nothing of the frame."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"shift_images needs (N, H, W) or (N, H, W, C) images, got shape {images.shape}")
    n, height, width = images.shape[:3]
    if not 0 <= max_shift < min(height, width):
        raise ValueError(f"max_shift={max_shift}: choose 0 (no shift) up to {min(height, width) - 1} pixels")
    if max_shift == 0:
        return images.copy()
    s = max_shift
    pad = [(0, 0), (s, s), (s, s)] + [(0, 0)] * (images.ndim - 3)
    padded = np.pad(images, pad)
    dy, dx = rng.integers(-s, s + 1, size=(2, n))
    # output pixel (i, j) of image k is input pixel (i - dy[k], j - dx[k]): row s + i - dy[k] of the padded image
    rows = (s - dy)[:, None] + np.arange(height)[None, :]
    cols = (s - dx)[:, None] + np.arange(width)[None, :]
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


__all__ = ["shift_images"]
