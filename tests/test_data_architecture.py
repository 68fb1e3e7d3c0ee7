"""The data package has one job per module and no import cycle: only the loader composes the others."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mnist_course.data

PACKAGE = Path(mnist_course.data.__file__).parent
ALLOWED = {  # module -> the sibling modules it may import
    "errors": set(),
    "preprocess": set(),
    "verify": {"errors"},
    "readers": {"errors"},
    "sources": {"verify"},
    "cache": {"errors", "readers", "verify"},
    "download": {"errors", "readers", "verify"},
    "loader": {"cache", "download", "errors", "readers", "sources", "verify"},
}


def sibling_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("mnist_course.data."):
                found.add(node.module.split(".")[2])
            elif node.module == "mnist_course.data":
                found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("mnist_course.data.")}
    return found


def test_every_module_imports_only_what_its_job_needs():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(ALLOWED), "a module was added or removed: give it a job in ALLOWED"
    for module, allowed in ALLOWED.items():
        assert sibling_imports(module) <= allowed, (module, sibling_imports(module) - allowed)


def _import_alone(module: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter that imports ``mnist_course.data.<module>`` and nothing else."""
    return subprocess.run(
        [sys.executable, "-c", f"import mnist_course.data.{module}"], capture_output=True, text=True, timeout=120
    )


def test_each_module_imports_alone_in_a_fresh_interpreter():
    # one interpreter per module, as many at once as there are cores (each still starts from nothing)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        done = dict(zip(ALLOWED, pool.map(_import_alone, ALLOWED)))
    failed = {module: run.stderr for module, run in done.items() if run.returncode != 0}
    assert not failed, failed


def test_no_hand_made_temporary_file_in_the_package():
    for file in PACKAGE.glob("*.py"):
        text = file.read_text()
        assert "mkstemp" not in text and 'suffix=".tmp"' not in text, file.name


def test_public_names_stay_importable():
    from mnist_course.data import (  # noqa: F401  (the names notebooks, the CLI and doctor use)
        ARRAY_SHA256,
        NUM_CLASSES,
        SHAPES,
        MnistCacheError,
        MnistDataError,
        MnistDownloadError,
        MnistFormatError,
        MnistNotFoundError,
        array_sha256,
        class_ids,
        fetch,
        idx_file_path,
        load_arrays,
        load_mnist,
        locate,
        read_idx,
        to_model_input,
    )

    assert NUM_CLASSES == 10 and SHAPES["x_train"] == (60000, 28, 28)
