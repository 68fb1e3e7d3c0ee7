"""Writing files safely: a temporary file in the target's folder, renamed into place only on success, under a lock."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock


def lock_for(path: Path, timeout: float = 600) -> filelock.FileLock:
    """The inter-process lock guarding ``path`` (a ``<name>.lock`` file beside it); use it as a context manager."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(str(path.with_name(path.name + ".lock")), timeout=timeout)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(final: Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``final``; on success it replaces ``final`` in one rename.

    If the block raises (or is interrupted), ``final`` is left exactly as it was and the temporary file is removed.
    The file gets the permissions a plainly created file would (``0o666`` minus the umask), not ``mkstemp``'s 0600,
    so a shared classroom cache stays readable by others.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=suffix or ".part")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text_atomic(final: Path, text: str) -> Path:
    """Write ``text`` to ``final`` atomically (see :func:`atomic_path`); returns ``final``."""
    with atomic_path(final) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(final)


def write_bytes_atomic(final: Path, data: bytes) -> Path:
    """Write ``data`` to ``final`` atomically (see :func:`atomic_path`); returns ``final``."""
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)
    return Path(final)
