"""A health check of the machine the course runs on (``mnist-course doctor``): versions, devices, memory, data."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

VersionOf = Callable[[str], str | None]
CGROUP_FILES = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
WIDGET_MAJORS = (7, 8)  # ipywidgets 7 is what Google Colab ships, 8 what pip installs elsewhere


def installed_version(dist: str) -> str | None:
    """The installed version of distribution ``dist``, or None when it is not installed."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


@dataclass
class DoctorReport:
    """What ``mnist-course doctor`` found: ``items`` name -> value, and ``problems`` with their fixes."""

    items: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        width = max(map(len, self.items)) if self.items else 0
        lines = [f"{k.ljust(width)}  {v}" for k, v in self.items.items()]
        lines += [f"PROBLEM: {p}" for p in self.problems] or ["No problems found."]
        return "\n".join(lines)


def cgroup_limit(files: Sequence[str] = CGROUP_FILES) -> int | None:
    """The container's memory limit in bytes from the first readable cgroup file, None when unlimited or unknown."""
    for file in files:
        try:
            with open(file) as handle:
                value = handle.read().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 2**50:  # cgroup v1 writes a huge number for "no limit", v2 "max"
            return int(value)
    return None


def _memory() -> str:
    import psutil

    vm = psutil.virtual_memory()
    limit = cgroup_limit()
    text = f"{vm.total / 2**30:.1f} GiB total, {vm.available / 2**30:.1f} GiB available"
    return text + (f", container limit {limit / 2**30:.1f} GiB" if limit else "")


def gpu_check(report: DoctorReport, tf: ModuleType) -> None:
    """List ``tf``'s GPUs and run a small matmul on the first: a problem when it fails or lands on the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    report.items["GPUs"] = ", ".join(g.name for g in gpus) or "none (training runs on the CPU)"
    if not gpus:
        return
    try:
        with tf.device("/GPU:0"):
            product = tf.matmul(tf.ones((64, 64)), tf.ones((64, 64)))
        ran_on = product.device
        report.items["GPU op"] = f"a 64x64 matmul ran on {ran_on}"
        if "GPU" not in ran_on:
            report.problems.append("a GPU is listed but the test op ran on the CPU: check CUDA/cuDNN versions")
    except Exception as exc:  # a broken driver shows up here, not at import
        report.problems.append(f"a GPU is listed but a test op failed on it: {exc}")


def report_widgets(
    report: DoctorReport,
    version_of: VersionOf = installed_version,
    search_path: list[str] | None = None,
    colab: bool | None = None,
) -> None:
    """ipywidgets (7.x or 8.x), anywidget, and the front end that renders them (JupyterLab's widget manager,
    looked up in ``search_path``, default Jupyter's; on Colab, ``colab`` true by default there, Colab's own)."""
    from mnist_course.course.widget_check import check_widgets

    colab = "google.colab" in sys.modules if colab is None else colab
    ipywidgets, anywidget = version_of("ipywidgets"), version_of("anywidget")
    major = int(ipywidgets.split(".")[0]) if ipywidgets and ipywidgets.split(".")[0].isdigit() else None
    if ipywidgets is None:
        report.items["ipywidgets"] = "not installed"
        report.problems.append("ipywidgets is not installed, so no widget can be shown: pip install -e . installs it")
    elif major not in WIDGET_MAJORS:
        report.items["ipywidgets"] = f"{ipywidgets} (unsupported)"
        report.problems.append(
            f"ipywidgets {ipywidgets} is neither 7.x nor 8.x, the versions the course's widgets "
            "are written for: pip install 'ipywidgets>=7.6,<9'"
        )
    else:
        note = "7.x, as Colab ships: the course's widgets support it" if major == 7 else "8.x"
        report.items["ipywidgets"] = f"{ipywidgets} ({note})"
    if anywidget is None:
        report.items["anywidget"] = "not installed"
        report.problems.append("anywidget is not installed, so the draw pad cannot be shown: pip install anywidget")
    else:
        report.items["anywidget"] = f"{anywidget} (draws the draw pad in JupyterLab, VS Code and Colab)"
    if colab:
        report.items["Widgets"] = "shown by Google Colab's own front end (no JupyterLab widget manager needed)"
    elif ipywidgets is not None and major in WIDGET_MAJORS:
        widgets = check_widgets(ipywidgets, search_path)
        report.items["Widgets"] = widgets.message if widgets.ok else "MISMATCH (see below)"
        if not widgets.ok:
            report.problems.append(widgets.message)


def doctor(
    *, version_of: VersionOf = installed_version, widget_search_path: list[str] | None = None, colab: bool | None = None
) -> DoctorReport:
    """Versions, devices, memory and data: everything to paste into a bug report. ``version_of`` (installed
    versions), ``widget_search_path`` and ``colab`` are for tests: see :func:`report_widgets`."""
    report = DoctorReport()
    report.items["Python"] = f"{platform.python_version()} ({sys.executable})"
    report.items["Platform"] = platform.platform()
    try:
        from mnist_course import backend as keras_backend

        name = keras_backend.import_quietly()
        versions = keras_backend.versions()
        report.items["Keras"] = f"{versions['keras']} (backend {name} {versions[name]}, set by KERAS_BACKEND)"
        report.items["Backend device"] = keras_backend.device()
        if name == "tensorflow":
            import tensorflow as tf

            report.items["TensorFlow"] = tf.__version__
            gpu_check(report, tf)
    except ImportError as exc:
        report.problems.append(
            f"Keras or its backend cannot be imported ({exc}): pip install -e . and the backend KERAS_BACKEND names"
        )
    report.items["NumPy"] = np.__version__
    for dist in ("jupyterlab", "jupyterlab_widgets", "papermill", "pooch"):
        report.items[dist] = version_of(dist) or "not installed"
    report_widgets(report, version_of, widget_search_path, colab)
    report.items["Memory"] = _memory()
    report.items["CPU cores"] = str(os.cpu_count())
    _data_check(report)
    return report


def _data_check(report: DoctorReport) -> None:
    from mnist_course.data import MnistDataError, load_arrays, locate

    source = locate()
    if source is None:
        report.items["MNIST"] = "not on this machine yet: `mnist-course data fetch` downloads it"
        return
    try:
        _, source = load_arrays(download=False)
        report.items["MNIST"] = f"verified, {source.path} (from {source.origin})"
    except MnistDataError as exc:
        report.problems.append(str(exc))
