"""seed_everything (seeding.py) makes runs repeat; doctor (doctor.py) reports versions, devices, memory and the data."""

from __future__ import annotations

import numpy as np

from mnist_course.doctor import doctor
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


def test_doctor_reports_versions_devices_and_verified_data(monkeypatch, real_data_dir):
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))
    report = doctor()
    text = str(report)
    for key in ("Python", "TensorFlow", "Keras", "GPUs", "ipywidgets", "jupyterlab", "Memory", "MNIST"):
        assert key in report.items, key
    assert "backend tensorflow" in report.items["Keras"]
    assert report.items["MNIST"].startswith("verified")
    assert "GiB total" in report.items["Memory"]
    assert report.problems == [] and text.endswith("No problems found.")


def test_doctor_reports_a_bad_copy_as_a_problem(monkeypatch, tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_text("<html>nope</html>")
    monkeypatch.setenv("MNIST_COURSE_DATA", str(bad))
    report = doctor()
    assert any("HTML page" in p for p in report.problems)


def _fake_manager(folder, version: str) -> str:
    package = folder / "@jupyter-widgets" / "jupyterlab-manager"
    package.mkdir(parents=True)
    (package / "package.json").write_text(f'{{"name": "@jupyter-widgets/jupyterlab-manager", "version": "{version}"}}')
    return str(folder)


def test_widget_check_matches_installed_frontend():
    from mnist_course.widget_check import check_widgets

    check = check_widgets()
    assert check.ok and check.frontend_version.startswith("5."), check.message


def test_widget_check_reports_mismatch_and_missing_frontend_with_fixes(tmp_path):
    from mnist_course.widget_check import check_widgets

    old = check_widgets("8.1.0", [_fake_manager(tmp_path / "old", "3.1.0")])
    assert not old.ok and "does not fit" in old.message and "3.1.0" in old.message
    for where in ("JupyterLab:", "VS Code:", "Colab:"):
        assert where in old.message
    missing = check_widgets("8.1.0", [str(tmp_path / "empty")])
    assert not missing.ok and "Error displaying widget" in missing.message
    assert check_widgets("7.7.1", [_fake_manager(tmp_path / "new", "5.0.9")]).ok
