"""README's "Where it runs" table says what CI runs: its versions are those of the files CI installs from, and
.ci/where_it_runs.py (which makes the table from what each CI stage recorded) records, renders, checks and writes it."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "where_it_runs.py"


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements or constraints file, by lower-case name."""
    found = {}
    for line in path.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line):
            found[m.group(1).lower().replace("_", "-")] = m.group(2)
    return found


def rows(text: str | None = None) -> dict[str, list[str]]:
    """The table's rows by their first column."""
    text = text if text is not None else ROOT.joinpath("README.md").read_text()
    section = text.split("## Where it runs", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| where")]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in table)}


def versions(cell: str) -> dict[str, str]:
    """ "tensorflow 2.21.0, keras 3.15.1" -> {"tensorflow": "2.21.0", "keras": "3.15.1"}."""
    return dict(part.split(" ") for part in cell.split(", "))


def floor(requirement: str) -> str:
    deps = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text())["project"]["dependencies"]
    [spec] = [d for d in deps if re.match(rf"{requirement}\b", d)]
    return spec.split(">=")[1].split(",")[0].strip()


def test_each_row_names_the_versions_ci_installs():
    table = rows()
    local = pins(ROOT / "constraints.txt")
    stack = ("tensorflow", "keras", "ipywidgets")
    assert versions(table["JupyterLab 4 (your machine, Binder, JupyterHub)"][1]) == {p: local[p] for p in stack}
    oldest = versions(table["the oldest versions allowed"][1])
    assert list(oldest) == list(stack)
    for package, version in oldest.items():  # the lowest release of each floor's series (2.16 -> 2.16.1)
        wanted = floor(package).split(".")
        assert version.split(".")[: len(wanted)] == wanted, (package, version, wanted)
    for name, file in (("Google Colab stand-in", "colab-2026.txt"), ("Kaggle stand-in", "kaggle-2026.txt")):
        listed = pins(ROOT / "tests" / "oldest_stack" / file)
        assert versions(table[name][1]) == {p: listed[p] for p in stack}, name
    backends = versions(table["JAX and PyTorch backends"][1])
    assert backends["keras"] == local["keras"] and backends["jax"] == local["jax"]
    assert backends["torch"].split("+")[0] == local["torch"]  # PyTorch's CPU build says so: 2.13.0+cpu


def test_the_pythons_are_those_ci_uses():
    table = rows()
    ci = ROOT.joinpath(".ci", "oldest-stack").read_text()
    assert table["the oldest versions allowed"][0] == "3.12" and "3.12" in ci
    assert table["Google Colab stand-in"][0] == table["Kaggle stand-in"][0] == "3.13" and "3.13" in ci
    assert "kaggle" in ci and "colab" in ci
    classifiers = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text())["project"]["classifiers"]
    for python in {row[0] for row in table.values()}:
        assert f"Programming Language :: Python :: {python}" in classifiers, python


def test_every_row_is_recorded_by_the_ci_stage_that_runs_it():
    """Each row's key is recorded by a CI script (so the table cannot list a place CI never runs), and .ci/run checks
    the table at its end."""
    spec = importlib.util.spec_from_file_location("where_it_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert [where for where, _ in module.ROWS.values()] == list(rows())
    scripts = "".join(ROOT.joinpath(".ci", name).read_text() for name in ("run", "oldest-stack", "backends"))
    for key in module.ROWS:
        assert re.search(rf"(record|where \"\$\w+\"|where \"\$STAND_IN\") {key}\b", scripts), key
    assert ".ci/where_it_runs.py check README.md" in ROOT.joinpath(".ci", "run").read_text()


def run(*args: str, records: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "MNIST_COURSE_WHERE_IT_RUNS": str(records)}
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True)


README = """# x

## Where it runs

Intro.

| where | Python | versions | what CI checked there |
|---|---|---|---|
| old row | 3.0 | x 1 | y |

Not checked: z.

## Next
"""


def test_record_check_and_write_round_trip(tmp_path):
    """record reads the versions installed where it runs; check fails while README differs or a row is missing,
    naming the fix; write puts the table and its date into README; check then passes."""
    records, readme = tmp_path / "records", tmp_path / "README.md"
    readme.write_text(README)
    fake = {"python": "3.11", "checked": "stored", "date": "2026-01-02"}
    for key, packages in {
        "oldest": ("tensorflow", "keras", "ipywidgets"),
        "colab": ("tensorflow", "keras", "ipywidgets"),
        "kaggle": ("tensorflow", "keras", "ipywidgets"),
        "backends": ("keras", "jax", "torch"),
    }.items():
        records.mkdir(exist_ok=True)
        (records / f"{key}.json").write_text(json.dumps({**fake, "versions": {p: "1.0" for p in packages}}))
    missing = run("check", str(readme), records=records, cwd=tmp_path)
    assert missing.returncode == 1 and "no record for jupyterlab" in missing.stdout
    assert "write README.md" in missing.stdout
    done = run("record", "jupyterlab", "the unit tests", records=records, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    recorded = json.loads((records / "jupyterlab.json").read_text())
    from importlib import metadata

    assert recorded["versions"]["keras"] == metadata.version("keras")
    assert recorded["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert run("check", str(readme), records=records, cwd=tmp_path).returncode == 1  # README still says "old row"
    assert run("write", str(readme), records=records, cwd=tmp_path).returncode == 0
    text = readme.read_text()
    assert "old row" not in text and "Not checked: z." in text and text.endswith("## Next\n")
    assert f"last run: {recorded['date']}." in text and list(rows(text))[0].startswith("JupyterLab 4")
    assert run("check", str(readme), records=records, cwd=tmp_path).returncode == 0
    assert run("write", str(readme), records=records, cwd=tmp_path).returncode == 0
    assert readme.read_text() == text  # written again: the date line is replaced, not added


def test_a_record_for_an_unknown_row_or_a_missing_package_is_refused(tmp_path):
    bad = run("record", "windows", "x", records=tmp_path, cwd=tmp_path)
    assert bad.returncode != 0 and "invalid choice" in bad.stderr
    no_folder = subprocess.run(
        [sys.executable, str(SCRIPT), "check", "README.md"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=ROOT,
    )
    assert no_folder.returncode == 2 and "MNIST_COURSE_WHERE_IT_RUNS" in no_folder.stderr


def test_record_names_a_package_that_is_not_installed(tmp_path):
    """backends' row needs jax and torch: where they are not installed the record refuses, naming the first missing
    (the metadata lookup is faked, so the test does not depend on what this environment has)."""
    code = (
        "import runpy, sys, importlib.metadata as m\n"
        "real = m.version\n"
        "def version(p):\n"
        "    if p in ('jax', 'torch'):\n"
        "        raise m.PackageNotFoundError(p)\n"
        "    return real(p)\n"
        "m.version = version\n"
        "sys.argv = ['where_it_runs.py', 'record', 'backends', 'x']\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "MNIST_COURSE_WHERE_IT_RUNS": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "jax is not installed" in result.stderr
    assert not (tmp_path / "backends.json").exists()
