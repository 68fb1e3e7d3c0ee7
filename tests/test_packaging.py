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
