"""Fixtures shared by the unit tests: the real MNIST (its arrays, and a folder with its npz and IDX files),
an isolated cache, and a local HTTP mirror."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


# sha256 of the real arrays (C order) and of the four uncompressed IDX files, as published with the offline copy:
# the fixtures check the copy against these literals, not with the code under test.
REAL_ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
IDX = {  # array -> (file name, magic number, sha256 of the uncompressed official file)
    "x_train": ("train-images-idx3-ubyte.gz", 2051, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "y_train": ("train-labels-idx1-ubyte.gz", 2049, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "x_test": ("t10k-images-idx3-ubyte.gz", 2051, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "y_test": ("t10k-labels-idx1-ubyte.gz", 2049, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}


def official_idx_bytes(array: np.ndarray) -> bytes:
    """The IDX file of a uint8 array, written here from the format's definition: 0 0 8 ndim, dims, data."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + np.ascontiguousarray(array).tobytes()


@pytest.fixture(scope="session")
def real_copy() -> Path:
    """The real MNIST the session uses (an mnist.npz, or a folder with it or the four IDX files): the one the root
    conftest's preflight found and exported as $MNIST_COURSE_DATA, else ../shared/data."""
    path = Path(os.environ.get("MNIST_COURSE_DATA") or ROOT.parent / "shared" / "data").expanduser().resolve()
    if path.is_dir() and (path / "mnist.npz").is_file():
        path = path / "mnist.npz"
    if not path.exists():
        pytest.fail(f"real MNIST is needed, none at {path}: run `mnist-course data fetch` or set MNIST_COURSE_DATA")
    return path


def _read_plain_idx(file: Path) -> np.ndarray:
    raw = file.read_bytes()
    raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


@pytest.fixture(scope="session")
def real_arrays(real_copy: Path) -> dict[str, np.ndarray]:
    """The four arrays of the real copy, read with plain NumPy (not with the code under test) and checked
    against the published hashes."""
    if real_copy.is_file():
        with np.load(real_copy) as npz:
            arrays = {k: npz[k].astype(np.uint8) for k in npz.files}
    else:
        arrays = {}
        for split, (gz_name, _, _) in IDX.items():
            plain = real_copy / gz_name.removesuffix(".gz")
            arrays[split] = _read_plain_idx(real_copy / gz_name if (real_copy / gz_name).is_file() else plain)
    wrong = [
        k
        for k, h in REAL_ARRAY_SHA256.items()
        if k not in arrays or hashlib.sha256(np.ascontiguousarray(arrays[k]).data).hexdigest() != h
    ]
    if wrong:
        pytest.fail(
            f"{real_copy} is not the real MNIST ({wrong} differ): run `mnist-course data fetch` "
            "or point MNIST_COURSE_DATA at a good copy"
        )
    return arrays


@pytest.fixture(scope="session")
def real_data_dir(real_copy: Path, real_arrays: dict[str, np.ndarray], tmp_path_factory) -> Path:
    """A folder holding the real mnist.npz and the four IDX .gz files, whatever the copy holds: the IDX files
    are written here from the verified arrays, so `mnist-course data fetch` alone is enough for the tests."""
    folder = tmp_path_factory.mktemp("real-mnist")
    if real_copy.is_file():
        (folder / "mnist.npz").symlink_to(real_copy)
    else:
        np.savez_compressed(folder / "mnist.npz", **real_arrays)
    for split, (gz_name, magic, sha256) in IDX.items():
        data = official_idx_bytes(real_arrays[split])
        assert int.from_bytes(data[:4], "big") == magic and hashlib.sha256(data).hexdigest() == sha256
        (folder / gz_name).write_bytes(gzip.compress(data, mtime=0))
    return folder


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty course cache and Keras home under tmp_path, and no $MNIST_COURSE_DATA: nothing on disk to find."""
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("MNIST_COURSE_DATA", raising=False)
    monkeypatch.delenv("MNIST_COURSE_MIRROR", raising=False)
    return tmp_path


class LocalMirror:
    """A tiny HTTP server on 127.0.0.1 serving bytes the test chooses, counting requests per path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.status: dict[str, int] = {}
        self.cut_after: dict[str, int] = {}
        self.delay = 0.0
        self.hits: Counter[str] = Counter()
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                mirror.hits[self.path] += 1
                time.sleep(mirror.delay)
                code = mirror.status.get(self.path, 200 if self.path in mirror.files else 404)
                body = mirror.files.get(self.path, b"<html><body>Not here</body></html>")
                if code != 200:
                    body = b"<!DOCTYPE html><html><body>Error</body></html>"
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                cut = mirror.cut_after.get(self.path)
                self.wfile.write(body if cut is None else body[:cut])
                if cut is not None:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_mirror():
    server = LocalMirror()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting fails like a machine with no network."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def course_command(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    """``mnist-course ARGS`` through the console script installed next to this Python (as a user types it)."""
    script = Path(sys.executable).with_name("mnist-course")
    if not script.is_file():
        pytest.fail(f'the console script is not installed at {script}: pip install -e ".[test]"')
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory) -> dict:
    """The one ``ci``-profile execution of the course in a test session, shared by the batch, edition and nbgrader
    tests: ``mnist-course student-edition`` writes the student edition, ``mnist-course run --profile ci -j 2``
    executes all of it (stubs raise in their ``raises-exception`` cells, the rest runs and records its metrics).

    Returns the folders (``student``: the student edition, ``out``: the executed copies and the report), the run's
    completed process, and the notebooks' bytes before it (to show the course edition was not touched)."""
    import json

    from mnist_course import runner

    base = tmp_path_factory.mktemp("ci-run")
    student, out = base / "student", base / "out"
    notebooks = runner.discover((), ROOT / "notebooks")
    before = {p: p.read_bytes() for p in notebooks}
    edition = course_command("student-edition", "--notebooks", str(ROOT / "notebooks"), "-o", str(student))
    if edition.returncode != 0:
        pytest.fail(f"mnist-course student-edition failed:\n{edition.stdout[-3000:]}\n{edition.stderr[-3000:]}")
    done = course_command("run", "--notebooks", str(student), "--profile", "ci", "-j", "2", "-o", str(out))
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").is_file() else []
    return {"student": student, "out": out, "done": done, "report": report, "notebooks": notebooks, "before": before}
