"""The test preflight (root conftest.py): without MNIST or Chromium, pytest stops in seconds with one message."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NEEDS_DATA = """
import pytest

@pytest.fixture
def real_arrays():
    return {}

def test_uses_mnist(real_arrays):
    pass
"""
NO_DATA = "def test_plain():\n    assert 1 + 1 == 2\n"


def run_pytest(folder: Path, files: dict[str, str], **env: str) -> subprocess.CompletedProcess:
    """pytest in ``folder`` (a copy of the root conftest.py plus ``files``), with no MNIST anywhere."""
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    clean = {k: v for k, v in os.environ.items() if k not in ("MNIST_COURSE_DATA", "MNIST_COURSE_MIRROR")}
    clean.update(MNIST_COURSE_CACHE=str(folder / "empty-cache"), KERAS_HOME=str(folder / "keras"))
    clean.update({"MNIST_COURSE_TEST_SETUP": "0", **env})  # no download unless a test asks for the set-up
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:nbval"],
        cwd=folder,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_data_stops_at_once_with_one_message(tmp_path):
    done = run_pytest(tmp_path, {"tests/test_a.py": NEEDS_DATA, "tests/test_b.py": NEEDS_DATA.replace("_uses", "_b")})
    assert done.returncode == 4, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert out.count("the tests cannot run") == 1
    assert "real MNIST" in out and "`mnist-course data fetch`" in out and "MNIST_COURSE_DATA=" in out
    assert "passed" not in out and "failed" not in out
    assert "Chromium" not in out  # no browser test collected: the browser is not asked for


def test_missing_browser_is_named_with_the_install_command(tmp_path):
    done = run_pytest(tmp_path, {"tests/browser/test_lab.py": NO_DATA}, MNIST_COURSE_BROWSER="/nowhere/chromium")
    out = done.stdout + done.stderr
    assert done.returncode == 4, out
    assert "nothing at /nowhere/chromium" in out and "`apt-get install chromium`" in out
    assert "real MNIST" in out  # the browser runs the notebooks, which load MNIST
    assert out.count("the tests cannot run") == 1


def test_tests_that_need_nothing_run(tmp_path):
    done = run_pytest(tmp_path, {"tests/test_plain.py": NO_DATA})
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr


def test_a_bad_mnist_course_data_is_named(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_text("<html>proxy error</html>")
    done = run_pytest(tmp_path, {"tests/test_a.py": NEEDS_DATA}, MNIST_COURSE_DATA=str(bad))
    out = done.stdout + done.stderr
    assert done.returncode == 4 and f"MNIST_COURSE_DATA={bad}: cannot be read" in out, out


def test_a_fresh_machine_with_a_reachable_mirror_sets_its_data_up_before_the_tests(tmp_path, real_data_dir):
    """`make test` on a fresh machine: no copy anywhere, so the preflight runs `mnist-course data fetch`, which
    downloads (here from a local classroom mirror serving the real mnist.npz) into the course cache; the tests run."""
    import functools
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(real_data_dir / "mnist.npz", served / "mnist.npz")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        mirror = f"npz:http://127.0.0.1:{server.server_address[1]}/"
        done = run_pytest(
            tmp_path, {"tests/test_a.py": NEEDS_DATA}, MNIST_COURSE_TEST_SETUP="1", MNIST_COURSE_MIRROR=mirror
        )
    finally:
        server.shutdown()
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "empty-cache").exists()  # the copy went into the course cache the tests use


def test_when_the_set_up_cannot_download_the_message_says_what_was_tried(tmp_path):
    dead = "npz:http://127.0.0.1:9/"  # the discard port: nothing serves there
    done = run_pytest(tmp_path, {"tests/test_a.py": NEEDS_DATA}, MNIST_COURSE_TEST_SETUP="1", MNIST_COURSE_MIRROR=dead)
    out = done.stdout + done.stderr
    assert done.returncode == 4 and out.count("the tests cannot run") == 1, out
    assert "tried `mnist-course data fetch`" in out and "`mnist-course data fetch` once" in out
