"""The ``mnist-course`` command: doctor, data fetch/info/verify, run (notebooks through papermill), student-edition."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mnist_course import paths
from mnist_course.notebook import DEFAULT_PROFILE, PROFILES


def _positive(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return number


def _cmd_doctor(args: argparse.Namespace) -> int:
    from mnist_course.course.doctor import doctor

    report = doctor()
    print(report)
    return 1 if report.problems else 0


def _cmd_data_info(args: argparse.Namespace) -> int:
    from mnist_course.data import MnistDataError, load_arrays, locate

    print(f"course cache : {paths.data_cache_file()}")
    print(f"Keras cache  : {paths.keras_cache_file()}")
    source = locate(args.path)
    if source is None:
        print("MNIST        : not on this machine yet; `mnist-course data fetch` downloads it into the course cache")
        return 1
    try:
        arrays, source = load_arrays(args.path, download=False)
    except MnistDataError as exc:
        print(f"MNIST        : {source.path} (from {source.origin}) FAILED verification\n{exc}", file=sys.stderr)
        return 1
    print(f"MNIST        : {source.path} (from {source.origin})")
    for name, array in arrays.items():
        print(f"  {name:8} {str(array.shape):16} {array.dtype}")
    print("verified     : shapes, dtypes, labels 0..9 and per-array sha256 match the official MNIST")
    return 0


def _cmd_data_verify(args: argparse.Namespace) -> int:
    from mnist_course.data import MnistDataError, load_arrays

    try:
        _, source = load_arrays(args.path, download=False)
    except MnistDataError as exc:
        print(f"NOT VERIFIED\n{exc}", file=sys.stderr)
        return 1
    print(f"verified: {source.path} (from {source.origin})")
    return 0


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    from mnist_course.data import Mirror, MnistDataError, update_cache

    try:
        mirrors = [Mirror(args.kind, args.mirror)] if args.mirror else None
        done = update_cache(args.source, mirrors, progress=sys.stderr.isatty())
    except MnistDataError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"MNIST in the cache: {done.path}: {done.action}")
    return 0


def _notebook_folder(args: argparse.Namespace) -> Path:
    """``--notebooks``, else the course edition's folder (found only when needed, so ``--help`` works anywhere)."""
    return Path(args.notebooks) if args.notebooks else paths.notebooks_dir()


def _check_results_options(args: argparse.Namespace) -> None:
    """``--results``: the full profile (also the default then), each notebook's own parameters, not in place."""
    if not args.results:
        args.profile = args.profile or DEFAULT_PROFILE
        return
    if args.profile not in (None, "full"):
        raise ValueError(f"--results writes the shipped full-profile results: drop --profile {args.profile}")
    if args.in_place or args.parameter or args.grid:
        raise ValueError(
            "--results uses each notebook's own parameters cell and its executed copies go to a "
            "folder: drop --in-place, -p and -g"
        )
    args.profile = "full"


def _default_output(args: argparse.Namespace) -> str:
    """Where executed copies go without ``-o``: ``runs/latest``, or a new temporary folder for ``--results``."""
    import tempfile

    return tempfile.mkdtemp(prefix="mnist-course-results-") if args.results else "runs/latest"


def _check_in_place_data(args: argparse.Namespace) -> None:
    """``--in-place`` kernels find MNIST as a student's do (not through ``$MNIST_COURSE_DATA``, whose path would be
    stored in 01's output): refuse when only ``$MNIST_COURSE_DATA`` has a copy."""
    from mnist_course.data import locate

    if not args.in_place or not os.environ.get(paths.DATA_ENV, "").strip():
        return
    saved = os.environ.pop(paths.DATA_ENV)
    try:
        cached = locate()
    finally:
        os.environ[paths.DATA_ENV] = saved
    if cached is None:
        raise ValueError(
            f"--in-place runs the notebooks without ${paths.DATA_ENV} (its path would be stored in their outputs) "
            f'and no cache holds MNIST: copy it there first with `mnist-course data fetch --from "${paths.DATA_ENV}"`'
        )


def _cmd_run(args: argparse.Namespace) -> int:
    from mnist_course.course import runner
    from mnist_course.course.parameters import parse_text

    try:
        _check_results_options(args)
        notebooks = runner.discover(args.names, _notebook_folder(args), echo=lambda text: print(text, file=sys.stderr))
        grid = {name: [parse_text(name, v) for v in values.split(",")] for name, values in args.grid}
        params = {name: parse_text(name, value) for name, value in args.parameter}
        out_dir = None if args.in_place else Path(args.output or _default_output(args))
        runner.plan(notebooks, out_dir, args.profile, params, grid, args.in_place, args.timeout)  # checks only
        _check_in_place_data(args)
    except (FileNotFoundError, ValueError) as exc:  # unknown notebook, bad parameter, output onto the course...
        print(f"mnist-course run: {exc}", file=sys.stderr)
        return 2
    if args.results:
        print(
            f"writing the shipped results into {_notebook_folder(args) / 'results'}; executed copies in {out_dir}",
            file=sys.stderr,
        )
    try:
        results = runner.run_batch(
            notebooks,
            out_dir,
            args.profile,
            params,
            grid,
            args.jobs,
            args.in_place,
            args.timeout,
            write_results=args.results,
        )
    except KeyboardInterrupt:
        kept = "notebooks that had finished are stored, the others are unchanged" if args.in_place else "no report"
        print(f"mnist-course run: interrupted; {kept}", file=sys.stderr)
        return 130
    print()
    print(runner.summary_markdown(results))
    if out_dir is not None:
        try:
            written = runner.write_report(results, out_dir)
        except OSError as exc:
            print(f"mnist-course run: no report written into {out_dir} ({exc.strerror or exc})", file=sys.stderr)
            return 1
        print("report: " + ", ".join(str(p) for p in written))
    failed = [r for r in results if r.status != "ok"]
    return 1 if failed else 0


def _cmd_student_edition(args: argparse.Namespace) -> int:
    from mnist_course.course import editions, runner

    out_dir = Path(args.output)
    try:
        folder = _notebook_folder(args)
        if out_dir.resolve() == folder.resolve():
            raise ValueError(f"the student edition must not overwrite the notebooks in {folder}; choose another -o")
        paths.refuse_course_targets([out_dir], command="the student edition", fix="choose another -o folder")
        chosen = runner.discover(args.names, folder)
    except (FileNotFoundError, ValueError) as exc:
        print(f"mnist-course student-edition: {exc}", file=sys.stderr)
        return 2
    try:
        written = editions.write_student_edition(chosen, out_dir)
    except (editions.EditionError, FileNotFoundError) as exc:
        print(f"no student edition written: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # an unwritable -o
        print(
            f"no student edition written: cannot write {exc.filename or out_dir} ({exc.strerror or exc}): "
            "choose another -o folder",
            file=sys.stderr,
        )
        return 1
    for path in written:  # write_student_edition also copied the results/ files the notebooks read
        print(f"wrote {path}")
    print(f"student edition of {len(written)} notebook(s) in {out_dir}: solutions replaced by stubs, outputs cleared")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mnist-course`` (exposed for tests and for ``--help``)."""
    parser = argparse.ArgumentParser(prog="mnist-course", description="Helpers for the MNIST Keras course.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="versions, devices, memory and data: what to paste in a bug report").set_defaults(
        func=_cmd_doctor
    )

    data = sub.add_parser("data", help="get and check MNIST").add_subparsers(dest="data_command", required=True)
    fetch = data.add_parser("fetch", help="download MNIST into the course cache (verified), or copy a local one")
    fetch.add_argument("--from", dest="source", help="copy this mnist.npz or IDX folder into the cache instead")
    fetch.add_argument("--mirror", help="download from this base URL only (a classroom server)")
    fetch.add_argument("--kind", choices=("npz", "idx"), default="npz", help="what --mirror serves (default npz)")
    fetch.set_defaults(func=_cmd_data_fetch)
    for name, func, text in (
        ("info", _cmd_data_info, "where the data is and whether it verifies"),
        ("verify", _cmd_data_verify, "verify a copy; exit 1 if it is not real MNIST"),
    ):
        cmd = data.add_parser(name, help=text)
        cmd.add_argument("path", nargs="?", help=f"a file or folder (default: ${paths.DATA_ENV}, then the caches)")
        cmd.set_defaults(func=func)

    run = sub.add_parser("run", help="execute notebooks with papermill into an output folder")
    run.add_argument("names", nargs="*", help="notebooks to run (01, 01_data, a path); default all")
    run.add_argument(
        "-o",
        "--output",
        default=None,
        help="output folder (default runs/latest; with --results a new temporary folder)",
    )
    run.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="ci: seconds each; student (default): about a minute each; full: the instructor's "
        "reproduction (the default with --results)",
    )
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter declared in mnist_course/course/declared.py (or in your notebook's parameters cell), "
        "checked before anything runs: None, True, False, a number, text ('quoted' or bare) or a list [1, 'a']; "
        "a declared list also as a,b (repeatable)",
    )
    run.add_argument(
        "-g",
        "--grid",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "V1,V2,..."),
        help="run every combination of these values (repeatable)",
    )
    run.add_argument("-j", "--jobs", type=_positive, default=1, help="notebooks run at once (default 1)")
    run.add_argument(
        "--in-place",
        action="store_true",
        help="store the outputs in the course notebooks, each replaced only if it ran; student profile only "
        "(contributors; `make regenerate`)",
    )
    run.add_argument(
        "--results",
        action="store_true",
        help="full profile: the notebooks write the shipped results into notebooks/results/ "
        "(instructors; `make results`)",
    )
    run.add_argument("--timeout", type=_positive, default=None, help="seconds a cell may take (default no limit)")
    run.add_argument("--notebooks", default=None, help="folder of the notebooks (default: the course edition)")
    run.set_defaults(func=_cmd_run)

    student = sub.add_parser("student-edition", help="write the notebooks without solutions and outputs, to hand out")
    student.add_argument("names", nargs="*", help="notebooks (01, 01_data, a path); default all")
    student.add_argument("-o", "--output", default="student", help="output folder (default student)")
    student.add_argument("--notebooks", default=None, help="folder of the course edition (default: found as for run)")
    student.set_defaults(func=_cmd_student_edition)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mnist-course`` console script."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides the answer
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
