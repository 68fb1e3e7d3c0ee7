"""The course as a student meets it: every notebook run in a real JupyterLab in headless Chromium, widgets included.

Needs Chromium (``apt-get install chromium``; another binary via ``$MNIST_COURSE_BROWSER``) and Playwright's Python
package (``pip install -e ".[test]"``); never ``playwright install``. Screenshots go to a ``screenshots`` folder under
pytest's temporary directory (its path is printed). The draw pad of notebook 08 is also checked at 1280x800 and
1920x1080: its whole canvas visible, no widget with a horizontal scrollbar, a stroke drawn with the mouse.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BROWSER_ENV = "MNIST_COURSE_BROWSER"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WINDOW_SIZES = ((1280, 800), (1920, 1080))  # a laptop and a desktop screen: every widget must fit both
RUN_TIMEOUT_S = 180  # per notebook; each takes <= 60 s under nbval, the browser and the server add some
SETTINGS = {  # JupyterLab user settings: every cell in the page (no virtual scrolling), no news or update checks
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false", '
    '"checkForUpdates": false}',
}
STATE_JS = """() => {
  const all = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')];
  // A collapsed input (the exercises' solution cells) shows an empty placeholder prompt, and those cells print
  // nothing: they are counted apart. The locked check cell right after each one calls what it defines, so a check
  // that ran without an error shows that its solution cell ran too.
  const collapsed = all.filter(c => c.querySelector('.jp-InputPlaceholder'));
  const cells = all.filter(c => !c.querySelector('.jp-InputPlaceholder'));
  const prompts = cells.map(c => [...c.querySelectorAll('.jp-InputPrompt, .jp-OutputPrompt')]
    .map(p => p.textContent).join(' '));
  const indicator = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
  return {cells: cells.length, collapsed: collapsed.length, done: prompts.filter(p => /\\[\\d+\\]/.test(p)).length,
          busy: prompts.filter(p => p.includes('*')).length, status: indicator && indicator.dataset.status};
}"""
KERNEL_READY_JS = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
  .some(e => /\\| Idle$/.test(e.textContent.trim()))"""  # the status bar says "Python 3 (ipykernel) | Idle"
# the tracebacks shown, but not those of the cells tagged raises-exception (whose error is the lesson; JupyterLab
# runs on past them): ``expected`` holds their positions among the notebook's code cells
ERRORS_JS = """expected => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')]
  .flatMap((cell, i) => expected.includes(i) ? [] : [...cell.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')].map(e => e.innerText))
  .filter(t => /Traceback|Error/.test(t))"""
WIDGETS_JS = """() => ({
  roots: document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length,
  views: document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length})"""
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def exercise_ids(notebook: Path) -> list[str]:
    """The exercises of the notebook ("3.1", ...): one collapsed solution cell and one check cell each."""
    import nbformat

    from mnist_course import editions

    nb = nbformat.read(notebook, as_version=4)
    return [editions.exercise_id(cell.source) for _, cell in editions.exercise_cells(nb)]


def raising_cells(notebook: Path) -> list[int]:
    """Positions (among the code cells) of the cells tagged raises-exception."""
    import nbformat

    code = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    return [i for i, cell in enumerate(code) if "raises-exception" in cell.metadata.get("tags", [])]


def stored_widget_outputs(notebook: Path) -> int:
    """How many widgets the notebook displays, from its stored (full-profile) outputs."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    return sum(WIDGET_MIME in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium binary, or a failure that says how to install it (a missing browser is not a skip)."""
    path = os.environ.get(BROWSER_ENV, "/usr/bin/chromium")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"no Chromium at {path}: install it with `apt-get install chromium` "
            f"(or point ${BROWSER_ENV} at a Chromium binary); do not run `playwright install`"
        )
    return path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free port with a random token, serving a temporary copy of notebooks/, kernels in the ci
    profile; the whole process group is stopped afterwards, whatever happened."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name, text in SETTINGS.items():
        (base / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (base / "settings" / name).write_text(text)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "MNIST_COURSE_PROFILE": "ci",
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    env.pop("MPLBACKEND", None)  # the notebooks choose their own (inline) backend, as on a student's machine
    log = open(base / "jupyterlab.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.allow_root=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start; its log:\n{(base / 'jupyterlab.log').read_text()}")
                time.sleep(0.5)
        yield {"url": url, "token": token, "root": root}
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        log.close()


@pytest.fixture(scope="module")
def browser(chromium):
    """Headless Chromium driven by Playwright, always closed at the end."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail('Playwright is missing: pip install -e ".[test]" (the Python package only)')
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chrome
        finally:
            chrome.close()


def _shut_down_kernels(lab: dict) -> None:
    """Stop every kernel of the server (through its REST API), so notebooks do not pile up in memory."""
    import json

    api = f"{lab['url']}/api/kernels"
    with urllib.request.urlopen(f"{api}?token={lab['token']}", timeout=10) as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{api}/{kernel['id']}?token={lab['token']}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


@pytest.fixture
def page(browser, lab):
    """A fresh browser page; afterwards it is closed and the kernels it started are shut down."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()
        _shut_down_kernels(lab)


def _menu(page, menu: str, command: str) -> None:
    """Click a top menu, then the item running ``command`` (as a student would)."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').first.click()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """The folder the screenshots go to (printed, so a person can look at them)."""
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


def run_all(page, name: str, screenshots: Path, expected_errors: list[int]) -> dict:
    """Clear the stored outputs, run every cell from the menu, wait until each code cell has its execution count
    and the kernel is idle (or a cell failed, which stops Run All). Returns the final state."""
    page.wait_for_function(KERNEL_READY_JS, timeout=90_000)
    _menu(page, "Edit", "editmenu:clear-all")
    page.wait_for_function("() => !document.querySelector('.jp-OutputArea-output')", timeout=10_000)
    _menu(page, "Run", "runmenu:run-all")
    deadline, idle_since, state = time.monotonic() + RUN_TIMEOUT_S, None, {}
    while time.monotonic() < deadline:
        state = page.evaluate(STATE_JS)
        idle = state["status"] == "idle" and state["busy"] == 0
        if idle and state["done"] == state["cells"]:
            return state
        idle_since = (idle_since or time.monotonic()) if idle else None
        if idle_since and time.monotonic() - idle_since > 5 and page.evaluate(ERRORS_JS, expected_errors):
            return state  # a cell raised: Run All stopped there
        page.wait_for_timeout(500)
    page.screenshot(path=str(screenshots / f"{name}-timeout.png"))
    pytest.fail(f"{name}: not finished after {RUN_TIMEOUT_S} s: {state}")


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
    box = pad.locator("canvas.mnist-draw-canvas").bounding_box()
    x, top, height = box["x"] + box["width"] / 2, box["y"], box["height"]
    page.mouse.move(x, top + 0.15 * height)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, top + (0.15 + 0.7 * step / 20) * height)
    page.mouse.up()
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


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(lab, page, screenshots, notebook: Path):
    name = notebook.stem
    # a workspace of its own, reset: only this notebook open, nothing restored from an earlier test
    page.goto(f"{lab['url']}/lab/workspaces/{name}/tree/{notebook.name}?reset&token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", state="attached", timeout=60_000)
    started = time.monotonic()
    expected_errors = raising_cells(notebook)
    state = run_all(page, name, screenshots, expected_errors)
    page.wait_for_timeout(1500)  # widget views render asynchronously after the kernel is idle
    page.screenshot(path=str(screenshots / f"{name}.png"))
    errors = page.evaluate(ERRORS_JS, expected_errors)
    assert not errors, f"{name}: a cell failed:\n" + "\n".join(errors)
    assert state["done"] == state["cells"], f"{name}: not every code cell ran: {state}"
    text = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text()
    assert "Error displaying widget" not in text
    assert "Loading widget" not in text
    widgets, expected = page.evaluate(WIDGETS_JS), stored_widget_outputs(notebook)
    assert widgets["roots"] == expected, f"{name}: {expected} widgets displayed, {widgets['roots']} rendered"
    if name.startswith("01_"):
        assert expected >= 1
        check_image_browser(page, name, screenshots)
    checked = time.monotonic()
    if name.startswith("08_"):
        assert expected >= 2
        check_draw_pad(page, name, screenshots)  # the layout at each window size, and drawing
    elif expected:
        check_widgets_fit(page, name, screenshots)
    print(f"{name}: widgets checked at {len(WINDOW_SIZES)} window sizes in {time.monotonic() - checked:.0f} s")
    exercises = exercise_ids(notebook)
    assert state["collapsed"] == len(exercises) >= 3, f"{name}: the solution cells are collapsed: {state}"
    for ident in exercises:  # each check cell ran after its solution cell, and passed
        assert f"✅ Exercise {ident}: correct" in text, f"{name}: no ✅ for exercise {ident}"
    print(f"{name}: {state['cells']} code cells in {time.monotonic() - started:.0f} s")
