"""Execute course notebooks with nbclient in a kernel of a given Python (the oldest-stack environment of CI).

Run it with that environment's own Python: ``ENV/bin/python tests/oldest_stack/run_notebooks.py --profile ci
--out DIR notebooks/*.ipynb``. Each notebook runs in a fresh kernel started from ``--kernel-python`` (default: this
interpreter) in the notebook's folder, with ``$MNIST_COURSE_PROFILE`` set; a cell tagged ``raises-exception`` may
fail, any other error fails the notebook. The kernel is checked to be that interpreter (``sys.executable`` from
inside). Prints one line per notebook; exit code 1 if any failed, each failure in one line naming notebook and cell.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

PROBE = "import json as _j, os as _o, sys as _s; print(_j.dumps({'executable': _s.executable, 'prefix': _s.prefix}))"


def kernelspec(folder: Path, python: str) -> str:
    """Write a kernelspec that starts ``python -m ipykernel_launcher`` under ``folder/kernels`` and return its name."""
    spec = folder / "kernels" / "oldest-stack"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "oldest stack", "language": "python"}))
    return "oldest-stack"


def _first_error(nb: nbformat.NotebookNode) -> tuple[int | None, str]:
    """The first error output of an executed notebook: (code cell number counting from 1, "Name: value")."""
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        if "raises-exception" in cell.metadata.get("tags", []):  # its error is the lesson
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return number, f"{out.get('ename')}: {out.get('evalue')}".splitlines()[0][:300]
    return None, ""


def run_one(path: Path, out_dir: Path, kernel: str, expected_python: str, timeout: int) -> tuple[bool, str]:
    """Execute ``path``; return (ok, one-line message). The executed copy is written to ``out_dir``."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE, metadata={"tags": ["oldest-stack-probe"]}))
    client = NotebookClient(
        nb, kernel_name=kernel, timeout=timeout, allow_errors=False, resources={"metadata": {"path": str(path.parent)}}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / f"{path.stem}.kernel.log"  # the kernel's own stderr (start-up warnings, C++ logs)
    start = time.perf_counter()
    try:
        with open(log, "w") as stderr:
            client.execute(stderr=stderr)
        failure = ""
    except CellTimeoutError:
        failure = f"a cell ran longer than {timeout} s"
    except DeadKernelError as exc:
        failure = f"the kernel died ({str(exc).splitlines()[0] if str(exc) else 'no message'}; its log: {log})"
    except CellExecutionError:
        failure = "error"
    except Exception as exc:  # the kernel did not start, a bad notebook: one line all the same
        failure = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    seconds = time.perf_counter() - start
    probe = nb.cells.pop(0)
    nbformat.write(nb, out_dir / path.name)
    if failure == "error":
        cell, message = _first_error(nb)
        failure = f"code cell {cell}: {message}"
    if failure:
        return False, f"{path.stem}: {failure} after {seconds:.0f} s (executed copy: {out_dir / path.name})"
    text = "".join(o.get("text", "") for o in probe.get("outputs", []) if o.get("output_type") == "stream")
    try:
        seen = json.loads(text.strip().splitlines()[-1])["executable"]
    except (ValueError, IndexError, KeyError):
        return False, f"{path.stem}: the kernel did not say which Python it runs (probe printed {text!r})"
    if os.path.abspath(seen) != os.path.abspath(expected_python):  # not realpath: a venv's python links to its base
        return False, f"{path.stem}: the kernel ran {seen}, not the environment's {expected_python}"
    return True, f"{path.stem}: ok in {seconds:.1f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--out", type=Path, required=True, help="folder for the executed copies")
    parser.add_argument("--kernel-python", default=sys.executable)
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may take")
    args = parser.parse_args(argv)
    os.environ["MNIST_COURSE_PROFILE"] = args.profile  # the kernels inherit these
    os.environ["MNIST_COURSE_UNATTENDED"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MNIST_COURSE_CACHE", tempfile.mkdtemp(prefix="oldest-stack-cache-"))
    jupyter = Path(tempfile.mkdtemp(prefix="oldest-stack-kernels-"))
    os.environ["JUPYTER_PATH"] = str(jupyter) + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    kernel = kernelspec(jupyter, args.kernel_python)
    failed = 0
    for path in args.notebooks:
        ok, line = run_one(path.resolve(), args.out, kernel, args.kernel_python, args.timeout)
        failed += not ok
        print(("  " if ok else "oldest-stack: FAILED notebook ") + line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
