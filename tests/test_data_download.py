"""The real download path, against a local HTTP server: mirrors in order, bad files refused, cache never corrupt."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest

from mnist_course import paths
from mnist_course.data import Mirror, MnistCacheError, MnistDownloadError, fetch, load_mnist
from mnist_course.data.verify import IDX_FILES


def serve_idx(mirror, real_data_dir: Path, prefix: str) -> Mirror:
    for gz_name, _ in IDX_FILES.values():
        mirror.files[f"/{prefix}/{gz_name}"] = (real_data_dir / gz_name).read_bytes()
    return Mirror("idx", f"{mirror.url}/{prefix}/")


def serve_npz(mirror, content: bytes, prefix: str, good: bytes) -> Mirror:
    mirror.files[f"/{prefix}/mnist.npz"] = content
    return Mirror("npz", f"{mirror.url}/{prefix}/", hashes=(("mnist.npz", hashlib.sha256(good).hexdigest()),))


def cache_is_clean() -> None:
    """Nothing but (at most) the verified file and its lock: no temporary or partial download left."""
    folder = paths.data_cache_file().parent
    leftovers = [p.name for p in folder.iterdir() if p.name not in ("mnist.npz", "mnist.npz.lock")]
    assert leftovers == []


def test_download_from_idx_mirror_then_load_from_cache(isolated, local_mirror, real_data_dir, real_arrays):
    good = serve_idx(local_mirror, real_data_dir, "idx")
    assert fetch([good]) == paths.data_cache_file()
    cache_is_clean()
    (x_train, y_train), (x_test, y_test) = load_mnist(download=False)
    np.testing.assert_array_equal(x_train, real_arrays["x_train"])
    np.testing.assert_array_equal(y_test, real_arrays["y_test"])
    hits = sum(local_mirror.hits.values())
    assert fetch([good]) == paths.data_cache_file()
    assert sum(local_mirror.hits.values()) == hits, "a verified cache must not be downloaded again"


def test_load_mnist_downloads_when_nothing_is_on_disk(isolated, monkeypatch, local_mirror, real_data_dir, real_arrays):
    serve_idx(local_mirror, real_data_dir, "classroom")
    monkeypatch.setenv("MNIST_COURSE_MIRROR", f"idx:{local_mirror.url}/classroom/")
    (_, y_train), _ = load_mnist()
    np.testing.assert_array_equal(y_train, real_arrays["y_train"])
    assert paths.data_cache_file().is_file()


def test_broken_first_mirror_falls_back_to_good_second(isolated, local_mirror, real_data_dir):
    good_bytes = (real_data_dir / "mnist.npz").read_bytes()
    html = serve_npz(local_mirror, b"<!DOCTYPE html><html>Access denied</html>", "proxy", good_bytes)
    good = serve_npz(local_mirror, good_bytes, "good", good_bytes)
    assert fetch([html, good]) == paths.data_cache_file()
    assert local_mirror.hits["/proxy/mnist.npz"] == 1 and local_mirror.hits["/good/mnist.npz"] == 1
    cache_is_clean()


def test_every_mirror_bad_gives_one_error_listing_each_and_leaves_cache_clean(
    isolated, local_mirror, real_data_dir, closed_port
):
    good_bytes = (real_data_dir / "mnist.npz").read_bytes()
    mirrors = [
        serve_npz(local_mirror, good_bytes[:50_000], "truncated", good_bytes),
        serve_npz(local_mirror, b"<html><body>Please log in</body></html>", "html", good_bytes),
        serve_npz(local_mirror, good_bytes[:-10] + b"0123456789", "wronghash", good_bytes),
        serve_npz(local_mirror, good_bytes, "forbidden", good_bytes),
        Mirror("npz", f"http://127.0.0.1:{closed_port}/"),
    ]
    local_mirror.status["/forbidden/mnist.npz"] = 403
    with pytest.raises(MnistDownloadError) as err:
        fetch(mirrors, timeout=5)
    message = str(err.value)
    assert "wrong sha256" in message  # truncated and wrong-hash files both fail the hash
    assert message.count("wrong sha256") == 2
    assert "HTML page" in message and "HTTP 403" in message and "could not connect" in message
    assert "mnist-course data fetch" in message and "MNIST_COURSE_DATA" in message
    assert not paths.data_cache_file().exists()
    cache_is_clean()


def test_connection_cut_mid_file_leaves_nothing(isolated, local_mirror, real_data_dir):
    good = serve_idx(local_mirror, real_data_dir, "flaky")
    local_mirror.cut_after["/flaky/train-images-idx3-ubyte.gz"] = 1_000_000
    with pytest.raises(MnistDownloadError):
        fetch([good], timeout=5)
    assert not paths.data_cache_file().exists()
    cache_is_clean()


def test_a_verified_cache_is_used_offline_and_never_downloaded_again(
    isolated, local_mirror, real_data_dir, closed_port
):
    good = serve_idx(local_mirror, real_data_dir, "idx")
    fetch([good])
    hits = sum(local_mirror.hits.values())
    before = paths.data_cache_file().read_bytes()
    fetch([Mirror("npz", f"http://127.0.0.1:{closed_port}/")])  # unreachable: it must not be needed
    fetch([good])
    assert sum(local_mirror.hits.values()) == hits, "a verified copy is not downloaded again"
    assert paths.data_cache_file().read_bytes() == before


def test_a_corrupt_cache_stays_as_it_was_when_its_replacement_is_cut_then_a_verified_copy_replaces_it(
    isolated, local_mirror, real_data_dir
):
    target = paths.data_cache_file()
    target.parent.mkdir(parents=True)
    corrupt = b"PK\x03\x04 half a file"
    target.write_bytes(corrupt)
    cut = serve_idx(local_mirror, real_data_dir, "cut")
    local_mirror.cut_after["/cut/train-images-idx3-ubyte.gz"] = 1_000_000
    with pytest.raises(MnistDownloadError):
        fetch([cut], timeout=5)
    assert target.read_bytes() == corrupt, "a failed replacement leaves no partly written file in its place"
    cache_is_clean()
    fetch([serve_idx(local_mirror, real_data_dir, "idx")])
    load_mnist(target)  # verifies
    cache_is_clean()


def test_no_network_error_names_the_fixes(isolated, closed_port):
    with pytest.raises(MnistDownloadError) as err:
        fetch([Mirror("idx", f"http://127.0.0.1:{closed_port}/mnist/")], timeout=3)
    message = str(err.value)
    assert "could not connect (no network" in message
    assert f"copy a good mnist.npz to the cache path {paths.data_cache_file()}" in message


def test_unwritable_cache_folder(isolated, monkeypatch):
    blocker = isolated / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(blocker / "cache"))
    with pytest.raises(MnistCacheError) as err:
        fetch([])
    assert str(blocker / "cache" / "data") in str(err.value) and "MNIST_COURSE_CACHE" in str(err.value)


def _fetch_in_child(cache: str, mirror: Mirror, queue) -> None:
    os.environ["MNIST_COURSE_CACHE"] = cache
    try:
        queue.put(str(fetch([mirror], timeout=30)))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(repr(exc))


def test_two_processes_downloading_at_once_download_once(isolated, local_mirror, real_data_dir):
    good = serve_idx(local_mirror, real_data_dir, "slow")
    local_mirror.delay = 0.5  # both processes start while the first download is under way
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    cache = os.environ["MNIST_COURSE_CACHE"]
    children = [ctx.Process(target=_fetch_in_child, args=(cache, good, queue)) for _ in range(2)]
    for child in children:
        child.start()
    results = [queue.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert results == [str(paths.data_cache_file())] * 2
    assert all(count == 1 for count in local_mirror.hits.values()), local_mirror.hits
    assert len(local_mirror.hits) == 4
    cache_is_clean()


def test_classroom_mirror_serving_a_resaved_npz_is_accepted_by_content(isolated, local_mirror, real_arrays, capfd):
    import io

    buffer = io.BytesIO()  # same arrays, other zip bytes (key order, uncompressed): the file hash differs
    np.savez(
        buffer,
        y_test=real_arrays["y_test"],
        x_test=real_arrays["x_test"],
        y_train=real_arrays["y_train"],
        x_train=real_arrays["x_train"],
    )
    local_mirror.files["/school/mnist.npz"] = buffer.getvalue()
    assert fetch([Mirror("npz", f"{local_mirror.url}/school/")]) == paths.data_cache_file()
    (x_train, _), (_, y_test) = load_mnist(download=False)
    np.testing.assert_array_equal(x_train, real_arrays["x_train"])
    np.testing.assert_array_equal(y_test, real_arrays["y_test"])
    assert paths.data_cache_file().stat().st_size < 12_000_000, "an uncompressed download is stored compressed"
    err = capfd.readouterr().err
    assert "known_hash" not in err and "Downloading" not in err  # pooch's advice is not printed
    cache_is_clean()


def test_classroom_mirror_with_a_modified_npz_is_refused_naming_the_url(isolated, local_mirror, real_arrays):
    import io

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{**real_arrays, "y_train": real_arrays["y_train"][::-1].copy()})
    local_mirror.files["/school/mnist.npz"] = buffer.getvalue()
    with pytest.raises(MnistDownloadError) as err:
        fetch([Mirror("npz", f"{local_mirror.url}/school")])
    assert f"{local_mirror.url}/school/mnist.npz (npz): y_train differs from the official MNIST" in str(err.value)
    assert not paths.data_cache_file().exists()
    cache_is_clean()


def test_mirror_url_without_trailing_slash_or_naming_the_file(isolated, local_mirror, real_data_dir):
    local_mirror.files["/mnist/mnist.npz"] = (real_data_dir / "mnist.npz").read_bytes()
    for url in (f"{local_mirror.url}/mnist", f"{local_mirror.url}/mnist/mnist.npz"):
        assert Mirror("npz", url).url("mnist.npz") == f"{local_mirror.url}/mnist/mnist.npz"
    assert fetch([Mirror("npz", f"{local_mirror.url}/mnist")]) == paths.data_cache_file()
    assert local_mirror.hits == {"/mnist/mnist.npz": 1}
    assert "/mnistmnist.npz" not in local_mirror.hits


def test_http_error_names_the_url_requested(isolated, local_mirror):
    with pytest.raises(MnistDownloadError) as err:
        fetch([Mirror("idx", f"{local_mirror.url}/nothing-here")], timeout=5)
    expected = f"{local_mirror.url}/nothing-here/train-images-idx3-ubyte.gz (idx): HTTP 404 Not Found"
    assert expected in str(err.value)


def test_official_mirrors_give_pooch_their_known_hashes():
    from mnist_course.data import DEFAULT_MIRRORS

    for mirror in DEFAULT_MIRRORS:
        files = mirror.files()
        assert files and all(isinstance(h, str) and len(h) == 64 for h in files.values()), mirror


def test_progress_bar_without_tqdm_downloads_without_one(isolated, local_mirror, real_data_dir, monkeypatch):
    import pooch.downloaders

    from mnist_course.data import download

    monkeypatch.setattr(pooch.downloaders, "tqdm", None)  # pooch then refuses progressbar=True
    real_find_spec = download.importlib.util.find_spec
    monkeypatch.setattr(
        download.importlib.util, "find_spec", lambda name, *a: None if name == "tqdm" else real_find_spec(name, *a)
    )
    local_mirror.files["/m/mnist.npz"] = (real_data_dir / "mnist.npz").read_bytes()
    assert fetch([Mirror("npz", f"{local_mirror.url}/m/")], progress=True) == paths.data_cache_file()
