"""files.py writes atomically (old content kept on failure, no temporary left) and respects the umask;
paths.py finds the course notebooks and refuses writes onto them however the path is spelled."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from mnist_course import files, paths


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]

    with files.atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing visible until the block ends
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_atomic_path_keeps_a_required_suffix(tmp_path):
    with files.atomic_path(tmp_path / "m.keras", suffix=".keras") as tmp:
        assert tmp.name.endswith(".keras")
        tmp.write_bytes(b"x")
    assert (tmp_path / "m.keras").read_bytes() == b"x"


def test_atomic_files_respect_the_umask_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        written = files.write_text_atomic(tmp_path / "shared.txt", "hello")
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644


def test_lock_for_serialises_two_writers(tmp_path):
    target = tmp_path / "counter.txt"
    target.write_text("0")

    def bump() -> None:
        for _ in range(50):
            with files.lock_for(target):
                value = int(target.read_text())
                files.write_text_atomic(target, str(value + 1))

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert target.read_text() == "100"


@pytest.fixture
def course(tmp_path, monkeypatch):
    folder = tmp_path / "clone" / "notebooks"
    folder.mkdir(parents=True)
    (folder / "01_intro.ipynb").write_text("{}")
    (folder / "02_more.ipynb").write_text("{}")
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(folder))
    return folder


def test_notebooks_dir_follows_the_environment_and_names_the_fix(course, tmp_path, monkeypatch):
    assert paths.notebooks_dir() == course.resolve()
    monkeypatch.setenv(paths.NOTEBOOKS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="MNIST_COURSE_NOTEBOOKS"):
        paths.notebooks_dir()


@pytest.mark.parametrize("spelling", ["file", "folder", "dotdot", "symlink", "relative"])
def test_refuse_course_targets_sees_through_every_spelling(course, tmp_path, monkeypatch, spelling):
    link = tmp_path / "link"
    link.symlink_to(course)
    monkeypatch.chdir(course.parent)
    target = {
        "file": course / "02_more.ipynb",
        "folder": course,
        "dotdot": course / ".." / "notebooks" / "01_intro.ipynb",
        "symlink": link / "01_intro.ipynb",
        "relative": paths.Path("notebooks"),
    }[spelling]
    with pytest.raises(paths.CourseEditionError, match="use -o student"):
        paths.refuse_course_targets([target], command="student-edition", fix="use -o student")


def test_refuse_course_targets_lets_other_folders_through(course, tmp_path):
    paths.refuse_course_targets(
        [tmp_path / "student", tmp_path / "student" / "01_intro.ipynb"], command="student-edition", fix="-"
    )


def test_shown_writes_the_home_folder_as_a_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "ada"))
    assert paths.shown(tmp_path / "ada" / ".cache" / "mnist.npz") == "~/.cache/mnist.npz"
    assert paths.shown(tmp_path / "ada") == "~"
    assert paths.shown(tmp_path / "adam" / "x") == str(tmp_path / "adam" / "x")  # a neighbour is not home
