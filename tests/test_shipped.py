"""Shipped results are found in the checkout, beside the notebook, or (Colab, pip install) fetched afresh; their
fields are checked on every read, and a manifest of their sha256 catches a file edited by hand."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_course import fields, paths
from mnist_course.shipped import (
    MANIFEST,
    REMAKE,
    URL_ENV,
    MissingResultsError,
    ShippedResultsError,
    find_shipped,
    read_results,
    shipped_path,
    write_results,
)


def Field(value, where="", *, file):  # noqa: N802 - a shipped results file's field, as read_results makes them
    return fields.Field(value, where, file=file, fix=REMAKE, error=ShippedResultsError)


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


def test_a_field_error_names_the_file_the_field_and_the_fix():
    doc = Field({"models": {"cnn-32-64": {"test_accuracy": [0.99, 1.7]}}, "study": {"a b": [1]}}, file="x.json")
    with pytest.raises(ShippedResultsError) as caught:
        doc["models"]["cnn-32-64"]["test_accuracy"][1].accuracy()
    assert str(caught.value) == (
        "x.json: models.cnn-32-64.test_accuracy[1] is 1.7, outside [0, 1]: make it again with `make results` "
        "(or `mnist-course run NN --results`), or restore it with git"
    )
    with pytest.raises(ShippedResultsError, match=r"x.json: study\['a b'\]\[0\] is 1, expected a string: "):
        doc["study"]["a b"][0].text()
    with pytest.raises(ShippedResultsError, match=r"models.dense-512 is missing"):
        doc["models"]["dense-512"]
    with pytest.raises(ShippedResultsError, match=r"test_accuracy has 2 values, expected 3 \(one per seed\)"):
        doc["models"]["cnn-32-64"]["test_accuracy"].items(3, what="one per seed")
    for value, problem in [(True, "expected a number"), (float("inf"), "not a finite number"), (None, "a number")]:
        with pytest.raises(ShippedResultsError, match=problem):
            Field(value, "loss", file="x.json").loss()
    assert Field(None, file="x.json").loss(null=True) is None  # a run that diverged
    assert Field(0.9942, file="x.json").accuracy(5000) == 0.9942  # 4,971 of 5,000 images
    with pytest.raises(ShippedResultsError, match=r"not a whole number of correct images out of 5,000 \(4999.5\)"):
        Field(0.9999, file="x.json").accuracy(5000)
    with pytest.raises(ShippedResultsError, match=r"is 1.5, expected an integer"):
        Field(1.5, file="x.json").integer()


def _course(tmp_path, monkeypatch) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "04_mlp.ipynb").write_text("{}")
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(tmp_path / "notebooks"))
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "notebooks" / "results"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_write_results_records_each_file_in_the_manifest_and_read_results_checks_it(tmp_path, monkeypatch):
    results = _course(tmp_path, monkeypatch)
    a = write_results("a_full.json", {"x": 1}, fmt=1)
    b = write_results("b_full.json", {"y": 2}, fmt=1)
    manifest = results / MANIFEST
    assert manifest.read_text() == f"{_sha256(a)}  a_full.json\n{_sha256(b)}  b_full.json\n"  # as sha256sum writes
    assert read_results("a_full.json", formats={1}) == {"x": 1, "format": 1}
    write_results("a_full.json", {"x": 3}, fmt=1)  # make results again: the manifest follows, b's entry stays
    assert manifest.read_text() == f"{_sha256(a)}  a_full.json\n{_sha256(b)}  b_full.json\n"
    a.write_text(a.read_text().replace("3", "4"))  # an edit that keeps the format
    with pytest.raises(ShippedResultsError, match=r"a_full.json was edited by hand .* `git checkout -- notebooks/"):
        read_results("a_full.json", formats={1})
    (results / "c_full.json").write_text('{"format": 1}')  # put there by hand, never by make results
    with pytest.raises(ShippedResultsError, match=r"c_full.json is not in .*MANIFEST.sha256: make it again"):
        read_results("c_full.json", formats={1})
    other = tmp_path / "elsewhere"  # a folder of one's own, without a manifest: nothing to compare with
    write_results(other / "d.json", {"z": 1}, fmt=1)
    assert read_results(other / "d.json", formats={1}) == {"z": 1, "format": 1} and not (other / MANIFEST).exists()


def test_a_file_the_manifest_lists_but_that_is_gone_is_not_fetched(tmp_path, monkeypatch, local_mirror):
    _course(tmp_path, monkeypatch)
    monkeypatch.setenv(URL_ENV, local_mirror.url + "/results")
    local_mirror.files["/results/a_full.json"] = b'{"format": 1}'
    write_results("a_full.json", {"x": 1}, fmt=1).unlink()
    with pytest.raises(MissingResultsError, match=r"a_full.json is missing \(its MANIFEST.sha256 lists it\)"):
        find_shipped("a_full.json")
    assert local_mirror.hits.get("/results/a_full.json", 0) == 0  # never another version in its place


WRITER = """
import sys
from mnist_course.shipped import write_results
for k in range(20):
    write_results(f"{sys.argv[1]}{k}_full.json", {"writer": sys.argv[1], "k": k}, fmt=1)
"""


def test_processes_writing_results_at_once_leave_a_manifest_of_every_file(tmp_path, monkeypatch):
    results = _course(tmp_path, monkeypatch)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, name]) for name in ("p", "q", "r")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    names = sorted(f"{name}{k}_full.json" for name in "pqr" for k in range(20))  # 60 files, sorted as written
    expected = "".join(f"{_sha256(results / name)}  {name}\n" for name in names)
    assert (results / MANIFEST).read_text() == expected
    assert sorted(p.name for p in results.iterdir()) == sorted([MANIFEST, *names])  # no lock or temporary file


REWRITER = """
from mnist_course.shipped import write_results
for k in range(150):
    write_results("a_full.json", {"k": k, "pad": "x" * 20000}, fmt=1)
"""


def test_a_reader_never_takes_a_file_being_rewritten_for_a_hand_edit(tmp_path, monkeypatch):
    _course(tmp_path, monkeypatch)
    write_results("a_full.json", {"k": -1}, fmt=1)
    writer = subprocess.Popen([sys.executable, "-c", REWRITER])
    seen = set()
    while writer.poll() is None:  # between a new file and its manifest entry, the reader waits for the writer
        seen.add(read_results("a_full.json", formats={1})["k"])
    assert writer.wait() == 0 and read_results("a_full.json", formats={1})["k"] == 149 and len(seen) > 1
