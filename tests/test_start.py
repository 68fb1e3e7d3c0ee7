"""Every notebook's opening: the Colab cell first, then parameters, then one start() call that prints the profile."""

from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest

from mnist_course import notebook, start
from mnist_course.course import colab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_opens_with_the_colab_cell_then_parameters_then_start(path):
    codes = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert codes[0].source == colab.CELL and codes[0].metadata["tags"] == ["colab-install"]
    assert "parameters" in codes[1].metadata.get("tags", [])
    assert codes[2].source.startswith(f'from mnist_course.start import start\n\nstart("{path.stem}", globals())')
    assert not any("NBVAL_" in c.source for c in codes), "nbval markers are cell tags, not comments"


def test_the_colab_cell_does_nothing_outside_colab_and_keeps_colabs_packages(monkeypatch):
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    namespace: dict[str, object] = {}
    python = colab.CELL.replace("    %pip install", "    raise AssertionError  # %pip install")
    exec(python, namespace)  # google.colab is not imported here: nothing happens, nothing is written
    assert "keep" not in namespace
    assert '--constraint /tmp/mnist-course-keep.txt "mnist-course @ git+https://github.com/' in colab.CELL
    assert colab.cell_for("git+https://example.org/course").endswith('"mnist-course @ git+https://example.org/course"')
    assert colab.cell_for(str(ROOT)).endswith(f'"mnist-course @ {ROOT.as_uri()}"')  # pip needs a URL, not a path
    assert colab.KEPT == ("tensorflow", "keras", "ipywidgets")


@pytest.mark.parametrize("platform", ["colab", "kaggle"])
def test_the_install_cell_installs_on_colab_and_on_kaggle(platform, monkeypatch, tmp_path):
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    if platform == "kaggle":
        monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")  # what Kaggle's kernels carry
    else:
        monkeypatch.setitem(__import__("sys").modules, "google.colab", type(pytest)("google.colab"))
    keep = tmp_path / "keep.txt"
    python = colab.CELL.replace("/tmp/mnist-course-keep.txt", str(keep)).replace(
        "    %pip install", "    raise RuntimeError  # %pip install"
    )
    with pytest.raises(RuntimeError):  # it reached the install line
        exec(python, {})
    assert keep.read_text().splitlines() == [f"{p}=={version(p)}" for p in ("tensorflow", "keras", "ipywidgets")]


def test_the_profile_line_names_the_profile_and_both_ways_to_change_it():
    line = start.profile_line("student")
    assert line.startswith('Profile "student": about a minute per notebook')
    assert 'PROFILE = "ci" or "full"' in line and "$MNIST_COURSE_PROFILE" in line and "\n" not in line
    assert notebook.current_profile.__defaults__ == ("student",)


def test_start_checks_parameters_seeds_and_prints_one_line(capsys, monkeypatch):
    monkeypatch.delenv(notebook.PROFILE_ENV, raising=False)
    namespace: dict[str, object] = {"PROFILE": None, "SEED": 3, "VAL_SIZE": 6000, "N_PRED": 5}
    assert start.start("02_preprocessing", namespace, backend=False) is None  # a cell ending with it shows no Out
    import numpy as np

    first = np.random.rand()
    np.random.seed(3)
    assert first == np.random.rand()  # start seeded NumPy from SEED
    assert namespace["PROFILE"] == "student" and capsys.readouterr().out.count("\n") == 1
    import matplotlib

    assert matplotlib.rcParams["image.cmap"] == "gray_r"
