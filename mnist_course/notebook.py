"""What a running notebook's cells use: the run profile (ci, student or full), ``pick`` by profile, whether the shipped
results are being written, and ``record`` of key metrics for the runner."""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path
from typing import TypeVar

PROFILE_ENV = "MNIST_COURSE_PROFILE"
METRICS_ENV = "MNIST_COURSE_METRICS"
RESULTS_ENV = "MNIST_COURSE_WRITE_RESULTS"
UNATTENDED_ENV = "MNIST_COURSE_UNATTENDED"  # "1": no one watches (mnist_course.live prints stable lines)
# "1": the outputs are made to be stored (the runner; the tests comparing with stored outputs): a widget's static
# picture is an output of its own before the widget (mnist_course.widgets.compat.Shown)
STORED_OUTPUTS_ENV = "MNIST_COURSE_STORED_OUTPUTS"
DEFAULT_PROFILE = "student"  # what anyone who just opens a notebook gets
PROFILE_HELP = {
    "ci": "the test suite's: tiny subsets, seconds per notebook",
    "student": "about a minute per notebook: what trains here is sized to take seconds (small models on all the "
    "images, larger ones on part of them); heavy comparisons are read from the shipped results",
    "full": "the instructor's complete reproduction, which writes the shipped results: minutes to an hour",
}
# The one list of profiles: --profile, $MNIST_COURSE_PROFILE, PROFILE and pick() use it.
PROFILES = ("ci", "student", "full")
T = TypeVar("T")


def current_profile(default: str = DEFAULT_PROFILE) -> str:
    """``$MNIST_COURSE_PROFILE`` (one of :data:`PROFILES`, see :data:`PROFILE_HELP`), else ``default``."""
    value = os.environ.get(PROFILE_ENV, "").strip().lower() or default
    return check_profile(value)


def check_profile(profile: str) -> str:
    """Return ``profile`` when it is known, else raise naming the accepted values and where to set them."""
    if profile not in PROFILES:
        raise ValueError(
            f"unknown profile {profile!r}: use one of {PROFILES} "
            f"(the PROFILE parameter, `mnist-course run --profile`, or ${PROFILE_ENV})"
        )
    return profile


def pick(profile: str, **values: T) -> T:
    """The value for this profile: ``pick(PROFILE, ci=1, full=5)``; raises naming a profile left without a value."""
    profile = check_profile(profile)
    if profile not in values:
        raise ValueError(
            f"pick() has no value for the profile {profile!r}: pass {profile}=... (profiles: {', '.join(PROFILES)})"
        )
    return values[profile]


def writing_results() -> bool:
    """True while ``mnist-course run --results`` (``make results``) produces the shipped full-profile results
    (``$MNIST_COURSE_WRITE_RESULTS=1``): notebooks write ``notebooks/results/*.json`` only then."""
    return os.environ.get(RESULTS_ENV) == "1"


def _plain(name: str, value: object) -> float | int | str:
    """A metric as JSON keeps it: NumPy/TensorFlow scalars as Python numbers, floats rounded to 6 decimals."""
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) or hasattr(value, "item"):  # np.float32, a 0-d array or tensor
        try:
            return round(float(value), 6)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"record({name}=...) takes a number or a string, got {type(value).__name__}: pass float(...) of it")


def record(**metrics: float | int | str) -> dict[str, float | int | str]:
    """Record a notebook's key results (e.g. ``test_accuracy=0.9921``) for ``mnist-course run``.

    When the runner executes the notebook it sets ``$MNIST_COURSE_METRICS`` to a JSON file, and the values are
    merged into it; otherwise nothing is written. Returns the metrics so a cell can show them if it wants.
    """
    clean = {k: _plain(k, v) for k, v in metrics.items()}
    target = os.environ.get(METRICS_ENV)
    if target:
        from mnist_course.files import lock_for, write_text_atomic

        file = Path(target)
        with lock_for(file):  # two record() calls never lose each other's values, a reader never sees half a file
            merged = json.loads(file.read_text()) if file.is_file() else {}
            merged.update(clean)
            write_text_atomic(file, json.dumps(merged, indent=2, sort_keys=True))
    return clean
