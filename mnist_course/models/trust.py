"""Whether a model cache entry can be trusted: its metadata read within bounds, and signed with the user's secret key.

Every entry the cache writes carries an HMAC-SHA256 over its metadata (the training key, the weights' sha256, the
sha256 of every other file in the ``.keras`` zip, history, seconds), keyed by a per-user secret kept outside the
models folder (``$MNIST_COURSE_CACHE_KEY``, default ``~/.config/mnist-course/cache-key``, created on first use with
mode 0600). An entry edited by hand, or written with another secret, does not verify and is never given to Keras.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import zipfile
from pathlib import Path
from typing import Any

from mnist_course.files import atomic_path, lock_for
from mnist_course.models.key import canonical_json
from mnist_course.paths import expand, models_dir, shown

KEY_ENV = "MNIST_COURSE_CACHE_KEY"
INFO_MEMBER = "mnist_course.json"  # the entry's metadata, stored inside the .keras zip next to Keras' own files
MAX_INFO_BYTES = 1_000_000  # a real entry's metadata is a few kB; larger is refused before it is unpacked
MAX_DEPTH = 32  # a real entry's metadata nests 4 deep; deeper is refused
_DOMAIN = b"mnist-course model cache entry, signature v1\n"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class StaleEntry(Exception):
    """A cache entry that must not be used; the message says why (one line)."""


class MissingEntry(StaleEntry):
    """No cache file for these settings (yet)."""


class CacheKeyError(Exception):
    """The user's cache key cannot be created or read; the message names the file and the fix (one line)."""


def key_file() -> Path:
    """``$MNIST_COURSE_CACHE_KEY`` when set, else ``cache-key`` in the user's config folder (``$XDG_CONFIG_HOME`` or
    ``~/.config``; ``%APPDATA%`` on Windows) under ``mnist-course``: never inside the (maybe shared) models folder."""
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        return expand(env)
    base = os.environ.get("APPDATA" if sys.platform == "win32" else "XDG_CONFIG_HOME", "")
    folder = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return folder / "mnist-course" / "cache-key"


def secret() -> bytes:
    """The user's secret cache key (32 random bytes), created on first use in :func:`key_file` with mode 0600.
    Raises :class:`CacheKeyError` when it can be neither read nor created."""
    path = key_file()
    if path.resolve().is_relative_to(models_dir().resolve()):
        raise CacheKeyError(
            f"the cache key {path} is inside the models folder, where whoever writes models could read or replace "
            f"it: set {KEY_ENV} to a file outside {models_dir()}"
        )
    if not path.exists():
        _create_key(path)
    try:
        if not path.is_file():
            raise CacheKeyError(f"the cache key {path} is not a file: remove it, or set {KEY_ENV} to a key file")
        with path.open("rb") as handle:
            raw = handle.read(4097)
    except OSError as err:
        raise CacheKeyError(
            f"cannot read the cache key {path} ({type(err).__name__}: {err.strerror or err}): make it readable "
            f"to you, or set {KEY_ENV} to a key file you can read"
        ) from None
    try:
        value = bytes.fromhex(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        value = b""
    if len(raw) > 4096 or len(value) < 16:
        raise CacheKeyError(
            f"{path} is not a course cache key (64 hex digits): delete it to make a new one (the entries it "
            f"signed will be retrained), or set {KEY_ENV} to the right key file"
        )
    return value


def _create_key(path: Path) -> None:
    """Write a fresh random key at ``path`` (once, even with several processes starting together), mode 0600."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with lock_for(path, timeout=60):
            if path.exists():  # another process made it while this one waited
                return
            with atomic_path(path, suffix=".key") as tmp:  # in a folder made 0700 above: nobody else sees it
                tmp.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
            os.chmod(path, 0o600)  # atomic_path gives the umask's mode (0644): private from here on
    except OSError as err:
        raise CacheKeyError(
            f"cannot create the cache key {path} ({type(err).__name__}: {err.strerror or err}): set {KEY_ENV} "
            "to a file in a folder you can write"
        ) from None


def key_id(key: bytes) -> str:
    """16 hex digits naming a key without revealing it: an entry records which key signed it."""
    return hashlib.sha256(b"mnist-course key id\n" + key).hexdigest()[:16]


def _mac(key: bytes, meta: dict[str, Any]) -> str:
    body = {k: v for k, v in meta.items() if k != "signature"}
    return hmac.new(key, _DOMAIN + canonical_json(body).encode(), hashlib.sha256).hexdigest()


def sign(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` (plain JSON values) with a ``signature``: the HMAC-SHA256 of everything else in it, keyed by
    :func:`secret`. Raises :class:`CacheKeyError`."""
    key = secret()
    return {**meta, "signature": {"key_id": key_id(key), "hmac_sha256": _mac(key, meta)}}


def check_signature(meta: dict[str, Any], path: Path) -> None:
    """Raise :class:`StaleEntry` unless ``meta`` (read from ``path``) was signed with this user's key and not
    changed since."""
    sig = meta.get("signature")
    if sig is None:
        raise StaleEntry(f"{path} is not signed (written by an older course version, or by hand): it is not trusted")
    if (
        not isinstance(sig, dict)
        or not isinstance(sig.get("key_id"), str)
        or not _HEX64.fullmatch(str(sig.get("hmac_sha256")))
    ):
        raise StaleEntry(f"{path} has a malformed signature: it is not trusted")
    try:
        key = secret()
    except CacheKeyError as err:
        raise StaleEntry(f"{path} cannot be checked: {err}") from None
    if sig["key_id"] != key_id(key):
        raise StaleEntry(
            f"{path} was signed with another cache key than yours ({shown(key_file())}): it is not trusted"
        )
    if not hmac.compare_digest(sig["hmac_sha256"], _mac(key, meta)):
        raise StaleEntry(f"{path} was changed after it was signed (its signature does not match): it is not trusted")


def member_digests(path: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of every file in the zip at ``path`` but the metadata: what :func:`check_members` expects."""
    with zipfile.ZipFile(path) as archive:
        return {
            i.filename: {"size": i.file_size, "sha256": _sha256_of(archive, i, i.file_size)}
            for i in archive.infolist()
            if i.filename != INFO_MEMBER
        }


def _sha256_of(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> str | None:
    """sha256 of a member, read in chunks; ``None`` if it unpacks to more than ``limit`` bytes."""
    h, seen = hashlib.sha256(), 0
    with archive.open(info) as member:
        while chunk := member.read(min(_CHUNK, limit + 1 - seen)):
            seen += len(chunk)
            if seen > limit:
                return None
            h.update(chunk)
    return h.hexdigest()


def check_members(meta: dict[str, Any], path: Path) -> None:
    """Raise :class:`StaleEntry` unless the files in the zip at ``path`` are exactly the ones ``meta`` signed
    (names, sizes, sha256): checked before Keras reads any of them."""
    signed = meta.get("members")
    if not isinstance(signed, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("size"), int) and isinstance(v.get("sha256"), str)
        for v in signed.values()
    ):
        raise StaleEntry(f"{path} does not list the files it holds in its metadata: it is not trusted")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if i.filename != INFO_MEMBER]
            if sorted(i.filename for i in infos) != sorted(signed):
                raise StaleEntry(f"{path} holds other files than the ones saved with its metadata")
            changed = [
                i.filename
                for i in infos
                if i.file_size != signed[i.filename]["size"]
                or _sha256_of(archive, i, i.file_size) != signed[i.filename]["sha256"]
            ]
            if changed:
                raise StaleEntry(
                    f"{path} holds other files than the ones saved with its metadata ({', '.join(changed)} changed)"
                )
    except StaleEntry:
        raise
    except Exception as err:  # noqa: BLE001 (any damage in the zip means "do not use it")
        raise StaleEntry(f"{path} could not be read ({type(err).__name__}: {str(err)[:200]})") from None


def read_metadata(path: Path) -> dict[str, Any]:
    """The metadata member of the cache file ``path``, read within bounds: refused unread when it would unpack to
    more than :data:`MAX_INFO_BYTES`, refused when nested deeper than :data:`MAX_DEPTH` or of the wrong shape.

    Raises :class:`MissingEntry` when there is no file, :class:`StaleEntry` saying why for anything else."""
    path = Path(path)
    if not path.exists():
        raise MissingEntry("not in the course cache yet")
    if not path.is_file():
        raise StaleEntry(f"{path} is not a regular file")
    try:
        with zipfile.ZipFile(path) as archive:
            found = [i for i in archive.infolist() if i.filename == INFO_MEMBER]
            if len(found) != 1:
                how = "no" if not found else f"{len(found)}"
                raise StaleEntry(f"{path} was not written by the course cache ({how} {INFO_MEMBER} inside)")
            if found[0].file_size > MAX_INFO_BYTES:
                raise StaleEntry(
                    f"{path} has metadata that would unpack to {found[0].file_size:,} bytes (more than "
                    f"{MAX_INFO_BYTES:,}): it was not read"
                )
            with archive.open(found[0]) as member:
                raw = member.read(MAX_INFO_BYTES + 1)
        if len(raw) > MAX_INFO_BYTES:
            raise StaleEntry(f"{path} has metadata larger than its zip header says: it was not read further")
        meta = json.loads(raw)
    except StaleEntry:
        raise
    except RecursionError:
        raise StaleEntry(f"{path} has metadata nested too deeply to read") from None
    except Exception as err:  # noqa: BLE001 (not a zip, truncated, bad JSON...: any of them means "do not use it")
        raise StaleEntry(f"{path} could not be read ({type(err).__name__}: {str(err)[:200]})") from None
    problem = _shape_problem(meta)
    if problem:
        raise StaleEntry(f"{path} has unusable metadata ({problem})")
    return meta


def _depth(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (iteratively: no recursion, however deep it is)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(type(value), "a number")


def _shape_problem(meta: Any) -> str | None:
    """What is wrong with the shape of ``meta`` for the cache ("" or ``None`` when nothing)."""
    if not isinstance(meta, dict):
        return f"a JSON document that is {_kind(meta)}, not an object"
    if _depth(meta) > MAX_DEPTH:
        return f"nested more than {MAX_DEPTH} deep"
    key = meta.get("key")
    if not isinstance(key, dict) or not isinstance(key.get("model"), str):
        return f"its key is {_kind(key)}, not an object naming a model"
    if not isinstance(meta.get("weights_sha256"), str):
        return "no weights_sha256"
    history = meta.get("history")
    numbers = (int, float)
    if history is not None and not (
        isinstance(history, dict)
        and all(isinstance(v, list) and all(isinstance(x, numbers) for x in v) for v in history.values())
    ):
        return "its history is not lists of numbers"
    seconds = meta.get("seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, numbers)):
        return "its seconds are not a number"
    return None
