"""A health check of the machine the course runs on (``mnist-course doctor``): versions, devices, memory, data."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from dataclasses import dataclass, field

import numpy as np


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _memory() -> str:
    import psutil

    vm = psutil.virtual_memory()
    limit = _cgroup_limit()
    text = f"{vm.total / 2**30:.1f} GiB total, {vm.available / 2**30:.1f} GiB available"
    return text + (f", container limit {limit / 2**30:.1f} GiB" if limit else "")


def _cgroup_limit() -> int | None:
    for file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = open(file).read().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 2**50:
            return int(value)
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


def _gpu_check(report: DoctorReport) -> None:
    import tensorflow as tf

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


def doctor() -> DoctorReport:
    """Versions, devices, memory and data: everything to paste into a bug report."""
    report = DoctorReport()
    report.items["Python"] = f"{platform.python_version()} ({sys.executable})"
    report.items["Platform"] = platform.platform()
    try:
        import keras
        import tensorflow as tf

        report.items["TensorFlow"] = tf.__version__
        report.items["Keras"] = f"{keras.__version__} (backend {keras.backend.backend()})"
        _gpu_check(report)
    except ImportError as exc:
        report.problems.append(f"TensorFlow/Keras cannot be imported ({exc}): pip install -e .")
    report.items["NumPy"] = np.__version__
    for dist in ("ipywidgets", "jupyterlab", "jupyterlab_widgets", "papermill", "pooch"):
        report.items[dist] = _version(dist)
    from mnist_course.widget_check import check_widgets

    widgets = check_widgets()
    report.items["Widgets"] = widgets.message if widgets.ok else "MISMATCH (see below)"
    if not widgets.ok:
        report.problems.append(widgets.message)
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
