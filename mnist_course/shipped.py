"""Where the shipped full-profile results (``notebooks/results/*.json``) are read from, in a checkout or on Colab."""

from __future__ import annotations

import os
from pathlib import Path

from mnist_course.files import write_bytes_atomic
from mnist_course.paths import cache_dir, notebooks_dir

URL_ENV = "MNIST_COURSE_RESULTS_URL"
RESULTS_URL = "https://raw.githubusercontent.com/mnist-course/mnist-course/main/notebooks/results/"


def shipped_path(file: str) -> Path:
    """Where ``make results`` writes ``file``: ``notebooks/results/<file>`` of the course edition."""
    return notebooks_dir() / "results" / file


def find_shipped(file: str) -> Path:
    """The shipped results ``file``: from the course's ``notebooks/results/`` or a ``results/`` folder beside the
    running notebook; where neither exists (Colab, a pip install) it is fetched afresh from the repository
    (``$MNIST_COURSE_RESULTS_URL``, default the course's GitHub) into the course cache, so a copy fetched for an older
    version is never reused. Raises one clear error naming the fix when the file cannot be had."""
    candidates = [Path.cwd() / "results" / file]
    try:
        candidates.insert(0, shipped_path(file))
    except FileNotFoundError:  # no course notebooks here (Colab's /content, a pip install)
        pass
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    url = os.environ.get(URL_ENV, "").strip() or RESULTS_URL
    url = url if url.endswith("/") else url + "/"
    import requests

    try:
        response = requests.get(url + file, timeout=30)
        response.raise_for_status()
    except requests.RequestException as error:
        raise FileNotFoundError(
            f"the shipped results {file} are not in notebooks/results/ or ./results/ and could not be fetched from "
            f"{url} ({type(error).__name__}): open the notebook from a checkout of the course, set "
            f"${URL_ENV}, or make them with `mnist-course run --results`"
        ) from None
    return write_bytes_atomic(cache_dir() / "shipped" / file, response.content)


__all__ = ["RESULTS_URL", "URL_ENV", "find_shipped", "shipped_path"]
