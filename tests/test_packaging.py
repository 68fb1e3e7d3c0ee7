"""pyproject.toml, environment.yml and binder/ name the same packages; CI runs the README's test command."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def conda_names(path: Path) -> set[str]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    return {_name(d) for d in deps if isinstance(d, str)} - {"python", "pip"}


def test_environment_yml_matches_pyproject_runtime_and_test_packages():
    project = pyproject()["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    assert conda_names(ROOT / "environment.yml") == wanted


def test_binder_environment_matches_pyproject_runtime_packages():
    runtime = {_name(r) for r in pyproject()["project"]["dependencies"]}
    assert conda_names(ROOT / "binder" / "environment.yml") == runtime


def test_version_floors_agree_everywhere():
    floors = {_name(r): r.split(">=")[1] for r in pyproject()["project"]["dependencies"] if ">=" in r}
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        for dep in yaml.safe_load(path.read_text())["dependencies"]:
            if isinstance(dep, str) and ">=" in dep and _name(dep) in floors:
                assert dep.split(">=")[1] == floors[_name(dep)], f"{path.name}: {dep}"


def test_binder_installs_the_course_and_prefetches_mnist():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post and "mnist-course data fetch" in post


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"Run the tests.*?```(?:bash)?\n(.+?)\n```", readme, re.S).group(1).strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines


def test_every_notebook_has_binder_and_colab_badges_in_readme_and_in_itself():
    import nbformat

    readme = (ROOT / "README.md").read_text()
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for nb_path in notebooks:
        binder = f"mybinder.org/v2/gh/mnist-course/mnist-course/main?labpath=notebooks%2F{nb_path.name}"
        colab = f"colab.research.google.com/github/mnist-course/mnist-course/blob/main/notebooks/{nb_path.name}"
        first = nbformat.read(nb_path, as_version=4).cells[0].source
        for where, text in (("README.md", readme), (nb_path.name, first)):
            assert binder in text and colab in text, f"{where} lacks the badges of {nb_path.name}"


def test_every_notebook_has_a_parameters_cell_with_profile_and_seed():
    import nbformat

    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(nb_path, as_version=4).cells
        tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, nb_path.name
        assert "PROFILE = None" in tagged[0].source and "SEED = " in tagged[0].source, nb_path.name


def test_stored_notebooks_ran_top_to_bottom_without_errors():
    import nbformat

    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = [c for c in nbformat.read(nb_path, as_version=4).cells if c.cell_type == "code"]
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), nb_path.name
        errors = [
            o
            for c in code
            if "raises-exception" not in c.metadata.get("tags", [])  # a mistake the lesson runs on purpose
            for o in c.outputs
            if o.output_type == "error"
        ]
        assert not errors, f"{nb_path.name} is stored with an error: {errors[0].get('ename')}"
        shown = [c for c in code if "raises-exception" in c.metadata.get("tags", [])]
        assert all(any(o.output_type == "error" for o in c.outputs) for c in shown), (
            f"{nb_path.name}: a cell tagged raises-exception is stored without its error"
        )


def _imported_top_level_names() -> dict[str, set[str]]:
    """Top-level module name -> the package files importing it, from every import statement (function-level too)."""
    import ast

    found: dict[str, set[str]] = {}
    for module in sorted((ROOT / "mnist_course").rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(module.relative_to(ROOT)))
    return found


def test_every_package_the_course_imports_is_a_declared_dependency():
    import importlib.metadata
    import sys

    project = pyproject()["project"]
    extras = {name: reqs for name, reqs in project["optional-dependencies"].items() if name != "test"}
    declared = {_name(r) for r in project["dependencies"] + [r for reqs in extras.values() for r in reqs]}
    distributions = importlib.metadata.packages_distributions()
    imported = _imported_top_level_names()
    assert {"numpy", "keras", "nbformat"} <= set(imported)  # the scan does see the package's imports
    undeclared = {}
    for name, files in imported.items():
        if name in sys.stdlib_module_names or name == "mnist_course":
            continue
        dists = {_name(d) for d in distributions.get(name, [name])}
        if not dists & declared:
            undeclared[name] = (sorted(dists), sorted(files))
    assert not undeclared, (
        f"imported by mnist_course but declared neither in pyproject.toml [project] dependencies nor in an extra "
        f"other than 'test': {undeclared}"
    )


def test_the_build_backend_understands_the_license_string():
    requires = pyproject()["build-system"]["requires"]
    assert isinstance(pyproject()["project"]["license"], str)  # PEP 639: needs setuptools 77 or later
    floor = next(r for r in requires if _name(r) == "setuptools").split(">=")[1]
    assert int(floor.split(".")[0]) >= 77, requires
