"""README's "Where it runs" table says what CI runs: its versions are those of the files CI installs from."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements or constraints file, by lower-case name."""
    found = {}
    for line in path.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line):
            found[m.group(1).lower().replace("_", "-")] = m.group(2)
    return found


def rows() -> dict[str, list[str]]:
    """The table's rows by their first column."""
    text = ROOT.joinpath("README.md").read_text()
    section = text.split("## Where it runs", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| where")]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in table)}


def floor(requirement: str) -> str:
    deps = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text())["project"]["dependencies"]
    [spec] = [d for d in deps if re.match(rf"{requirement}\b", d)]
    return spec.split(">=")[1].split(",")[0].strip()


def test_each_row_names_the_versions_ci_installs():
    table = rows()
    local = pins(ROOT / "constraints.txt")
    stack = ("tensorflow", "keras", "ipywidgets")
    assert table["JupyterLab 4 (your machine, Binder, JupyterHub)"][1] == ", ".join(local[p] for p in stack)
    assert table["the oldest versions allowed"][1] == ", ".join(floor(p) for p in stack) + " (floors)"
    for name, file in (("Google Colab stand-in", "colab-2026.txt"), ("Kaggle stand-in", "kaggle-2026.txt")):
        listed = pins(ROOT / "tests" / "oldest_stack" / file)
        assert table[name][1] == ", ".join(listed[p] for p in stack), name
    backends = table["JAX and PyTorch backends"][1]
    assert backends == f"Keras {local['keras']} with jax {local['jax']} or torch {local['torch']}"


def test_the_pythons_are_those_ci_uses():
    table = rows()
    ci = ROOT.joinpath(".ci", "oldest-stack").read_text()
    assert table["the oldest versions allowed"][0] == "3.12" and "3.12" in ci
    assert table["Google Colab stand-in"][0] == table["Kaggle stand-in"][0] == "3.13" and "3.13" in ci
    assert "kaggle" in ci and "colab" in ci
    classifiers = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text())["project"]["classifiers"]
    for python in {row[0] for row in table.values()}:
        assert f"Programming Language :: Python :: {python}" in classifiers, python
