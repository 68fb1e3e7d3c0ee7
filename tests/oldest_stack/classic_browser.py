"""The widgets on an ipywidgets 7 front end in a real browser: the classic Notebook of a Colab-like environment.

``python tests/oldest_stack/classic_browser.py --kernel-python ENV/bin/python --out FOLDER NOTEBOOK...`` starts
``jupyter notebook`` (Notebook 6.5 with widgetsnbextension 3.6 and anywidget's nbextension: the closest front end to
Colab's that runs offline) from that environment, opens each notebook in headless Chromium (Playwright, the browser
in ``$MNIST_COURSE_BROWSER`` or ``/usr/bin/chromium``), runs every cell in the ci profile, and checks that no cell
shows an error, that every widget the kernel displayed is rendered (no "Error displaying widget"), and that each
widget answers a person: a slider moved with the arrow keys, a checkbox or a matrix cell clicked, a stroke drawn on
the draw pad, each changing what the widget shows. One screenshot per widget, before and after, into ``--out``.
Run by .ci/oldest-stack with the Colab stand-in; the course must be installed in that environment. Prints one line
per notebook; exit code 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the repository's tests package
from tests.lab_session import chromium, chromium_path, free_port, stroke_down_the_middle  # noqa: E402

# What a person does to each widget (by the CSS class of its root), and where the change must show.
ACTIONS = {
    "mnist-browser": ("arrows", ".mnist-browser-slider"),
    "mnist-vector": ("arrows", ".mnist-vector-slider"),
    "mnist-features": ("arrows", ".mnist-features-example"),
    "mnist-race": ("click", ".mnist-race-checkbox input"),
    "mnist-confusion": ("click", ".mnist-confusion-cell:nth-of-type(2)"),
    "mnist-draw": ("draw", "canvas.mnist-draw-canvas"),
    "mnist-conv": ("arrows", ".mnist-conv-position"),
    "mnist-playground": ("arrows", ".mnist-playground-steps"),
}
# ipywidgets 7 draws an IntSlider with jQuery UI (its handle takes the arrow keys), 8 with noUiSlider
HANDLE = ".ui-slider-handle, .noUi-handle"
# Run All marks every code cell "*" at once; it is done when none is left waiting and the kernel is idle (after an
# error the classic Notebook drops the rest of the queue: those cells keep no number, and the error is reported)
DONE_JS = """() => {
  const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code');
  const idle = document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null;
  return idle && !cells.some(c => c.input_prompt_number === '*');
}"""
UNRUN_JS = """() => Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code' && c.get_text().trim()
  && typeof c.input_prompt_number !== 'number').length"""
EMPTY_JS = """() => [...document.querySelectorAll('.output_subarea.jupyter-widgets-view')]
  .filter(el => !el.querySelector('.jupyter-widgets')).length"""
SEEN_JS = """root => [...root.querySelectorAll('img')].map(i => i.src.slice(-200)).join('|') + '|' + root.innerText"""


def start_server(kernel_python: str, folder: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """``jupyter notebook`` of the environment, serving ``folder``; returns the process and its base URL."""
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "MNIST_COURSE_PROFILE": "ci", "JUPYTER_CONFIG_DIR": str(folder / ".jupyter")}
    argv = [kernel_python, "-m", "notebook", "--no-browser", f"--port={port}", "--ip=127.0.0.1"]
    argv += [f"--NotebookApp.token={token}", f"--notebook-dir={folder}", "--allow-root"]
    server = subprocess.Popen(argv, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            return server, f"{url}/notebooks/{{name}}?token={token}"
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.5)
    server.kill()
    raise RuntimeError(f"jupyter notebook did not start (log: {log})")


def operate(page, root, kind: str, target: str) -> None:
    """Do to the widget ``root`` what ACTIONS says."""
    element = root.locator(target).first
    element.scroll_into_view_if_needed()
    if kind == "arrows":
        element.locator(HANDLE).first.focus()
        for _ in range(2):
            page.keyboard.press("ArrowRight")
    elif kind == "click":
        element.click()
    else:
        stroke_down_the_middle(page, element.bounding_box())


def check_notebook(browser, url: str, name: str, shots: Path) -> list[str]:
    """Run ``name`` in the classic Notebook; the problems found (empty when all is well)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    problems: list[str] = []
    try:
        page.goto(url.format(name=name), timeout=60_000)
        page.wait_for_function(
            "() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel "
            "&& Jupyter.notebook.kernel.is_connected()",
            timeout=120_000,
        )
        # the widget manager comes up after the kernel; models created before it has fetched the kernel's widget
        # state are never drawn (their outputs stay empty), so wait for it as a person would
        page.wait_for_function("() => Jupyter.notebook.kernel.widget_manager !== undefined", timeout=60_000)
        page.wait_for_timeout(5000)
        page.evaluate("() => Jupyter.notebook.execute_all_cells()")
        page.wait_for_timeout(2000)
        page.wait_for_function(DONE_JS, timeout=600_000, polling=1000)
        page.wait_for_timeout(2000)  # the last widget views finish rendering
        if unrun := page.evaluate(UNRUN_JS):
            problems.append(f"{unrun} code cell(s) did not run")
        text = page.locator("#notebook-container").inner_text()
        errors = page.locator(".output_error").count()
        if errors:
            first = page.locator(".output_error").first.inner_text().strip().splitlines()[-1:]
            problems.append(f"{errors} cell(s) show an error, e.g. {first}")
        for broken in ("Error displaying widget", "Error rendering", "Loading widget"):
            if broken in text:
                problems.append(f"a widget shows {broken!r}")
        empty = page.evaluate(EMPTY_JS)
        if empty:
            problems.append(f"{empty} widget output(s) left empty (the view was never drawn)")
        roots = [cls for cls in ACTIONS if page.locator(f".{cls}").count()]
        if not roots:
            problems.append("no course widget was rendered")
        for cls in roots:
            root = page.locator(f".{cls}").first
            root.scroll_into_view_if_needed()
            root.screenshot(path=str(shots / f"{name[:2]}-{cls}-before.png"))
            before = root.evaluate(SEEN_JS)
            kind, target = ACTIONS[cls]
            try:
                operate(page, root, kind, target)
                page.wait_for_function(
                    f"([el, seen]) => ({SEEN_JS})(el) !== seen", arg=[root.element_handle(), before], timeout=30_000
                )
            except Exception as error:  # noqa: BLE001 - reported as one line with the widget's name
                problems.append(f"{cls}: nothing changed after {kind} on {target} ({type(error).__name__})")
            page.wait_for_timeout(800)
            root.screenshot(path=str(shots / f"{name[:2]}-{cls}-after.png"))
        print(f"  classic notebook: {name}: widgets rendered and operated: {', '.join(roots) or 'none'}")
    finally:
        context.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel-python", required=True, help="python of the environment with notebook 6.5")
    parser.add_argument("--out", type=Path, required=True, help="folder for the screenshots")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    browser_path = chromium_path()  # $MNIST_COURSE_BROWSER, else /usr/bin/chromium
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="classic-notebook-"))
    for notebook in args.notebooks:
        shutil.copy(notebook, folder / notebook.name)
    results = args.notebooks[0].parent / "results"  # the shipped results 04, 05 and 07 read
    if results.is_dir():
        shutil.copytree(results, folder / "results")
    server, url = start_server(args.kernel_python, folder, args.out / "server.log")
    failed = 0
    try:
        with chromium(browser_path) as browser:
            for notebook in args.notebooks:
                problems = check_notebook(browser, url, notebook.name, args.out)
                for problem in problems:
                    print(f"oldest-stack: FAILED classic notebook (ipywidgets 7): {notebook.name}: {problem}")
                failed += bool(problems)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"classic notebook: {len(args.notebooks) - failed} passed, {failed} failed; screenshots in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
