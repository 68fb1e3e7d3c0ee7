"""The optimizer playground of notebook 07 in a real JupyterLab (a live kernel): the "step" button adds a step to
every path, and a learning rate typed into the η slider's readout makes plain SGD diverge, said in the table."""

from __future__ import annotations

import re
from pathlib import Path

CHANGED_JS = "([el, text]) => el.innerText !== text"


def _steps_in(table_text: str) -> int:
    """The step count the loss table's header names ("loss after 31 steps", on two lines)."""
    found = re.search(r"after\s+(\d+) steps?", table_text)
    assert found, f"the loss table names no step count: {table_text!r}"
    return int(found.group(1))


def _rows(table_text: str) -> dict[str, str]:
    """The loss table's rows by rule name (the browser's innerText puts a tab between the cells of a row)."""
    return {line.split("\t")[0].strip(): line for line in table_text.splitlines() if "\t" in line}


def check_optimizer_playground(page, stem: str, screenshots: Path) -> None:
    """Notebook 07: clicking "step" adds one step (table header and picture change); typing η = 0.3 into the
    slider's readout turns SGD's loss into "diverged" while the picture keeps its frame (same size)."""
    playground = page.locator(".mnist-playground").first
    playground.scroll_into_view_if_needed()
    table, plot = playground.locator(".mnist-playground-table"), playground.locator(".mnist-playground-plot")
    before_text, before_src = table.inner_text(), plot.get_attribute("src")
    before_box = plot.bounding_box()
    playground.screenshot(path=str(screenshots / f"{stem}-playground-before.png"))

    playground.locator(".mnist-playground-step").click()
    page.wait_for_function(CHANGED_JS, arg=[table.element_handle(), before_text], timeout=15_000)
    page.wait_for_timeout(500)  # the new picture arrives with the table
    assert _steps_in(table.inner_text()) == _steps_in(before_text) + 1, table.inner_text()
    assert plot.get_attribute("src") != before_src, "one more step, but the picture did not change"
    playground.screenshot(path=str(screenshots / f"{stem}-playground-step.png"))

    stepped = table.inner_text()
    assert "diverged" not in _rows(stepped).get("SGD", "diverged"), f"SGD diverges at the start: {stepped!r}"
    readout = playground.locator(".mnist-playground-eta .widget-readout").first
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0.3")
    page.keyboard.press("Enter")
    page.wait_for_function(CHANGED_JS, arg=[table.element_handle(), stepped], timeout=15_000)
    page.wait_for_timeout(500)
    assert "diverged" in _rows(table.inner_text()).get("SGD", ""), (
        f"SGD at η = 0.3 should diverge: {table.inner_text()!r}"
    )
    after_box = plot.bounding_box()
    assert abs(after_box["width"] - before_box["width"]) < 2 and abs(after_box["height"] - before_box["height"]) < 2, (
        f"a diverging path changed the picture's size: {before_box} -> {after_box}"
    )
    path = screenshots / f"{stem}-playground-diverged.png"
    playground.screenshot(path=str(path))
    print(f"screenshot: {path}")
