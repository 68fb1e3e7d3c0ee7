"""What real MNIST is (shapes, dtypes, per-array sha256) and the check that a copy is exactly that."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from mnist_course.data.errors import MnistFormatError

SPLITS = ("x_train", "y_train", "x_test", "y_test")

SHAPES: dict[str, tuple[int, ...]] = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}

# sha256 of each array's raw bytes (uint8, C order): the same for every faithful copy, whatever file holds it.
ARRAY_SHA256: dict[str, str] = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}

# sha256 of the distributed files, for downloads.
KERAS_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_FILES: dict[str, tuple[str, str]] = {  # array name -> (file name, sha256 of the .gz)
    "x_train": ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "y_train": ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "x_test": ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "y_test": ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}


def array_sha256(array: np.ndarray) -> str:
    """sha256 of an array's raw bytes in C order."""
    return hashlib.sha256(np.ascontiguousarray(array).data).hexdigest()


def _as_uint8(name: str, array: np.ndarray, source: str | Path) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.integer):
        raise MnistFormatError(
            f"{name} has dtype {array.dtype}; MNIST stores uint8 pixels 0..255 and labels 0..9 "
            "(was this copy already scaled or one-hot encoded?)",
            source,
        )
    converted = array.astype(np.uint8)
    if not np.array_equal(converted, array):
        raise MnistFormatError(f"{name} holds values outside 0..255", source)
    return converted  # another tool saved the same numbers in a wider integer type: lossless


def verify_arrays(arrays: dict[str, np.ndarray], source: str | Path, check_hash: bool = True) -> dict[str, np.ndarray]:
    """Check keys, shapes, dtypes, label range and (by default) content hashes; return the arrays as uint8.

    Raises :class:`MnistFormatError` naming ``source`` and the first check that failed.
    """
    missing = [k for k in SPLITS if k not in arrays]
    if missing:
        raise MnistFormatError(f"missing arrays {missing} (expected keys {list(SPLITS)})", source)
    checked: dict[str, np.ndarray] = {}
    for name in SPLITS:
        array = np.asarray(arrays[name])
        if array.shape != SHAPES[name]:
            raise MnistFormatError(f"{name} has shape {array.shape}, expected {SHAPES[name]}", source)
        checked[name] = _as_uint8(name, array, source)
    for name in ("y_train", "y_test"):
        top = int(checked[name].max())
        if top > 9:
            raise MnistFormatError(f"{name} holds label {top}; MNIST labels are 0..9", source)
    if check_hash:
        for name in SPLITS:
            digest = array_sha256(checked[name])
            if digest != ARRAY_SHA256[name]:
                raise MnistFormatError(
                    f"{name} differs from the official MNIST (sha256 {digest[:12]}..., expected "
                    f"{ARRAY_SHA256[name][:12]}...): a modified, reordered or partial copy",
                    source,
                )
    return checked
