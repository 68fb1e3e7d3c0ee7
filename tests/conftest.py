"""Fixtures shared by the unit tests: the real MNIST copy, an isolated cache, and a local HTTP mirror."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The verified MNIST folder: $MNIST_COURSE_DATA, else ../shared/data beside the project."""
    folder = Path(os.environ.get("MNIST_COURSE_DATA") or ROOT.parent / "shared" / "data").resolve()
    if folder.is_file():
        folder = folder.parent
    if not (folder / "mnist.npz").is_file():
        pytest.fail(f"the real MNIST is needed at {folder}: set MNIST_COURSE_DATA to the folder holding mnist.npz")
    return folder


@pytest.fixture(scope="session")
def real_arrays(real_data_dir: Path) -> dict[str, np.ndarray]:
    """The four arrays of the real copy, read with plain NumPy (not with the code under test)."""
    with np.load(real_data_dir / "mnist.npz") as npz:
        return {k: npz[k] for k in npz.files}


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
