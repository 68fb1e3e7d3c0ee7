"""The course cache of MNIST: compressed, readable by a classroom, a full disk explained, nothing stale left,
and a read-only cache that already holds the data is fine."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import numpy as np
import pooch
import pytest

from mnist_course import paths
from mnist_course.course.cli import main
from mnist_course.data import MnistCacheError, cache, fetch, idx_file_path, load_mnist, loader, update_cache
from tests.test_data_download import serve_idx


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def assert_disk_full_message(message: str, folder) -> None:
    assert f"{folder}: the disk is full" in message
    assert "MB free in this folder" in message and "MNIST_COURSE_CACHE" in message
    assert "Traceback" not in message


def only_the_cache_and_its_lock() -> None:
    folder = paths.data_cache_file().parent
    assert sorted(p.name for p in folder.iterdir()) in ([], ["mnist.npz.lock"], ["mnist.npz", "mnist.npz.lock"])


def test_full_disk_in_data_fetch_from(isolated, real_data_dir, monkeypatch, capsys):
    monkeypatch.setattr(cache.shutil, "copyfile", no_space)
    monkeypatch.setattr(cache.np, "savez_compressed", no_space)
    for source in (real_data_dir / "mnist.npz", real_data_dir):  # kept as it is / compressed from IDX files
        assert main(["data", "fetch", "--from", str(source)]) == 1
        assert_disk_full_message(capsys.readouterr().err, paths.data_cache_file().parent)
        assert not paths.data_cache_file().exists()
        only_the_cache_and_its_lock()


def test_full_disk_while_downloading_and_in_load_mnist(isolated, monkeypatch, local_mirror, real_data_dir):
    calls = []

    def full_after_a_call(*args, **kwargs):
        calls.append(1)
        no_space()

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", full_after_a_call)
    mirror = serve_idx(local_mirror, real_data_dir, "idx")
    with pytest.raises(MnistCacheError) as err:
        fetch([mirror, mirror])
    assert_disk_full_message(str(err.value), paths.data_cache_file().parent)
    assert "downloading MNIST needs about 23 MB" in str(err.value)
    assert len(calls) == 1, "a full disk must stop at once, not try every mirror"
    only_the_cache_and_its_lock()
    monkeypatch.undo()
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(isolated / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(isolated / "keras"))
    monkeypatch.delenv("MNIST_COURSE_DATA", raising=False)
    monkeypatch.setenv("MNIST_COURSE_MIRROR", f"idx:{mirror.base_url}")
    monkeypatch.setattr(cache.np, "savez_compressed", no_space)
    with pytest.raises(MnistCacheError) as err:
        load_mnist()
    assert_disk_full_message(str(err.value), paths.data_cache_file().parent)
    only_the_cache_and_its_lock()


def test_cache_is_compressed_and_loads_the_same_arrays(isolated, real_data_dir, real_arrays):
    update_cache(real_data_dir / "mnist.npz")
    assert paths.data_cache_file().read_bytes() == (real_data_dir / "mnist.npz").read_bytes()  # kept as it is
    paths.data_cache_file().unlink()
    idx_only = isolated / "idx"
    idx_only.mkdir()
    for gz in real_data_dir.glob("*.gz"):
        (idx_only / gz.name).symlink_to(gz)
    assert "copied the verified data" in update_cache(idx_only).action
    assert paths.data_cache_file().stat().st_size < 12_000_000  # not the 55 MB of an uncompressed npz
    (x_train, _), _ = load_mnist(download=False)  # how fast: benchmarks/load_time.py
    np.testing.assert_array_equal(x_train, real_arrays["x_train"])


def test_cache_files_respect_the_umask(isolated, real_data_dir, monkeypatch):
    data = isolated / "npz-only"
    data.mkdir()
    (data / "mnist.npz").symlink_to(real_data_dir / "mnist.npz")
    old = os.umask(0o022)
    try:
        update_cache(real_data_dir)
        monkeypatch.setenv("MNIST_COURSE_DATA", str(data))
        rebuilt = idx_file_path("y_test")
    finally:
        os.umask(old)
    assert paths.data_cache_file().stat().st_mode & 0o777 == 0o644
    assert rebuilt.stat().st_mode & 0o777 == 0o644


def make_leftovers():
    folder = paths.data_cache_file().parent
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / ".mnist.npz.k3j2h1.part"
    part.write_bytes(b"half a file")
    download = folder / ".download-abc123"
    download.mkdir()
    (download / "mnist.npz").write_bytes(b"half a download")
    return [part, download]


def test_stale_leftovers_are_removed_by_the_next_fetch_and_load(isolated, real_data_dir):
    stale = make_leftovers()
    update_cache(real_data_dir / "mnist.npz")
    assert not any(p.exists() for p in stale)
    stale = make_leftovers()
    load_mnist(download=False)  # the cache is there already: a reader cleans up too
    assert not any(p.exists() for p in stale)
    only_the_cache_and_its_lock()


def test_leftovers_of_a_live_writer_are_kept(isolated, real_data_dir):
    update_cache(real_data_dir / "mnist.npz")
    in_progress = make_leftovers()
    lock = str(paths.data_cache_file()) + ".lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import filelock, time; l = filelock.FileLock({lock!r}); l.acquire(); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        load_mnist(download=False)
        assert all(p.exists() for p in in_progress), "a writer holding the lock is alive: its files are not stale"
    finally:
        holder.kill()
        holder.wait()
    load_mnist(download=False)
    assert not any(p.exists() for p in in_progress)


def test_data_fetch_on_a_read_only_cache_that_holds_the_data(isolated, real_data_dir, monkeypatch, capsys):
    update_cache(real_data_dir / "mnist.npz")

    def read_only(*args, **kwargs):
        raise MnistCacheError(
            "the cache folder cannot be written (Read-only file system)", paths.data_cache_file().parent
        )

    monkeypatch.setattr(cache, "ensure_writable", read_only)  # tests run as root, which chmod cannot stop
    monkeypatch.setattr(loader, "lock_for", read_only)
    assert main(["data", "fetch"]) == 0
    assert "already there, verified: nothing to do" in capsys.readouterr().out
    assert main(["data", "fetch", "--from", str(real_data_dir)]) == 0
    assert "already there, verified" in capsys.readouterr().out
    paths.data_cache_file().write_bytes(b"PK\x03\x04 damaged")
    assert main(["data", "fetch"]) == 1
    assert "cannot be written (Read-only file system)" in capsys.readouterr().err
