"""The convolution stepper of notebook 05 in a real browser, with a live kernel: "next" moves the window one position
and fills one more cell of the map; padding "same" makes the map as large as the image."""

from __future__ import annotations

import re
from pathlib import Path

CHANGED_JS = "([el, text]) => el.innerText !== text"


def check_conv_stepper(page, stem: str, screenshots: Path) -> None:
    """Notebook 05: pressing "next" shows the next position (one column to the right) with its multiply-add and a
    new map picture; choosing padding "same" turns the 26 x 26 map into a 28 x 28 one. Needs the notebook run in
    the page (its kernel answers the controls); screenshots of the widget before, after "next" and after "same"."""
    stepper = page.locator(".mnist-conv").first
    stepper.scroll_into_view_if_needed()
    caption = stepper.locator(".mnist-conv-caption").first
    total = stepper.locator(".mnist-conv-sum").first
    picture = stepper.locator("img.mnist-conv-map").first
    before_text, before_sum, before_map = caption.inner_text(), total.inner_text(), picture.get_attribute("src")
    stepper.screenshot(path=str(screenshots / f"{stem}-conv-before.png"))
    assert "26 × 26" in before_text, before_text
    position, row, col = map(
        int, re.search(r"position (\d+) of 0 to 675 \(row (\d+), column (\d+)\)", before_text).groups()
    )
    assert f"map[{row}, {col}]" in before_sum and col < 25, before_sum

    stepper.locator(".mnist-conv-next").first.click()
    page.wait_for_function(CHANGED_JS, arg=[caption.element_handle(), before_text], timeout=15_000)
    page.wait_for_timeout(500)  # the pictures arrive with the caption's message or just after
    stepper.screenshot(path=str(screenshots / f"{stem}-conv-next.png"))
    after_text = caption.inner_text()
    assert f"position {position + 1} of 0 to 675 (row {row}, column {col + 1})" in after_text, after_text
    assert f"map[{row}, {col + 1}]" in total.inner_text(), total.inner_text()
    assert picture.get_attribute("src") != before_map, "next was pressed but the feature map picture did not change"

    stepper.locator(".mnist-conv-padding select").first.select_option("same")
    page.wait_for_function(CHANGED_JS, arg=[caption.element_handle(), after_text], timeout=15_000)
    page.wait_for_timeout(500)
    path = screenshots / f"{stem}-conv-same.png"
    stepper.screenshot(path=str(path))
    print(f"screenshot: {path}")
    same_text = caption.inner_text()
    assert "28 × 28" in same_text and "Keras pads 1 zero(s) before and 1 after" in same_text, same_text


__all__ = ["check_conv_stepper"]
