"""seed_everything makes runs repeat; doctor reports versions, devices, memory and the data."""

from __future__ import annotations

import numpy as np

from mnist_course.env import doctor, seed_everything


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
