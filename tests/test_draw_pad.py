"""The draw-a-digit widget without a browser: canvas state in (as the front end sends it), preprocessing steps,
prediction and maps out."""

from __future__ import annotations

import base64
import io
import re

import matplotlib.image
import numpy as np
import pytest

from mnist_course.lessons.playground import mnist_preprocess, strokes_to_image
from mnist_course.predict import probabilities
from mnist_course.widgets.draw_canvas import DrawCanvas
from mnist_course.widgets.draw_pad import DrawPad, bars_html, maps_mosaic

ANGLES = np.linspace(0, 2 * np.pi, 40)
ONE = [[(140, 40), (140, 240)]]
ZERO = [[(140 + 60 * np.cos(a), 140 + 95 * np.sin(a)) for a in ANGLES]]


@pytest.fixture(scope="module")
def cnn(real_arrays):
    """A small CNN trained for a few seconds on 10 000 real MNIST digits."""
    import keras

    keras.utils.set_random_seed(0)
    x, y = real_arrays["x_train"][:10000, :, :, None] / 255.0, real_arrays["y_train"][:10000]
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(8, 3, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=128, verbose=0)
    return model


def from_browser(pad: DrawPad, **state) -> None:
    """Deliver a state update to the canvas as the browser's anywidget front end does (a comm "update" message)."""
    pad.canvas._handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})


def draw_in_browser(pad: DrawPad, strokes) -> None:
    """What the front end sends while a person draws: the strokes so far as the pen moves, then pen up."""
    done: list = []
    for stroke in strokes:
        for n in range(1, len(stroke) + 1):
            from_browser(pad, strokes=[*done, [list(p) for p in stroke[:n]]], drawing=True)
        done.append([list(p) for p in stroke])
        from_browser(pad, strokes=done, drawing=False)


def shown_percentages(html: str) -> list[float]:
    return [float(v) for v in re.findall(r"([0-9.]+) %</span></div>", html)]


def test_a_new_pad_asks_for_a_drawing(cnn):
    pad = DrawPad(cnn)
    assert pad.strokes == [] and pad.probabilities is None and pad.predicted is None
    assert "draw a digit" in pad.prediction.value
    assert shown_percentages(pad.bars.value) == [0.0] * 10
    assert list(pad.layer.options) == [("convolution 1", "conv1"), ("max pooling 1", "pool1")]
    assert not pad.layer.disabled
    assert isinstance(pad.canvas, DrawCanvas) and (pad.canvas.size, pad.canvas.pen_width) == (280, 18.0)
    bundle = pad._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == pad.widget.model_id
    # before anything is drawn the stored picture is the empty pad beside the bars (GitHub shows it)
    picture = matplotlib.image.imread(io.BytesIO(base64.b64decode(bundle["image/png"])), format="png")
    assert picture.shape[0] > 100 and picture.shape[1] > 300


def test_drawing_in_the_browser_predicts_and_changing_the_drawing_changes_the_prediction(cnn):
    pad = DrawPad(cnn)
    draw_in_browser(pad, ONE)
    assert pad.strokes == [[(140.0, 40.0), (140.0, 240.0)]] and not pad.drawing
    assert pad.predicted == 1
    assert "prediction: <b>1</b>" in pad.prediction.value
    first_bars = shown_percentages(pad.bars.value)
    assert first_bars == pytest.approx(list(100 * pad.probabilities), abs=0.05)
    expected = probabilities(cnn, mnist_preprocess(strokes_to_image(ONE)))[0]
    assert np.allclose(pad.probabilities, expected, atol=1e-6)
    assert np.array_equal(pad.image28, mnist_preprocess(strokes_to_image(ONE)))

    pad.clear_button.click()
    assert pad.strokes == [] and pad.canvas.strokes == [] and pad.predicted is None
    assert "draw a digit" in pad.prediction.value and shown_percentages(pad.bars.value) == [0.0] * 10

    draw_in_browser(pad, ZERO)
    assert pad.predicted == 0 and "prediction: <b>0</b>" in pad.prediction.value
    assert shown_percentages(pad.bars.value) != first_bars


def test_setting_the_strokes_trait_from_python_updates_the_bars(cnn):
    pad = DrawPad(cnn)
    pad.canvas.strokes = [[list(p) for p in ONE[0]]]  # what set_strokes and the browser both do
    assert pad.predicted == 1 and shown_percentages(pad.bars.value) == pytest.approx(
        list(100 * pad.probabilities), abs=0.05
    )
    pad.set_strokes(ZERO)
    assert pad.predicted == 0 and pad.canvas.strokes == [[[float(x), float(y)] for x, y in ZERO[0]]]


def test_the_pen_moved_from_code_draws_too(cnn):
    pad = DrawPad(cnn)
    pad.start_stroke(140, 40)
    pad.extend_stroke(140, 140)
    pad.extend_stroke(140, 240)
    assert pad.drawing and pad.canvas.drawing
    pad.end_stroke()
    assert not pad.drawing and pad.strokes == [[(140.0, 40.0), (140.0, 140.0), (140.0, 240.0)]]
    assert pad.predicted == 1
    pad.extend_stroke(10, 10)  # pen up: moving draws nothing
    assert len(pad.strokes) == 1 and len(pad.strokes[0]) == 3


def test_the_prediction_refreshes_while_drawing(cnn):
    pad = DrawPad(cnn, live_interval=0.0)
    from_browser(pad, strokes=[[[140, 40]]], drawing=True)
    from_browser(pad, strokes=[[[140, 40], [140, 240]]], drawing=True)
    assert pad.drawing and pad.predicted is not None  # before the pen is lifted
    slow = DrawPad(cnn, live_interval=3600.0)
    from_browser(slow, strokes=[[[140, 40]]], drawing=True)
    from_browser(slow, strokes=[[[140, 40], [140, 240]]], drawing=True)
    assert slow.predicted is None
    from_browser(slow, drawing=False)  # pen up (or the pointer was cancelled) ends the stroke
    assert not slow.drawing and slow.predicted == 1


def test_the_preprocessing_steps_and_feature_maps_are_shown(cnn):
    pad = DrawPad(cnn)
    assert bytes(pad.crop_image.value) == b"" and bytes(pad.maps_image.value) == b""
    pad.set_strokes(ZERO)
    for image in (pad.crop_image, pad.box_image, pad.final_image, pad.maps_image):
        assert bytes(image.value).startswith(b"\x89PNG")
    assert "longer side scaled to 20" in pad.steps_caption.value
    assert "<b>convolution 1</b>: 8 maps of 26×26" in pad.maps_caption.value
    conv_png = bytes(pad.maps_image.value)
    pad.layer.value = "pool1"
    assert "<b>max pooling 1</b>: 8 maps of 13×13" in pad.maps_caption.value
    assert bytes(pad.maps_image.value) != conv_png


def test_a_dense_model_has_no_maps_to_show(real_arrays):
    import keras

    mlp = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    pad = DrawPad(mlp)
    assert pad.layer.disabled
    pad.set_strokes(ONE)
    assert pad.probabilities.shape == (10,) and "not convolutional" in pad.maps_caption.value


def test_bars_and_mosaic_helpers():
    probs = np.array([0.05, 0.5] + [0.45 / 8] * 8)
    html = bars_html(probs)
    assert shown_percentages(html) == pytest.approx(list(np.round(100 * probs, 1)))
    assert html.count("#ff7f0e") == 1 and 'data-digit="1"' in html
    maps = np.random.default_rng(0).random((5, 6, 20))
    mosaic = maps_mosaic(maps, max_channels=10, ncols=4)
    assert mosaic.shape == (3 * 6 - 1, 4 * 7 - 1, 3) and mosaic.dtype == np.uint8
    assert (mosaic[5, :, :] == 200).all()  # the grey gap below the first row of maps (white means 0)
    signed = np.zeros((2, 3, 2))
    signed[0, 0, 0], signed[1, 2, 0], signed[0, 1, 1] = 4.0, -4.0, 2.0  # channel 1's largest |value| is 2
    tiles = maps_mosaic(signed, max_channels=2, ncols=2)
    red, blue, white = tiles[0, 0], tiles[1, 2], tiles[0, 1]
    assert red[0] > red[2] + 50 and blue[2] > blue[0] + 50 and (white > 240).all()  # red +, blue -, white 0
    assert (tiles[0, 4 + 1] == red).all()  # 2.0 is the top of channel 1's own scale: as red as 4.0 in channel 0
