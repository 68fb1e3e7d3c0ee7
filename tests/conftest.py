"""Fixtures shared by the tests: the real MNIST (its arrays, and a folder with its npz and IDX files), an isolated
cache, a local HTTP mirror; and the session's one ci-profile execution of the course's student edition, split
between JupyterLab in headless Chromium (``browser_runs``: BROWSER_RUNS) and ``mnist-course run`` (``ci_run``:
CI_RUNS), with the JupyterLab server and browser it uses (``lab``, ``browser``)."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
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

from mnist_course.notebook import METRICS_ENV, PROFILE_ENV
from tests import lab_session

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_predictions():
    """Each test starts as a fresh kernel: no "predict, then run" prediction committed yet
    (mnist_course.exercises.feedback.commit)."""
    from mnist_course.exercises.feedback import forget_predictions

    forget_predictions()
    yield
    forget_predictions()


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
        # the fastest level (0.4 s for the four, level 9 takes 15 s): the tests read the content, not the ratio
        (folder / gz_name).write_bytes(gzip.compress(data, compresslevel=1, mtime=0))
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


# How the session executes the course's student edition in the ci profile, each notebook once: the two whose widgets
# need a live kernel (01's image browser, 08's draw pad) with Run All in JupyterLab (``browser_runs``), the others
# with `mnist-course run` (``ci_run``). Every stem in the [ci.*] tables of tests/metric_floors.toml is in exactly one.
COURSE_STEMS = tuple(sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
BROWSER_RUNS = ("01_loading_mnist", "05_cnn", "07_optimizers_and_losses", "08_playground")
CI_RUNS = tuple(stem for stem in COURSE_STEMS if stem not in BROWSER_RUNS)


@pytest.fixture(scope="session")
def student_edition(tmp_path_factory) -> dict:
    """The student edition of the whole course (``mnist-course student-edition``), written once per session:
    ``folder``, and ``before``: the bytes of the course notebooks it was written from."""
    student = tmp_path_factory.mktemp("student-edition") / "student"
    before = {p: p.read_bytes() for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
    edition = course_command("student-edition", "--notebooks", str(ROOT / "notebooks"), "-o", str(student))
    if edition.returncode != 0:
        pytest.fail(f"mnist-course student-edition failed:\n{edition.stdout[-3000:]}\n{edition.stderr[-3000:]}")
    return {"folder": student, "before": before}


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """The folder the browser's screenshots go to (printed, so a person can look at them)."""
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright (tests/lab_session.py), closed at the end of the session."""
    with lab_session.chromium(lab_session.chromium_path()) as chrome:
        yield chrome


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """JupyterLab serving a temporary folder, kernels in the ci profile, recording their metrics into
    ``lab["metrics"]`` (``$MNIST_COURSE_METRICS``). ``stored/`` in it is a copy of notebooks/ with their stored
    outputs, trusted (in the lab's own Jupyter data folder) so that their saved widget state renders;
    ``browser_runs`` copies the student edition into ``student/``."""
    base = tmp_path_factory.mktemp("lab")
    root, data = base / "root", base / "jupyter-data"
    shutil.copytree(ROOT / "notebooks", root / "stored", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    env = {PROFILE_ENV: "ci", METRICS_ENV: str(base / "metrics.json"), "JUPYTER_DATA_DIR": str(data)}
    stored = sorted(str(p) for p in (root / "stored").glob("[0-9][0-9]_*.ipynb"))
    trust = subprocess.run(
        [sys.executable, "-m", "jupyter", "trust", *stored], env={**os.environ, **env}, capture_output=True, text=True
    )
    if trust.returncode != 0:
        pytest.fail(f"jupyter trust failed:\n{trust.stdout}\n{trust.stderr}")
    with lab_session.jupyterlab(base, root, env) as server:
        yield {**server, "metrics": base / "metrics.json", "env": env}


@pytest.fixture(scope="session")
def dark_lab(lab, tmp_path_factory):
    """A second JupyterLab, in its dark theme, serving the same folder as ``lab`` (its trusted ``stored/`` copies)."""
    base = tmp_path_factory.mktemp("dark-lab")
    with lab_session.jupyterlab(base, lab["root"], lab["env"], settings=lab_session.DARK_THEME) as server:
        yield server


@pytest.fixture(scope="session")
def browser_runs(lab, browser, student_edition, screenshots):
    """The student edition of each of BROWSER_RUNS run with Run All in JupyterLab (ci profile), as a student does:
    ``{stem: run}``, each run with its live ``page`` (kernel still up, for the widget checks of
    tests/browser/test_jupyterlab.py), the final ``state``, the tracebacks shown by code-cell position (``errors``),
    the ``metrics`` it recorded, the ``seconds`` it took, and ``executed``: the notebook as JupyterLab saved it
    (``ci_run`` puts it with the executed copies, which tests/test_nbgrader.py grades). A run that failed has its
    ``error`` (and the other runs still happen)."""
    import json

    shutil.copytree(student_edition["folder"], lab["root"] / "student")
    executed = lab["base"] / "executed"
    executed.mkdir()
    runs, contexts = {}, []
    try:
        for stem in BROWSER_RUNS:
            notebook = lab["root"] / "student" / f"{stem}.ipynb"
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            contexts.append(context)
            page = context.new_page()
            run = runs[stem] = {"page": page, "context": context, "notebook": notebook, "error": ""}
            started = time.monotonic()
            try:
                lab["metrics"].unlink(missing_ok=True)
                lab_session.open_notebook(page, lab, f"student/{notebook.name}", f"student-{stem}")
                run["state"] = lab_session.run_all(page, stem, screenshots, lab_session.raising_cells(notebook))
                page.wait_for_timeout(1500)  # widget views render asynchronously after the kernel is idle
                page.screenshot(path=str(screenshots / f"{stem}.png"))
                run["errors"] = {int(i): texts for i, texts in page.evaluate(lab_session.CELL_ERRORS_JS).items()}
                run["metrics"] = json.loads(lab["metrics"].read_text()) if lab["metrics"].is_file() else {}
                lab_session.save(page, notebook)
                run["executed"] = Path(shutil.copy2(notebook, executed / notebook.name))
            except (Exception, pytest.fail.Exception) as exc:  # noqa: B014 (Failed is not an Exception)
                run["error"] = f"{type(exc).__name__}: {exc}"
                page.screenshot(path=str(screenshots / f"{stem}-failed.png"))
            run["seconds"] = time.monotonic() - started
            print(f"{stem} in JupyterLab: {run['seconds']:.0f} s {run['error']}")
        yield runs
    finally:
        for context in contexts:
            context.close()
        lab_session.shut_down_kernels(lab, "student/")


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory, student_edition, browser_runs) -> dict:
    """The session's ci-profile execution of the student edition, shared by the batch, edition and nbgrader tests:
    ``mnist-course run --profile ci -j 2`` executes CI_RUNS (stubs raise in their ``raises-exception`` cells, the
    rest runs and records its metrics) into one report; BROWSER_RUNS ran in JupyterLab instead (``browser_runs``,
    checked by tests/browser/test_jupyterlab.py), and their saved notebooks are copied next to the executed ones, so
    ``out`` holds the whole course executed once.

    Returns the folders (``student``: the student edition, all of it; ``out``: the executed copies and the report of
    the CI_RUNS), the run's completed process, the course notebooks it ran (``notebooks``), every course notebook's
    bytes when the student edition was written from them (``before``: to show the course edition was not touched),
    and ``browser``: ``browser_runs``."""
    import json

    from mnist_course.course import runner

    out, student = tmp_path_factory.mktemp("ci-run") / "out", student_edition["folder"]
    course = runner.discover((), ROOT / "notebooks")
    done = course_command("run", *CI_RUNS, "--notebooks", str(student), "--profile", "ci", "-j", "2", "-o", str(out))
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").is_file() else []
    for run in browser_runs.values():
        if run.get("executed"):
            shutil.copy2(run["executed"], out / run["executed"].name)
    return {
        "student": student,
        "out": out,
        "done": done,
        "report": report,
        "notebooks": [p for p in course if p.stem in CI_RUNS],
        "before": student_edition["before"],
        "browser": browser_runs,
    }
