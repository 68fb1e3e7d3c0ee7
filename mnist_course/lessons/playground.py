"""Turning a drawing into an MNIST-like 28x28 input (pure NumPy): strokes -> pixels -> 20x20 fit -> centre of mass."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Point = tuple[float, float]
BOX = 20  # MNIST digits were fitted into a 20x20 box, aspect ratio kept...
SIZE = 28  # ...then placed in a 28x28 image...
CENTRE = 14.0  # ...so that their centre of mass sits here (row, column): the mean over real MNIST is (14.0, 14.0)
MAX_POINTS = 10_000  # points in one drawing (about 0.4 s to rasterise); a person draws a digit in a few hundred
MAX_STROKES = 1_000
MAX_COORDINATE = 1e6  # farther points are absurd, and their squared distances overflow
FAINT = 64  # ink whose brightest pixel is below this is refused: every real MNIST digit reaches 254 or 255
RESCALE = "rescale it to 0..1 with (image - image.min()) / (image.max() - image.min())"


def _short(value: object) -> str:
    """``repr(value)`` cut to 40 characters, for error messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_sequence(value: object) -> bool:
    return isinstance(value, np.ndarray) or (isinstance(value, Sequence) and not isinstance(value, (str, bytes)))


def _coordinate(value: object) -> float | None:
    """``value`` as a float when it is a real number (not a bool) within MAX_COORDINATE, else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if abs(number) <= MAX_COORDINATE else None  # NaN fails the comparison too


def check_strokes(strokes: object, max_points: int = MAX_POINTS) -> list[list[Point]]:
    """``strokes`` as lists of (x, y) float pairs, or a one-sentence ValueError saying what is wrong: it must be a
    list of at most MAX_STROKES strokes, each a list of (x, y) pairs of finite numbers within +-MAX_COORDINATE,
    ``max_points`` points in all."""
    example = "e.g. [[(10, 20), (30, 40)]] for one stroke of two points"
    if not _is_sequence(strokes):
        raise ValueError(f"strokes must be a list of strokes, got {_short(strokes)}: {example}")
    if len(strokes) > MAX_STROKES:
        raise ValueError(f"got {len(strokes)} strokes, more than MAX_STROKES = {MAX_STROKES}: draw fewer strokes")
    checked: list[list[Point]] = []
    count = 0
    for i, stroke in enumerate(strokes):
        if not _is_sequence(stroke):
            raise ValueError(f"stroke {i} must be a list of (x, y) points, got {_short(stroke)}: {example}")
        count += len(stroke)
        if count > max_points:
            raise ValueError(f"the strokes hold more than {max_points} points (MAX_POINTS): draw with fewer points")
        points: list[Point] = []
        for j, point in enumerate(stroke):
            xy = [_coordinate(v) for v in point] if _is_sequence(point) and len(point) == 2 else [None]
            if None in xy:
                raise ValueError(
                    f"point {j} of stroke {i} must be an (x, y) pair of finite numbers within +-{MAX_COORDINATE:g}, "
                    f"got {_short(point)}: {example}"
                )
            points.append((xy[0], xy[1]))
        checked.append(points)
    return checked


def strokes_to_image(strokes: Sequence[Sequence[Point]], size: int = 280, width: float = 18.0) -> np.ndarray:
    """Rasterise strokes (lists of (x, y) canvas points) into a ``size`` x ``size`` uint8 image, ink = 255.

    Each stroke is a polyline with round ends and joins, ``width`` pixels thick, with a one-pixel anti-aliased edge;
    a stroke of a single point is a dot. Background is 0, like MNIST. Malformed strokes raise a ValueError (see
    :func:`check_strokes`).
    """
    ink = np.zeros((size, size), dtype=np.float32)
    radius = width / 2.0
    pad = int(np.ceil(radius + 1))
    for stroke in check_strokes(strokes):
        pts = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            continue
        segments = itertools.pairwise(pts) if len(pts) > 1 else [(pts[0], pts[0])]
        for a, b in segments:
            x0, x1 = int(max(min(a[0], b[0]) - pad, 0)), int(min(max(a[0], b[0]) + pad + 1, size))
            y0, y1 = int(max(min(a[1], b[1]) - pad, 0)), int(min(max(a[1], b[1]) + pad + 1, size))
            if x0 >= x1 or y0 >= y1:
                continue
            ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
            dist = _distance_to_segment(xs + 0.5, ys + 0.5, a, b)
            cover = np.clip(radius + 0.5 - dist, 0.0, 1.0)
            np.maximum(ink[y0:y1, x0:x1], cover, out=ink[y0:y1, x0:x1])
    return np.round(ink * 255).astype(np.uint8)


def _distance_to_segment(xs: np.ndarray, ys: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of every point (xs, ys) to the segment a-b."""
    d = b - a
    length2 = float(d @ d)
    t = 0.0 if length2 == 0 else np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / length2, 0.0, 1.0)
    return np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))


def bounding_box(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the ink (pixels > 0), bottom/right exclusive; None for an empty image."""
    rows, cols = np.flatnonzero(np.asarray(image).any(axis=1)), np.flatnonzero(np.asarray(image).any(axis=0))
    if len(rows) == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, pixel (i, j) being at (i, j); the image centre for no ink."""
    image = np.asarray(image, dtype=np.float64)
    total = image.sum()
    if total == 0:
        return (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2
    rows, cols = np.arange(image.shape[0]), np.arange(image.shape[1])
    return float(image.sum(axis=1) @ rows / total), float(image.sum(axis=0) @ cols / total)


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix averaging the input cells each output cell covers (exact box filter, any ratio)."""
    edges_in, edges_out = np.arange(n_in + 1), np.linspace(0, n_in, n_out + 1)
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    overlap = np.clip(hi - lo, 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a grey image to ``height`` x ``width`` by area averaging (anti-aliased, like shrinking on paper)."""
    image = np.asarray(image, dtype=np.float64)
    return _area_weights(image.shape[0], height) @ image @ _area_weights(image.shape[1], width).T


def _looks_inverted(image: np.ndarray) -> bool:
    """Whether a 0..255 image looks like dark ink on a light background: most of its border and its median bright."""
    border = np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])
    return bool(np.mean(border >= 128) > 0.5 and np.median(image) >= 128)


def check_image(image: object) -> np.ndarray:
    """A grey drawing as the uint8 0..255 image, light ink on black, that :func:`preprocess_steps` works on.

    Accepted: integers 0..255 (uint8 or any integer type), floats in [0, 1] (scaled by 255 and rounded) and
    whole-valued floats 0..255. Refused with a one-sentence ValueError saying how to convert: booleans, NaN or
    infinite pixels, values below 0 or above 255, fractional floats above 1, a 0/1 integer mask, ink whose brightest
    pixel is below FAINT (64) of 255, not exactly two dimensions, an empty image, and dark ink on a light background
    (most of the border and the median >= 128). A blank image (all 0) is accepted: it has no ink to preprocess.
    """
    try:
        array = np.asarray(image)
    except (TypeError, ValueError) as error:
        raise ValueError(f"could not read the image as one NumPy array ({error}): pass a 2-D array of pixels") from None
    if array.ndim != 2:
        raise ValueError(
            f"expected one 2-D grey image (height, width), got shape {array.shape}: drop length-1 axes with "
            "np.squeeze(image), turn colour into grey with image[..., :3].mean(axis=-1), or pass one image at a time"
        )
    if array.size == 0:
        raise ValueError(f"got an empty image of shape {array.shape}: pass a drawing with at least one pixel")
    if array.dtype.kind == "b":
        raise ValueError("got a boolean image: convert it with image.astype(np.uint8) * 255 so that ink is 255")
    if array.dtype.kind not in "iuf":
        raise ValueError(f"got pixels of dtype {array.dtype}: pass numbers, uint8 0..255 or float 0..1")
    bad = int(np.count_nonzero(~np.isfinite(array))) if array.dtype.kind == "f" else 0
    if bad:
        raise ValueError(
            f"got {bad} NaN or infinite pixels: replace them first, e.g. np.where(np.isfinite(image), image, 0)"
        )
    low, high = array.min(), array.max()
    if low < 0:
        raise ValueError(f"got negative pixels (down to {low:g}), pixels are 0..255 or 0..1: {RESCALE}")
    if high > 255:
        raise ValueError(f"got pixels up to {high:g}, above 255, pixels are 0..255 or 0..1: {RESCALE}")
    if array.dtype.kind == "f" and high <= 1:
        pixels = np.round(array * 255.0).astype(np.uint8)
    elif array.dtype.kind == "f" and not np.array_equal(array, np.round(array)):
        raise ValueError(
            f"got float pixels up to {high:g} that are not whole numbers, neither 0..1 nor 0..255: divide by 255 "
            f"if they are 0..255 (image / 255), or {RESCALE}"
        )
    elif high == 1:
        raise ValueError("got integer pixels of 0 and 1 only, a mask: multiply by 255 (image.astype(np.uint8) * 255)")
    else:
        pixels = array.astype(np.uint8, copy=False)
    if 0 < pixels.max() < FAINT:
        raise ValueError(
            f"the brightest pixel is {pixels.max()} of 255, too faint for an MNIST model whose digits reach 255: "
            "stretch it to 0..1 with image / image.max()"
        )
    if _looks_inverted(pixels):
        raise ValueError(
            f"the image looks like dark ink on a light background (bright border, median {np.median(pixels):g}) "
            "but MNIST digits are light ink on black: invert it with 255 - image (1 - image for floats in 0..1)"
        )
    return pixels


@dataclass
class PreprocessSteps:
    """Every stage of :func:`mnist_preprocess`, for showing the student: the crop of the ink, the digit fitted
    into the 20x20 box, and the final 28x28 input; plus where the centre of mass was and how far it moved."""

    crop: np.ndarray
    box: np.ndarray
    final: np.ndarray
    centre_before: tuple[float, float]
    shift: tuple[int, int]


def preprocess_steps(image: np.ndarray) -> PreprocessSteps:
    """MNIST's own recipe, step by step: crop to the ink, scale the longer side to 20 pixels keeping the aspect
    ratio (area averaging gives grey edges), paste into 28x28 and shift by whole pixels so that the centre of mass
    lands on (14, 14), without pushing ink off the image. An empty image (no ink) gives empty steps; the input rules
    and the ValueErrors for anything else are those of :func:`check_image`."""
    image = check_image(image)
    box_rect = bounding_box(image)
    if box_rect is None:
        empty = np.zeros((SIZE, SIZE), dtype=np.uint8)
        return PreprocessSteps(
            np.zeros((0, 0), np.uint8), np.zeros((BOX, BOX), np.uint8), empty, (CENTRE, CENTRE), (0, 0)
        )
    top, bottom, left, right = box_rect
    crop = image[top:bottom, left:right]
    h, w = crop.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    fitted = np.clip(np.round(resize_area(crop, new_h, new_w)), 0, 255).astype(np.uint8)
    box = np.zeros((BOX, BOX), dtype=np.uint8)
    oy, ox = (BOX - new_h) // 2, (BOX - new_w) // 2
    box[oy : oy + new_h, ox : ox + new_w] = fitted
    cy, cx = centre_of_mass(fitted)
    row = int(np.clip(round(CENTRE - cy), 0, SIZE - new_h))
    col = int(np.clip(round(CENTRE - cx), 0, SIZE - new_w))
    final = np.zeros((SIZE, SIZE), dtype=np.uint8)
    final[row : row + new_h, col : col + new_w] = fitted
    before = (cy + (SIZE - BOX) // 2 + oy, cx + (SIZE - BOX) // 2 + ox)  # as if the box sat in the middle
    shift = (row - (SIZE - BOX) // 2 - oy, col - (SIZE - BOX) // 2 - ox)
    return PreprocessSteps(crop.astype(np.uint8), box, final, (round(before[0], 2), round(before[1], 2)), shift)


def mnist_preprocess(image: np.ndarray) -> np.ndarray:
    """A drawing (any size, light ink > 0 on black) -> the (28, 28) uint8 input an MNIST model expects (see
    ``preprocess_steps``; the accepted inputs are those of ``check_image``)."""
    return preprocess_steps(image).final


__all__ = [
    "BOX",
    "CENTRE",
    "MAX_COORDINATE",
    "MAX_POINTS",
    "MAX_STROKES",
    "SIZE",
    "PreprocessSteps",
    "bounding_box",
    "centre_of_mass",
    "check_image",
    "check_strokes",
    "mnist_preprocess",
    "preprocess_steps",
    "resize_area",
    "strokes_to_image",
]
