"""nbval's sanitizer (tests/nbval_sanitize.cfg) masks what varies between runs and nothing a lesson prints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

CFG = Path(__file__).with_name("nbval_sanitize.cfg")


def sanitize(text: str) -> str:
    """What nbval compares: every regex of the file applied in order, as nbval's ``sanitize`` does."""
    for regex, replace in get_sanitize_patterns(CFG.read_text()):
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(
    "kept",
    [
        "✅ Exercise 1.1: correct. magic 2049 = 0x00000801 (unsigned byte, 1 dimension)",
        "the **magic number** 2051 (`0x00000803`)",
        "sha256 0xdeadbeefcafe1234 is a hex number, not an address",
        "x_train  (60000, 28, 28)  uint8",
        "a VBox( in the middle of a sentence stays",
    ],
)
def test_real_content_is_left_as_it_is(kept):
    assert sanitize(kept) == kept


@pytest.mark.parametrize(
    "varies, masked",
    [
        ("<function f at 0x7f3a2b1c4d90>", "<function f at 0xADDRESS>"),
        (
            "<keras.src.models.sequential.Sequential object at 0x7f0e1c2b3a40>",
            "<keras.src.models.sequential.Sequential object at 0xADDRESS>",
        ),
        ("<Figure size 640x480 with 2 Axes>", "<Figure>"),
        ("VBox(children=(IntSlider(value=0),))", "<widget>"),
    ],
)
def test_what_varies_between_runs_is_masked(varies, masked):
    assert sanitize(varies) == masked
