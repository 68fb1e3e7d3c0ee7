"""What the playground's preprocessing accepts (uint8 0..255, float 0..1, whole floats 0..255, light ink on black)
and what it refuses with a one-line ValueError saying how to convert; and the rules for strokes."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_course.lessons.playground import (
    MAX_POINTS,
    MAX_STROKES,
    check_image,
    check_strokes,
    mnist_preprocess,
    preprocess_steps,
    strokes_to_image,
)

ANGLES = np.linspace(0, 2 * np.pi, 40)
STROKES = {
    "zero": [[(140 + 60 * np.cos(a), 140 + 95 * np.sin(a)) for a in ANGLES]],
    "one": [[(140, 40), (140, 240)]],
    "four": [[(180, 40), (80, 170), (210, 170)], [(170, 110), (170, 250)]],
    "seven": [[(70, 50), (210, 50), (120, 240)]],
}
DRAWINGS = {name: strokes_to_image(s) for name, s in STROKES.items()}


def refusal(image) -> str:
    """The message of the ValueError ``mnist_preprocess(image)`` raises; it must be one line."""
    with pytest.raises(ValueError) as caught:
        mnist_preprocess(image)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300, message
    return message


# --- accepted --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DRAWINGS))
@pytest.mark.parametrize(
    "convert",
    [
        lambda u: u / 255.0,
        lambda u: (u / 255.0).astype(np.float32),
        lambda u: u.astype(np.float64),  # whole-valued floats 0..255
        lambda u: u.astype(np.int64),
        lambda u: u.astype(np.uint16),
        lambda u: u.tolist(),
    ],
    ids=["float64_0_1", "float32_0_1", "float_0_255", "int64", "uint16", "list"],
)
def test_other_pixel_types_give_the_same_input_as_uint8(name, convert):
    u8 = DRAWINGS[name]
    assert np.array_equal(mnist_preprocess(convert(u8)), mnist_preprocess(u8))


def test_float_0_1_real_digits_give_the_same_input_as_uint8(real_arrays):
    for digit in real_arrays["x_test"][:50]:
        big = np.kron(digit, np.ones((4, 4), dtype=np.uint8))
        assert np.array_equal(mnist_preprocess(big / 255.0), mnist_preprocess(big))


def test_floats_in_0_1_are_scaled_to_0_255_and_rounded():
    image = np.zeros((6, 6))
    image[2, 1:4] = [0.5, 1.0, 0.25]  # 127.5 -> 128, 255, 63.75 -> 64
    pixels = check_image(image)
    assert pixels.dtype == np.uint8 and pixels[2, 1:4].tolist() == [128, 255, 64] and pixels.sum() == 447
    mask = np.zeros((6, 6))
    mask[1:5, 2:4] = 1.0  # a float 0/1 mask is 0..1 floats: its ink becomes 255
    assert check_image(mask).max() == 255 and int(check_image(mask).sum()) == 8 * 255


def test_every_real_mnist_digit_is_accepted_unchanged(real_arrays):
    for digit in real_arrays["x_test"]:
        assert np.array_equal(check_image(digit), digit)


@pytest.mark.parametrize(
    "strokes",
    [
        [[(140, 0), (140, 280)]],  # a 1 touching the top and the bottom of the canvas
        [[(140 + 100 * np.cos(a), 140 + 130 * np.sin(a)) for a in ANGLES]],  # a big 0 near every edge
        [[(70, 50), (210, 50), (120, 240)]],
    ],
    ids=["one_edge_to_edge", "big_zero", "seven"],
)
def test_light_digits_touching_the_border_or_drawn_thick_are_accepted(strokes):
    for width in (18, 40):
        final = mnist_preprocess(strokes_to_image(strokes, width=width))
        assert final.max() >= 250 and 0.02 < (final > 0).mean() < 0.6


@pytest.mark.parametrize("blank", [np.zeros((280, 280), np.uint8), np.zeros((28, 28)), np.zeros((5, 9), np.int64)])
def test_a_blank_image_still_gives_empty_steps(blank):
    steps = preprocess_steps(blank)
    assert steps.final.shape == (28, 28) and not steps.final.any() and steps.crop.shape == (0, 0)


# --- refused ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [DRAWINGS["seven"] > 0, np.zeros((28, 28), dtype=bool), [[False, True], [True, False]]],
    ids=["drawing", "blank", "nested_list"],
)
def test_boolean_images_are_refused_with_the_conversion(image):
    message = refusal(image)
    assert "boolean" in message and "image.astype(np.uint8) * 255" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("count", [1, 784])
def test_nan_and_infinite_pixels_are_refused(bad, count):
    image = (DRAWINGS["one"][::10, ::10] / 255.0).astype(np.float32)
    image.ravel()[:count] = bad
    message = refusal(image)
    assert f"got {count} NaN or infinite pixels" in message and "np.isfinite" in message


@pytest.mark.parametrize(
    "image",
    [
        DRAWINGS["one"].astype(np.int16) - 1,
        DRAWINGS["one"] / 255.0 - 0.1,
        (DRAWINGS["one"] - DRAWINGS["one"].mean()) / DRAWINGS["one"].std(),  # standardised pixels
    ],
    ids=["int", "float", "standardised"],
)
def test_negative_pixels_are_refused(image):
    message = refusal(image)
    assert "negative pixels" in message and "(image - image.min()) / (image.max() - image.min())" in message


@pytest.mark.parametrize(
    "image, shown",
    [
        (DRAWINGS["one"].astype(np.uint16) * 2, "510"),
        (DRAWINGS["one"] * 300.0 / 255, "300"),
        (np.full((28, 28), 65535, dtype=np.uint16), "65535"),
    ],
    ids=["uint16", "float", "16-bit"],
)
def test_pixels_above_255_are_refused(image, shown):
    message = refusal(image)
    assert f"up to {shown}, above 255" in message and "image.min()" in message


@pytest.mark.parametrize(
    "image",
    [DRAWINGS["four"] * 0.5, DRAWINGS["four"] / 255.0 * 1.05],  # halves up to 127.5; 0..1 overshooting to 1.05
    ids=["half", "overshoot"],
)
def test_fractional_floats_above_1_are_refused(image):
    message = refusal(image)
    assert "not whole numbers" in message and "image / 255" in message


def test_an_integer_0_1_mask_is_refused():
    mask = (DRAWINGS["zero"] > 0).astype(np.uint8)
    assert "multiply by 255" in refusal(mask) and "multiply by 255" in refusal(mask.astype(np.int64))


@pytest.mark.parametrize("brightest", [3, 30, 63])
def test_faint_ink_is_refused_but_a_quarter_of_255_is_enough(brightest):
    faint = (DRAWINGS["seven"] > 0) * np.uint8(brightest)
    assert f"brightest pixel is {brightest} of 255" in refusal(faint) and "image / image.max()" in refusal(faint)
    assert "too faint" in refusal(faint / 255.0)
    assert 0 < mnist_preprocess((DRAWINGS["seven"] > 0) * np.uint8(64)).max() <= 64


@pytest.mark.parametrize(
    "shape", [(784,), (1, 28, 28), (28, 28, 1), (28, 28, 3), (), (2, 1, 28, 28)], ids=lambda s: str(len(s))
)
def test_not_two_dimensions_is_refused(shape):
    message = refusal(np.zeros(shape, dtype=np.uint8))
    assert "2-D" in message and f"got shape {shape}" in message and "np.squeeze(image)" in message


@pytest.mark.parametrize("shape", [(0, 0), (0, 28), (28, 0)])
def test_an_empty_image_is_refused(shape):
    assert f"empty image of shape {shape}" in refusal(np.zeros(shape, dtype=np.uint8))


@pytest.mark.parametrize(
    "image",
    [np.array([["a", "b"], ["c", "d"]]), np.zeros((4, 4), dtype=complex), np.zeros((4, 4), dtype=object)],
    ids=["str", "complex", "object"],
)
def test_pixels_that_are_not_numbers_are_refused(image):
    assert "pass numbers" in refusal(image)


def test_a_ragged_nested_list_is_refused():
    assert "could not read the image" in refusal([[0, 255], [0]])


@pytest.mark.parametrize("name", sorted(DRAWINGS))
def test_black_on_white_drawings_are_refused_with_the_inversion(name):
    for image in (255 - DRAWINGS[name], 1 - DRAWINGS[name] / 255.0):
        message = refusal(image)
        assert "dark ink on a light background" in message and "255 - image" in message
    assert np.array_equal(mnist_preprocess(255 - (255 - DRAWINGS[name])), mnist_preprocess(DRAWINGS[name]))


def test_inverted_real_digits_and_a_grey_photo_of_paper_are_refused(real_arrays):
    for digit in real_arrays["x_test"][:100]:
        assert "255 - image" in refusal(255 - digit)
        assert "255 - image" in refusal(255 - np.kron(digit, np.ones((10, 10), dtype=np.uint8)))
    rng = np.random.default_rng(0)
    paper = np.clip(rng.normal(190, 12, size=(120, 90)), 0, 255).astype(np.uint8)  # greyish paper, dark pencil
    paper[20:100, 40:50] = 40
    assert "255 - image" in refusal(paper)
    assert "255 - image" in refusal(np.full((28, 28), 255, dtype=np.uint8))  # white paper and nothing on it


# --- strokes ---------------------------------------------------------------------------------------------------


def test_valid_strokes_of_any_sequence_or_number_type_are_accepted():
    strokes = [np.array([[1, 2], [3.5, 4]]), ((np.int64(5), np.float32(6.5)),), []]
    assert check_strokes(strokes) == [[(1.0, 2.0), (3.5, 4.0)], [(5.0, 6.5)], []]
    assert check_strokes([[(0, 0)]] * MAX_STROKES) == [[(0.0, 0.0)]] * MAX_STROKES
    assert len(check_strokes([[(1.0, 2.0)] * MAX_POINTS])[0]) == MAX_POINTS


@pytest.mark.parametrize(
    "strokes, says",
    [
        ("abc", "must be a list of strokes"),
        (None, "must be a list of strokes"),
        ([1, 2], "stroke 0 must be a list of (x, y) points"),
        ([[(1, 2)], "xy"], "stroke 1 must be a list"),
        ([[(1, 2, 3)]], "point 0 of stroke 0"),
        ([[(1, 2), ("1", "2")]], "point 1 of stroke 0"),
        ([[(True, False)]], "point 0 of stroke 0"),
        ([[(1, None)]], "point 0 of stroke 0"),
        ([[(np.nan, 1)]], "finite numbers"),
        ([[(1, np.inf)]], "finite numbers"),
        ([[(1e300, 0), (0, 0)]], "within +-1e+06"),
        ([[(1.0, 2.0)] * (MAX_POINTS + 1)], f"more than {MAX_POINTS} points"),
        ([[(1.0, 2.0)]] * 2_000_000, "more than MAX_STROKES"),
        ([[]] * (MAX_STROKES + 1), "more than MAX_STROKES"),
    ],
)
def test_malformed_strokes_are_refused_in_one_line(strokes, says):
    for function in (check_strokes, strokes_to_image):
        with pytest.raises(ValueError) as caught:
            function(strokes)
        assert says in str(caught.value) and "\n" not in str(caught.value)
