"""The clickable confusion matrix: counts on the buttons, colours, and a click showing exactly that cell's digits."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mnist_course.evaluation import confusion_matrix
from mnist_course.widgets.confusion import ConfusionMatrix, cell_colour, cell_indices
from mnist_course.widgets.render import text_colour


@pytest.fixture(scope="module")
def labels():
    """500 labels and predictions that are right 80 % of the time, wrong in a seeded random way otherwise."""
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 10, 500)
    y_pred = np.where(rng.random(500) < 0.8, y_true, rng.integers(0, 10, 500))
    images = rng.integers(0, 256, size=(500, 28, 28)).astype(np.uint8)
    return images, y_true, y_pred


def shown_in_gallery(matrix: ConfusionMatrix) -> list[int]:
    return [int(i) for i in re.findall(r"<figcaption>#(\d+)</figcaption>", matrix.gallery.value)]


def test_counts_match_a_plain_loop(labels):
    _, y_true, y_pred = labels
    expected = np.zeros((10, 10), dtype=int)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    assert np.array_equal(confusion_matrix(y_true, y_pred), expected)
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix(y_true, y_pred[:-1])


def test_the_buttons_show_the_counts_and_are_coloured_by_them(labels):
    images, y_true, y_pred = labels
    matrix = ConfusionMatrix(images, y_true, y_pred)
    counts = confusion_matrix(y_true, y_pred)
    assert [[b.description for b in row] for row in matrix.buttons] == counts.astype(str).tolist()
    assert len(matrix.grid.children) == 11 * 11  # a header row and column around the 10x10 cells
    zero = np.argwhere(counts == 0)[0]
    assert matrix.buttons[zero[0]][zero[1]].style.button_color == "#ffffff"
    diagonal = [matrix.buttons[i][i].style.button_color for i in range(10)]
    wrong = matrix.buttons[3][5].style.button_color if counts[3, 5] else matrix.buttons[5][3].style.button_color
    assert all(int(c[3:5], 16) > int(c[1:3], 16) for c in diagonal)  # green dominates on the diagonal
    assert int(wrong[1:3], 16) > int(wrong[3:5], 16)  # red off it
    assert cell_colour(10, 10, True) != cell_colour(1, 10, True)  # more examples, a different shade


@pytest.mark.parametrize("cell", [(3, 3), (3, 5), (7, 1), (0, 9)])
def test_clicking_a_cell_shows_exactly_its_digits(labels, cell):
    images, y_true, y_pred = labels
    matrix = ConfusionMatrix(images, y_true, y_pred)
    i, j = cell
    matrix.buttons[i][j].click()
    expected = [k for k in range(len(y_true)) if y_true[k] == i and y_pred[k] == j]
    assert matrix.selected == (i, j)
    assert matrix.shown_indices.tolist() == expected
    assert shown_in_gallery(matrix) == expected
    assert f"true {i}, predicted {j}" in matrix.caption.value
    assert (
        (f"{len(expected)} digits" in matrix.caption.value) if expected else ("no digit here" in matrix.caption.value)
    )


def test_every_cell_of_a_real_sized_matrix(labels):
    images, y_true, y_pred = labels
    matrix = ConfusionMatrix(images, y_true, y_pred, max_gallery=1000)
    seen = []
    for i in range(10):
        for j in range(10):
            matrix.buttons[i][j].click()
            assert all(y_true[k] == i and y_pred[k] == j for k in matrix.shown_indices)
            seen += matrix.shown_indices.tolist()
    assert sorted(seen) == list(range(len(y_true)))  # every example in exactly one cell


def test_a_big_cell_is_cut_to_max_gallery_and_says_so(labels):
    images, y_true, y_pred = labels
    matrix = ConfusionMatrix(images, y_true, y_pred, max_gallery=5)
    every = matrix.select(2, 2)
    assert len(every) > 5 and matrix.shown_indices.tolist() == every[:5].tolist()
    assert shown_in_gallery(matrix) == every[:5].tolist()
    assert f"{len(every)} digits" in matrix.caption.value and "showing the first 5" in matrix.caption.value
    assert cell_indices(y_true, y_pred, 2, 2).tolist() == every.tolist()


def test_counts_are_written_in_the_colour_that_reads_best_on_their_cell():
    # WCAG contrast: black on white is 21:1; on the deepest red (#d62728) white gives 5.0:1, black 4.2:1
    assert text_colour("#ffffff") == "#000000" and text_colour("#000000") == "#ffffff"
    assert text_colour(cell_colour(10, 10, correct=False)) == "#ffffff"
    assert text_colour(cell_colour(1, 10, correct=False)) == "#000000"


def test_the_stored_output_carries_the_matrix_as_a_picture(labels):
    """Before any click the buttons hold no image: the output's PNG is the matrix figure itself."""
    import base64
    import io

    import matplotlib.image

    images, y_true, y_pred = labels
    bundle = ConfusionMatrix(images, y_true, y_pred)._repr_mimebundle_()
    picture = matplotlib.image.imread(io.BytesIO(base64.b64decode(bundle["image/png"])), format="png")
    assert picture.shape[0] > 200 and picture.shape[1] > 200
    assert bundle["text/plain"].startswith("ConfusionMatrix: an interactive widget")
