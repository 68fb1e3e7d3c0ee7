"""Test-session settings (unit tests in the ``ci`` profile; nbval's kernels in ``student``, recording their metrics
for the floors check that runs after them) and a preflight stopping at once if data is missing."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

PROFILE_ENV, METRICS_ENV, UNATTENDED_ENV = "MNIST_COURSE_PROFILE", "MNIST_COURSE_METRICS", "MNIST_COURSE_UNATTENDED"
NBVAL_PROFILE = "student"  # strict nbval compares with the stored outputs, which are a student run
AFTER_NOTEBOOKS = "after_notebooks"  # marker of the tests that read what nbval's kernels recorded
EXECUTES_NOTEBOOKS = "executes_notebooks"  # set on every test that runs course notebooks: `make test-quick` omits them

# Kernels started from this process (nbval's, nbclient's, papermill's) inherit these variables.
os.environ.setdefault(PROFILE_ENV, "ci")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# Outputs made as the runner made the stored ones: each widget's static picture an output of its own (nbval compares
# with them). JupyterLab's kernels in the browser test do not get it (tests/lab_session.py): a student's never do.
os.environ["MNIST_COURSE_STORED_OUTPUTS"] = "1"
# The model cache's signing key of this test session (tests never create or use the user's own key)
os.environ.setdefault("MNIST_COURSE_CACHE_KEY", str(Path(tempfile.mkdtemp(prefix="mnist-course-key-")) / "cache-key"))
_UNIT_ENV = {key: os.environ.get(key) for key in (PROFILE_ENV, METRICS_ENV, UNATTENDED_ENV)}
_NBVAL_METRICS = Path(tempfile.mkdtemp(prefix="mnist-course-nbval-metrics-"))

ROOT = Path(__file__).resolve().parent
SHARED_DATA = ROOT.parent / "shared" / "data"  # the offline copy on development machines and CI
DATA_FIXTURES = {"real_data_dir", "real_arrays", "real_copy", "ci_run"}  # tests/conftest.py's fixtures using real MNIST
BROWSER_ENV = "MNIST_COURSE_BROWSER"
SETUP_ENV = "MNIST_COURSE_TEST_SETUP"  # "0": the preflight never downloads anything, it only reports what is missing
DEFAULT_BROWSER = "/usr/bin/chromium"
SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
PREFLIGHT_EXIT = pytest.ExitCode.USAGE_ERROR


def _npz_problem(file: Path) -> str | None:
    """Why ``file`` is not a usable mnist.npz (None when it is: four arrays of MNIST's shapes)."""
    import numpy as np

    try:
        with np.load(file, allow_pickle=False) as npz:
            if not hasattr(npz, "files"):
                return "not an .npz file"
            shapes = {k: npz[k].shape for k in npz.files}
    except Exception as exc:  # any unreadable file: the message says why
        return f"cannot be read as an .npz ({type(exc).__name__}: {exc})"
    wrong = {k: s for k, s in SHAPES.items() if shapes.get(k) != s}
    return f"arrays missing or of the wrong shape: {sorted(wrong)}" if wrong else None


def _copy_problem(path: Path) -> str | None:
    """Why ``path`` (an mnist.npz, or a folder with it or with the four IDX files) is not usable, else None."""
    if path.is_file():
        return _npz_problem(path)
    if not path.is_dir():
        return "no such file or folder"
    if (path / "mnist.npz").is_file():
        return _npz_problem(path / "mnist.npz")
    missing = [n for n in IDX_NAMES if not (path / f"{n}.gz").is_file() and not (path / n).is_file()]
    return f"holds neither mnist.npz nor the IDX files {missing}" if missing else None


def _course_caches() -> list[Path]:
    from mnist_course import paths  # light: no TensorFlow

    return [paths.data_cache_file(), paths.keras_cache_file()]


def find_real_copy() -> tuple[Path | None, str]:
    """The copy of MNIST the tests use, and a description of where it was looked for.

    ``$MNIST_COURSE_DATA`` when set (and it must then be usable), else ``../shared/data``, the course cache
    (what ``mnist-course data fetch`` fills) and Keras' cache.
    """
    env = os.environ.get("MNIST_COURSE_DATA", "").strip()
    if env:
        problem = _copy_problem(Path(env).expanduser())
        return (None, f"MNIST_COURSE_DATA={env}: {problem}") if problem else (Path(env).expanduser(), env)
    candidates = [SHARED_DATA, *_course_caches()]
    for candidate in candidates:
        if candidate.exists() and _copy_problem(candidate) is None:
            return candidate, str(candidate)
    return None, "no copy in " + ", ".join(map(str, candidates)) + " and MNIST_COURSE_DATA is not set"


def _setting_up() -> bool:
    return os.environ.get(SETUP_ENV, "1") != "0"


def _last_line(done: subprocess.CompletedProcess) -> str:
    lines = (done.stderr + done.stdout).strip().splitlines()
    return (lines[-1] if lines else f"exit code {done.returncode}")[:200]


def _fetch_mnist() -> str:
    """Set the tests up where they can: `mnist-course data fetch` (the course's own loader: its mirrors, hashes
    checked, into the course cache). Returns "" when it worked, else why not, in one line."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mnist_course.course.cli", "data", "fetch"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        return "the download took over 5 minutes"
    return "" if done.returncode == 0 else _last_line(done)


def _playwright_chromium() -> tuple[str | None, str]:
    """Playwright's own Chromium, installed without root (`playwright install chromium`, into ~/.cache): its path,
    or None and why not."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "playwright", "install", "chromium"], capture_output=True, text=True, timeout=900
        )
        if done.returncode:
            return None, _last_line(done)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            return playwright.chromium.executable_path, ""
    except Exception as exc:  # noqa: BLE001 - any failure is reported in the preflight's one message
        return None, f"{type(exc).__name__}: {exc}"[:200]


def _browser_problems() -> list[str]:
    problems = []
    browser = os.environ.get(BROWSER_ENV, DEFAULT_BROWSER)
    found = shutil.which(browser) or (browser if os.access(browser, os.X_OK) else None)
    tried = ""
    if not found and BROWSER_ENV not in os.environ and _setting_up() and importlib.util.find_spec("playwright"):
        installed, tried = _playwright_chromium()
        if installed:
            os.environ[BROWSER_ENV] = found = installed
        tried = f" (tried `playwright install chromium`: {tried})" if tried else ""
    if not found:
        problems.append(
            f"Chromium for tests/browser/: nothing at {browser}{tried}. Fix: `apt-get install chromium`, "
            f"or set {BROWSER_ENV}=/path/to/chromium"
        )
    if importlib.util.find_spec("playwright") is None:
        problems.append(
            "Playwright's Python package for tests/browser/: not installed. "
            'Fix: `pip install -e ".[test]"` (never `playwright install`: it uses the system Chromium)'
        )
    return problems


def _is_browser_test(item: pytest.Item) -> bool:
    return "browser" in item.path.relative_to(ROOT).parts[:2] if item.path.is_relative_to(ROOT) else False


def _needs_data(item: pytest.Item) -> bool:
    """Notebooks (nbval, or run in the browser) and tests using a real-MNIST fixture need the data."""
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.path.suffix == ".ipynb" or _is_browser_test(item) or bool(DATA_FIXTURES & fixtures)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before any test runs: when collected tests need real MNIST (notebooks, browser tests, the real-data
    fixtures) find it and export it as $MNIST_COURSE_DATA; when browser tests were collected, check Chromium and
    Playwright. Stop in seconds with one message naming everything missing and the command that fixes it."""
    if session.config.option.collectonly or not session.items:
        return
    problems = []
    if any(_needs_data(item) for item in session.items):
        copy, where = find_real_copy()
        if copy is None and not os.environ.get("MNIST_COURSE_DATA", "").strip() and _setting_up():
            why = _fetch_mnist()  # a fresh machine with internet: the tests set themselves up
            copy, where = find_real_copy()
            where += f" (tried `mnist-course data fetch`: {why})" if why else ""
        if copy is None:
            problems.append(
                f"real MNIST: {where}. Fix: run `mnist-course data fetch` once (downloads 11 MB into the "
                "course cache), or set MNIST_COURSE_DATA=/path/to/mnist.npz (or a folder with it or "
                "the four IDX files)"
            )
        else:
            os.environ["MNIST_COURSE_DATA"] = str(copy)  # the tests, the notebooks' kernels and subprocesses agree
    if any(_is_browser_test(item) for item in session.items):
        problems += _browser_problems()
    if problems:
        pytest.exit(
            "the tests cannot run, this is missing:\n" + "\n".join(f"  - {p}" for p in problems),
            returncode=PREFLIGHT_EXIT,
        )


def _is_nbval_item(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb"


def nbval_metrics_file(notebook: str) -> Path:
    """Where the kernel nbval starts for ``notebook`` (a stem) records its metrics in this session."""
    return _NBVAL_METRICS / f"{notebook}.json"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before nbval starts a notebook's kernel (in its first cell's setup), give the kernel the student profile,
    unattended progress and its own metrics file; around every other test, the unit tests' variables."""
    if _is_nbval_item(item):
        os.environ.update(
            {PROFILE_ENV: NBVAL_PROFILE, UNATTENDED_ENV: "1", METRICS_ENV: str(nbval_metrics_file(item.path.stem))}
        )
    else:
        for key, value in _UNIT_ENV.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{AFTER_NOTEBOOKS}: runs after the notebooks' nbval cells, reading what "
        "their kernels recorded (deselected when no notebook is collected)",
    )
    config.addinivalue_line(
        "markers",
        f"{EXECUTES_NOTEBOOKS}: executes the course notebooks (nbval, the browser, "
        "the shared ci run); set by the root conftest, `-m 'not {EXECUTES_NOTEBOOKS}'` "
        "leaves the unit tests",
    )


def _executes_notebooks(item: pytest.Item) -> bool:
    return _is_nbval_item(item) or _is_browser_test(item) or "ci_run" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests that execute course notebooks (``executes_notebooks``). Tests marked ``after_notebooks``
    (parametrized by notebook stem) run after every nbval cell, and only for the notebooks collected here: without
    ``--nbval`` they are deselected, not skipped."""
    for item in items:
        if _executes_notebooks(item):
            item.add_marker(EXECUTES_NOTEBOOKS)
    ran = {item.path.stem for item in items if _is_nbval_item(item)}
    late = [item for item in items if item.get_closest_marker(AFTER_NOTEBOOKS)]
    keep = [item for item in late if getattr(item, "callspec", None) and item.callspec.params.get("notebook") in ran]
    dropped = [item for item in late if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [item for item in items if item not in late] + keep


@pytest.fixture(scope="session")
def nbval_recorded() -> dict[str, dict[str, object]]:
    """``{notebook stem: metrics}`` recorded by the kernels nbval ran in this session (student profile)."""
    import json

    return {f.stem: json.loads(f.read_text()) for f in sorted(_NBVAL_METRICS.glob("*.json"))}


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_NBVAL_METRICS, ignore_errors=True)
