"""The course's exercises in nbgrader: the student edition's stubs in ``generate_assignment``, the guarded checks in
``autograde``, and autograde with each submission in a sandbox.

nbgrader's ``ClearSolutions`` replaces every solution region by one ``code_stub`` per kernel language: it cannot
name the exercise. :class:`ClearExerciseSolutions` is that preprocessor with the course's stub for each cell
(``raise NotImplementedError("Exercise 4.1: write your code here")``), the answer cells' :data:`TEXT_STUB`, and the
student edition's two other touches: cleared exercise cells shown expanded, exercise and check cells tagged
``raises-exception``. Put this in the course's ``nbgrader_config.py``::

    from mnist_course.course.grading import configure
    c = get_config()
    configure(c)

``autograde`` runs every check cell guarded (:mod:`mnist_course.exercises.guard_cells`): a first cell records the
check machinery, each check cell verifies it before and after the check, and a check cell that raised nothing must
show its ✅ verdict. :func:`autograde_isolated` (``python -m mnist_course.course.grading autograde-isolated "lesson*"``)
grades one student at a time with each kernel in a bubblewrap sandbox (:func:`sandbox_argv`) that sees no other
submission, no gradebook and no grading folder but its own copy.

Needs nbgrader (``pip install nbgrader``); the rest of the course does not import this module.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.preprocessors import ClearSolutions, Execute, NbGraderPreprocessor
from traitlets.config import Config

from mnist_course import files, paths
from mnist_course.course import editions
from mnist_course.exercises import guard_cells

AUTOGRADE_CELL_TIMEOUT_S = 600  # nbgrader's default, 30 s, is shorter than a training cell of the full profile
SANDBOX_KERNEL = "mnist-course-sandbox"  # the kernelspec autograde_isolated writes and names
SANDBOX_ENV = "MNIST_COURSE_SANDBOX"  # what the sandboxed kernel may see, from autograde_isolated to its kernels
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "NBGRADER_EXECUTION", "KERAS_BACKEND", "MPLBACKEND")
_KEPT_PREFIXES = ("MNIST_COURSE_", "TF_", "OMP_", "CUDA_")


class ClearExerciseSolutions(ClearSolutions):
    """``ClearSolutions`` whose code stub names the exercise of each solution cell (its ``# Exercise N.M`` line)."""

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], cell_index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Clear the cell's solution as ``ClearSolutions`` does, with the stub of its exercise."""
        ident = editions.exercise_id(cell.source) if cell.cell_type == "code" and utils.is_solution(cell) else None
        stubs = dict(self.code_stub)
        if ident:
            self.code_stub = {**stubs, resources["language"]: editions.code_stub(ident)}
        try:
            cell, resources = super().preprocess_cell(cell, resources, cell_index)
        finally:
            self.code_stub = stubs
        check = cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)
        if ident or check:
            tags = list(cell.metadata.get("tags", []))
            cell.metadata["tags"] = tags + [t for t in editions.STUDENT_TAGS if t not in tags]
        if ident:
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
        return cell, resources


class GuardChecks(NbGraderPreprocessor):
    """Before autograde executes a notebook: the guard's first cell and the guarded check cells (``guard_cells``)."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        """Guard ``nb`` in place: :func:`mnist_course.exercises.guard_cells.guard`."""
        guard_cells.guard(nb)
        return nb, resources


class UnguardChecks(NbGraderPreprocessor):
    """After autograde executed a notebook: the cells as handed out again, and an error in every check cell that
    raised nothing yet shows no ✅ verdict (:func:`mnist_course.exercises.guard_cells.unguard`)."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        """Unguard ``nb`` in place: :func:`mnist_course.exercises.guard_cells.unguard`."""
        guard_cells.unguard(nb)
        return nb, resources


def configure(config: Config) -> Config:
    """Set up nbgrader for the course in ``config`` (the ``c`` of ``nbgrader_config.py``); returns it.

    ``generate_assignment`` then uses :class:`ClearExerciseSolutions` instead of ``ClearSolutions`` and the course's
    answer stub; ``autograde`` lets a cell run for :data:`AUTOGRADE_CELL_TIMEOUT_S` seconds and runs
    :class:`GuardChecks` just before ``Execute`` and :class:`UnguardChecks` just after it.
    """
    default = GenerateAssignment.class_traits()["preprocessors"].default()
    config.GenerateAssignment.preprocessors = [ClearExerciseSolutions if p is ClearSolutions else p for p in default]
    config.ClearSolutions.text_stub = editions.TEXT_STUB
    config.Execute.timeout = AUTOGRADE_CELL_TIMEOUT_S
    steps = Autograde.class_traits()["autograde_preprocessors"].default()
    at = steps.index(Execute)
    config.Autograde.autograde_preprocessors = [*steps[:at], GuardChecks, Execute, UnguardChecks, *steps[at + 1 :]]
    return config


def _inside(path: Path, folders: Sequence[Path]) -> bool:
    return any(path == f or path.is_relative_to(f) for f in folders)


def sandbox_argv(kernel: Sequence[str], own: Path, box: dict[str, Any]) -> list[str]:
    """The ``bwrap`` command running ``kernel`` in a sandbox: the whole file system read-only, the folders
    ``box["hide"]`` replaced by empty read-only ones (the paths ``box["show"]`` inside them visible again), ``own`` (the
    submission's autograded copy) and ``box["rw"]`` writable, a private ``/tmp``, no network, no other process,
    no capability, another user id, and only the environment ``box["env"]`` (plus :data:`_KEPT_ENV`)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise FileNotFoundError("bubblewrap is not installed: apt-get install bubblewrap (the command is bwrap)")
    hide = [Path(p) for p in box["hide"]]
    # /tmp is replaced by a private one: what the kernel needs from it (a checkout and its environment made there, as
    # CI's clone is) is shown again, read-only, like what it needs from a hidden folder
    covered = [*hide, Path("/tmp")]
    show = [Path(p) for p in box["show"] if _inside(Path(p), covered) and Path(p) not in covered]
    argv = [bwrap, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns"]
    argv += ["--cap-drop", "ALL"] if os.geteuid() == 0 else []
    argv += ["--die-with-parent", "--new-session", "--clearenv", "--ro-bind", "/", "/", "--dev", "/dev"]
    for device in sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri")):  # a GPU, where there is one
        argv += ["--dev-bind", device, device]
    argv += ["--proc", "/proc", "--tmpfs", "/tmp", "--dir", "/tmp/home"]
    for folder in hide:
        argv += ["--tmpfs", str(folder)]
    for path in show:
        argv += ["--ro-bind", str(path), str(path)]
    for folder in hide:  # a hidden folder inside a shown one (a grading folder inside the repository)
        if _inside(folder, show):
            argv += ["--tmpfs", str(folder)]
    for path in [*box["rw"], own]:
        argv += ["--bind", str(path), str(path)]
    for folder in hide:  # the empty folders read-only too (the writable copy is a mount of its own)
        argv += ["--remount-ro", str(folder)]
    kept = {k: v for k, v in os.environ.items() if k in _KEPT_ENV or k.startswith(_KEPT_PREFIXES)}
    for key, value in {**kept, **box["env"]}.items():
        argv += ["--setenv", key, value]
    return [*argv, "--chdir", str(own), "--", *kernel]


def check_sandbox() -> None:
    """Raise ``RuntimeError`` (one line: what is wrong, and the fix) unless bubblewrap can make this sandbox here."""
    argv = sandbox_argv(["true"], Path("/"), {"hide": [], "show": [], "rw": [], "env": {}})
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"bubblewrap cannot make the grading sandbox here ({done.stderr.strip()[:200]}): allow user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1, or a container run with them), or grade on a machine that has"
        )


def _sandboxed_kernel(args: Sequence[str]) -> int:
    """The sandbox kernelspec's command: start ipykernel with ``args`` (``-f connection_file ...``) in the sandbox
    that ``$MNIST_COURSE_SANDBOX`` describes, its writable folder being the working folder nbgrader started it in."""
    box = json.loads(os.environ[SANDBOX_ENV])
    own = Path.cwd().resolve()
    if not own.is_relative_to(Path(box["inside"])):
        print(f"sandbox: refusing to make {own} writable: kernels run in {box['inside']}/<student>/", file=sys.stderr)
        return 2
    argv = sandbox_argv([sys.executable, "-m", "ipykernel_launcher", *args], own, box)
    os.execv(argv[0], argv)
    return 1  # not reached: execv replaces this process


def _course() -> tuple[Any, Path]:
    """nbgrader's course directory as ``nbgrader`` run here sees it (``nbgrader_config.py``), and its exchange."""
    from nbgrader.apps.nbgraderapp import NbGraderApp
    from nbgrader.exchange.default.exchange import Exchange

    saved = list(sys.path)  # nbgrader puts the working folder first in sys.path
    app = NbGraderApp.instance()
    app.initialize([])
    try:
        return app.coursedir, Path(Exchange(config=app.config).root)
    finally:
        NbGraderApp.clear_instance()
        sys.path[:] = saved


def _box(coursedir: Any, exchange: Path, runtime: Path) -> dict[str, Any]:
    """What the sandbox hides, shows read-only again, makes writable, and the environment its kernel gets."""
    root = Path(coursedir.root).resolve()
    hide = {root, exchange.resolve(), Path.home().resolve()}
    if coursedir.db_url.startswith("sqlite:///"):
        hide.add(Path(coursedir.db_url.removeprefix("sqlite:///")).resolve().parent)
    import mnist_course

    show = {Path(sys.prefix), Path(sys.base_prefix), Path(mnist_course.__file__).parent.parent, paths.cache_dir()}
    show |= {Path(p) for p in sys.path if p and Path(p).is_dir()}
    if os.environ.get(paths.DATA_ENV):
        show.add(paths.expand(os.environ[paths.DATA_ENV]))
    home = "/tmp/home"
    env = {"HOME": home, "JUPYTER_RUNTIME_DIR": str(runtime), "IPYTHONDIR": f"{home}/.ipython"}
    env |= {
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "KERAS_HOME": f"{home}/.keras",
        paths.CACHE_ENV: str(paths.cache_dir()),
    }
    if site.ENABLE_USER_SITE and site.getusersitepackages() in sys.path:  # a user install, hidden with the home
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())
    autograded = root / coursedir.autograded_directory
    return {
        "hide": sorted(str(p) for p in hide if p.exists()),  # bwrap cannot make a missing folder in a read-only /
        "show": sorted(str(p.resolve()) for p in show if p.exists()),
        "rw": [str(runtime)],
        "inside": str(autograded.resolve()),
        "env": env,
    }


def autograde_isolated(assignment: str, students: Sequence[str] = (), extra: Sequence[str] = ()) -> dict[str, int]:
    """``nbgrader autograde ASSIGNMENT --student S`` for each student in turn (default: every folder in
    ``submitted/``), run in the course folder, with each notebook's kernel in its own :func:`sandbox_argv`: it can
    write its own autograded copy only, and sees no other submission, no gradebook, no exchange and no home folder.
    ``extra`` goes to nbgrader as it is. Returns ``{student: nbgrader's exit code}``."""
    check_sandbox()
    coursedir, exchange = _course()
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    students = list(students) or sorted(p.name for p in submitted.iterdir() if p.is_dir())
    codes = {}
    with tempfile.TemporaryDirectory(prefix="mnist-course-sandbox-") as tmp:
        specs = Path(tmp) / "jupyter"
        spec = {
            "argv": [sys.executable, "-m", "mnist_course.course.grading", "sandbox-kernel", "-f", "{connection_file}"],
            "display_name": "Python 3 (mnist-course sandbox)",
            "language": "python",
            "interrupt_mode": "message",  # a signal would stop at bwrap
        }
        files.write_text_atomic(specs / "kernels" / SANDBOX_KERNEL / "kernel.json", json.dumps(spec, indent=1))
        for number, student in enumerate(students):
            runtime = Path(tmp) / f"runtime-{number}"  # each student's kernels their own: nothing left for the next
            runtime.mkdir()
            env = {
                **os.environ,
                "JUPYTER_PATH": os.pathsep.join([str(specs), os.environ.get("JUPYTER_PATH", "")]).rstrip(os.pathsep),
                "JUPYTER_RUNTIME_DIR": str(runtime),
                "TMPDIR": str(runtime),  # where jupyter_client writes the connection file the kernel must read
                SANDBOX_ENV: json.dumps(_box(coursedir, exchange, runtime)),
            }
            command = [sys.executable, "-m", "nbgrader", "autograde", assignment, f"--student={student}"]
            command += [f"--Execute.kernel_name={SANDBOX_KERNEL}", "--KernelManager.transport=ipc"]
            command += [f"--KernelManager.ip={runtime / 'kernel'}", *extra]  # sockets, not ports: no network
            codes[student] = subprocess.run(command, env=env, check=False).returncode
    return codes


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mnist_course.course.grading autograde-isolated ASSIGNMENT [--student S ...] [-- NBGRADER ARGS]``;
    ``sandbox-kernel`` is the sandbox kernelspec's own command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox-kernel"]:
        return _sandboxed_kernel(argv[1:])
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    parser = argparse.ArgumentParser(prog="python -m mnist_course.course.grading")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("autograde-isolated", help="nbgrader autograde, one student at a time, kernels sandboxed")
    grade.add_argument("assignment", help='the assignment (or a pattern, "lesson*") as nbgrader takes it')
    grade.add_argument("--student", action="append", default=[], help="only this student (repeatable)")
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    try:
        codes = autograde_isolated(args.assignment, args.student, extra)
    except (FileNotFoundError, RuntimeError) as err:
        print(f"autograde-isolated: {err}", file=sys.stderr)
        return 2
    failed = sorted(s for s, code in codes.items() if code)
    print(f"autograded {len(codes)} student(s) in sandboxes" + (f"; nbgrader failed for {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
