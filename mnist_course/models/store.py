"""Trained models shared between notebooks: one ``.keras`` file per training setting, checked when loaded."""

from __future__ import annotations

import json
import time
import warnings
import weakref
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import filelock
import keras
import numpy as np

from mnist_course.files import atomic_path, lock_for
from mnist_course.models import key as model_key
from mnist_course.models import trust
from mnist_course.models import zoo as models
from mnist_course.models.trust import INFO_MEMBER, CacheKeyError, MissingEntry, StaleEntry
from mnist_course.paths import CACHE_ENV, models_dir

TrainResult = keras.Model | tuple[keras.Model, dict[str, list[float]], float]
TrainFn = Callable[..., TrainResult]
LOCK_HOURS = 3.0  # how long a second process waits for another one training the same entry
_INFOS: weakref.WeakKeyDictionary[keras.Model, dict[str, Any]] = weakref.WeakKeyDictionary()
STORED_ONLY = ("history", "seconds")  # what a loaded entry can only report as stored, not measure again


def cache_key(
    name: str,
    x_train: Any,
    y_train: Any,
    *,
    epochs: int | None = None,
    seed: int = 0,
    validation_data: tuple[Any, Any] | None = None,
    train_fn: TrainFn | None = None,
) -> dict[str, Any]:
    """The key of the model ``train_fn(name, x_train, y_train, epochs=, seed=, validation_data=)`` trains
    (default ``train_fn``: :func:`mnist_course.models.zoo.train`): see :func:`mnist_course.models.key.training_key`."""
    recipe = models.get_recipe(name)
    fn = train_fn or models.train
    code_of = fn if hasattr(fn, "__code__") else type(fn).__call__  # a callable object: its __call__
    code = (
        model_key.source_sha256(models.train, models.batches, models.build_model, models.make_optimizer)
        if fn is models.train
        else model_key.source_sha256(code_of)
    )
    return model_key.training_key(
        name,
        recipe,
        models.build_model(name),
        (x_train, y_train),
        epochs=epochs or recipe.epochs,
        seed=seed,
        validation_data=validation_data,
        # the course's trainer by its public name, so that moving it inside the package does not retrain anything
        trainer="mnist_course.models.train" if fn is models.train else f"{code_of.__module__}.{code_of.__qualname__}",
        code=code,
    )


def entry_path(key: dict[str, Any]) -> Path:
    """``<cache>/models/{name}-{12 hex digits of the key}.keras``; ``<cache>`` is ``$MNIST_COURSE_CACHE`` or the
    user cache. Different settings get different files, side by side."""
    return models_dir() / f"{key['model']}-{model_key.digest(key)}.keras"


def read_info(path: Path) -> dict[str, Any]:
    """The metadata stored inside a cache file (key, history, seconds, test accuracy, weights' sha256, signature),
    read within bounds (see :func:`mnist_course.models.trust.read_metadata`); not yet checked against its signature.

    Raises :class:`StaleEntry` saying why when the file is absent, unreadable or not written by this cache."""
    return trust.read_metadata(path)


def save_model(model: keras.Model, key: dict[str, Any], info: dict[str, Any] | None = None) -> Path:
    """Write ``model`` and its signed metadata (``key``, ``info``, the weights' sha256, the sha256 of each file Keras
    wrote) as one file, atomically, at :func:`entry_path`: a reader sees the old entry or the new one, never half of
    one. Raises ``OSError``, or :class:`~mnist_course.models.trust.CacheKeyError` without a usable cache key."""
    path = entry_path(key)
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
        meta = {
            **(info or {}),
            "key": key,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "weights_sha256": model_key.weights_sha256(model),
            "members": trust.member_digests(tmp),
        }
        signed = trust.sign(json.loads(json.dumps(meta, default=_to_json)))  # signed as it will be read back
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(INFO_MEMBER, json.dumps(signed, indent=1))
    return path


def _to_json(value: Any) -> Any:
    """JSON fallback for NumPy scalars and arrays."""
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else str(value)


def load_entry(key: dict[str, Any]) -> tuple[keras.Model, dict[str, Any]]:
    """The cached model for ``key`` and its metadata, after checking that it is what ``key`` asks for: signed with
    this user's cache key and unchanged since, the stored key equals ``key``, its files are the ones signed (checked
    before Keras reads them), the model's name and architecture are the recipe's, its weights are the ones saved.
    Raises :class:`StaleEntry` with the reason otherwise."""
    path = entry_path(key)
    info = read_info(path)
    trust.check_signature(info, path)
    stored = info["key"]
    if stored != key:
        raise StaleEntry(f"the cached {key['model']} in {path} {model_key.differences(stored, key) or 'differs'}")
    trust.check_members(info, path)
    try:
        model = keras.models.load_model(path)
    except Exception as err:  # corrupt or incompatible file: any loader error means "train again"
        raise StaleEntry(f"{path} could not be loaded ({type(err).__name__}: {str(err)[:200]})") from None
    if model.name != key["model"] or model_key.architecture_sha256(model) != key["architecture_sha256"]:
        raise StaleEntry(
            f"{path} holds a model {model.name!r} ({model.count_params():,} parameters) whose "
            f"architecture is not the recipe's {key['model']}"
        )
    if model_key.weights_sha256(model) != info.get("weights_sha256"):
        raise StaleEntry(f"{path} holds other weights than the ones saved with its metadata")
    return model, {**info, "path": str(path)}


def entries(name: str | None = None) -> list[dict[str, Any]]:
    """Metadata of every cache entry (of model ``name`` only, if given) signed with this user's key, newest first;
    unreadable, malformed or foreign files are left out without a word."""
    found = []
    for path in models_dir().glob(f"{name or ''}*.keras"):
        try:
            info = read_info(path)
            trust.check_signature(info, path)
            stamp = path.stat().st_mtime_ns
        except (StaleEntry, OSError):
            continue
        if name is None or info["key"]["model"] == name:
            found.append((stamp, {**info, "path": str(path)}))
    return [info for _, info in sorted(found, key=lambda pair: pair[0], reverse=True)]


def info_of(model: keras.Model) -> dict[str, Any]:
    """What is known about a model :func:`load_or_train` returned: ``key``, ``trained`` (now, or loaded), ``path``
    (``None`` if it could not be saved), ``test_accuracy`` (measured on that call's ``test_data``, after training or
    on load; ``None`` without ``test_data``) and ``test_accuracy_source`` saying which, ``history`` and ``seconds``
    (of the training run), and ``stored``: the fields taken from the cache file rather than measured in this
    session (``["history", "seconds"]`` for a loaded model, ``[]`` for one trained now)."""
    try:
        return _INFOS[model]
    except KeyError:
        raise KeyError(f"{model.name!r} was not returned by model_store.load_or_train: no cache metadata") from None


def load_or_train(
    name: str,
    x_train: Any,
    y_train: Any,
    *,
    epochs: int | None = None,
    seed: int = 0,
    validation_data: tuple[Any, Any] | None = None,
    test_data: tuple[Any, Any] | None = None,
    retrain: bool = False,
    train_fn: TrainFn | None = None,
    verbose: int = 1,
) -> keras.Model:
    """The model ``name`` trained by its recipe on ``(x_train, y_train)``: from the cache when an entry for exactly
    these settings (see :func:`cache_key`) passes :func:`load_entry`'s checks, else trained now and cached.

    ``train_fn`` (default :func:`mnist_course.models.zoo.train`) is called as ``train_fn(name, x_train, y_train,
    epochs=, seed=, validation_data=, verbose=)`` and returns a model or ``(model, history, seconds)``. One line
    says what happened and, when training, why; ``verbose=0`` silences it, ``2`` also shows the epochs. A second
    process asking for the same entry waits for the first and loads its model. A model that trained but cannot
    be saved is returned, with a warning. With ``test_data`` the model is scored on it, after training or on load
    (10,000 images: about a second), for ``test_accuracy`` in :func:`info_of`: a stored score is never shown.
    """
    key = cache_key(
        name, x_train, y_train, epochs=epochs, seed=seed, validation_data=validation_data, train_fn=train_fn
    )
    say = print if verbose else (lambda *_: None)
    path = entry_path(key)
    found = None if retrain else _try_load(key)
    if isinstance(found, tuple):
        return _loaded(found, test_data, say, "loaded from the course cache")
    with _entry_lock(path, name, say):
        if not retrain:
            again = _try_load(key)
            if isinstance(again, tuple):  # another process trained it while this one waited
                return _loaded(again, test_data, say, "loaded from the course cache, just trained by another process")
        reason = "retrain=True" if retrain else _why(found, key)
        say(f"{name}: {reason}: training on {model_key.summary(key)}...")
        fn = train_fn or models.train
        result = fn(
            name,
            x_train,
            y_train,
            epochs=key["epochs"],
            seed=seed,
            validation_data=validation_data,
            verbose=2 if verbose >= 2 else 0,
        )
        model, info = (
            (result, {})
            if isinstance(result, keras.Model)
            else (result[0], {"history": result[1], "seconds": float(result[2])})
        )
        info["test"] = _test_score(model, test_data)
        info["path"] = _save_or_warn(model, key, info)
    info.update(key=key, trained=True, stored=[])
    return _remember(model, info, info["test"], "measured after training")


def _try_load(key: dict[str, Any]) -> tuple[keras.Model, dict[str, Any]] | StaleEntry:
    """``(model, info)`` if the entry is good, else the :class:`StaleEntry` saying why."""
    try:
        return load_entry(key)
    except StaleEntry as err:
        return err


def _why(found: StaleEntry | None, key: dict[str, Any]) -> str:
    """The reason to train, warning for a damaged or foreign entry; for a missing one, how the newest other entry
    of the same model differs ("the cached dense-512 was trained on 1,000 images, this run asks for 60,000")."""
    reason = str(found)
    if not isinstance(found, MissingEntry):
        warnings.warn(f"{key['model']}: {reason}: retraining", RuntimeWarning, stacklevel=3)
        return "the cache entry is unusable (see the warning)"
    other = entries(key["model"])
    if other:
        diff = model_key.differences(other[0]["key"], key)
        reason = f"the cached {key['model']} {diff} (it stays cached)" if diff else reason
    return reason


def _loaded(
    found: tuple[keras.Model, dict[str, Any]], test_data: Any, say: Callable[..., Any], what: str
) -> keras.Model:
    model, meta = found
    say(f"{model.name}: {what} ({model_key.summary(meta['key'])})")  # no file name: a student needs none
    # the stored test score, signature and file list stay in the file: only what was measured now is shown
    info = {k: v for k, v in meta.items() if k not in ("test", "signature", "members")}
    info.update(trained=False, stored=[field for field in STORED_ONLY if info.get(field) is not None])
    return _remember(model, info, _test_score(model, test_data), "measured on load")


def _test_score(model: keras.Model, test_data: tuple[Any, Any] | None) -> dict[str, Any] | None:
    """Test accuracy of ``model`` with the fingerprint of the test set it was measured on."""
    if test_data is None:
        return None
    from mnist_course.evaluation import evaluation_report

    return {"data": model_key.data_fingerprint(*test_data), "accuracy": evaluation_report(model, *test_data).accuracy}


def _remember(model: keras.Model, info: dict[str, Any], score: dict[str, Any] | None, how: str) -> keras.Model:
    """Attach ``info`` to ``model`` for :func:`info_of`, with the test ``score`` measured in this call (``how``)."""
    info["test_accuracy"] = None if score is None else score["accuracy"]
    info["test_accuracy_source"] = None if score is None else how
    _INFOS[model] = info
    return model


def _save_or_warn(model: keras.Model, key: dict[str, Any], info: dict[str, Any]) -> str | None:
    """Save the fresh model; if that fails (full disk, read-only cache), warn and carry on without caching."""
    if model.name != key["model"] or model_key.architecture_sha256(model) != key["architecture_sha256"]:
        warnings.warn(
            f"{key['model']}: train_fn returned a model {model.name!r} that is not the recipe's "
            "architecture: it is not cached",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    try:
        return str(save_model(model, key, info))
    except CacheKeyError as err:
        warnings.warn(f"{key['model']}: trained, but not cached: {err}", RuntimeWarning, stacklevel=3)
        return None
    except Exception as err:  # noqa: BLE001 (whatever stops the save, the trained model must not be lost)
        warnings.warn(
            f"{key['model']}: trained, but could not be saved in {models_dir()} ({type(err).__name__}: "
            f"{err}); using it without caching: free some space or set {CACHE_ENV} to a writable folder",
            RuntimeWarning,
            stacklevel=3,
        )
        return None


@contextmanager
def _entry_lock(path: Path, name: str, say: Callable[..., Any]) -> Iterator[None]:
    """Hold the lock of the entry ``path`` (saying so when another process holds it); without a writable cache,
    carry on unlocked (saving will fail and warn)."""
    lock: filelock.BaseFileLock | None = None
    try:
        lock = lock_for(path, timeout=LOCK_HOURS * 3600)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            say(f"{name}: another process is training this entry; waiting for it ({lock.lock_file})...")
            lock.acquire()
    except filelock.Timeout:  # before OSError: Timeout is one
        raise TimeoutError(
            f"{name}: {path}.lock has been held for {LOCK_HOURS:g} hours; if no notebook is "
            "training this model, delete that file and run again"
        ) from None
    except OSError:
        lock = None
    try:
        yield
    finally:
        if lock is not None:
            lock.release()
