"""Shipped results are found in the checkout, beside the notebook, or (Colab, pip install) fetched afresh."""

import pytest

from mnist_course import paths
from mnist_course.shipped import URL_ENV, find_shipped, shipped_path


def test_the_course_checkout_has_every_file_the_notebooks_read():
    for name in ("04_mlp_full.json", "07_race_full.json"):
        assert find_shipped(name) == paths.notebooks_dir() / "results" / name


def test_without_a_checkout_the_file_is_fetched_from_the_repository_every_time(
    isolated, tmp_path, monkeypatch, local_mirror
):
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(tmp_path / "no-course"))  # like Colab's /content
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(URL_ENV, local_mirror.url + "/results")
    local_mirror.files["/results/07_race_full.json"] = b'{"format": 2}'
    got = find_shipped("07_race_full.json")
    assert got.read_bytes() == b'{"format": 2}' and got.is_relative_to(tmp_path / "cache")
    local_mirror.files["/results/07_race_full.json"] = b'{"format": 3}'  # main moved on: the old copy is not reused
    assert find_shipped("07_race_full.json").read_bytes() == b'{"format": 3}'
    assert local_mirror.hits["/results/07_race_full.json"] == 2
    with pytest.raises(FileNotFoundError, match="no course notebooks"):
        shipped_path("x.json")  # nowhere to write results outside a checkout


def test_a_results_folder_beside_the_notebook_is_used_before_fetching(isolated, tmp_path, monkeypatch, closed_port):
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(tmp_path / "no-course"))
    monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{closed_port}/")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "05_models_full.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert find_shipped("05_models_full.json") == tmp_path / "results" / "05_models_full.json"
    with pytest.raises(FileNotFoundError, match="could not be fetched from .* open the notebook from a checkout"):
        find_shipped("07_race_full.json")
