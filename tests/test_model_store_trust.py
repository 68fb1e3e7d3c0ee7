"""Tests for what the model cache trusts: scores measured on load, signed entries, and odd files that never break it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import struct
import tracemalloc
import warnings
import zipfile
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from mnist_course.models import key as model_key
from mnist_course.models import store as model_store
from mnist_course.models import zoo as models
from tests.test_model_store import PROBE, FakeTrain, X, Y

INFO = "mnist_course.json"  # the metadata member's name, as the cache writes it
DOMAIN = b"mnist-course model cache entry, signature v1\n"  # what the signature's message starts with


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MNIST_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MNIST_COURSE_CACHE_KEY", str(tmp_path / "me" / "cache-key"))
    return tmp_path / "cache"


def entry(seed: int = 1, train: Any = None) -> Path:
    return model_store.entry_path(model_store.cache_key("dense-512", X, Y, seed=seed, train_fn=train or FakeTrain()))


def read_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def metadata(path: Path) -> dict[str, Any]:
    return json.loads(read_members(path)[INFO])


def with_metadata(path: Path, meta: dict[str, Any]) -> None:
    write_members(path, {**read_members(path), INFO: json.dumps(meta).encode()})


def hand_signature(meta: dict[str, Any], key_file: Path) -> str:
    """HMAC-SHA256, keyed by the hex secret in ``key_file``, of the sorted compact JSON of ``meta`` less its
    signature: computed here with hashlib and hmac, not with the cache's code."""
    secret = bytes.fromhex(key_file.read_text().strip())
    body = json.dumps({k: v for k, v in meta.items() if k != "signature"}, sort_keys=True, separators=(",", ":"))
    return hmac.new(secret, DOMAIN + body.encode(), hashlib.sha256).hexdigest()


def accuracy(model: keras.Model, n: int) -> float:
    """Accuracy on the first ``n`` images of X, from the model's own predictions (dense-512 reads flat pixels)."""
    return float((model.predict(X[:n].reshape(n, 784) / 255, verbose=0).argmax(axis=1) == Y[:n]).mean())


def load_recording(train: FakeTrain, seed: int = 1, **kwargs: Any) -> tuple[keras.Model, list[str]]:
    """load_or_train, returning the model and the RuntimeWarnings it gave (the cache's one-line warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = model_store.load_or_train("dense-512", X, Y, seed=seed, train_fn=train, **kwargs)
    return model, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


# ---- results shown after a cache hit are measured now ----


def test_a_loaded_model_shows_the_accuracy_measured_now_not_the_stored_one(cache: Path, monkeypatch: Any) -> None:
    train = FakeTrain()
    first = model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train, test_data=(X[:40], Y[:40]))
    measured = accuracy(first, 40)
    info = model_store.info_of(first)
    assert info["test_accuracy"] == pytest.approx(measured)
    assert info["test_accuracy_source"] == "measured after training" and info["stored"] == []
    path = entry()
    meta = metadata(path)
    assert meta["test"]["accuracy"] == pytest.approx(measured)
    # the owner's own file, edited and signed again with the owner's key: it verifies, yet no stored number shows
    meta["test"]["accuracy"], meta["seconds"], meta["history"] = 0.9999, 1234.5, {"loss": [0.5, 0.25]}
    meta["signature"]["hmac_sha256"] = hand_signature(meta, Path(os.environ["MNIST_COURSE_CACHE_KEY"]))
    with_metadata(path, meta)
    loaded, said = load_recording(train, test_data=(X[:40], Y[:40]))
    assert said == [] and len(train.calls) == 1  # trusted: loaded, not retrained
    info = model_store.info_of(loaded)
    assert info["test_accuracy"] == pytest.approx(measured) and info["test_accuracy"] != 0.9999
    assert info["test_accuracy_source"] == "measured on load"
    assert info["stored"] == ["history", "seconds"] and info["seconds"] == 1234.5  # shown, and marked stored
    assert "0.9999" not in json.dumps(info, default=str)
    # on another test set it is measured on that one; without one, no accuracy at all
    other = model_store.info_of(model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train, test_data=(X, Y)))
    assert other["test_accuracy"] == pytest.approx(accuracy(first, 64))
    bare = model_store.info_of(model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train))
    assert bare["test_accuracy"] is None and bare["test_accuracy_source"] is None


def test_an_edited_accuracy_without_the_key_is_not_trusted_and_retrained(cache: Path) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train, test_data=(X[:40], Y[:40]))
    path = entry()
    meta = metadata(path)
    meta["test"]["accuracy"] = 0.9999  # the signature is left as it was
    with_metadata(path, meta)
    model, said = load_recording(train, test_data=(X[:40], Y[:40]))
    assert len(said) == 1 and str(path) in said[0] and "changed after it was signed" in said[0]
    assert len(train.calls) == 2 and model_store.info_of(model)["trained"]
    assert model_store.info_of(model)["test_accuracy"] == pytest.approx(accuracy(model, 40))
    _, again = load_recording(train)  # the retrained entry was written, signed: trusted from now on
    assert again == [] and len(train.calls) == 2


# ---- integrity that editing cannot forge ----


def test_the_signature_is_an_hmac_of_the_metadata_under_the_users_key(cache: Path) -> None:
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=FakeTrain())
    meta, key_file = metadata(entry()), Path(os.environ["MNIST_COURSE_CACHE_KEY"])
    assert meta["signature"]["hmac_sha256"] == hand_signature(meta, key_file)
    members = read_members(entry())
    assert meta["members"]["model.weights.h5"] == {
        "size": len(members["model.weights.h5"]),
        "sha256": hashlib.sha256(members["model.weights.h5"]).hexdigest(),
    }


def test_forged_weights_with_recomputed_hashes_are_not_trusted(cache: Path) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    model_store.load_or_train("dense-512", X, Y, seed=2, train_fn=train)
    one, two = entry(1), entry(2)
    forged, donor = metadata(one), metadata(two)
    # seed 2's Keras files under seed 1's name, every sha256 recomputed to match them; the signature cannot be
    forged.update(weights_sha256=donor["weights_sha256"], members=donor["members"])
    write_members(one, {**{k: v for k, v in read_members(two).items() if k != INFO}, INFO: json.dumps(forged).encode()})
    model, said = load_recording(train, seed=1)
    assert len(said) == 1 and str(one) in said[0] and "changed after it was signed" in said[0]
    assert [c["seed"] for c in train.calls] == [1, 2, 1]
    honest = models.build_model("dense-512", seed=1)  # what FakeTrain gives for seed 1
    np.testing.assert_allclose(model.predict(PROBE, verbose=0), honest.predict(PROBE, verbose=0), rtol=1e-6)


def test_an_entry_written_with_someone_elses_key_is_not_trusted(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train = FakeTrain()
    monkeypatch.setenv("MNIST_COURSE_CACHE_KEY", str(tmp_path / "someone" / "cache-key"))
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)  # planted by another user
    monkeypatch.setenv("MNIST_COURSE_CACHE_KEY", str(tmp_path / "me" / "cache-key"))
    _, said = load_recording(train)
    assert len(said) == 1 and str(entry()) in said[0] and "signed with another cache key" in said[0]
    assert len(train.calls) == 2
    _, again = load_recording(train)
    assert again == [] and len(train.calls) == 2  # rewritten with my key


def test_a_shared_read_only_key_trusts_the_instructors_entries(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "course" / "cache-key"
    monkeypatch.setenv("MNIST_COURSE_CACHE_KEY", str(shared))
    instructor = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=instructor)
    shared.chmod(0o444)  # shared read-only with the class
    student = FakeTrain()
    model, said = load_recording(student)
    assert said == [] and student.calls == [] and not model_store.info_of(model)["trained"]


def test_an_unsigned_entry_from_an_older_version_is_retrained(cache: Path) -> None:
    train = FakeTrain()
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=train)
    meta = metadata(entry())
    del meta["signature"]
    with_metadata(entry(), meta)
    _, said = load_recording(train)
    assert len(said) == 1 and "is not signed" in said[0] and len(train.calls) == 2


def test_the_key_is_made_on_first_use_private_and_outside_the_models_folder(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MNIST_COURSE_CACHE_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=FakeTrain())
    key_file = tmp_path / "config" / "mnist-course" / "cache-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key_file.read_text().strip())) == 32
    assert not any(p.name.startswith("cache-key") for p in cache.rglob("*"))
    assert metadata(entry())["signature"]["hmac_sha256"] == hand_signature(metadata(entry()), key_file)


def test_a_broken_key_file_still_trains_and_says_how_to_fix_it(cache: Path) -> None:
    key_file = Path(os.environ["MNIST_COURSE_CACHE_KEY"])
    key_file.parent.mkdir(parents=True)
    key_file.write_text("not a key\n")
    train = FakeTrain()
    model, said = load_recording(train)
    assert model.count_params() == 407_050 and len(train.calls) == 1
    assert len(said) == 1 and str(key_file) in said[0] and "delete it to make a new one" in said[0]


def test_a_key_inside_the_models_folder_is_refused(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNIST_COURSE_CACHE_KEY", str(cache / "models" / "cache-key"))
    model, said = load_recording(FakeTrain())
    assert model.count_params() == 407_050 and len(said) == 1 and "inside the models folder" in said[0]
    assert list((cache / "models").glob("*.keras")) == [] and not (cache / "models" / "cache-key").exists()


# ---- odd files: one warning, retrained, never an exception ----

DEEP = b"[" * 100_000 + b"]" * 100_000
GOOD_KEY_SHAPE = {"model": "dense-512"}
ODD_METADATA = {
    "a list": b"[1, 2, 3]",
    "null": b"null",
    "a string": b'"dense-512"',
    "a number": b"42",
    "deep nesting": DEEP,
    "deep objects": b'{"a":' * 500 + b"1" + b"}" * 500,
    "key as a string": json.dumps({"key": "dense-512", "weights_sha256": "0"}).encode(),
    "key as a list": json.dumps({"key": [1], "weights_sha256": "0"}).encode(),
    "history as a string": json.dumps({"key": GOOD_KEY_SHAPE, "weights_sha256": "0", "history": "x"}).encode(),
    "signature as a list": json.dumps({"key": GOOD_KEY_SHAPE, "weights_sha256": "0", "signature": [1]}).encode(),
    "not JSON": b"{",
    "not UTF-8": b"\xff\xfe\x00\xff{",
    "empty": b"",
}


def odd_zip(path: Path, info: bytes | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_members(path, {"config.json": b"{}", **({INFO: info} if info is not None else {})})


@pytest.mark.parametrize("shape", list(ODD_METADATA))
def test_odd_metadata_is_one_warning_and_a_retrain(cache: Path, shape: str) -> None:
    path = entry()
    odd_zip(path, ODD_METADATA[shape])
    train = FakeTrain()
    model, said = load_recording(train)
    assert len(said) == 1 and str(path) in said[0] and said[0].endswith("retraining"), said
    assert len(train.calls) == 1 and model.count_params() == 407_050
    _, again = load_recording(train)  # replaced by a good entry
    assert again == [] and len(train.calls) == 1


def good_file_bytes(tmp_path: Path) -> bytes:
    keras_file = tmp_path / "plain.keras"
    models.build_model("dense-512").save(keras_file)
    return keras_file.read_bytes()


@pytest.mark.parametrize("damage", ["no metadata", "not a zip", "empty file", "truncated", "two metadata", "fifo"])
def test_damaged_files_are_one_warning_and_a_retrain(cache: Path, tmp_path: Path, damage: str) -> None:
    path = entry()
    path.parent.mkdir(parents=True)
    if damage == "no metadata":
        path.write_bytes(good_file_bytes(tmp_path))
    elif damage == "not a zip":
        path.write_bytes(b"not a zip file at all")
    elif damage == "empty file":
        path.write_bytes(b"")
    elif damage == "truncated":
        model_store.load_or_train("dense-512", X, Y, seed=1, train_fn=FakeTrain())
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "two metadata":
        with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
            archive.writestr(INFO, b"{}")
            archive.writestr(INFO, b"{}")
    else:
        os.mkfifo(path)  # opening it to read would block for ever
    train = FakeTrain()
    model, said = load_recording(train)
    assert len(said) == 1 and str(path) in said[0], said
    assert len(train.calls) == 1 and model.count_params() == 407_050
    assert load_recording(train)[1] == [] and len(train.calls) == 1


def test_odd_files_under_other_names_are_passed_over_in_silence(cache: Path, tmp_path: Path) -> None:
    for i, info in enumerate([*ODD_METADATA.values(), None]):
        odd_zip(cache / "models" / f"dense-512-odd{i}.keras", info)
    (cache / "models" / "dense-512-junk.keras").write_bytes(b"junk")
    (cache / "models" / "dense-512-dir.keras").mkdir()
    train = FakeTrain()
    model, said = load_recording(train)
    assert said == [] and len(train.calls) == 1 and model.count_params() == 407_050


def test_key_summaries_survive_keys_of_any_shape() -> None:
    wanted = model_store.cache_key("dense-512", X, Y)
    odd = {"train_data": [1], "recipe": "x", "software": 3, "epochs": "five"}
    assert "was trained on ? images, this run asks for 64" in model_key.differences(odd, wanted)
    assert model_key.differences("not a key", wanted)  # type: ignore[arg-type]
    assert model_key.summary({"train_data": {"images": "many"}}) == "? images, None epoch(s), seed None"


# ---- zip bombs: refused without being unpacked ----


def bomb(path: Path, megabytes: int) -> None:
    """A zip whose metadata unpacks to ``megabytes`` MB of spaces inside ``{}`` (it stays tiny on disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chunk = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(INFO, "w") as member:
        member.write(b"{")
        for _ in range(megabytes):
            member.write(chunk)
        member.write(b"}")


def peak_bytes_of_reading(path: Path) -> tuple[int, str]:
    tracemalloc.start()
    try:
        with pytest.raises(model_store.StaleEntry) as refused:
            model_store.read_info(path)
        return tracemalloc.get_traced_memory()[1], str(refused.value)
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_is_refused_from_its_header_without_unpacking(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = entry()
    bomb(path, 64)
    assert path.stat().st_size < 200_000
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    peak, why = peak_bytes_of_reading(path)
    assert INFO not in opened and peak < 1_000_000
    assert "would unpack to 67,108,866 bytes" in why
    monkeypatch.setattr(zipfile.ZipFile, "open", real_open)
    train = FakeTrain()
    _, said = load_recording(train)
    assert len(said) == 1 and str(path) in said[0] and len(train.calls) == 1


def test_a_zip_bomb_whose_header_lies_is_read_no_further_than_the_cap(cache: Path) -> None:
    path = entry()
    bomb(path, 64)
    data = bytearray(path.read_bytes())
    central = struct.unpack("<I", data[-6:-2])[0]  # the end record: where the central directory starts
    assert data[central : central + 4] == b"PK\x01\x02"
    data[central + 24 : central + 28] = struct.pack("<I", 1000)  # "unpacks to 1,000 bytes"
    path.write_bytes(bytes(data))
    peak, why = peak_bytes_of_reading(path)
    assert peak < 3_000_000 and "could not be read" in why


def test_metadata_just_over_the_size_limit_is_refused(cache: Path) -> None:
    path = entry()
    history = {"loss": [0.123456789] * 90_000}  # about 1.1 MB of honest-looking JSON
    odd_zip(path, json.dumps({"key": GOOD_KEY_SHAPE, "weights_sha256": "0", "history": history}).encode())
    peak, why = peak_bytes_of_reading(path)
    assert "more than 1,000,000" in why and peak < 1_000_000
