"""Malformed messages from the draw pad's front end are ignored with a logged warning, never raised, and the pad keeps
its last good drawing; malformed strokes from Python code raise a clear error instead."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import traitlets

from mnist_course.lessons.playground import MAX_POINTS, MAX_STROKES, mnist_preprocess, strokes_to_image
from mnist_course.widgets.draw_canvas import ESM
from mnist_course.widgets.draw_pad import DrawPad

LOGGER = "mnist_course.widgets.draw_canvas"
ONE = [[[140, 40], [140, 240]]]
NAN, INF = math.nan, math.inf

MALFORMED_STROKES = {
    "a string": "abc",
    "a number": 5,
    "null": None,
    "a dict": {"x": 1},
    "numbers, not strokes": [1, 2],
    "a string stroke": [[[1, 2]], "xy"],
    "a point of three": [[[1, 2, 3]]],
    "a point of one": [[[1]]],
    "string coordinates": [[["1", "2"]]],
    "boolean coordinates": [[[True, False]]],
    "null coordinate": [[[1, None]]],
    "a point as a dict": [[{"x": 1, "y": 2}]],
    "NaN x": [[[NAN, 100]]],
    "NaN y in a long stroke": [[[140, 40], [140, 100], [140, NAN]]],
    "infinite": [[[INF, 100], [100, 100]]],
    "minus infinite": [[[100, -INF]]],
    "absurd coordinate": [[[1e300, 0], [0, 0]]],
    "millions of points": [[[140.0, 40.0]] * 2_000_000],
    "one point too many": [[[140.0, 40.0]] * (MAX_POINTS + 1)],
    "millions of strokes": [[[140.0, 40.0]]] * 2_000_000,
    "too many empty strokes": [[]] * (MAX_STROKES + 1),
}


@pytest.fixture(scope="module")
def model():
    """A small untrained dense model: these tests are about messages, not about recognising digits."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])


def drawn_pad(model) -> DrawPad:
    """A pad on which the browser has drawn a 1 and lifted the pen."""
    pad = DrawPad(model)
    pad.canvas.set_state({"strokes": ONE, "drawing": False})
    assert pad.strokes == [[(140.0, 40.0), (140.0, 240.0)]] and pad.predicted is not None
    return pad


def snapshot(pad: DrawPad) -> tuple:
    return (
        pad.canvas.strokes,
        pad.drawing,
        pad.predicted,
        pad.probabilities.copy(),
        pad.image28.copy(),
        pad.prediction.value,
        bytes(pad.final_image.value),
    )


def assert_same(before: tuple, after: tuple) -> None:
    for a, b in zip(before, after, strict=True):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


def warnings_from_canvas(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


@pytest.mark.parametrize("payload", list(MALFORMED_STROKES.values()), ids=list(MALFORMED_STROKES))
def test_malformed_strokes_from_the_browser_are_ignored_with_a_warning(model, payload, caplog):
    pad = drawn_pad(model)
    before = snapshot(pad)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        pad.canvas.set_state({"strokes": payload, "drawing": False})  # what a comm "update" message calls
        pad.canvas.set_state({"strokes": payload, "drawing": True})  # pen down: the live refresh path
        pad.canvas.set_state({"strokes": payload})
    assert_same(before[:1] + before[2:], snapshot(pad)[:1] + snapshot(pad)[2:])  # drawing was allowed to change
    messages = warnings_from_canvas(caplog)
    assert len(messages) == 3 and all("ignored the strokes" in m and "\n" not in m for m in messages), messages


@pytest.mark.parametrize("payload", list(MALFORMED_STROKES.values())[:13:4], ids=list(MALFORMED_STROKES)[:13:4])
def test_through_the_comm_handler_nothing_is_raised_or_logged_as_an_exception(model, payload, caplog):
    """ipywidgets turns an exception in a message handler into a logged traceback: there must be none."""
    pad = drawn_pad(model)
    before = snapshot(pad)
    with caplog.at_level(logging.WARNING):
        pad.canvas._handle_msg(
            {"content": {"data": {"method": "update", "state": {"strokes": payload, "drawing": False}}}, "buffers": []}
        )
    assert_same(before, snapshot(pad))
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert len(warnings_from_canvas(caplog)) == 1


@pytest.mark.parametrize(
    "state",
    [{"drawing": "yes"}, {"drawing": None}, {"drawing": 1}, {"size": "big"}, {"pen_width": [1, 2]}],
    ids=["drawing_str", "drawing_null", "drawing_int", "size", "pen_width"],
)
def test_other_malformed_traits_are_ignored_with_a_warning(model, state, caplog):
    pad = drawn_pad(model)
    before = snapshot(pad)
    size, pen = pad.canvas.size, pad.canvas.pen_width
    with caplog.at_level(logging.WARNING):
        pad.canvas.set_state(state)
    assert_same(before, snapshot(pad))
    assert (pad.canvas.size, pad.canvas.pen_width) == (size, pen)
    assert len(warnings_from_canvas(caplog)) == 1


@pytest.mark.parametrize("state", [[1, 2], "strokes", None], ids=["list", "str", "null"])
def test_a_state_that_is_not_a_dict_is_ignored_with_a_warning(model, state, caplog):
    pad = drawn_pad(model)
    before = snapshot(pad)
    with caplog.at_level(logging.WARNING):
        pad.canvas.set_state(state)
    assert_same(before, snapshot(pad))
    assert ["not a dict" in m for m in warnings_from_canvas(caplog)] == [True]


def test_a_bad_message_keeps_the_good_pen_up_and_the_next_good_message_is_drawn(model, caplog):
    pad = DrawPad(model, live_interval=3600.0)
    pad.canvas.set_state({"strokes": ONE, "drawing": True})
    with caplog.at_level(logging.WARNING):
        pad.canvas.set_state({"strokes": [[[140, 40], [NAN, 240]]], "drawing": False})  # pen up, bad strokes
    assert not pad.drawing and pad.canvas.strokes == [[[140.0, 40.0], [140.0, 240.0]]]
    assert np.array_equal(pad.image28, mnist_preprocess(strokes_to_image(ONE)))
    seven = [[[70, 50], [210, 50], [120, 240]]]
    pad.canvas.set_state({"strokes": seven, "drawing": False})
    assert np.array_equal(pad.image28, mnist_preprocess(strokes_to_image(seven)))
    assert len(warnings_from_canvas(caplog)) == 1


def test_the_most_points_allowed_are_accepted_from_the_browser(model, caplog):
    pad = DrawPad(model)
    stroke = [[140.0, 40.0 + 200.0 * i / (MAX_POINTS - 1)] for i in range(MAX_POINTS)]
    with caplog.at_level(logging.WARNING):
        pad.canvas.set_state({"strokes": [stroke], "drawing": False})
    assert len(pad.strokes[0]) == MAX_POINTS and pad.predicted is not None and not warnings_from_canvas(caplog)


def test_malformed_strokes_from_python_raise_a_clear_error_and_change_nothing(model):
    pad = drawn_pad(model)
    before = snapshot(pad)
    with pytest.raises(ValueError, match="finite numbers"):
        pad.set_strokes([[(140, 40), (NAN, 240)]])
    with pytest.raises(ValueError, match="finite numbers"):
        pad.start_stroke(INF, 3)
    with pytest.raises(traitlets.TraitError, match=r"point 0 of stroke 0 must be an \(x, y\) pair"):
        pad.canvas.strokes = [[["a", 1]]]
    assert_same(before, snapshot(pad))


def test_a_canvas_covered_in_ink_gets_a_message_instead_of_a_prediction(model):
    pad = DrawPad(model)
    zigzag = [[(0, y), (280, y)] for y in range(0, 281, 14)]  # the pen of 18 pixels leaves no gap
    pad.set_strokes(zigzag)
    assert pad.predicted is None and pad.probabilities is None and "covers most of the box" in pad.prediction.value
    assert not pad.image28.any() and bytes(pad.final_image.value) == b""
    pad.set_strokes(ONE)
    assert pad.predicted is not None and "prediction: <b>" in pad.prediction.value


def test_the_front_end_stops_at_the_limits_python_accepts():
    assert f"const MAX_POINTS = {MAX_POINTS}, MAX_STROKES = {MAX_STROKES};" in ESM and "__MAX" not in ESM
    assert ESM.count("if (count >= MAX_POINTS") == 2
