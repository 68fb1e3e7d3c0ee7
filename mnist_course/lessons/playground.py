"""Turning a drawing into an MNIST-like 28x28 input (pure NumPy): strokes -> pixels -> 20x20 fit -> centre of mass."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Point = tuple[float, float]
BOX = 20  # MNIST digits were fitted into a 20x20 box, aspect ratio kept...
SIZE = 28  # ...then placed in a 28x28 image...
CENTRE = 14.0  # ...so that their centre of mass sits here (row, column): the mean over real MNIST is (14.0, 14.0)


def strokes_to_image(strokes: Sequence[Sequence[Point]], size: int = 280, width: float = 18.0) -> np.ndarray:
    """Rasterise strokes (lists of (x, y) canvas points) into a ``size`` x ``size`` uint8 image, ink = 255.

    Each stroke is a polyline with round ends and joins, ``width`` pixels thick, with a one-pixel anti-aliased edge;
    a stroke of a single point is a dot. Background is 0, like MNIST.
    """
    ink = np.zeros((size, size), dtype=np.float32)
    radius = width / 2.0
    pad = int(np.ceil(radius + 1))
    for stroke in strokes:
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
    lands on (14, 14), without pushing ink off the image. An empty image gives empty steps."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {image.shape}")
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
    """A drawing (any size, ink > 0) -> the (28, 28) uint8 input an MNIST model expects (see ``preprocess_steps``)."""
    return preprocess_steps(image).final


__all__ = [
    "BOX",
    "CENTRE",
    "SIZE",
    "PreprocessSteps",
    "bounding_box",
    "centre_of_mass",
    "mnist_preprocess",
    "preprocess_steps",
    "resize_area",
    "strokes_to_image",
]
