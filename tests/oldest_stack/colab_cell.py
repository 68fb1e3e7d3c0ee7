"""Run the Colab install cell (``mnist_course.course.colab.cell_for``) in a kernel of a Colab or Kaggle stand-in.

``python tests/oldest_stack/colab_cell.py --kernel-python COLAB_ENV/bin/python --source CHECKOUT`` starts a kernel
of that environment in an empty folder, fakes ``google.colab`` in ``sys.modules`` (with ``--platform kaggle``: sets
``KAGGLE_KERNEL_RUN_TYPE`` as Kaggle's kernels have it), runs the cell pointed at
``CHECKOUT`` instead of the repository, and checks that the course was not installed before, that TensorFlow,
Keras, ipywidgets and anywidget keep their versions, and that ``import mnist_course`` then works from the environment
(not from a folder on the path). Needs nbclient and the course importable in the Python that runs it (for the cell's
text). Exit code 1 with one line naming what failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from mnist_course.course.colab import KEPT, cell_for

# what must be unchanged after the cell: what it pins, and anywidget, which Colab preinstalls (the course asks for
# anywidget>=0.9, so pip leaves Colab's in place)
CHECKED = (*KEPT, "anywidget")

VERSIONS = f"""\
import importlib.metadata, importlib.util, json
print(json.dumps({{"versions": {{p: importlib.metadata.version(p) for p in {CHECKED!r}}},
                  "course_before": importlib.util.find_spec("mnist_course") is not None}}))"""
FAKE = {
    "colab": "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n" + VERSIONS,
    "kaggle": "import os\nos.environ['KAGGLE_KERNEL_RUN_TYPE'] = 'Interactive'\n" + VERSIONS,
}
AFTER = f"""\
import importlib, importlib.metadata, json, sys
importlib.invalidate_caches()
import mnist_course
print(json.dumps({{"versions": {{p: importlib.metadata.version(p) for p in {CHECKED!r}}},
                  "course": importlib.metadata.version("mnist-course"), "file": mnist_course.__file__,
                  "prefix": sys.prefix}}))"""


def _stream(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def _json(cell: nbformat.NotebookNode) -> dict | None:
    for line in reversed(_stream(cell).strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def _error(cell: nbformat.NotebookNode) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}".splitlines()[0][:300]
    return ""


def check(kernel_python: str, source: str, log: Path, platform: str = "colab") -> str:
    """Run the three cells; return "" when all is well, else one line saying what failed."""
    cell = cell_for(source)
    if source not in cell:
        return f"cell_for({source!r}) did not put the source into the install command"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (FAKE[platform], cell, AFTER)])
    jupyter = Path(tempfile.mkdtemp(prefix="colab-kernel-"))
    spec = jupyter / "kernels" / "colab-stand-in"
    spec.mkdir(parents=True)
    argv = [kernel_python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Colab", "language": "python"}))
    os.environ["JUPYTER_PATH"] = str(jupyter)
    empty = tempfile.mkdtemp(prefix="colab-cwd-")  # never the checkout: `import mnist_course` must not find it there
    client = NotebookClient(
        nb, kernel_name="colab-stand-in", timeout=900, allow_errors=True, resources={"metadata": {"path": empty}}
    )
    with open(log, "w") as stderr:
        client.execute(stderr=stderr)
    nbformat.write(nb, log.with_suffix(".ipynb"))
    before, install, after = nb.cells
    if _error(before) or _json(before) is None:
        return f"the Colab stand-in kernel could not report its versions: {_error(before) or _stream(before)[-300:]}"
    old = _json(before)
    if old["course_before"]:
        return "mnist_course was importable in the Colab stand-in before the install cell ran: the test proves nothing"
    if _error(install):
        return f"the install cell raised {_error(install)}"
    new = _json(after)
    if _error(after) or new is None:
        tail = " | ".join(_stream(install).strip().splitlines()[-3:])
        return f"`import mnist_course` failed after the install cell ({_error(after)}); pip said: {tail or 'nothing'}"
    changed = [
        f"{p} {old['versions'][p]} -> {new['versions'][p]}" for p in CHECKED if old["versions"][p] != new["versions"][p]
    ]
    if changed:
        return f"the install cell replaced Colab's packages: {', '.join(changed)}"
    if not Path(new["file"]).resolve().is_relative_to(Path(new["prefix"]).resolve()):
        return f"mnist_course was imported from {new['file']}, not from the Colab environment {new['prefix']}"
    kept = ", ".join(f"{p} {v}" for p, v in old["versions"].items())
    print(f"  colab cell on {platform}: installed mnist-course {new['course']} from {source}; kept {kept}")
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel-python", required=True, help="the Colab stand-in environment's python")
    parser.add_argument("--source", required=True, help="what the cell installs from (the checkout's path)")
    parser.add_argument("--platform", choices=sorted(FAKE), default="colab", help="which platform the kernel fakes")
    parser.add_argument("--log", type=Path, default=Path(tempfile.mkdtemp()) / "colab-cell.log")
    args = parser.parse_args(argv)
    failure = check(args.kernel_python, args.source, args.log, args.platform)
    if failure:
        print(f"oldest-stack: FAILED Colab install cell on {args.platform}: {failure} (kernel log: {args.log})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
