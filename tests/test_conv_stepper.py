"""The convolution stepper of notebook 05 without a browser: its sizes follow Keras' rule, its map equals Keras'
Conv2D, and every control changes what is shown."""

import base64
import io

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.image
import numpy as np
import pytest
from matplotlib import colormaps

from mnist_course.widgets import ConvStepper
from mnist_course.widgets.conv_stepper import (
    KERNELS,
    feature_map,
    map_so_far,
    multiply_add,
    output_size,
    same_padding,
    signed_rgb,
    sum_html,
    tables_html,
)

SETTINGS = [(stride, padding) for stride in (1, 2) for padding in ("valid", "same")]


@pytest.fixture(scope="module")
def digits(real_arrays):
    return real_arrays["x_test"][:6], real_arrays["y_test"][:6]


def keras_map(image: np.ndarray, kernel: np.ndarray, stride: int, padding: str) -> np.ndarray:
    """Keras' Conv2D with one filter, this kernel, no bias, on one channel of [0, 1] pixels."""
    image = np.asarray(image, dtype="float32")
    image = image / 255 if image.max() > 1 else image
    layer = keras.layers.Conv2D(1, kernel.shape[0], strides=stride, padding=padding, use_bias=False)
    layer.build((None, *image.shape, 1))
    layer.set_weights([kernel.astype("float32")[:, :, np.newaxis, np.newaxis]])
    return keras.ops.convert_to_numpy(layer(image[np.newaxis, :, :, np.newaxis]))[0, :, :, 0]


def picture(png: bytes) -> np.ndarray:
    """A PNG as RGB uint8."""
    return np.round(255 * matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]).astype(int)


def test_sizes_and_padding_follow_keras():
    # worked by hand: valid (28 - 3) // s + 1; same ceil(28 / s), the odd padded pixel after (bottom / right)
    assert [output_size(28, 3, s, p) for s, p in SETTINGS] == [26, 28, 13, 14]
    assert same_padding(28, 3, 1) == (1, 1) and same_padding(28, 3, 2) == (0, 1) and same_padding(5, 3, 2) == (1, 1)
    assert same_padding(28, 5, 1) == (2, 2) and same_padding(27, 3, 2) == (1, 1)
    for n, stride, padding in [(28, 1, "valid"), (28, 2, "same"), (27, 2, "same"), (27, 2, "valid")]:
        layer = keras.layers.Conv2D(1, 3, strides=stride, padding=padding)
        assert layer.compute_output_shape((None, n, n, 1))[1] == output_size(n, 3, stride, padding)
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        output_size(28, 3, 1, "full")


@pytest.mark.parametrize("stride,padding", SETTINGS)
def test_the_whole_map_equals_keras_conv2d(digits, stride, padding):
    images, _ = digits
    odd = np.random.default_rng(0).random((27, 25))  # not square, odd sides: rows and columns padded differently
    for image in (images[0], images[3], odd):
        scaled = image / 255.0 if image.dtype == np.uint8 else image
        for name, kernel in KERNELS.items():
            ours, theirs = feature_map(scaled, kernel, stride, padding), keras_map(image, kernel, stride, padding)
            assert ours.shape == theirs.shape, (name, stride, padding)
            np.testing.assert_allclose(ours, theirs, atol=1e-5, err_msg=f"{name}, stride {stride}, {padding}")


def test_multiply_add_worked_by_hand():
    image = np.arange(16, dtype=float).reshape(4, 4) / 10  # rows 0.0-0.3, 0.4-0.7, 0.8-1.1, 1.2-1.5
    products, total = multiply_add(image[:3, :3], KERNELS["vertical edge"])
    assert products.tolist()[1] == [-0.4, 0.0, 0.6] and total == pytest.approx(0.6)  # (0.2 - 0) x 3 rows
    assert multiply_add(image[1:, 1:], KERNELS["sharpen"])[1] == pytest.approx(5 * 1.0 - (0.6 + 0.9 + 1.1 + 1.4))
    # "same", stride 1: the top-left window holds a row and a column of zeros: 0 + (0.1 - 0) + (0.5 - 0)
    assert feature_map(image, KERNELS["vertical edge"], 1, "same")[0, 0] == pytest.approx(0.6)
    assert feature_map(image, KERNELS["blur"], 2, "valid").tolist() == [[pytest.approx(0.5)]]
    tables = tables_html(image[:3, :3], KERNELS["vertical edge"], "vertical edge")
    assert tables.count("<td") == 27 and ">−0.40</td>" in tables and ">0.60</td>" in tables  # pixel × weight
    written = sum_html(image[:3, :3], KERNELS["vertical edge"], 0, 0)
    assert "0.00×(−1) + 0.10×0 + 0.20×1<br>+ 0.40×(−1) + 0.50×0 + 0.60×1<br>+ 0.80×(−1)" in written
    assert written.endswith("= 0.600</pre>")


def test_map_so_far_blanks_the_later_positions():
    shown = map_so_far(np.arange(6.0).reshape(2, 3), 3)
    assert shown[0].tolist() == [0, 1, 2] and shown[1, 0] == 3 and np.isnan(shown[1, 1:]).all()


def test_signed_colours_are_symmetric_about_zero():
    rgb = signed_rgb(np.array([[-2.0, 0.0, 2.0, np.nan]]), 2.0)
    ends = [np.round(255 * np.array(colormaps["RdBu_r"](v)[:3])).astype(int).tolist() for v in (0.0, 0.5, 1.0)]
    assert rgb[0, :3].tolist() == ends  # -2 darkest blue, 0 the middle (white), +2 darkest red
    assert rgb[0, 2, 0] > rgb[0, 2, 2] and rgb[0, 0, 2] > rgb[0, 0, 0]
    assert rgb[0, 3].tolist() == [200, 200, 200]  # not computed yet: grey, not white


def test_stepping_and_the_position_slider(digits):
    images, labels = digits
    stepper = ConvStepper(images, labels)
    full = keras_map(images[0], KERNELS["vertical edge"], 1, "valid")
    assert stepper.position.max == 26 * 26 - 1 and stepper.shown_cell == (13, 13)  # starts at the centre
    assert np.isfinite(stepper.shown_map).sum() == 26 * 13 + 14
    assert "(28 − 3) // 1 + 1 = 26" in stepper.caption.value and "26 × 26" in stepper.caption.value
    assert "position <b>351</b> of 0 to 675 (row 13, column 13)" in stepper.caption.value  # 13 x 26 + 13
    stepper.position.value = 0
    assert stepper.shown_cell == (0, 0) and np.isfinite(stepper.shown_map).sum() == 1
    before = (stepper.input.value, stepper.map.value, stepper.patch.value)
    stepper.position.value = 26 * 9 + 8
    assert stepper.shown_cell == (9, 8) and stepper.shown_value == pytest.approx(full[9, 8], abs=1e-5)
    assert f"= {full[9, 8]:.3f}" in stepper.sum.value and "map[9, 8]" in stepper.sum.value
    assert stepper.sum.value.split("<pre")[1].count("×") == 9  # the 9 products pixel × weight
    assert all(a != b for a, b in zip(before, (stepper.input.value, stepper.map.value, stepper.patch.value)))
    done = stepper.shown_map
    assert np.isfinite(done).sum() == 26 * 9 + 9 and np.isnan(done[9, 9:]).all() and np.isnan(done[10:]).all()
    np.testing.assert_allclose(done[:9], full[:9], atol=1e-5)
    stepper.next.click()
    assert stepper.shown_cell == (9, 9) and stepper.position.value == 26 * 9 + 9
    stepper.position.value = stepper.position.max
    np.testing.assert_allclose(stepper.shown_map, full, atol=1e-5)  # the complete map
    stepper.next.click()
    assert stepper.position.value == 0 and stepper.shown_cell == (0, 0)  # after the last position: back to the first


@pytest.mark.parametrize("stride,padding", SETTINGS)
def test_stride_and_padding_give_keras_map(digits, stride, padding):
    images, labels = digits
    stepper = ConvStepper(images, labels, kernel="sharpen")
    stepper.image.value = 2
    stepper.stride.value, stepper.padding.value = stride, padding
    side = output_size(28, 3, stride, padding)
    assert stepper.position.max == side * side - 1 and stepper.shown_map.shape == (side, side)
    assert f"{side} × {side}" in stepper.caption.value
    stepper.position.value = stepper.position.max
    np.testing.assert_allclose(stepper.shown_map, keras_map(images[2], KERNELS["sharpen"], stride, padding), atol=1e-5)


def test_kernel_image_and_padding_controls(digits):
    images, labels = digits
    stepper = ConvStepper(images, labels, position=26 * 12 + 10)
    stepper.kernel.value = "horizontal edge"  # same map size: the position stays
    expected = keras_map(images[0], KERNELS["horizontal edge"], 1, "valid")
    assert stepper.shown_cell == (12, 10) and stepper.shown_value == pytest.approx(expected[12, 10], abs=1e-5)
    assert "kernel: horizontal edge" in stepper.patch.value
    shown_input = stepper.input.value
    stepper.image.value = 4
    assert stepper.input.value != shown_input
    assert stepper.shown_value == pytest.approx(keras_map(images[4], KERNELS["horizontal edge"], 1, "valid")[12, 10])
    stepper.padding.value = "same"  # a new size: back to the first position
    assert stepper.position.value == 0 and stepper.position.max == 28 * 28 - 1
    assert "Keras pads 1 zero(s) before and 1 after" in stepper.caption.value
    stepper.position.value = stepper.position.max
    stepper.stride.value = 2  # at the end it stays at the end
    assert stepper.position.value == 14 * 14 - 1 and np.isfinite(stepper.shown_map).all()
    assert "Keras pads 0 zero(s) before and 1 after" in stepper.caption.value


def test_pictures_keep_the_conventions(digits):
    images, labels = digits
    blank = np.zeros((28, 28), dtype=np.uint8)
    blank[:, 14:] = 255  # right half ink: the vertical edge kernel is +3 along the boundary, 0 elsewhere
    stepper = ConvStepper(images, labels, own=blank, own_name="half")
    assert stepper.image.value == 6 and stepper.image.label == "half"  # the caller's image is shown first
    assert [label for label, _ in stepper.image.options][:2] == [
        f"test digit 0 (a {labels[0]})",
        f"test digit 1 (a {labels[1]})",
    ]
    shown = picture(stepper.input.value)
    assert shown.shape == (28 * 9, 28 * 9, 3)
    assert shown[100, 200].tolist() == [0, 0, 0] and shown[100, 50].tolist() == [255, 255, 255]  # black ink on white
    stepper.position.value = stepper.position.max
    drawn = picture(stepper.map.value)
    scale = drawn.shape[0] // 26
    red = drawn[5 * scale + scale // 2, 12 * scale + scale // 2]  # map[5, 12]: window over columns 12..14
    white = drawn[5 * scale + scale // 2, 3 * scale + scale // 2]
    assert red.tolist() == np.round(255 * np.array(colormaps["RdBu_r"](1.0)[:3])).astype(int).tolist()
    assert abs(white - 247).max() <= 1  # 0 is the middle of the scale: RdBu_r's near-white
    stepper.position.value = 0
    assert picture(stepper.map.value)[scale * 20, scale * 20].tolist() == [200, 200, 200]  # later positions grey
    assert stepper.bar.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_structure_and_stored_output(digits):
    stepper = ConvStepper(*digits)
    assert [c.description for c in (stepper.image, stepper.kernel, stepper.stride, stepper.padding)] == [
        "image",
        "kernel",
        "stride",
        "padding",
    ]
    assert list(stepper.kernel.options) == ["vertical edge", "horizontal edge", "blur", "sharpen"]
    assert "mnist-conv" in stepper.widget._dom_classes and "mnist-conv-next" in stepper.next._dom_classes
    bundle = stepper._repr_mimebundle_()
    assert (
        bundle["text/plain"].startswith("ConvStepper: an interactive widget") and " at 0x" not in bundle["text/plain"]
    )
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="x_test"):
        ConvStepper(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="kernel must be one of"):
        ConvStepper(*digits, kernel="emboss")
