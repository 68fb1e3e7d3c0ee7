"""README's "Where it runs" table, made by CI from what it ran (standard library only: it runs in every environment).

Each CI stage, once it passed, records itself with the interpreter of the environment it tested:

    ENV_PYTHON .ci/where_it_runs.py record KEY "what was checked there"

which writes ``KEY.json`` (the Python version and the installed versions of the row's packages, read in that
environment with importlib.metadata, the text, and the date) into ``$MNIST_COURSE_WHERE_IT_RUNS``. At its end .ci/run
calls ``python3 .ci/where_it_runs.py check README.md``: it renders the table from the records and fails, printing
both, when README's table says anything else (the date line aside) or a row was not recorded. After a CI run,
``python3 .ci/where_it_runs.py write README.md`` puts the table it renders, dated, into README.md (through a
temporary file replaced atomically); commit it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

RECORDS_ENV = "MNIST_COURSE_WHERE_IT_RUNS"
SECTION = "## Where it runs"
# key: (the row's first column, the packages whose versions it shows), in the table's order
ROWS = {
    "jupyterlab": ("JupyterLab 4 (your machine, Binder, JupyterHub)", ("tensorflow", "keras", "ipywidgets")),
    "oldest": ("the oldest versions allowed", ("tensorflow", "keras", "ipywidgets")),
    "colab": ("Google Colab stand-in", ("tensorflow", "keras", "ipywidgets")),
    "kaggle": ("Kaggle stand-in", ("tensorflow", "keras", "ipywidgets")),
    "backends": ("JAX and PyTorch backends", ("keras", "jax", "torch")),
}
HEADER = ["| where | Python | versions | what CI checked there |", "|---|---|---|---|"]
DATE_LINE = "Made by CI (`.ci/where_it_runs.py`, from what each stage installed and ran); last run: {date}."


def record(key: str, checked: str, folder: Path) -> Path:
    """Write this environment's row: its Python, the versions of the row's packages installed here, ``checked``."""
    from importlib import metadata

    if key not in ROWS:
        raise SystemExit(f"where_it_runs: unknown row {key!r}; one of {', '.join(ROWS)}")
    versions = {}
    for package in ROWS[key][1]:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"where_it_runs: {package} is not installed in {sys.executable}") from None
    row = {
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "versions": versions,
        "checked": checked,
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    path.write_text(json.dumps(row, indent=1) + "\n")
    return path


def render_rows(folder: Path) -> tuple[list[str], list[str], str]:
    """The table's lines from the records in ``folder`` (in ROWS' order), the keys without a record, and the latest
    date among the records."""
    lines, missing, dates = list(HEADER), [], []
    for key, (where, packages) in ROWS.items():
        path = folder / f"{key}.json"
        if not path.is_file():
            missing.append(key)
            continue
        row = json.loads(path.read_text())
        versions = ", ".join(f"{p} {row['versions'][p]}" for p in packages)
        lines.append(f"| {where} | {row['python']} | {versions} | {row['checked']} |")
        dates.append(row["date"])
    return lines, missing, max(dates, default="never")


def table_in(readme: str) -> tuple[int, int, list[str]]:
    """Where README's table is (first and last line index) and its lines."""
    lines = readme.splitlines()
    start = lines.index(SECTION)
    first = next(i for i in range(start, len(lines)) if lines[i].startswith("| where"))
    last = first
    while last + 1 < len(lines) and lines[last + 1].startswith("|"):
        last += 1
    return first, last, lines[first : last + 1]


def check(readme_path: Path, folder: Path) -> int:
    """0 when README's table is the one the records make (dates aside), else 1 with both tables printed."""
    rendered, missing, _ = render_rows(folder)
    _, _, stored = table_in(readme_path.read_text())
    if missing:
        print(f"where_it_runs: no record for {', '.join(missing)} (a CI stage failed or did not run)")
    if stored != rendered:
        print("where_it_runs: README.md's table is not what this CI run ran. README.md says:")
        print("\n".join(stored))
        print("CI ran (python3 .ci/where_it_runs.py write README.md puts it there):")
        print("\n".join(rendered))
        return 1
    print(f"where_it_runs: README.md's table is what this CI run ran ({len(rendered) - 2} rows)")
    return 1 if missing else 0


def write(readme_path: Path, folder: Path) -> None:
    """Put the rendered table and its date line into README.md (temporary file, atomic replace)."""
    rendered, missing, date = render_rows(folder)
    if missing:
        raise SystemExit(f"where_it_runs: no record for {', '.join(missing)}: run the whole of .ci/run first")
    text = readme_path.read_text()
    first, last, _ = table_in(text)
    lines = text.splitlines()
    after = lines[last + 1 :]
    if len(after) > 1 and after[0] == "" and after[1].startswith("Made by CI"):
        after = after[2:]
    lines = [*lines[:first], *rendered, "", DATE_LINE.format(date=date), *after]
    fd, tmp = tempfile.mkstemp(dir=readme_path.parent, prefix=".README.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(tmp, readme_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="record this environment's row")
    rec.add_argument("key", choices=list(ROWS))
    rec.add_argument("checked", help="what CI checked there, in a few words")
    for name in ("check", "write"):
        sub.add_parser(name).add_argument("readme", type=Path)
    args = parser.parse_args(argv)
    folder = os.environ.get(RECORDS_ENV, "").strip()
    if not folder:
        print(f"where_it_runs: set ${RECORDS_ENV} to the folder of the records", file=sys.stderr)
        return 2
    if args.command == "record":
        print(f"where_it_runs: recorded {record(args.key, args.checked, Path(folder))}")
        return 0
    if args.command == "check":
        return check(args.readme, Path(folder))
    write(args.readme, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
