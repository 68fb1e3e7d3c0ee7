"""Self-checks for the exercises of notebook 02 (preprocessing): a prediction of shape, dtype and bytes, one-hot rows
for labels that are not column numbers, standardization, a leaking split debugged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mnist_course.exercises.feedback import NO_RETURN, Feedback, as_array, call, commit, predicted, right, whole, wrong
from mnist_course.exercises.lesson02_heldout import real_cases, split_and_scale, standardize

__all__ = ["one_hot_for", "predicted_input", "split_and_scale", "standardize"]


def _as_shape(value: Any) -> tuple[int, ...] | None:
    """``value`` as a tuple of ints (a shape), or ``None`` when it is not a sequence of whole numbers."""
    if isinstance(value, (str, bytes)):
        return None
    try:
        shape = tuple(whole(n) for n in value)
    except TypeError:
        return None
    return None if None in shape else shape


def _as_dtype(value: Any) -> np.dtype | None:
    """``value`` ("float64", np.float64, np.dtype("float64")) as a NumPy dtype, or ``None`` (also for ``None``,
    which NumPy would read as float64)."""
    if value is None:
        return None
    try:
        return np.dtype(value)
    except (TypeError, ValueError):
        return None


def _shape_hint(shape: tuple[int, ...], result: np.ndarray) -> str | None:
    """Why the predicted ``shape`` did not hold (``None`` when it held)."""
    if shape == result.shape:
        return None
    if -1 in shape:
        return (
            f"shape: {shape} did not hold; -1 is not kept in the shape: NumPy replaces it with the size that makes "
            "the total fit, here the number of images."
        )
    if shape in ((100, 784), (100, 28, 28)):
        return (
            f"shape: {shape} did not hold; reshape(-1, 28, 28, 1) gives 4 axes, the last one a single grey "
            "channel, as a Conv2D layer wants."
        )
    return f"shape: {shape} did not hold; NumPy says {result.shape} (100 images, 28 x 28, one channel)."


def _dtype_hint(dtype: np.dtype, result: np.ndarray) -> str | None:
    """Why the predicted ``dtype`` did not hold (``None`` when it held)."""
    if dtype == result.dtype:
        return None
    if dtype == np.float32:
        return (
            "dtype: float32 did not hold; `/ 255` on uint8 gives float64 in NumPy, unless you convert first with "
            ".astype('float32') (see the cell 'Careful' above)."
        )
    return f"dtype: {dtype} did not hold; dividing uint8 by 255 gives {result.dtype}."


def _nbytes_hint(nbytes: int, result: np.ndarray) -> str | None:
    """Why the predicted number of bytes did not hold (``None`` when it held)."""
    if nbytes == result.nbytes:
        return None
    per_value = {result.size: 1, 4 * result.size: 4}.get(nbytes)
    if per_value:
        return (
            f"nbytes: {nbytes:,} counts {per_value} byte{'s' if per_value > 1 else ''} per value; a float64 takes "
            f"8, so {result.size:,} values take {result.nbytes:,} bytes."
        )
    return (
        f"nbytes: {nbytes:,} did not hold; nbytes = number of values x bytes per value (itemsize), here "
        f"{result.size:,} x {result.itemsize} = {result.nbytes:,}."
    )


def predicted_input(function: Callable[[], Any]) -> Feedback:
    """Check ``function() -> (shape, dtype, nbytes)``, a prediction for ``x_test[:100].reshape(-1, 28, 28, 1) / 255``,
    against what NumPy gives for it (run on the first 100 test images). The point is for the committed prediction
    (the first well-formed one checked), held or not; the verdict explains each part that did not hold."""
    ex = "2.1"
    got = call(function)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return wrong(ex, "return three things, `return shape, dtype, nbytes`, e.g. ((2, 3), 'int8', 6).")
    shape, dtype, nbytes = _as_shape(got[0]), _as_dtype(got[1]), got[2]
    if shape is None:
        return wrong(ex, f"the shape is a tuple of whole numbers, like (100, 784); yours: {got[0]!r:.40}.")
    if dtype is None:
        return wrong(ex, f"the dtype is a name like 'uint8' (or np.uint8); yours: {got[1]!r:.40}.")
    if isinstance(nbytes, (bool, np.bool_)) or not isinstance(nbytes, (int, np.integer)):
        return wrong(ex, f"the number of bytes is one whole number; yours: {nbytes!r:.40}.")
    _, _, x_test = real_cases()
    result = x_test[:100].reshape(-1, 28, 28, 1) / 255
    (shape, dtype, nbytes), changed = commit(ex, (shape, dtype, int(nbytes)))
    hints = [_shape_hint(shape, result), _dtype_hint(dtype, result), _nbytes_hint(nbytes, result)]
    truth = (
        f"NumPy gives {result.shape}, {result.dtype}, {result.nbytes:,} bytes: 8 bytes for each of the "
        f"{result.size:,} values, 8 times the uint8 images. Converting first, x.astype('float32') / 255, halves that."
    )
    if not any(hints):
        return predicted(ex, True, truth, changed)
    held = (f"shape: {shape} held.", f"dtype: {dtype} held.", f"nbytes: {nbytes:,} held.")
    parts = [hint or part for hint, part in zip(hints, held)]
    return predicted(ex, False, f"{truth} {' '.join(parts)}", changed)


LETTERS = list(range(1, 27))  # EMNIST Letters numbers its classes 1 (a) to 26 (z)
ANIMALS = ["frog", "cat", "dog", "bird"]  # classes in an order of their own, not sorted


def _one_hot_cases() -> list[tuple[str, np.ndarray, list[Any]]]:
    """(what, labels, classes): MNIST digits, letters numbered 1..26, names in a batch that lacks a class."""
    _, y_real, _ = real_cases()
    letters = np.array([1, 26, 5, 26, 13, 2], dtype=np.uint8)
    animals = np.array(["dog", "cat", "frog", "cat", "dog"])
    return [
        ("the first 100 MNIST labels, classes 0..9", y_real[:100], list(range(10))),
        (f"letters {letters.tolist()}, classes 1..26", letters, LETTERS),
        (f"names {animals.tolist()}, classes {ANIMALS}", animals, ANIMALS),
    ]


def _columns(labels: np.ndarray, classes: Sequence[Any]) -> np.ndarray:
    """The column of each label: its position in ``classes``."""
    position = {c: i for i, c in enumerate(classes)}
    return np.array([position[label] for label in labels.tolist()])


def _raised_hint(err: Exception, labels: np.ndarray, classes: Sequence[Any]) -> str:
    """The hint when the student's function raised ``err`` on valid labels."""
    if labels.dtype.kind in "US":
        return (
            f"{type(err).__name__} on names: a name cannot index an array, and np.searchsorted assumes sorted "
            "classes. Look up each label's position in classes as given, e.g. with a dict "
            "{c: i for i, c in enumerate(classes)}."
        )
    if isinstance(err, IndexError) and labels.max() >= len(classes):
        return (
            f"IndexError: label {labels.max()} has no column {labels.max()}; with classes {classes[0]}.."
            f"{classes[-1]} the columns are 0..{len(classes) - 1}. A label's column is its position in classes, "
            "not its value."
        )
    if isinstance(err, IndexError):
        return (
            f"IndexError ({str(err)[:60]}): a label's column is its position in classes, whatever its value; look "
            "it up, e.g. with a dict {c: i for i, c in enumerate(classes)}, rather than compute it from the label."
        )
    return f"your function raised {type(err).__name__}: {str(err)[:120]}"


def _rows_hint(got: np.ndarray, labels: np.ndarray, classes: Sequence[Any]) -> str | None:
    """The hint when ``got`` is not the one-hot rows of ``labels`` over ``classes`` (``None`` when it is)."""
    n, k = len(labels), len(classes)
    present = len(np.unique(labels))
    if got.shape == (n,):
        return "shape (N,): these are still labels; one-hot has one number per class for each example."
    if got.shape == (k, n):
        return "shape (number of classes, N) is transposed: one row per example, one column per class."
    if got.ndim == 2 and got.shape[0] == n and got.shape[1] == present != k:
        return (
            f"{present} columns, one per label present in the batch: the columns are all the classes, in the "
            "order of classes, even those the batch lacks, so that every batch has the same width."
        )
    widest = int(labels.max()) + 1 if labels.dtype.kind in "iu" else None
    if got.ndim == 2 and got.shape[0] == n and got.shape[1] == widest != k:
        return (
            f"{got.shape[1]} columns, np.eye(max + 1): the labels start at {classes[0]}, so a column would stay "
            "0 for every example. One column per class, at its position in classes."
        )
    if got.shape != (n, k):
        return f"expected shape ({n}, {k}): one row per label, one column per class; got {got.shape}."
    if got.dtype != np.float32:
        return f"dtype {got.dtype}: return float32, e.g. np.zeros((len(labels), len(classes)), dtype='float32')."
    if not (np.isin(got, (0, 1)).all() and np.allclose(got.sum(axis=1), 1)):
        return f"each row must hold {k - 1} zeros and a single 1."
    columns, yours = _columns(labels, classes), got.argmax(axis=1)
    if np.array_equal(yours, columns):
        return None
    if np.array_equal(yours, _columns(labels, sorted(classes))):
        return (
            "your columns follow the classes sorted (np.unique or np.searchsorted sort them): they must follow "
            f"classes in the order given, {list(classes)}."
        )
    i = int(np.flatnonzero(yours != columns)[0])
    return (
        f"row {i}: label {labels.tolist()[i]!r} belongs in column {columns[i]}, its position in classes; yours "
        f"has its 1 in column {yours[i]}."
    )


def _unknown_hint(function: Callable[..., Any]) -> str | None:
    """The hint when a label missing from the classes does not stop the function with a ValueError naming it."""
    labels = np.array(["cat", "horse"])
    try:
        got = as_array(call(function, labels, ANIMALS))
    except ValueError as err:
        return None if "horse" in str(err) else "your ValueError must name the label that is not a class: 'horse'."
    except (KeyError, IndexError, TypeError) as err:
        return (
            f"an unknown label raised {type(err).__name__}: raise ValueError instead, naming the label, e.g. "
            "ValueError(f'label {label!r} is not one of the classes')."
        )
    if got is not None and got.ndim == 2 and len(got) == 2 and not got[1].any():
        return (
            "'horse' is not one of the classes and became a row of zeros, silently: a model would train on a "
            "target that names no class. Raise a ValueError that names the label."
        )
    return "'horse' is not one of the classes, yet no error: raise a ValueError that names the label."


def one_hot_for(function: Callable[[np.ndarray, Sequence[Any]], Any]) -> Feedback:
    """Check ``function(labels, classes)`` -> float32 one-hot rows (N, len(classes)), each label's 1 in the column
    of its position in ``classes``, and a ``ValueError`` naming a label that is not a class."""
    ex = "2.2"
    for what, labels, classes in _one_hot_cases():
        try:
            got = call(function, labels.copy(), list(classes))
        except (IndexError, KeyError, TypeError, ValueError) as err:
            return wrong(ex, f"on {what}: {_raised_hint(err, labels, classes)}")
        if got is None:
            return wrong(ex, NO_RETURN)
        array = as_array(got)
        if array is None or array.dtype == object:
            return wrong(ex, "return one NumPy array of shape (number of labels, number of classes).")
        hint = _rows_hint(array, labels, classes)
        if hint:
            return wrong(ex, f"on {what}: {hint}")
    hint = _unknown_hint(function)
    if hint:
        return wrong(ex, hint)
    return right(
        ex,
        "a label's column is its position in classes, not its value: the letters 1..26 land in columns 0..25, "
        "a batch without 'bird' still has its column, so every batch has the same width, and 'horse' stops "
        "with your ValueError instead of becoming a row of zeros.",
    )
