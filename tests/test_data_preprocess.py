"""The preprocessing helpers and the IDX reader, on real MNIST and on hand-built bytes."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_course.data import add_channel, flatten, one_hot, read_idx, scale, subset, train_val_split
from mnist_course.data.errors import MnistFormatError
from mnist_course.data.readers import parse_idx


def test_flatten_keeps_rows_in_reading_order(real_arrays):
    x = real_arrays["x_train"][:5]
    flat = flatten(x)
    assert flat.shape == (5, 784)
    np.testing.assert_array_equal(flat[2, 28:56], x[2, 1])  # the second row of pixels is entries 28..55


def test_scale_to_float32_unit_range_and_refuses_double_scaling(real_arrays):
    scaled = scale(real_arrays["x_test"])
    assert scaled.dtype == np.float32 and scaled.min() == 0.0 and scaled.max() == 1.0
    assert scaled[0, 7, 7] == pytest.approx(real_arrays["x_test"][0, 7, 7] / 255)
    with pytest.raises(TypeError, match="scaled already"):
        scale(scaled)


def test_add_channel_and_one_hot(real_arrays):
    assert add_channel(real_arrays["x_test"][:3]).shape == (3, 28, 28, 1)
    with pytest.raises(ValueError, match="expects"):
        add_channel(np.zeros((3, 784)))
    encoded = one_hot(real_arrays["y_train"][:10])
    assert encoded.shape == (10, 10) and encoded.dtype == np.float32
    assert encoded.argmax(axis=1).tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert encoded.sum(axis=1).tolist() == [1.0] * 10
    with pytest.raises(ValueError, match="already one-hot"):
        one_hot(encoded)


def test_subset_is_stratified_seeded_and_ordered(real_arrays):
    x, y = real_arrays["x_train"], real_arrays["y_train"]
    xs, ys = subset(x, y, 1000, seed=3)
    assert len(ys) == 1000
    expected = np.bincount(y) / len(y) * 1000
    assert np.all(np.abs(np.bincount(ys) - expected) < 1)
    xs2, ys2 = subset(x, y, 1000, seed=3)
    np.testing.assert_array_equal(xs, xs2)
    _, ys3 = subset(x, y, 1000, seed=4)
    assert not np.array_equal(ys, ys3)
    # kept in original order: each sampled image is found at increasing positions of the full set
    positions = [int(np.flatnonzero((x == img).all(axis=(1, 2)))[0]) for img in xs[:20]]
    assert positions == sorted(positions)
    with pytest.raises(ValueError, match="between 1 and 60000"):
        subset(x, y, 0)


def test_train_val_split_is_disjoint_stratified_and_seeded(real_arrays):
    y = real_arrays["y_train"]
    index = np.arange(len(y))
    (i_tr, y_tr), (i_val, y_val) = train_val_split(index, y, val_size=5000, seed=0)
    assert len(i_val) == 5000 and len(i_tr) == 55000
    assert not set(i_tr.tolist()) & set(i_val.tolist())
    assert np.all(np.abs(np.bincount(y_val) - np.bincount(y) / 12) < 1)
    (_, _), (i_val2, _) = train_val_split(index, y, val_size=0.1, seed=1)
    assert len(i_val2) == 6000 and not np.array_equal(np.sort(i_val2)[:5000], np.sort(i_val))
    np.testing.assert_array_equal(y[i_val], y_val)


def idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload


def test_parse_idx_by_hand():
    array = parse_idx(idx_bytes(2051, (2, 2, 3), bytes(range(12))), "hand-made", expected_magic=2051)
    assert array.shape == (2, 2, 3) and array[1, 1, 2] == 11
    with pytest.raises(MnistFormatError, match="wrong IDX magic number 2051"):
        parse_idx(idx_bytes(2051, (2, 2, 3), bytes(12)), "x", expected_magic=2049)
    with pytest.raises(MnistFormatError, match=r"header says \(5,\) = 5 bytes of data, file holds 4"):
        parse_idx(idx_bytes(2049, (5,), bytes(4)), "x")
    with pytest.raises(MnistFormatError, match="not an unsigned-byte IDX"):
        parse_idx(idx_bytes(0x0D03, (1, 1, 1), bytes(4)), "x")


def test_read_idx_on_the_real_files(real_data_dir, real_arrays):
    images = read_idx(real_data_dir / "t10k-images-idx3-ubyte.gz", 2051)
    labels = read_idx(real_data_dir / "t10k-labels-idx1-ubyte.gz", 2049)
    np.testing.assert_array_equal(images, real_arrays["x_test"])
    np.testing.assert_array_equal(labels, real_arrays["y_test"])
