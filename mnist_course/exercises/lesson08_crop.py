"""The crop to the ink, exercise 8.3 before the thickening: no notebook uses it now; the grading guard's tests use it
as their example of a check (``check.crop_to_ink``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback


def _ink_case() -> np.ndarray:
    """A 12 x 15 drawing whose first row and last column of ink are pale anti-aliased grey."""
    image = np.zeros((12, 15), dtype=np.uint8)
    image[4:9, 3:10] = 255
    image[3, 4:9] = 60  # a grey top edge
    image[5:8, 10] = 30  # a grey right edge
    return image


def _crop_hint(answer: np.ndarray, image: np.ndarray) -> str:
    def crop(ink: np.ndarray) -> np.ndarray:
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    if answer.ndim == 1 and len(answer) == 4:
        return "return the cropped image, image[top:bottom, left:right], not the box."
    if np.array_equal(answer, image[rows[0] : rows[-1], cols[0] : cols[-1]]):
        return "the last ink row and column are missing: a slice's end is excluded, so stop at the last one + 1."
    if np.array_equal(answer, image[cols[0] : cols[-1] + 1, rows[0] : rows[-1] + 1]):
        return (
            "rows and columns are swapped: image.any(axis=1) says which rows hold ink (it looks along each "
            "row), image.any(axis=0) which columns do."
        )
    if np.array_equal(answer, image[rows[0] : rows[-1] + 1]):
        return "only the rows are cropped: cut the empty columns on both sides too."
    if any(np.array_equal(answer, crop(image >= t)) for t in (64, 128, 255)):
        return "ink is every pixel > 0: the grey anti-aliased edge belongs to the digit and must stay in the crop."
    return "keep the rows from the first to the last with ink, and the same for the columns: image[top:bottom, ...]."


def crop_to_ink(function: Callable[..., Any], image: np.ndarray | None = None) -> Feedback:
    """Check ``function(image)`` returns the image cut to the bounding box of its ink (pixels > 0), on a drawing of
    its own and on ``image`` if given, compared with the crop of
    :func:`mnist_course.lessons.playground.preprocess_steps`."""
    from mnist_course.lessons.playground import preprocess_steps

    ex = "8.3"
    cases = [_ink_case()]
    if image is not None:
        cases.append(np.asarray(image))
    for case in cases:
        answer = feedback.as_array(feedback.call(function, case.copy()))
        rows, cols = np.flatnonzero(case.any(axis=1)), np.flatnonzero(case.any(axis=0))
        expected = case[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        if answer is None or answer.dtype == object:
            return feedback.wrong(ex, "return the cropped image as one NumPy array.")
        if not (np.array_equal(answer, expected) and np.array_equal(answer, preprocess_steps(case).crop)):
            return feedback.wrong(ex, _crop_hint(answer, case))
    return feedback.right(
        ex,
        "The same crop as preprocess_steps makes. Cropping forgets where the digit was drawn "
        "and how big: only its shape is left for the 20 x 20 fit.",
    )


__all__ = ["crop_to_ink"]
