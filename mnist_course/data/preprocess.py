"""The preprocessing steps the notebooks teach: reshape, scale, one-hot, a validation split and quick subsets."""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 10


def flatten(x: np.ndarray) -> np.ndarray:
    """(N, 28, 28[, 1]) images -> (N, 784) vectors for a dense network; each row is one image, row by row."""
    x = np.asarray(x)
    return x.reshape(len(x), -1)


def scale(x: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 in [0, 1]; refuses anything else (float input was probably scaled already)."""
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"scale() expects uint8 pixels 0..255, got {x.dtype}: was it scaled already?")
    return to_model_input(x)


def to_model_input(x: np.ndarray) -> np.ndarray:
    """Pixels as a model takes them: integer pixels (any integer dtype, 0..255) / 255 as float32; float input is
    taken as already scaled and only cast to float32. The one place in the course that scales pixels."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
        return x.astype(np.float32) / np.float32(255.0)
    return x.astype(np.float32, copy=False)


def class_ids(y: np.ndarray) -> np.ndarray:
    """Labels as class ids (N,) int64: one-hot or probability rows (N, classes) -> their argmax; ids pass through."""
    y = np.asarray(y)
    if y.ndim == 2:
        return y.argmax(axis=1).astype(np.int64)
    if y.ndim != 1:
        raise ValueError(f"expected labels of shape (N,) or one-hot rows (N, {NUM_CLASSES}), got {y.shape}")
    return y.astype(np.int64, copy=False)


def add_channel(x: np.ndarray) -> np.ndarray:
    """(N, 28, 28) -> (N, 28, 28, 1): one grey channel, channels last, as Keras' Conv2D expects."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"add_channel() expects (N, height, width) images, got shape {x.shape}")
    return x[..., np.newaxis]


def one_hot(y: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Integer labels (N,) -> one-hot float32 rows (N, num_classes) with ``keras.utils.to_categorical``."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot() expects integer labels of shape (N,), got {y.shape}: already one-hot?")
    import keras  # imported here so that loading data does not start TensorFlow

    return keras.utils.to_categorical(y, num_classes).astype(np.float32)


def _stratified_pick(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` samples whose class proportions follow ``y`` (largest remainders get the rounding)."""
    classes, counts = np.unique(y, return_counts=True)
    exact = counts * (n / len(y))
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[: n - take.sum()]:
        take[i] += 1
    picked = [rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c, k in zip(classes, take)]
    return np.sort(np.concatenate(picked))


def subset(x: np.ndarray, y: np.ndarray, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A stratified, seeded sample of ``n`` examples, kept in their original order (same seed, same sample)."""
    if not 0 < n <= len(y):
        raise ValueError(f"subset size n={n} must be between 1 and {len(y)}")
    if n == len(y):
        return x, y
    idx = _stratified_pick(np.asarray(y), n, np.random.default_rng(seed))
    return x[idx], y[idx]


def train_val_split(
    x: np.ndarray, y: np.ndarray, *, val_size: float | int = 0.1, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Hold out a stratified, seeded validation set from the *training* data: ``(x_tr, y_tr), (x_val, y_val)``.

    ``val_size`` is a fraction (0.1) or a count (5000). The test set is never touched: it stays for the end.
    """
    n_val = int(round(val_size * len(y))) if isinstance(val_size, float) else int(val_size)
    if not 0 < n_val < len(y):
        raise ValueError(f"val_size={val_size} leaves no training or no validation data")
    val_idx = _stratified_pick(np.asarray(y), n_val, np.random.default_rng(seed))
    mask = np.ones(len(y), dtype=bool)
    mask[val_idx] = False
    return (x[mask], y[mask]), (x[val_idx], y[val_idx])
