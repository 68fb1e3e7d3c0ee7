"""Autograde's guard of the check machinery: recorded before a submission's code runs, compared in every check cell.

Under ``nbgrader autograde`` (configured by :func:`mnist_course.course.grading.configure`) the notebook gets a first
cell calling :func:`arm`, and each locked check cell ``check.name(answer).raise_if_wrong()`` becomes::

    import mnist_course.exercises.grading_guard as _mnist_course_guard
    _mnist_course_guard.verify(check, "4.1")
    _mnist_course_guard.verified(check, "4.1", check.name(answer).raise_if_wrong())

:func:`arm` records (:mod:`mnist_course.exercises.guard_snapshot`) the check modules, ``Feedback``, ``right`` and
``wrong``, every loaded module of NumPy, ``math``, the builtins, the course's package, IPython and ipykernel (Keras
too, the moment it is imported), and compares the check modules with fresh copies of their files. :func:`verify`
(before the check) and :func:`verified` (after it, with the verdict) raise :class:`CheckMachineryModified`, so the
cell scores 0, when ``check`` is not the exercise's module or anything recorded was replaced, added to or traced.
The student edition, handed out without nbgrader, never calls this module: its check cells run as written.

This is not a security boundary: code in the same Python process can defeat any check made there, the guard's own
included. What it catches and what it cannot is listed in README.md ("Grading with nbgrader").
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from mnist_course.exercises.feedback import ExerciseNotSolved, Feedback
from mnist_course.exercises.guard_snapshot import Snapshot, pristine_difference

WATCHED = ("builtins", "math", "copy", "functools", "operator", "numpy", "mnist_course", "IPython", "ipykernel")
WATCHED_ON_IMPORT = ("keras",)  # seconds to import: recorded when the submission imports it, not before
_FUNCTION_ATTRIBUTES = ("__code__", "__defaults__", "__kwdefaults__")
_STATE: dict[str, Any] = {"events": []}  # this kernel's guard: its snapshot, the problems seen, the audit events


class CheckMachineryModified(ExerciseNotSolved):
    """The check machinery (the check module, ``Feedback``, NumPy, the builtins...) is not what the course made."""


def lesson_module(exercise: str) -> str:
    """The check module of an exercise: ``"4.1"`` -> ``"mnist_course.exercises.lesson04"``."""
    return f"mnist_course.exercises.lesson{int(exercise.split('.')[0]):02d}"


class _RecordWhenImported(importlib.abc.MetaPathFinder):
    """Put first in ``sys.meta_path``: when one of ``packages`` is imported, the snapshot records it right after."""

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages, self.busy = set(packages), False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.packages or self.busy:
            return None
        self.busy = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenRecord(spec.loader, name)
        return spec


class _ThenRecord(importlib.abc.Loader):
    """A package's own loader, then :meth:`Snapshot.record` of that package."""

    def __init__(self, loader: Any, package: str) -> None:
        self.loader, self.package = loader, package

    def create_module(self, spec: Any) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        snapshot = _STATE.get("snapshot")
        if snapshot is not None:
            snapshot.record([self.package])
            _note(snapshot.loaded_from(_STATE["folder"]), "{} was imported from the submission's folder")

    def __getattr__(self, name: str) -> Any:  # resource readers and the like: the real loader's
        return getattr(self.loader, name)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Audit hook (it cannot be removed): a recorded function's code or defaults set, or a tracer installed."""
    if event == "object.__setattr__" and args[1] in _FUNCTION_ATTRIBUTES:
        snapshot = _STATE.get("snapshot")
        entry = snapshot.functions.get(id(args[0])) if snapshot is not None else None
        if entry is not None and entry[1] is args[0]:
            _STATE["events"].append(f"{entry[0]}.{args[1]} was set")
    elif event in ("sys.settrace", "sys.setprofile") and _STATE.get("snapshot") is not None:
        _STATE["events"].append(f"{event}() was called")


def _note(what: str | None, template: str) -> None:
    if what:
        _STATE["events"].append(template.format(what))


def arm(lessons: Sequence[str], folder: str | Path) -> None:
    """Record the check machinery before the submission in ``folder`` runs: import the check modules ``lessons``
    (``"lesson04"``...), record the watched packages, compare the check modules with their files, and install the
    audit hook and the import hook. A failure is kept: every later :func:`verify` then reports it."""
    _STATE.update(snapshot=None, folder=Path(folder), failed=None, events=[])
    try:
        modules = [importlib.import_module(f"mnist_course.exercises.{name}") for name in lessons]
        snapshot = Snapshot()
        snapshot.record(WATCHED + tuple(p for p in WATCHED_ON_IMPORT if p in sys.modules))
        exercises = [m for n, m in snapshot.modules.items() if n.startswith("mnist_course.exercises.")]
        problem = pristine_difference(exercises)
        if problem is None and snapshot.loaded_from(Path(folder)):
            problem = f"{snapshot.loaded_from(Path(folder))} was imported from the submission's folder"
        if problem is not None:
            raise CheckMachineryModified(problem)
        if not _STATE.get("hooked"):
            sys.addaudithook(_audit)
            _STATE["hooked"] = True
        waiting = [p for p in WATCHED_ON_IMPORT if p not in sys.modules]
        if waiting:
            sys.meta_path.insert(0, _RecordWhenImported(waiting))
        _STATE.update(snapshot=snapshot, modules={m.__name__: m for m in modules}, feedback=Feedback)
    except BaseException as exc:
        _STATE["failed"] = f"{type(exc).__name__}: {exc}"
        raise


def _problem(check: Any, exercise: str) -> str | None:
    """What makes the check machinery untrustworthy now, in words, or ``None``."""
    snapshot = _STATE.get("snapshot")
    if snapshot is None:
        failed = _STATE.get("failed")
        return f"the guard could not record it: {failed}" if failed else "the guard was not armed before the notebook"
    if _STATE["events"]:
        return _STATE["events"][0]
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return "a trace or profile function is set"
    expected = _STATE["modules"].get(lesson_module(exercise))
    if check is not expected:
        return f"`check` is a {type(check).__name__}, not the module {lesson_module(exercise)}"
    missed = [p for p in WATCHED_ON_IMPORT if p in sys.modules and p not in snapshot.modules]
    if missed:
        return f"{missed[0]} was imported past the guard's import hook"
    problem = snapshot.difference()
    snapshot.record(snapshot.packages)  # modules first imported since (a check's own late imports): from now on
    return problem


def _raise(exercise: str, problem: str) -> NoReturn:
    raise CheckMachineryModified(
        f"❌ Exercise {exercise}: the check machinery was modified ({problem}), so this check scores 0. Remove "
        "the code that replaces or patches checks, Feedback, NumPy or builtins from your notebook, and run it again."
    )


def verify(check: Any, exercise: str) -> None:
    """Raise :class:`CheckMachineryModified` unless ``check`` is exercise ``exercise``'s module and everything
    :func:`arm` recorded is unchanged."""
    problem = _problem(check, exercise)
    if problem is not None:
        _raise(exercise, problem)


def verified(check: Any, exercise: str, verdict: Any) -> Feedback:
    """:func:`verify` again after the check ran (the student's code ran inside it), then return ``verdict`` if it is
    a passed :class:`Feedback` of ``exercise`` (what the cell shows); raise :class:`CheckMachineryModified` if not."""
    verify(check, exercise)
    feedback = _STATE["feedback"]
    if type(verdict) is not feedback or verdict.ok is not True or verdict.exercise != exercise:
        _raise(exercise, f"the check's verdict is a {type(verdict).__name__}, not a passed Feedback of {exercise}")
    return verdict
