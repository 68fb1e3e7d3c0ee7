"""The one call that opens every notebook: parameters checked, seeds set, TensorFlow quiet, plots ready."""

from __future__ import annotations

from collections.abc import MutableMapping

from mnist_course.course.parameters import use_parameters
from mnist_course.notebook import PROFILE_ENV, PROFILE_HELP, PROFILES

FIGURE_DEFAULTS = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.autolayout": False,
    "axes.grid": False,
    "image.cmap": "gray_r",
    "font.size": 10,
}


def profile_line(profile: str) -> str:
    """The sentence a notebook prints first: which profile runs, what it means and how to change it."""
    others = " or ".join(f'"{p}"' for p in PROFILES if p != profile)
    return (
        f'Profile "{profile}": {PROFILE_HELP[profile]}. To change it, set PROFILE = {others} in the '
        f"parameters cell (or ${PROFILE_ENV}) and run all cells again."
    )


def _plotting() -> None:
    """Matplotlib's course defaults, and figures shown inline when running under IPython (a no-op elsewhere)."""
    import matplotlib

    matplotlib.rcParams.update(FIGURE_DEFAULTS)
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: figures are saved or returned, never shown
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "run_line_magic"):
        shell.run_line_magic("matplotlib", "inline")


def backend_line(backend: str, device: str) -> str:
    """The second line a notebook prints: which Keras backend computes, where, and the one line that switches it."""
    return (
        f"Keras backend: {backend}, on the {device}. To switch, put %env KERAS_BACKEND=jax (or torch, tensorflow) "
        "in a first cell, restart the kernel and run all cells again."
    )


def start(notebook: str, namespace: MutableMapping[str, object], *, backend: bool = True) -> None:
    """Open notebook ``notebook`` (its stem, e.g. ``"04_mlp"``) with the values of its parameters cell.

    Checks and resolves the parameters (:func:`mnist_course.course.parameters.use_parameters`, which writes the resolved
    values back into ``namespace``), imports Keras and its backend without their start-up log lines (unless
    ``backend=False``), seeds Python, NumPy and Keras from ``SEED``, sets the plotting defaults and prints a line
    naming the profile and one naming the backend and its device. Returns nothing (a cell ending with it shows only
    those lines); the resolved profile is ``namespace["PROFILE"]``.
    """
    use_parameters(notebook, namespace)
    where = None
    if backend:
        from mnist_course import backend as keras_backend

        where = backend_line(keras_backend.import_quietly(), keras_backend.device())
    from mnist_course.seeding import seed_everything

    seed_everything(int(namespace["SEED"]))  # type: ignore[arg-type]
    _plotting()
    profile = str(namespace["PROFILE"])
    print(profile_line(profile) + ("" if where is None else "\n" + where))


__all__ = ["FIGURE_DEFAULTS", "backend_line", "profile_line", "start"]
