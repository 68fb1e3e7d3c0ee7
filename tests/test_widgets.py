"""The widgets' logic without a browser: changing a control changes what is shown."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from mnist_course.widgets import ImageBrowser, ImageToVector
from mnist_course.widgets.browser import LABEL_OPTIONS, indices_for_label
from mnist_course.widgets.render import pixel_table_html, png_bytes
from mnist_course.widgets.vector import row_positions, row_table_html, vector_strip


@pytest.fixture
def digits():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    labels = np.array([i % 9 for i in range(40)])  # no 9 anywhere
    return images, labels


def test_indices_for_label():
    labels = np.array([3, 1, 3, 0])
    assert indices_for_label(labels, "all").tolist() == [0, 1, 2, 3]
    assert indices_for_label(labels, None).tolist() == [0, 1, 2, 3]
    assert indices_for_label(labels, "3").tolist() == [0, 2]
    assert indices_for_label(labels, 1).tolist() == [1]
    assert indices_for_label(labels, 7).tolist() == []


def test_pixel_table_has_one_cell_per_pixel_with_its_value():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[3, 4] = 211
    html = pixel_table_html(image)
    assert html.count("<tr>") == 28 and html.count("<td") == 784
    assert ">211</td>" in html and "background:#2c2c2c;color:#fff" in html  # shaded like ink
    with pytest.raises(ValueError):
        pixel_table_html(np.zeros((2, 28, 28)))


def test_png_bytes_is_a_png_of_the_scaled_size():
    data = png_bytes(np.zeros((28, 28), dtype=np.uint8), scale=3)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (84, 84)


def test_browser_slider_changes_the_shown_digit(digits):
    images, labels = digits
    browser = ImageBrowser(images, labels)
    assert browser.shown_index == 0 and browser.slider.max == 39
    before = (browser.image.value, browser.table.value, browser.caption.value)
    browser.slider.value = 5
    assert browser.shown_index == 5 and browser.shown_label == labels[5]
    after = (browser.image.value, browser.table.value, browser.caption.value)
    assert all(a != b for a, b in zip(before, after))
    assert browser.table.value == pixel_table_html(images[5])
    assert "example #5" in browser.caption.value


def test_browser_filter_shows_only_that_label(digits):
    images, labels = digits
    browser = ImageBrowser(images, labels)
    browser.slider.value = 30
    browser.label_filter.value = "4"
    assert browser.slider.value == 0 and browser.slider.max == np.sum(labels == 4) - 1
    seen = set()
    for position in range(browser.slider.max + 1):
        browser.slider.value = position
        assert browser.shown_label == 4
        seen.add(browser.shown_index)
    assert seen == set(np.flatnonzero(labels == 4).tolist())
    browser.label_filter.value = "all"
    assert browser.slider.max == 39


def test_browser_filter_with_no_examples(digits):
    images, labels = digits
    browser = ImageBrowser(images, labels)
    browser.label_filter.value = "9"
    assert browser.shown_index == -1 and "no example" in browser.caption.value and browser.table.value == ""


def test_browser_structure_is_discoverable(digits):
    browser = ImageBrowser(*digits)
    assert browser.label_filter.description == "label" and browser.slider.description == "index"
    assert list(browser.label_filter.options) == list(LABEL_OPTIONS)
    assert "mnist-browser" in browser.widget._dom_classes
    assert "mnist-browser-slider" in browser.slider._dom_classes
    assert "mnist-browser-label" in browser.label_filter._dom_classes
    assert "application/vnd.jupyter.widget-view+json" in browser._repr_mimebundle_()


def test_row_positions_and_strip():
    assert list(row_positions(0)) == list(range(28))
    assert list(row_positions(2)) == list(range(56, 84))
    image = np.zeros((28, 28), dtype=np.uint8)
    image[1, 0] = 255
    strip = vector_strip(image, row=1, height=4, band=2)
    assert strip.shape == (6, 784, 3)
    assert (strip[:4, 28] == 0).all() and (strip[:4, 27] == 255).all()  # ink at position 28 = row 1, column 0
    assert (strip[4:, 28:56] != 255).any(axis=-1).all() and (strip[4:, :28] == 255).all()  # the band marks row 1


def test_row_table_shows_positions_raw_and_scaled_values():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[3, 2] = 255
    html = row_table_html(image, 3)
    assert ">84</td>" in html and ">111</td>" in html and ">1.00</td>" in html and ">255</td>" in html


def test_vector_widget_sliders_change_what_is_shown(digits):
    images, labels = digits
    widget = ImageToVector(images, labels)
    assert (widget.shown_index, widget.shown_row) == (0, 0)
    image_before, strip_before, table_before = widget.image.value, widget.strip.value, widget.table.value
    widget.slider.value = 7
    assert widget.shown_index == 7 and widget.image.value != image_before and widget.strip.value != strip_before
    assert widget.table.value == row_table_html(images[7], 0)
    widget.row_slider.value = 14
    assert widget.shown_row == 14 and "392..419" in widget.caption.value
    assert widget.table.value == row_table_html(images[7], 14) != table_before
    assert widget.slider.description == "image" and widget.row_slider.description == "pixel row"
    assert "mnist-vector-slider" in widget.slider._dom_classes and "mnist-vector" in widget.widget._dom_classes


def test_every_course_widget_shows_itself_as_a_widget_view_under_ipywidgets_7_and_8(digits):
    """A cell ending with a course widget shows a widget view (Jupyter's widget-view+json, version 2.0, naming the
    widget's model) whichever ipywidgets runs: 8 builds it itself, 7 (Colab) has no _repr_mimebundle_ at all."""
    import ipywidgets

    from mnist_course.widgets.compat import widget_bundle

    for shown in (ImageBrowser(*digits), ImageToVector(*digits)):
        bundle = shown._repr_mimebundle_()
        view = bundle["application/vnd.jupyter.widget-view+json"]
        assert view == {"version_major": 2, "version_minor": 0, "model_id": shown.widget.model_id}
        assert bundle["text/plain"]

    class Seven(ipywidgets.HTML):  # an ipywidgets-7-like widget: it displays only through _ipython_display_
        _repr_mimebundle_ = None

    old = Seven("x")
    assert widget_bundle(old)["application/vnd.jupyter.widget-view+json"]["model_id"] == old.model_id


def test_a_shown_widget_carries_a_static_picture_of_its_images_for_where_widgets_cannot_run(digits):
    """GitHub, nbviewer and nbconvert cannot run a widget: the output bundle carries a PNG of what it shows (its
    Image widgets side by side) and one plain sentence, never the ipywidgets repr with memory addresses."""
    import base64
    import io

    import ipywidgets
    import matplotlib.image

    from mnist_course.widgets.compat import pictures, snapshot_png

    browser = ImageBrowser(*digits)
    bundle = browser._repr_mimebundle_()
    assert (
        bundle["text/plain"].startswith("ImageBrowser: an interactive widget") and " at 0x" not in bundle["text/plain"]
    )
    still = matplotlib.image.imread(io.BytesIO(base64.b64decode(bundle["image/png"])), format="png")
    shown = [matplotlib.image.imread(io.BytesIO(png), format="png") for png in pictures(browser.widget)]
    assert len(shown) >= 1 and still.shape[0] == max(a.shape[0] for a in shown)  # as tall as its tallest image
    assert still.shape[1] >= sum(a.shape[1] for a in shown)  # the images side by side
    assert snapshot_png(ipywidgets.VBox([ipywidgets.HTML("no image")])) is None
    nested = ipywidgets.VBox([ipywidgets.HBox([browser.widget]), ipywidgets.Image(value=b"", format="png")])
    assert len(pictures(nested)) == len(shown)  # empty images are skipped, nested ones found


@pytest.mark.parametrize("stored", ["1", None])
def test_outputs_made_to_be_stored_show_the_static_picture_as_an_output_of_its_own(digits, monkeypatch, stored):
    """nbconvert's HTML and nbviewer render a widget output as the widget's script, so the picture in that same
    bundle never shows there: the runner ($MNIST_COURSE_STORED_OUTPUTS=1) shows it as an output of its own just
    before the widget, which then carries no PNG. A student's kernel (unset) shows one output, PNG included."""
    import IPython.display

    shown: list[dict] = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False, metadata=None: shown.append(data))
    if stored is None:
        monkeypatch.delenv("MNIST_COURSE_STORED_OUTPUTS", raising=False)
    else:
        monkeypatch.setenv("MNIST_COURSE_STORED_OUTPUTS", stored)
    browser = ImageBrowser(*digits)
    browser._ipython_display_()
    view = "application/vnd.jupyter.widget-view+json"
    if stored:
        picture, widget = shown
        assert set(picture) == {"image/png", "text/plain"}
        assert "the pictures the widget below shows as it starts" in picture["text/plain"]
        assert view in widget and "image/png" not in widget
        assert picture["image/png"] == browser._repr_mimebundle_()["image/png"]
    else:
        [widget] = shown
        assert view in widget and "image/png" in widget
    assert widget[view]["model_id"] == browser.widget.model_id


def test_pixel_table_text_reads_on_every_cell_in_any_theme():
    """Every cell of the pixel table sets its own text colour (a dark theme's light default text would vanish on the
    white cells), and that colour has WCAG's 4.5:1 contrast with the cell's grey, computed here from the definition."""
    import re

    from mnist_course.widgets.render import pixel_table_html

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    image = np.arange(256, dtype=np.uint8).reshape(16, 16)  # every grey level
    cells = re.findall(r'<td style="background:(#[0-9a-f]{6});color:(#[0-9a-f]{6})">', pixel_table_html(image))
    assert len(cells) == 256
    for background, ink in cells:
        high, low = sorted((luminance(background), luminance(ink)), reverse=True)
        assert (high + 0.05) / (low + 0.05) >= 4.5, (background, ink)
