"""seed_everything (seeding.py) makes runs repeat; doctor (doctor.py) reports versions, devices, memory and the data.

The doctor tests give it their own inputs (installed versions, a widget-manager folder, a fake TensorFlow, cgroup
files), so they check what doctor concludes from a situation, not what this machine happens to have installed.
"""

from __future__ import annotations

import sys
import types
from contextlib import nullcontext

import numpy as np
import pytest

from mnist_course.course import doctor as doctor_module
from mnist_course.course.doctor import DoctorReport, cgroup_limit, doctor, gpu_check, report_widgets
from mnist_course.seeding import seed_everything


def test_seed_everything_repeats_numpy_and_keras():
    import keras

    seed_everything(7)
    first = np.random.rand(3)
    seed_everything(7)
    np.testing.assert_array_equal(first, np.random.rand(3))
    seed_everything(7)
    dense_a = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)]).get_weights()[0]
    seed_everything(7)
    dense_b = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)]).get_weights()[0]
    seed_everything(8)
    dense_c = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)]).get_weights()[0]
    np.testing.assert_array_equal(dense_a, dense_b)
    assert not np.array_equal(dense_a, dense_c)


def _fake_manager(folder, version: str) -> list[str]:
    """A labextensions folder holding a JupyterLab widget manager of ``version``, as Jupyter installs it."""
    package = folder / "@jupyter-widgets" / "jupyterlab-manager"
    package.mkdir(parents=True)
    (package / "package.json").write_text(f'{{"name": "@jupyter-widgets/jupyterlab-manager", "version": "{version}"}}')
    return [str(folder)]


def _versions(**versions: str | None):
    """A version_of() that knows only ``versions`` (``jupyterlab_widgets="3.0.13"``); anything else is missing."""
    return lambda dist: versions.get(dist.replace("-", "_"))


class _FakeTensorFlow(types.SimpleNamespace):
    """Just what gpu_check() calls: config.list_physical_devices, device(), ones(), matmul()."""

    def __init__(self, gpus: list[str], lands_on: str | None = None, error: str | None = None) -> None:
        devices = [types.SimpleNamespace(name=n) for n in gpus]
        super().__init__(config=types.SimpleNamespace(list_physical_devices=lambda kind: devices))
        self.lands_on, self.error = lands_on, error

    def device(self, name):
        return nullcontext()

    def ones(self, shape):
        return shape

    def matmul(self, a, b):
        if self.error:
            raise RuntimeError(self.error)
        return types.SimpleNamespace(device=self.lands_on)


def test_report_text_lists_items_then_problems_or_says_there_are_none():
    report = DoctorReport({"Python": "3.12.1", "CPU cores": "2"})
    assert str(report).splitlines() == ["Python     3.12.1", "CPU cores  2", "No problems found."]
    report.problems.append("anywidget is not installed")
    assert str(report).splitlines()[-1] == "PROBLEM: anywidget is not installed"
    assert "No problems found." not in str(report)


@pytest.mark.parametrize(
    ("ipywidgets", "manager", "shown"),
    [
        ("7.7.1", "3.0.13", "7.7.1 (7.x, as Colab ships: the course's widgets support it)"),
        ("8.1.5", "5.0.13", "8.1.5 (8.x)"),
    ],
)
def test_widget_check_accepts_ipywidgets_7_and_8_with_their_managers(tmp_path, ipywidgets, manager, shown):
    report = DoctorReport()
    report_widgets(
        report, _versions(ipywidgets=ipywidgets, anywidget="0.9.13"), _fake_manager(tmp_path, manager), colab=False
    )
    assert report.problems == []
    assert report.items["ipywidgets"] == shown
    assert report.items["anywidget"].startswith("0.9.13 ")
    assert "they match" in report.items["Widgets"] and manager in report.items["Widgets"]


def test_widget_check_reports_a_manager_that_cannot_render_ipywidgets_8(tmp_path):
    report = DoctorReport()
    report_widgets(
        report, _versions(ipywidgets="8.1.5", anywidget="0.9.13"), _fake_manager(tmp_path, "3.0.13"), colab=False
    )
    assert report.items["Widgets"] == "MISMATCH (see below)"
    assert len(report.problems) == 1 and "does not fit" in report.problems[0] and "3.0.13" in report.problems[0]


def test_widget_check_names_the_fix_for_missing_anywidget_or_ipywidgets_and_for_ipywidgets_6(tmp_path):
    no_anywidget = DoctorReport()
    report_widgets(no_anywidget, _versions(ipywidgets="8.1.5"), _fake_manager(tmp_path / "a", "5.0.13"), colab=False)
    assert no_anywidget.items["anywidget"] == "not installed"
    assert no_anywidget.problems == [
        "anywidget is not installed, so the draw pad cannot be shown: pip install anywidget"
    ]
    nothing = DoctorReport()
    report_widgets(nothing, _versions(), _fake_manager(tmp_path / "b", "5.0.13"), colab=False)
    assert nothing.items["ipywidgets"] == "not installed" and "Widgets" not in nothing.items
    assert any(p.startswith("ipywidgets is not installed") for p in nothing.problems) and len(nothing.problems) == 2
    old = DoctorReport()
    report_widgets(
        old, _versions(ipywidgets="6.0.0", anywidget="0.9.13"), _fake_manager(tmp_path / "c", "5.0.13"), colab=False
    )
    assert old.items["ipywidgets"] == "6.0.0 (unsupported)"
    assert old.problems == [
        "ipywidgets 6.0.0 is neither 7.x nor 8.x, the versions the course's widgets are written "
        "for: pip install 'ipywidgets>=7.6,<9'"
    ]


def test_widget_check_on_colab_needs_no_jupyterlab_manager(tmp_path, monkeypatch):
    empty = [str(tmp_path)]  # no widget manager at all: a problem in JupyterLab, none on Colab
    jupyter = DoctorReport()
    report_widgets(jupyter, _versions(ipywidgets="7.7.1", anywidget="0.9.13"), empty, colab=False)
    assert len(jupyter.problems) == 1 and "Error displaying widget" in jupyter.problems[0]
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    colab = DoctorReport()
    report_widgets(colab, _versions(ipywidgets="7.7.1", anywidget="0.9.13"), empty)  # colab=None: looks for it
    assert colab.problems == [] and "Colab" in colab.items["Widgets"]


def test_gpu_check_with_no_gpu_with_a_working_one_and_with_broken_ones():
    none = DoctorReport()
    gpu_check(none, _FakeTensorFlow([]))
    assert none.items["GPUs"] == "none (training runs on the CPU)" and none.problems == []
    working = DoctorReport()
    gpu_check(working, _FakeTensorFlow(["/physical_device:GPU:0"], lands_on="/job:localhost/device:GPU:0"))
    assert working.items["GPUs"] == "/physical_device:GPU:0" and working.problems == []
    assert working.items["GPU op"] == "a 64x64 matmul ran on /job:localhost/device:GPU:0"
    on_cpu = DoctorReport()
    gpu_check(on_cpu, _FakeTensorFlow(["/physical_device:GPU:0"], lands_on="/job:localhost/device:CPU:0"))
    assert on_cpu.problems == ["a GPU is listed but the test op ran on the CPU: check CUDA/cuDNN versions"]
    broken = DoctorReport()
    gpu_check(broken, _FakeTensorFlow(["/physical_device:GPU:0"], error="CUDA_ERROR_NO_DEVICE"))
    assert broken.problems == ["a GPU is listed but a test op failed on it: CUDA_ERROR_NO_DEVICE"]


def test_cgroup_limit_reads_v2_and_v1_files_and_treats_max_and_huge_as_no_limit(tmp_path):
    v2, v1, missing = tmp_path / "memory.max", tmp_path / "limit_in_bytes", str(tmp_path / "nothing")
    v2.write_text("2147483648\n")
    assert cgroup_limit([missing, str(v2)]) == 2 * 2**30
    v2.write_text("max\n")
    v1.write_text("9223372036854771712\n")  # what cgroup v1 writes when there is no limit
    assert cgroup_limit([str(v2), str(v1)]) is None
    v1.write_text("1073741824\n")
    assert cgroup_limit([str(v2), str(v1)]) == 2**30
    assert cgroup_limit([missing]) is None


def test_doctor_with_everything_in_order_finds_no_problems_and_verifies_the_data(monkeypatch, real_data_dir, tmp_path):
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))
    monkeypatch.setattr(doctor_module, "gpu_check", lambda report, tf: report.items.update(GPUs="none (fake)"))
    versions = _versions(ipywidgets="8.1.5", anywidget="0.9.13", jupyterlab="4.2.0", papermill="2.6.0")
    report = doctor(version_of=versions, widget_search_path=_fake_manager(tmp_path, "5.0.13"), colab=False)
    for key in ("Python", "TensorFlow", "Keras", "GPUs", "ipywidgets", "anywidget", "Widgets", "Memory", "MNIST"):
        assert key in report.items, key
    assert report.items["jupyterlab"] == "4.2.0" and report.items["pooch"] == "not installed"
    assert "backend tensorflow" in report.items["Keras"]
    assert report.items["MNIST"].startswith("verified")
    assert report.problems == [] and str(report).endswith("No problems found.")


def test_doctor_reports_a_bad_copy_and_a_missing_tensorflow_as_problems(monkeypatch, tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_text("<html>nope</html>")
    monkeypatch.setenv("MNIST_COURSE_DATA", str(bad))
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # `import tensorflow` now raises ImportError
    versions = _versions(ipywidgets="8.1.5", anywidget="0.9.13")
    report = doctor(version_of=versions, widget_search_path=_fake_manager(tmp_path / "lab", "5.0.13"), colab=False)
    assert any("HTML page" in p for p in report.problems)
    assert any(
        p.startswith("Keras or its backend cannot be imported") and "pip install -e ." in p for p in report.problems
    )
    assert "TensorFlow" not in report.items and "No problems found." not in str(report)


def test_widget_check_module_reports_mismatch_and_missing_frontend_with_fixes(tmp_path):
    from mnist_course.course.widget_check import check_widgets

    old = check_widgets("8.1.0", _fake_manager(tmp_path / "old", "3.1.0"))
    assert not old.ok and "does not fit" in old.message and "3.1.0" in old.message
    for where in ("JupyterLab:", "VS Code:", "Colab:"):
        assert where in old.message
    missing = check_widgets("8.1.0", [str(tmp_path / "empty")])
    assert not missing.ok and "Error displaying widget" in missing.message
    assert check_widgets("7.7.1", _fake_manager(tmp_path / "new", "5.0.9")).ok
    assert check_widgets("8.1.5", _fake_manager(tmp_path / "eight", "5.0.13")).ok
