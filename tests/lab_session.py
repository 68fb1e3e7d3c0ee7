"""JupyterLab in headless Chromium for the tests: the server, the browser, and what a student does in it (open a
notebook, Run All, save), used by the session fixtures of tests/conftest.py and by tests/browser/test_jupyterlab.py.

Needs Chromium (``apt-get install chromium``; another binary via ``$MNIST_COURSE_BROWSER``) and Playwright's Python
package (``pip install -e ".[test]"``); never ``playwright install``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from mnist_course.notebook import STORED_OUTPUTS_ENV

BROWSER_ENV = "MNIST_COURSE_BROWSER"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_TIMEOUT_S = 180  # per notebook; each takes <= 60 s under nbval, the browser and the server add some
SETTINGS = {  # JupyterLab user settings: every cell in the page (no virtual scrolling), no news or update checks
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false", '
    '"checkForUpdates": false}',
}
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
STATE_JS = """() => {
  const all = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')];
  // A collapsed input (the course edition's solution cells) shows an empty placeholder prompt, and those cells
  // print nothing: they are counted apart. The locked check cell right after each one calls what it defines.
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
# the tracebacks shown, but not those of the cells at the positions (among the notebook's code cells) in ``expected``
ERRORS_JS = """expected => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')]
  .flatMap((cell, i) => expected.includes(i) ? [] : [...cell.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')].map(e => e.innerText))
  .filter(t => /Traceback|Error/.test(t))"""
# every traceback shown, by position among the notebook's code cells: {"12": ["Traceback ..."], ...}
CELL_ERRORS_JS = """() => Object.fromEntries(
  [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')]
    .map((cell, i) => [i, [...cell.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.innerText).filter(t => /Traceback|Error/.test(t))])
    .filter(([, texts]) => texts.length))"""
WIDGETS_JS = """() => ({
  roots: document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets').length,
  views: document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length})"""
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def chromium_path() -> str:
    """The Chromium binary, or a failure that says how to install it (a missing browser is not a skip)."""
    path = os.environ.get(BROWSER_ENV, "/usr/bin/chromium")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"no Chromium at {path}: install it with `apt-get install chromium` "
            f"(or point ${BROWSER_ENV} at a Chromium binary); do not run `playwright install`"
        )
    return path


def code_cells(notebook: Path) -> list:
    import nbformat

    return [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]


def raising_cells(notebook: Path) -> list[int]:
    """Positions (among the code cells) of the cells tagged raises-exception."""
    return [i for i, cell in enumerate(code_cells(notebook)) if "raises-exception" in cell.metadata.get("tags", [])]


def exercise_ids(notebook: Path) -> list[str]:
    """The exercises of the notebook ("3.1", ...): one solution cell and one check cell each."""
    import nbformat

    from mnist_course.course import editions

    nb = nbformat.read(notebook, as_version=4)
    return [editions.exercise_id(cell.source) for _, cell in editions.exercise_cells(nb)]


def stored_widget_outputs(notebook: Path) -> int:
    """How many widgets the notebook displays, from its stored outputs."""
    return sum(WIDGET_MIME in out.get("data", {}) for cell in code_cells(notebook) for out in cell.get("outputs", []))


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DARK_THEME = {"@jupyterlab/apputils-extension/themes.jupyterlab-settings": '{"theme": "JupyterLab Dark"}'}
# Every piece of text inside the widgets (an element with text of its own, shown and not disabled): its colour and
# the background it is drawn on (the element's and its ancestors' backgrounds, composited), and their contrast ratio
# as WCAG 2 defines it. Text drawn into images or canvases is not text here.
TEXT_CONTRAST_JS = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]*)\\)/); if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const backdrop = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    return layers.reverse().reduce((bg, layer) => over(layer, bg), [255, 255, 255, 1]); };
  const luminance = c => { const [r, g, b] = c.slice(0, 3).map(v => v / 255)
    .map(v => v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const found = [];
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden)';
  for (const root of document.querySelectorAll(`${panel} .jp-OutputArea-output > .jupyter-widgets`)) {
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
      if (!own || !el.getClientRects().length || el.closest('[disabled], .mod-disabled')) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden') continue;
      const bg = backdrop(el), ink = over(parse(style.color), bg);
      const [hi, lo] = [luminance(ink), luminance(bg)].sort((a, b) => b - a);
      const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
      found.push({text: own.slice(0, 40), ratio: (hi + 0.05) / (lo + 0.05),
                  large: size >= 24 || (bold && size >= 18.66), color: style.color,
                  background: `rgb(${bg.slice(0, 3).map(Math.round)})`});
    }
  }
  return found;
}"""


@contextmanager
def jupyterlab(
    base: Path, root: Path, env: Mapping[str, str], settings: Mapping[str, str] | None = None
) -> Iterator[dict]:
    """JupyterLab on a free port with a random token serving ``root`` (settings, workspaces and runtime files under
    ``base``; ``settings`` are user settings added to :data:`SETTINGS`, such as :data:`DARK_THEME`), its kernels
    started with ``env`` added to this process's environment; the whole process group is stopped afterwards, whatever
    happened. Yields ``{"url", "token", "root", "base"}``."""
    for name, text in {**SETTINGS, **(settings or {})}.items():
        (base / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (base / "settings" / name).write_text(text)
    port, token = free_port(), secrets.token_hex(16)
    full_env = {
        **os.environ,
        **env,
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    full_env.pop("MPLBACKEND", None)  # the notebooks choose their own (inline) backend, as on a student's machine
    full_env.pop(STORED_OUTPUTS_ENV, None)  # widgets shown as to a student: no separate static picture
    log_file = base / "jupyterlab.log"
    log = open(log_file, "wb")
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
        env=full_env,
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
                    pytest.fail(f"JupyterLab did not start; its log:\n{log_file.read_text()}")
                time.sleep(0.5)
        yield {"url": url, "token": token, "root": root, "base": base}
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


def stroke_down_the_middle(page, box: Mapping[str, float]) -> None:
    """Draw with the mouse a vertical stroke down the middle of ``box`` (a bounding box), from 15 % to 85 % of its
    height, in 20 moves, as a person draws a 1."""
    x, top, height = box["x"] + box["width"] / 2, box["y"], box["height"]
    page.mouse.move(x, top + 0.15 * height)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, top + (0.15 + 0.7 * step / 20) * height)
    page.mouse.up()


@contextmanager
def chromium(path: str) -> Iterator[object]:
    """Headless Chromium driven by Playwright, always closed at the end."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail('Playwright is missing: pip install -e ".[test]" (the Python package only)')
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _api(lab: dict, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(f"{lab['url']}/api/{path}?token={lab['token']}", method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


def shut_down_kernels(lab: dict, under: str = "") -> None:
    """Stop the kernels of the notebooks whose path (relative to the lab's root) starts with ``under`` (every
    kernel of the server when it is empty), so notebooks do not pile up in memory."""
    for session in _api(lab, "sessions"):
        if session.get("path", "").startswith(under) and session.get("kernel"):
            _api(lab, f"sessions/{session['id']}", method="DELETE")
    if not under:
        for kernel in _api(lab, "kernels"):
            _api(lab, f"kernels/{kernel['id']}", method="DELETE")


def menu(page, menu_name: str, command: str) -> None:
    """Click a top menu, then the item running ``command`` (as a student would)."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu_name}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').first.click()


def open_notebook(page, lab: dict, path: str, workspace: str) -> None:
    """Open ``path`` (relative to the lab's root) in a workspace of its own, reset: only this notebook open, nothing
    restored from an earlier test. Returns once its cells are in the page."""
    quoted = urllib.parse.quote(path)
    page.goto(f"{lab['url']}/lab/workspaces/{workspace}/tree/{quoted}?reset&token={lab['token']}")
    page.wait_for_selector(f"{PANEL} .jp-Notebook .jp-CodeCell", state="attached", timeout=60_000)


def run_all(page, name: str, screenshots: Path, expected_errors: list[int]) -> dict:
    """Clear the outputs, run every cell from the menu, wait until each code cell has its execution count and the
    kernel is idle (or a cell not in ``expected_errors`` failed, which stops Run All). Returns the final state."""
    page.wait_for_function(KERNEL_READY_JS, timeout=90_000)
    menu(page, "Edit", "editmenu:clear-all")
    page.wait_for_function("() => !document.querySelector('.jp-OutputArea-output')", timeout=10_000)
    menu(page, "Run", "runmenu:run-all")
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


def save(page, file: Path, timeout_s: float = 30) -> None:
    """Save the open notebook from the File menu and wait until ``file`` on disk holds an execution count for each
    code cell (what was run)."""
    import nbformat

    before = file.stat().st_mtime_ns
    menu(page, "File", "docmanager:save")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if file.stat().st_mtime_ns != before:
            try:
                cells = [c for c in nbformat.read(file, as_version=4).cells if c.cell_type == "code"]
            except (OSError, ValueError):
                cells = []  # being written
            if cells and all(c.execution_count is not None for c in cells):
                return
        time.sleep(0.3)
    pytest.fail(f"{file.name}: JupyterLab did not save the executed notebook within {timeout_s:.0f} s")
