"""The course as a student meets it in a real JupyterLab in headless Chromium (tests/lab_session.py), widgets
included; the server, the browser and the runs are the session's fixtures (tests/conftest.py).

- ``test_notebook_runs_in_jupyterlab``: the notebooks whose widgets need a live kernel (BROWSER_RUNS: 01's image
  browser, 05's convolution stepper, 07's optimizer playground, 08's draw pad) are the session's ci run of their student
  edition: Run All in JupyterLab (``browser_runs``). Run All goes on past the unsolved stubs (tagged
  ``raises-exception``); the only errors shown are in the check cells, each the stub's ``NotImplementedError``; the
  metrics they record keep their ci floors; the image browser follows the arrow keys; the stepper's "next" and padding,
  the playground's step button and learning rate change what they show; the draw pad's canvas is whole at 1280x800 and
  1920x1080, no widget scrolls sideways, a stroke drawn with the mouse changes the bars.
- ``test_stored_notebook_renders_in_jupyterlab``: the other notebooks (CI_RUNS, executed by ``mnist-course run`` in
  the ci run) are not run here: each is opened from a copy of notebooks/ (its stored student-profile outputs) and
  must show every stored output, no traceback but the lesson's own, and its widgets drawn from the saved widget
  state with no cell executed (the kernel JupyterLab starts knows none of them, so they are marked disconnected),
  fitting both window sizes. JupyterLab draws saved widgets only in a trusted notebook (an untrusted one, such as a
  fresh clone's, shows each widget's text/plain fallback), so the copies are trusted first (``lab``).

Screenshots go to a ``screenshots`` folder under pytest's temporary directory (its path is printed).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

from mnist_course.course import editions
from tests import metric_floors
from tests.browser.conv_stepper_checks import check_conv_stepper
from tests.browser.optimizer_playground_checks import check_optimizer_playground
from tests.conftest import BROWSER_RUNS, CI_RUNS
from tests.lab_session import (
    ERRORS_JS,
    PANEL,
    STATE_JS,
    TEXT_CONTRAST_JS,
    WIDGETS_JS,
    exercise_ids,
    open_notebook,
    raising_cells,
    shut_down_kernels,
    stored_widget_outputs,
    stroke_down_the_middle,
)

ROOT = Path(__file__).resolve().parents[2]
WINDOW_SIZES = ((1280, 800), (1920, 1080))  # a laptop and a desktop screen: every widget must fit both
# per code cell: how many outputs it shows, and its images' natural widths (0 for one that did not load)
OUTPUTS_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')]
  .map(cell => ({outputs: cell.querySelectorAll('.jp-OutputArea-child').length,
                 images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(i => i.naturalWidth)}))"""


@pytest.fixture
def page(browser, lab):
    """A fresh browser page; afterwards it is closed and the kernels of the stored notebooks are shut down."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()
        shut_down_kernels(lab, "stored/")


def check_image_browser(page, name: str, screenshots: Path) -> None:
    """Notebook 01: pressing ArrowRight on the focused slider shows the next digit."""
    browser_widget = page.locator(".mnist-browser").first
    browser_widget.scroll_into_view_if_needed()
    caption, image = page.locator(".mnist-browser-caption").first, page.locator(".mnist-browser-image").first
    before_text, before_src = caption.inner_text(), image.get_attribute("src")
    browser_widget.screenshot(path=str(screenshots / f"{name}-browser-before.png"))
    page.locator(".mnist-browser-slider .noUi-handle").first.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([el, text]) => el.innerText !== text", arg=[caption.element_handle(), before_text], timeout=15_000
    )
    page.wait_for_timeout(500)
    browser_widget.screenshot(path=str(screenshots / f"{name}-browser-after.png"))
    assert "example #0" in before_text and "example #3" in caption.inner_text(), caption.inner_text()
    assert image.get_attribute("src") != before_src, "the slider moved but the digit shown did not change"


CANVAS_LAYOUT_JS = """pad => {
  const canvas = pad.querySelector('canvas.mnist-draw-canvas');
  const box = canvas.getBoundingClientRect();
  const output = canvas.closest('.jp-OutputArea-output').getBoundingClientRect();
  const inside = box.left >= output.left - 0.5 && box.right <= output.right + 0.5
    && box.top >= output.top - 0.5 && box.bottom <= output.bottom + 0.5;
  // an ancestor that hides its overflow must hold the whole canvas too
  const clippedBy = [];
  for (let el = canvas.parentElement; el && el !== document.body; el = el.parentElement) {
    const style = getComputedStyle(el), r = el.getBoundingClientRect();
    if (style.overflowX !== 'visible' && (box.left < r.left - 0.5 || box.right > r.right + 0.5))
      clippedBy.push(el.className || el.tagName);
  }
  // what a person sees at the right edge of the canvas: the canvas itself, not something drawn over it
  const onTop = [0.1, 0.5, 0.9].map(f => document.elementFromPoint(box.right - 4, box.top + f * box.height));
  return {width: box.width, inside, clippedBy, rightEdge: onTop.map(e => e === canvas),
          covering: onTop.filter(e => e !== canvas).map(e => e && (e.className || e.tagName))};
}"""
SCROLLBARS_JS = """() => {
  // every widget output, and everything inside it that could scroll sideways
  const found = [];
  for (const out of document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')) {
    if (!out.querySelector('.jupyter-widgets')) continue;
    for (const el of [out, ...out.querySelectorAll('*')]) {
      const overflow = getComputedStyle(el).overflowX;
      if ((el === out || overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth)
        found.push(`${el.className || el.tagName}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  return found;
}"""


def check_widgets_fit(page, name: str, screenshots: Path) -> None:
    """At each of WINDOW_SIZES no widget output of the notebook scrolls sideways; a screenshot of each size."""
    for width, height in WINDOW_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(800)  # JupyterLab lays the panels out again after a resize
        scrolling = page.evaluate(SCROLLBARS_JS)
        page.locator(".jp-OutputArea-output > .jupyter-widgets").first.scroll_into_view_if_needed()
        path = screenshots / f"{name}-{width}x{height}.png"  # the first widget of the notebook in view
        page.screenshot(path=str(path))
        print(f"screenshot: {path}")
        assert not scrolling, f"{name} at {width}x{height}: sideways scrollbars: {scrolling}"


def draw_a_stroke(page, pad) -> str:
    """Clear the pad, then draw a vertical stroke down the middle of the canvas with the mouse; wait for the
    prediction to appear. Returns the text of the bars after clearing (every digit at 0.0 %)."""
    prediction = pad.locator(".mnist-draw-prediction")
    pad.locator(".mnist-draw-clear").click()
    # the bars' HTML is replaced on every update: look it up afresh inside the pad each time
    page.wait_for_function(
        "pad => pad.querySelector('.mnist-draw-prediction').innerText.includes('draw a digit') "
        "&& !/[1-9][0-9.]* %/.test(pad.querySelector('.mnist-draw-bars').innerText)",
        arg=pad.element_handle(),
        timeout=15_000,
    )
    cleared = pad.locator(".mnist-draw-bars").inner_text()
    stroke_down_the_middle(page, pad.locator("canvas.mnist-draw-canvas").bounding_box())
    prediction.locator("b").wait_for(timeout=30_000)
    return cleared


def check_draw_pad(page, name: str, screenshots: Path) -> None:
    """Notebook 08 at each of WINDOW_SIZES: the draw pad's whole canvas is visible (inside its output, nothing over
    its right edge), no widget output scrolls sideways, and a stroke drawn with the mouse changes the bars."""
    pad = page.locator(".mnist-draw").first
    bars = pad.locator(".mnist-draw-bars")
    for width, height in WINDOW_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(800)  # JupyterLab lays the panels out again after a resize
        pad.locator("canvas.mnist-draw-canvas").evaluate("c => c.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(300)
        layout = pad.evaluate(CANVAS_LAYOUT_JS)
        size = f"{width}x{height}"
        assert layout["width"] >= 280, f"{size}: the canvas is squeezed to {layout['width']} px"
        assert layout["inside"] and not layout["clippedBy"], f"{size}: the canvas is cut off: {layout}"
        assert all(layout["rightEdge"]), f"{size}: the canvas' right edge is covered by {layout['covering']}"
        assert not page.evaluate(SCROLLBARS_JS), f"{size}: sideways scrollbars: {page.evaluate(SCROLLBARS_JS)}"
        cleared = draw_a_stroke(page, pad)
        assert re.findall(r"[0-9.]+ %", cleared) == ["0.0 %"] * 10, cleared
        page.wait_for_timeout(1000)  # let the feature maps arrive for the screenshot
        assert re.search(r"prediction: \d", pad.locator(".mnist-draw-prediction").inner_text())
        assert bars.inner_text() != cleared, f"{size}: the bars did not change after drawing"
        assert pad.locator(".mnist-draw-input").get_attribute("src")
        assert not page.evaluate(SCROLLBARS_JS), f"{size}: sideways scrollbars after drawing"
        for path, target in (
            (screenshots / f"{name}-{size}.png", page),
            (screenshots / f"{name}-{size}-draw-pad.png", pad),
        ):
            target.screenshot(path=str(path))
            print(f"screenshot: {path}")


def shown_outputs(cell: nbformat.NotebookNode) -> int:
    """How many outputs JupyterLab shows for a stored cell: consecutive stream outputs to the same stream are one."""
    count, last = 0, None
    for out in cell.get("outputs", []):
        stream = out.get("name") if out.output_type == "stream" else None
        count += not (stream and stream == last)
        last = stream
    return count


def stub_errors(student: Path) -> tuple[dict[int, str], set[int]]:
    """The student edition's check cells, by position among its code cells, each with the error its unsolved stub
    raises; and the positions of the lesson's own raises-exception cells (a mistake it shows on purpose)."""
    nb = nbformat.read(student, as_version=4)
    position = {index: n for n, index in enumerate(i for i, c in enumerate(nb.cells) if c.cell_type == "code")}
    checks = {
        position[index + 1]: f"NotImplementedError: Exercise {editions.exercise_id(cell.source)}: write your code here"
        for index, cell in editions.exercise_cells(nb)
    }
    assert sorted(checks) == sorted(position[i] for i, _ in editions.check_cells(nb)), "a check follows each exercise"
    exercises = {position[i] for i, _ in editions.exercise_cells(nb)}
    return checks, set(raising_cells(student)) - set(checks) - exercises


@pytest.mark.parametrize("stem", BROWSER_RUNS)
def test_notebook_runs_in_jupyterlab(browser_runs, lab, screenshots, stem: str):
    run = browser_runs[stem]
    try:
        assert not run["error"], f"{stem}: {run['error']}"
        page, state, course = run["page"], run["state"], ROOT / "notebooks" / f"{stem}.ipynb"
        checks, on_purpose = stub_errors(run["notebook"])
        assert state["done"] == state["cells"], f"{stem}: not every code cell ran: {state}"
        # (a) the only errors shown are the unsolved stubs', each in its check cell
        shown = {i: texts for i, texts in run["errors"].items() if i not in on_purpose}
        assert sorted(shown) == sorted(checks), f"{stem}: errors in code cells {sorted(shown)}, checks {sorted(checks)}"
        for position, expected in checks.items():
            [traceback] = shown[position]
            assert traceback.strip().splitlines()[-1].strip() == expected, f"{stem}, code cell {position}: {traceback}"
        exercises = exercise_ids(run["notebook"])
        assert len(exercises) == len(checks) >= 3 and state["collapsed"] == 0, f"{stem}: the stubs are shown: {state}"
        text = page.locator(f"{PANEL} .jp-Notebook").inner_text()
        assert "Error displaying widget" not in text
        assert "Loading widget" not in text
        widgets, expected = page.evaluate(WIDGETS_JS), stored_widget_outputs(course)
        assert widgets["roots"] == expected, f"{stem}: {expected} widgets displayed, {widgets['roots']} rendered"
        checked = time.monotonic()
        if stem.startswith("01_"):
            assert expected >= 1
            check_image_browser(page, stem, screenshots)
            check_widgets_fit(page, stem, screenshots)
        elif stem.startswith("05_"):
            assert expected >= 1  # the convolution stepper
            check_conv_stepper(page, stem, screenshots)
            check_widgets_fit(page, stem, screenshots)
        elif stem.startswith("07_"):
            assert expected >= 2  # the optimizer playground and the race viewer
            check_optimizer_playground(page, stem, screenshots)
            check_widgets_fit(page, stem, screenshots)
        elif stem.startswith("08_"):
            assert expected >= 2
            check_draw_pad(page, stem, screenshots)  # the layout at each window size, and drawing
        else:
            pytest.fail(f"{stem}: BROWSER_RUNS names a notebook without a widget check here")
        print(f"{stem}: widgets checked at {len(WINDOW_SIZES)} window sizes in {time.monotonic() - checked:.0f} s")
        print(f"{stem}: {state['cells']} code cells in {run['seconds']:.0f} s")
        # (b) what it recorded keeps the ci floors
        problems = metric_floors.violations("ci", stem, run["metrics"])
        assert not problems, "\n".join(problems)
    finally:
        run["context"].close()  # its kernel is not needed any more
        shut_down_kernels(lab, f"student/{stem}")


@pytest.mark.parametrize("stem", CI_RUNS)
def test_stored_notebook_renders_in_jupyterlab(lab, page, screenshots, stem: str):
    notebook = lab["root"] / "stored" / f"{stem}.ipynb"
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    open_notebook(page, lab, f"stored/{notebook.name}", f"stored-{stem}")
    expected = stored_widget_outputs(notebook)
    if expected:  # drawn from the notebook's saved widget state once the page has a session
        page.wait_for_function(f"() => ({WIDGETS_JS})().roots >= {expected}", timeout=60_000)
    page.wait_for_timeout(1500)  # images decode, widget views finish rendering
    page.screenshot(path=str(screenshots / f"{stem}-stored.png"))
    state = page.evaluate(STATE_JS)
    assert state["busy"] == 0 and state["cells"] + state["collapsed"] == len(cells), state
    shown = page.evaluate(OUTPUTS_JS)
    assert [c["outputs"] for c in shown] == [shown_outputs(c) for c in cells], f"{stem}: not every stored output shown"
    images = [width for c in shown for width in c["images"]]
    assert all(images), f"{stem}: an image did not load: {images}"
    stored_images = sum("image/png" in out.get("data", {}) for c in cells for out in c.get("outputs", []))
    assert len(images) >= stored_images, f"{stem}: {stored_images} stored images, {len(images)} shown"
    errors = page.evaluate(ERRORS_JS, raising_cells(notebook))
    assert not errors, f"{stem}: a stored traceback outside the lesson's raises-exception cells:\n" + "\n".join(errors)
    text = page.locator(f"{PANEL} .jp-Notebook").inner_text()
    assert "Error displaying widget" not in text and "Loading widget" not in text
    widgets = page.evaluate(WIDGETS_JS)
    assert widgets["roots"] == expected, f"{stem}: {expected} widgets stored, {widgets['roots']} rendered"
    if expected:
        assert widgets["views"] > widgets["roots"], f"{stem}: the widgets' children were not drawn: {widgets}"
        check_widgets_fit(page, f"{stem}-stored", screenshots)
    assert page.evaluate(STATE_JS)["busy"] == 0, f"{stem}: a cell was executed"


WIDGET_STEMS = (
    "01_loading_mnist",
    "02_preprocessing",
    "05_cnn",
    "06_what_the_cnn_sees",
    "07_optimizers_and_losses",
    "08_playground",
)  # the notebooks that show widgets
THEMES = ("light", "dark")


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("stem", WIDGET_STEMS)
def test_widget_text_is_readable_in_the_light_and_the_dark_theme(request, browser, lab, screenshots, stem, theme):
    """Each stored notebook opened in JupyterLab's light and dark themes (no cell run: the widgets are drawn from the
    saved widget state): one screenshot per widget, and every piece of text inside the widgets has the contrast WCAG 2
    asks of text (AA: 4.5:1, 3:1 for large text) against what it is drawn on. The digits are images and keep MNIST's
    convention, dark ink on white in every figure, in both themes."""
    server = lab if theme == "light" else request.getfixturevalue("dark_lab")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        notebook = lab["root"] / "stored" / f"{stem}.ipynb"
        expected = stored_widget_outputs(notebook)
        assert expected >= 1, f"{stem}: no widget stored"
        open_notebook(page, server, f"stored/{notebook.name}", f"{theme}-{stem}")
        page.wait_for_function(f"() => ({WIDGETS_JS})().roots >= {expected}", timeout=60_000)
        page.wait_for_timeout(1500)  # images decode, widget views finish rendering
        light = page.evaluate("() => document.body.dataset.jpThemeLight")
        assert light == ("true" if theme == "light" else "false"), f"JupyterLab's theme is not {theme}: {light}"
        roots = page.locator(f"{PANEL} .jp-OutputArea-output > .jupyter-widgets")
        for k in range(roots.count()):
            roots.nth(k).scroll_into_view_if_needed()
            path = screenshots / f"{stem}-{theme}-widget-{k + 1}.png"
            roots.nth(k).screenshot(path=str(path))
            print(f"screenshot: {path}")
        texts = page.evaluate(TEXT_CONTRAST_JS)
        assert texts, f"{stem}: no text found in its widgets"
        poor = [t for t in texts if t["ratio"] < (3.0 if t["large"] else 4.5)]
        assert not poor, (
            f"{stem}, {theme} theme: text below WCAG AA contrast: "
            + "; ".join(f"{t['text']!r} {t['color']} on {t['background']} ({t['ratio']:.2f}:1)" for t in poor[:10])
            + (f" and {len(poor) - 10} more" if len(poor) > 10 else "")
        )
        print(f"{stem}, {theme}: {len(texts)} texts, lowest contrast {min(t['ratio'] for t in texts):.2f}:1")
    finally:
        context.close()
        shut_down_kernels(server, "stored/")
