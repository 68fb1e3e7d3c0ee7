"""The package's layout cannot decay unnoticed: imports point one way only, no module imports itself in a circle, and
CONTRIBUTING.md's map lists every module with its one line (and nothing that is gone)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import mnist_course

PACKAGE = Path(mnist_course.__file__).parent
ROOT = PACKAGE.parent
# The layers, lowest first: a module may import its own layer and the layers below it, never one above.
LAYERS = ("foundations", "data", "toolkit", "lessons", "widgets", "exercises")
FOUNDATIONS = {"mnist_course", "mnist_course.files", "mnist_course.paths", "mnist_course.seeding", "mnist_course.quiet"}
FOUNDATIONS |= {"mnist_course.notebook", "mnist_course.backend"}
TOOLKIT_MODULES = {"evaluation", "fields", "live", "plots", "predict", "shipped", "stats"}
OPENING = "mnist_course.start"  # the one module outside course/ that may import course/


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    """The layer of ``module`` (``"course"`` and ``"opening"`` stand outside the ladder)."""
    parts = module.split(".")
    if module in FOUNDATIONS:
        return "foundations"
    if module == OPENING:
        return "opening"
    if parts[1] in {"data", "lessons", "widgets", "exercises", "course"}:
        return parts[1]
    if parts[1] == "models" or parts[1] in TOOLKIT_MODULES:
        return "toolkit"
    raise AssertionError(f"{module} belongs to no layer: add it to tests/test_package_layout.py")


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(module: str, path: Path) -> set[str]:
    """The package modules ``module`` imports anywhere in its file (top level, functions, TYPE_CHECKING blocks)."""
    known = modules()
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:  # `from pkg import function` -> pkg
                name = name.rpartition(".")[0]
            if name.startswith("mnist_course") and name not in (module, "mnist_course"):
                found.add(name)
    # a package's __init__ is run by importing any module below it: not an import of the layer's own choosing
    return {n for n in found if not module.startswith(n + ".")}


def test_every_module_belongs_to_a_layer():
    for module in modules():
        layer_of(module)


def test_imports_point_down_the_layers_only():
    wrong = []
    for module, path in modules().items():
        mine = layer_of(module)
        for other in imported(module, path):
            theirs = layer_of(other)
            if mine == "course":
                continue  # the machinery may use anything
            if theirs == "course":
                if mine != "opening":
                    wrong.append(f"{module} imports {other}: only {OPENING} may import mnist_course.course")
            elif mine == "opening":
                if theirs != "foundations":
                    wrong.append(f"{module} imports {other}: the opening module uses foundations and course/ only")
            elif theirs == "opening" or LAYERS.index(theirs) > LAYERS.index(mine):
                wrong.append(f"{module} ({mine}) imports {other} ({theirs}), a layer above it")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle():
    graph = {m: imported(m, p) for m, p in modules().items()}
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_a_layer_violation_is_caught(tmp_path):
    """The checker itself: a toolkit module importing a lesson, and a lesson importing course/, are both refused."""
    assert layer_of("mnist_course.stats") == "toolkit" and layer_of("mnist_course.lessons.mlp") == "lessons"
    assert LAYERS.index("lessons") > LAYERS.index("toolkit")
    assert layer_of("mnist_course.course.runner") == "course" and layer_of("mnist_course.models.key") == "toolkit"
    with pytest.raises(AssertionError, match="no layer"):
        layer_of("mnist_course.somewhere_new")


# --- CONTRIBUTING.md's map ---------------------------------------------------------------------------------------
MAP_ROW = re.compile(r"^\| `(?P<path>[\w/]+\.py)` \| (?P<text>.*) \|$")


def one_line(path: Path) -> str:
    """A module's docstring up to its first blank line, on one line: what the map says of it."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return " ".join(doc.split("\n\n")[0].split())


def map_rows() -> dict[str, str]:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    return {m["path"]: m["text"] for line in text.splitlines() if (m := MAP_ROW.match(line))}


def test_every_module_has_a_one_line_docstring():
    missing = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if not one_line(p)]
    assert not missing, f"modules without a docstring: {missing}"


def test_the_map_lists_every_module_with_its_line_and_nothing_else():
    rows = map_rows()
    files = {str(p.relative_to(PACKAGE)): p for p in sorted(PACKAGE.rglob("*.py"))}
    gone = sorted(set(rows) - set(files))
    assert not gone, f"CONTRIBUTING.md's map lists modules that do not exist: {gone}"
    wanted = [f"| `{name}` | {one_line(path)} |" for name, path in files.items() if rows.get(name) != one_line(path)]
    assert not wanted, "CONTRIBUTING.md's map is missing or misstates these rows (paste them):\n" + "\n".join(wanted)


def test_notebooks_readme_names_only_modules_that_exist():
    text = (ROOT / "notebooks" / "README.md").read_text() + (ROOT / "CONTRIBUTING.md").read_text()
    named = set(re.findall(r"`(mnist_course(?:\.\w+)+)`", text))
    known = set(modules())
    missing = sorted(n for n in named if n not in known and n.rpartition(".")[0] not in known)
    assert not missing, f"the docs name modules that do not exist: {missing}"
