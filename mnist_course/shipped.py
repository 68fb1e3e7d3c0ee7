"""Every results file the course ships (``notebooks/results/*.json``): where it is found (a checkout or Colab), one
way to write it and one way to read it back with its format checked, and the versions record it carries.

Each lesson module checks the files it owns on every read with :class:`Field` (types, ranges, and the summaries a
file keeps recomputed from its values). ``notebooks/results/MANIFEST.sha256`` records the sha256 of every file that
``make results`` wrote, and a file it does not record as it is refuses to load: that catches an accidental or
well-meant hand edit and makes one visible in review. It is no security boundary: whoever can edit a file can
update the manifest too.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from mnist_course.fields import Field, FieldError
from mnist_course.files import lock_for, write_bytes_atomic, write_text_atomic
from mnist_course.paths import cache_dir, notebooks_dir

URL_ENV = "MNIST_COURSE_RESULTS_URL"
RESULTS_URL = "https://raw.githubusercontent.com/mnist-course/mnist-course/main/notebooks/results/"
MANIFEST = "MANIFEST.sha256"  # `sha256sum -c MANIFEST.sha256` in notebooks/results/ checks it by hand
REMAKE = "make it again with `make results` (or `mnist-course run NN --results`), or restore it with git"


class ShippedResultsError(FieldError):
    """A shipped results file that cannot be used as it is (unreadable, another format, a field missing, of the
    wrong type or out of range, a summary that its values contradict, or edited since ``make results``)."""


class MissingResultsError(ShippedResultsError, FileNotFoundError):
    """A shipped results file that is not there (and could not be fetched)."""


def shipped_path(file: str) -> Path:
    """Where ``make results`` writes ``file``: ``notebooks/results/<file>`` of the course edition."""
    return notebooks_dir() / "results" / file


def find_shipped(file: str) -> Path:
    """The shipped results ``file``: from the course's ``notebooks/results/`` or a ``results/`` folder beside the
    running notebook; where neither exists (Colab, a pip install) it is fetched afresh from the repository
    (``$MNIST_COURSE_RESULTS_URL``, default the course's GitHub) into the course cache, so a copy fetched for an older
    version is never reused. Raises one clear error naming the fix when the file cannot be had, or when the
    course's manifest lists it but it is gone (never another version in its place)."""
    candidates = [Path.cwd() / "results" / file]
    try:
        candidates.insert(0, shipped_path(file))
    except FileNotFoundError:  # no course notebooks here (Colab's /content, a pip install)
        pass
    for candidate in candidates:
        if candidate.is_file():
            return candidate
        if file in _manifest(candidate.parent):
            raise MissingResultsError(f"{candidate} is missing (its {MANIFEST} lists it): {REMAKE}")
    url = os.environ.get(URL_ENV, "").strip() or RESULTS_URL
    url = url if url.endswith("/") else url + "/"
    import requests

    try:
        response = requests.get(url + file, timeout=30)
        response.raise_for_status()
    except requests.RequestException as error:
        raise MissingResultsError(
            f"the shipped results {file} are not in notebooks/results/ or ./results/ and could not be fetched from "
            f"{url} ({type(error).__name__}): open the notebook from a checkout of the course, set "
            f"${URL_ENV}, or make them with `mnist-course run --results` (`make results`)"
        ) from None
    return write_bytes_atomic(cache_dir() / "shipped" / file, response.content)


def _manifest(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` of ``folder``'s manifest (empty where it has none)."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = re.fullmatch(r"([0-9a-f]{64}) [ *](\S+)", line.strip())
        if not found:
            raise ShippedResultsError(f"{path}: line {number} is not '<sha256>  <file>': {REMAKE}")
        entries[found[2]] = found[1]
    return entries


def _guarded(folder: Path) -> bool:
    """Whether files in ``folder`` are checked against a manifest: the course's results folder, or any folder that
    holds a manifest (the student edition's copy of it)."""
    if (folder / MANIFEST).is_file():
        return True
    try:
        return folder.resolve() == shipped_path(MANIFEST).parent.resolve()
    except FileNotFoundError:
        return False


def _manifest_lock(folder: Path) -> Any:
    """The lock serialising every write of one results folder and its manifest (kept in the course cache, so that
    no lock file lands in notebooks/results/)."""
    tag = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return lock_for(cache_dir() / "locks" / f"results-{tag}")


def _record(path: Path) -> Path:
    entries = {**_manifest(path.parent), path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
    lines = "".join(f"{digest}  {name}\n" for name, digest in sorted(entries.items()))
    return write_text_atomic(path.parent / MANIFEST, lines)


def record_in_manifest(path: str | os.PathLike[str]) -> Path:
    """Record the sha256 of the results file ``path`` as it is now in the manifest beside it (other entries kept),
    atomically, under the folder's lock; returns the manifest. For a file made by ``make results`` only: a file
    edited by hand is made again, not recorded."""
    path = Path(path)
    with _manifest_lock(path.parent):
        return _record(path)


def _read(path: Path) -> tuple[bytes, str | None | bool]:
    """The bytes of ``path`` and the sha256 its folder's manifest records (``False``: no manifest to keep). Where
    they differ, both are read again under the writers' lock: a writer may have been between file and entry."""
    data = path.read_bytes()
    if not _guarded(path.parent):
        return data, False
    recorded = _manifest(path.parent).get(path.name)
    if recorded != hashlib.sha256(data).hexdigest():
        try:
            with _manifest_lock(path.parent):
                data, recorded = path.read_bytes(), _manifest(path.parent).get(path.name)
        except OSError:  # no lock to be had (a read-only cache): the first reading stands
            pass
    return data, recorded


def _check_manifest(path: Path, data: bytes, recorded: str | None | bool) -> None:
    """Refuse ``data`` read from ``path`` unless its sha256 is ``recorded`` (``False``: nothing to compare)."""
    if recorded is None:
        raise ShippedResultsError(f"{path} is not in {path.parent / MANIFEST}: {REMAKE}")
    if recorded is not False and recorded != hashlib.sha256(data).hexdigest():
        raise ShippedResultsError(
            f"{path} was edited by hand since `make results` wrote it (its sha256 is not the one "
            f"{path.parent / MANIFEST} records): restore it with `git checkout -- notebooks/results/{path.name}`, "
            "or make it again with `make results`"
        )


def versions() -> dict[str, Any]:
    """The software and machine behind a results file: Python, NumPy, Keras and its backend (with TensorFlow's
    version under that backend) and the CPU count, since timings depend on it."""
    import numpy as np

    from mnist_course.models.key import software

    return {**software(), "python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count()}


def write_results(path: str | os.PathLike[str], doc: dict[str, Any], *, fmt: int) -> Path:
    """Write ``doc`` with ``"format": fmt`` as stable, reviewable JSON (sorted keys, one value per line), atomically:
    a reader never sees half a file. A bare file name goes to ``notebooks/results/``, where (as in any folder with
    a manifest) the file's sha256 is recorded in the manifest under the same lock."""
    path = Path(path)
    if path.parent == Path("."):
        path = shipped_path(path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({**doc, "format": fmt}, indent=1, sort_keys=True) + "\n"
    if not _guarded(path.parent):
        return write_text_atomic(path, text)
    with _manifest_lock(path.parent):  # the file and its manifest entry change together
        write_text_atomic(path, text)
        _record(path)
    return path


def read_results(
    file: str | os.PathLike[str],
    *,
    formats: Collection[int],
    required: Sequence[str] = (),
    fix: str | None = None,
    check: Callable[[Field], Any] | None = None,
) -> dict[str, Any]:
    """The results ``file`` as a dict: a bare name is looked up by :func:`find_shipped`, a path read as it is.
    Unreadable JSON, another format, a missing top-level field, a field ``check`` refuses (it gets the document
    as a :class:`Field`) or a file the manifest does not record as it is, is one :class:`ShippedResultsError`
    naming the file and the command that makes it again (``fix``, when given, says it instead)."""
    path = find_shipped(str(file)) if Path(file).parent == Path(".") else Path(file)
    fix = fix or REMAKE
    if not path.is_file():
        raise MissingResultsError(f"{path} is missing: {fix}")
    data, recorded = _read(path)
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ShippedResultsError(f"{path} is not valid JSON ({error}): {fix}") from None
    if not isinstance(doc, dict):
        raise ShippedResultsError(f"{path} holds a JSON {type(doc).__name__}, not an object: {fix}")
    if doc.get("format") not in formats:
        raise ShippedResultsError(f"{path}: format {doc.get('format')!r}, expected one of {sorted(formats)}: {fix}")
    missing = [key for key in required if key not in doc]
    if missing:
        raise ShippedResultsError(f"{path} lacks {missing}: {fix}")
    if check is not None:
        check(Field(doc, file=path, fix=fix, error=ShippedResultsError))
    _check_manifest(path, data, recorded)
    return doc


__all__ = [
    "MANIFEST",
    "RESULTS_URL",
    "URL_ENV",
    "MissingResultsError",
    "ShippedResultsError",
    "find_shipped",
    "read_results",
    "record_in_manifest",
    "shipped_path",
    "versions",
    "write_results",
]
