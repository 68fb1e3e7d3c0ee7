"""The self-checks of notebook 02: the reference solutions pass, each anticipated mistake gets its own hint."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson02 as check


@pytest.fixture(autouse=True)
def _real_copy(real_data_dir, monkeypatch):
    """The checks load their own copy of MNIST: point them at the real one."""
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))


def stub(*args):
    raise NotImplementedError("Exercise: write your code here")


# Exercise 2.1 -------------------------------------------------------------------------------------------------------

# x_test[:100].reshape(-1, 28, 28, 1) / 255: NumPy's float64, 100 * 784 values of 8 bytes (literals).
SHAPE, NBYTES = (100, 28, 28, 1), 627_200


TRUTH = (
    "NumPy gives (100, 28, 28, 1), float64, 627,200 bytes: 8 bytes for each of the 78,400 values, 8 times the uint8 "
    "images. Converting first, x.astype('float32') / 255, halves that."
)
CHANGED = "You changed your prediction after this check first ran"


def test_predicted_input_a_right_prediction_held_and_explains_it():
    feedback = check.predicted_input(lambda: (SHAPE, "float64", NBYTES))
    assert feedback.ok and feedback.message == f"prediction recorded; your prediction held. {TRUTH}"
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert repr(feedback).startswith("✅ Exercise 2.1: prediction recorded; your prediction held.")


@pytest.mark.parametrize(
    "answer",
    [
        ([100, 28, 28, 1], np.float64, np.int64(NBYTES)),
        (SHAPE, np.dtype("float64"), 100 * 784 * 8),
        ((np.int64(100), 28.0, 28, 1), float, NBYTES),  # Python's float is NumPy's float64
    ],
)
def test_predicted_input_takes_any_spelling_of_the_parts(answer):
    feedback = check.predicted_input(lambda: answer)
    assert feedback.ok and feedback.message.startswith("prediction recorded; your prediction held."), feedback


@pytest.mark.parametrize(
    "answer, phrases",
    [
        (
            (SHAPE, "float32", NBYTES // 2),
            ["shape: (100, 28, 28, 1) held.", "`/ 255` on uint8 gives float64", "counts 4 bytes per value"],
        ),
        ((SHAPE, "float64", NBYTES // 2), ["dtype: float64 held.", "counts 4 bytes per value"]),
        ((SHAPE, "float64", NBYTES // 8), ["counts 1 byte per value"]),
        ((SHAPE, "float64", NBYTES + 1), ["nbytes = number of values x bytes per value", "78,400 x 8 = 627,200"]),
        (((-1, 28, 28, 1), "float64", NBYTES), ["-1 is not kept in the shape", "nbytes: 627,200 held."]),
        (((100, 784), "float64", NBYTES), ["shape: (100, 784) did not hold", "gives 4 axes"]),
        (((100, 28, 28), "float64", NBYTES), ["gives 4 axes"]),
        (((1, 28, 28, 100), "float64", NBYTES), ["NumPy says (100, 28, 28, 1)"]),
        ((SHAPE, "uint8", NBYTES), ["dtype: uint8 did not hold", "dividing uint8 by 255 gives float64"]),
    ],
)
def test_predicted_input_a_wrong_prediction_earns_the_point_and_says_what_it_left_out(answer, phrases):
    feedback = check.predicted_input(lambda: answer)
    assert feedback.ok and feedback.message.startswith(f"prediction recorded; your prediction did not hold. {TRUTH}")
    for phrase in phrases:
        assert phrase in feedback.message, feedback.message
    assert feedback.raise_if_wrong() is feedback  # the check cell shows ✅: the point is for the prediction
    assert "again" not in feedback.message and CHANGED not in feedback.message


def test_predicted_input_names_every_part_that_did_not_hold():
    message = check.predicted_input(lambda: ((100, 784), "uint8", NBYTES + 1)).message
    parts = ["shape: (100, 784) did not hold", "dtype: uint8 did not hold", "nbytes: 627,201 did not hold"]
    assert [message.index(part) for part in parts] == sorted(message.index(part) for part in parts)
    assert " held." not in message


def test_predicted_input_evaluates_the_first_prediction_it_checked():
    """Running the check, seeing float64 and predicting again changes nothing: the first prediction counts."""
    first = check.predicted_input(lambda: (SHAPE, "float32", NBYTES // 2))
    assert first.ok and "dtype: float32 did not hold" in first.message and CHANGED not in first.message
    again = check.predicted_input(lambda: (SHAPE, "float64", NBYTES))
    assert again.ok and again.message.startswith("prediction recorded; your prediction did not hold.")
    assert "dtype: float32 did not hold" in again.message and CHANGED in again.message
    same = check.predicted_input(lambda: ([100, 28, 28, 1], np.float32, np.int64(NBYTES // 2)))
    assert same.message == first.message  # the same prediction, spelled otherwise: no change to note


def test_predicted_input_a_right_first_prediction_stays_held():
    assert "your prediction held" in check.predicted_input(lambda: (SHAPE, "float64", NBYTES)).message
    later = check.predicted_input(lambda: (SHAPE, "float32", NBYTES // 2))
    assert later.ok and later.message.startswith("prediction recorded; your prediction held.")
    assert CHANGED in later.message and "did not hold" not in later.message


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ((SHAPE, "a float", NBYTES), "the dtype is a name like 'uint8'"),
        ((SHAPE, None, NBYTES), "the dtype is a name like 'uint8'"),  # np.dtype(None) would be float64
        (("100x28x28x1", "float64", NBYTES), "the shape is a tuple of whole numbers"),
        (("1234", "float64", NBYTES), "the shape is a tuple of whole numbers"),
        (((100, 28.5, 28, 1), "float64", NBYTES), "the shape is a tuple of whole numbers"),
        ((100, "float64", NBYTES), "the shape is a tuple of whole numbers"),
        ((SHAPE, "float64", 627.2e3), "one whole number"),
        ((SHAPE, "float64", True), "one whole number"),
        ((SHAPE, "float64"), "return three things"),
        (None, "return three things"),
    ],
)
def test_predicted_input_an_answer_that_is_not_a_prediction_gets_its_hint(answer, phrase):
    feedback = check.predicted_input(lambda: answer)
    assert not feedback.ok and feedback.message.startswith("not yet."), feedback.message
    assert phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()
    # nothing was committed: a well-formed prediction afterwards is the one that counts
    right_after = check.predicted_input(lambda: (SHAPE, "float64", NBYTES))
    assert right_after.ok and "your prediction held" in right_after.message and CHANGED not in right_after.message


def test_predicted_input_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError, match="^Exercise: write your code here$"):
        check.predicted_input(stub)


# Exercise 2.2 -------------------------------------------------------------------------------------------------------


def one_hot_for(labels, classes):
    column = {c: i for i, c in enumerate(classes)}
    rows = np.zeros((len(labels), len(classes)), dtype=np.float32)
    for row, label in enumerate(labels):
        if label not in column:
            raise ValueError(f"label {label} is not one of the classes")
        rows[row, column[label]] = 1
    return rows


def test_one_hot_for_gives_what_a_hand_written_table_says():
    """The reference answer against rows written out by hand: letters 1..26 in columns 0..25, names by position."""
    expected = np.zeros((3, 26), dtype=np.float32)
    expected[0, 0] = expected[1, 25] = expected[2, 4] = 1  # a, z, e
    assert np.array_equal(one_hot_for(np.array([1, 26, 5]), list(range(1, 27))), expected)
    names = one_hot_for(np.array(["dog", "frog"]), ["frog", "cat", "dog", "bird"])
    assert names.tolist() == [[0, 0, 1, 0], [1, 0, 0, 0]]


def test_one_hot_for_accepts_the_solution_and_others():
    feedback = check.one_hot_for(one_hot_for)
    assert feedback.ok and feedback.message.startswith("correct. A label's column is its position in classes")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    by_index = lambda labels, classes: np.eye(len(classes), dtype="float32")[[classes.index(x) for x in labels]]  # noqa: E731
    assert check.one_hot_for(by_index).ok  # list.index raises ValueError naming the missing label


def _eye(columns, width, dtype="float32"):
    return np.eye(width, dtype=dtype)[columns]


def _sorted_columns(labels, classes):
    return _eye([sorted(classes).index(x) for x in labels], len(classes))


def _zero_row_for_unknown(labels, classes):
    rows = np.zeros((len(labels), len(classes)), dtype=np.float32)
    for row, label in enumerate(labels):
        if label in classes:
            rows[row, list(classes).index(label)] = 1
    return rows


def _key_error(labels, classes):
    column = {c: i for i, c in enumerate(classes)}
    return _eye([column[x] for x in labels], len(classes))


def _silent_ValueError(labels, classes):  # noqa: N802
    if any(x not in classes for x in labels):
        raise ValueError("a label is not one of the classes")
    return one_hot_for(labels, classes)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda labels, classes: _eye(labels, len(classes)), "label 26 has no column 26"),
        (lambda labels, classes: _eye(labels, int(labels.max()) + 1), "27 columns, np.eye(max + 1)"),
        (
            lambda labels, classes: _eye(np.unique(labels, return_inverse=True)[1], len(np.unique(labels))),
            "one per label present in the batch",
        ),
        (lambda labels, classes: _eye(np.searchsorted(classes, labels), len(classes)), "np.searchsorted assumes"),
        (_sorted_columns, "your columns follow the classes sorted"),
        (lambda labels, classes: _eye(labels - 1, len(classes)), "0..9: IndexError (index 255 is out of bounds"),
        (lambda labels, classes: one_hot_for(labels, classes)[:, ::-1], "belongs in column"),
        (lambda labels, classes: one_hot_for(labels, classes).T, "is transposed"),
        (lambda labels, classes: one_hot_for(labels, classes).astype(np.float64), "dtype float64"),
        (lambda labels, classes: one_hot_for(labels, classes) * 2, "zeros and a single 1"),
        (lambda labels, classes: one_hot_for(labels, classes)[:, :-1], "expected shape (100, 10)"),
        (lambda labels, classes: labels, "these are still labels"),
        (_zero_row_for_unknown, "became a row of zeros, silently"),
        (
            lambda labels, classes: _eye([list(classes).index(x) if x in classes else 0 for x in labels], len(classes)),
            "yet no error",
        ),
        (_key_error, "an unknown label raised KeyError"),
        (_silent_ValueError, "must name the label that is not a class"),
        (lambda labels, classes: None, "forget `return`"),
    ],
)
def test_one_hot_for_mistakes_get_their_hint(answer, phrase):
    feedback = check.one_hot_for(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_one_hot_for_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.one_hot_for(stub)


# Exercise 2.3 -------------------------------------------------------------------------------------------------------


def standardize(x_train, x_other):
    x_train = x_train.astype("float32")
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, (x_other.astype("float32") - mean) / std


def _with(mean_std):
    """A standardize that takes its statistics from ``mean_std(x_train, x_other)`` for the other set."""

    def answer(x_train, x_other):
        train, _ = standardize(x_train, x_other)
        mean, std = mean_std(x_train.astype(np.float64), x_other.astype(np.float64))
        return train, ((x_other - mean) / std).astype("float32")

    return answer


def _both(mean_std):
    """A standardize that uses ``mean_std(x_train, x_other)`` for both sets."""

    def answer(x_train, x_other):
        mean, std = mean_std(x_train.astype(np.float64), x_other.astype(np.float64))
        return ((x_train - mean) / std).astype("float32"), ((x_other - mean) / std).astype("float32")

    return answer


def _pooled(a, b):
    both = np.concatenate([a.ravel(), b.ravel()])
    return both.mean(), both.std()


def _modifies_input(x_train, x_other):
    result = standardize(x_train, x_other)
    x_other[:] = 0
    return result


def test_standardize_accepts_the_solution_and_says_the_test_set_is_not_centred(real_arrays):
    x_train, x_test = real_arrays["x_train"][:1000].astype(np.float64), real_arrays["x_test"][:1000]
    test_mean = (x_test - x_train.mean()) / x_train.std()
    feedback = check.standardize(standardize)
    assert feedback.ok and feedback.message.startswith("correct. The first 1000 training images get mean 0 and std 1")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert f"mean {test_mean.mean():.3f}" in feedback.message


def test_standardize_accepts_the_sample_standard_deviation():
    assert check.standardize(_both(lambda a, b: (a.mean(), a.std(ddof=1)))).ok


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (_with(lambda a, b: (b.mean(), b.std())), "x_other was standardized with its own mean and standard deviation"),
        (_both(_pooled), "statistics of x_train and x_other together"),
        (_with(_pooled), "statistics of x_train and x_other together"),
        (_both(lambda a, b: (a.mean(), 1.0)), "did not divide by the standard deviation"),
        (_both(lambda a, b: (a.mean(), a.var())), "you divided by the variance"),
        (_both(lambda a, b: (0.0, 255.0)), "that is scaling to [0, 1], not standardizing"),
        (
            _both(lambda a, b: (a.mean(axis=0), a.std(axis=0))),
            "mean and std per pixel (axis=0), the always-blank border",
        ),
        (lambda a, b: tuple(s.astype(np.float64) for s in standardize(a, b)), "return float32"),
        (lambda a, b: standardize(a, b)[1], "return two arrays"),
        (lambda a, b: standardize(a, b)[::-1], "the two arrays come back swapped"),
        (
            lambda a, b: (standardize(a, b)[0].reshape(len(a), 784), standardize(a, b)[1]),
            "keeps the shape of its input",
        ),
        (_modifies_input, "changed the arrays it was given"),
        (_both(lambda a, b: (a.mean(), a.std() * 2)), "(x_train - mean) / std, with one mean"),
        (_with(lambda a, b: (a.mean(), a.std() * 2)), "x_other must be transformed with x_train's mean"),
    ],
)
def test_standardize_mistakes_get_their_hint(answer, phrase):
    with np.errstate(divide="ignore", invalid="ignore"):
        feedback = check.standardize(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_standardize_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.standardize(stub)


# Exercise 2.4 -------------------------------------------------------------------------------------------------------


def split_and_scale(x, y, val_size, seed):
    x = x.astype("float32") / 255
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:val_size], order[val_size:]
    return (x[train], y[train]), (x[val], y[val])


def the_broken_one(x, y, val_size, seed):  # the exercise's snippet
    x = x.astype("float32") / 255
    order = np.random.default_rng(seed).permutation(len(x))
    x_val, y_val = x[order[:val_size]], y[order[:val_size]]
    x_train, y_train = x, y
    return (x_train / 255, y_train), (x_val / 255, y_val)


def scaled_twice(x, y, val_size, seed):
    (x_tr, y_tr), (x_val, y_val) = split_and_scale(x, y, val_size, seed)
    return (x_tr / 255, y_tr), (x_val / 255, y_val)


def two_permutations(x, y, val_size, seed):
    x = x.astype("float32") / 255
    rng = np.random.default_rng(seed)
    val, train = rng.permutation(len(x))[:val_size], rng.permutation(len(x))[val_size:]
    return (x[train], y[train]), (x[val], y[val])


def labels_not_shuffled(x, y, val_size, seed):
    x = x.astype("float32") / 255
    order = np.random.default_rng(seed).permutation(len(x))
    return (x[order[val_size:]], y[val_size:]), (x[order[:val_size]], y[:val_size])


def in_place(x, y, val_size, seed):
    x[:, 0, 0] = 0  # changes the caller's array
    return split_and_scale(x, y, val_size, seed)


def test_split_and_scale_accepts_the_solution():
    feedback = check.split_and_scale(split_and_scale)
    assert feedback.ok and feedback.message.startswith("correct. 240 training and 60 validation images, none in both")
    assert feedback.raise_if_wrong() is feedback

    # scaling after the split is just as right
    def after(x, y, val_size, seed):
        order = np.random.default_rng(seed).permutation(len(x))
        part = lambda idx: (x[idx].astype("float32") / 255, y[idx])  # noqa: E731
        return part(order[val_size:]), part(order[:val_size])

    assert check.split_and_scale(after).ok


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (the_broken_one, "the training part still has all 300 images"),
        (scaled_twice, "divided by 255 twice"),
        (two_permutations, "images are in both parts"),
        (labels_not_shuffled, "the labels no longer go with their images"),
        (lambda x, y, n, seed: split_and_scale(x, y, n, 0), "another seed gave the same split"),
        (lambda x, y, n, seed: split_and_scale(x, y, n, np.random.randint(2**30)), "the same seed gave another split"),
        (lambda x, y, n, seed: split_and_scale(x, y, n + 1, seed), "asked for val_size=60"),
        (
            lambda x, y, n, seed: [(a.astype("float64"), b) for a, b in split_and_scale(x, y, n, seed)],
            "the images should be float32",
        ),
        (
            lambda x, y, n, seed: [(a.astype("float32") * 255, b) for a, b in split_and_scale(x, y, n, seed)],
            "pixels go up to 255",
        ),
        (lambda x, y, n, seed: split_and_scale(x, y, n, seed)[0], "return ((x_train, y_train), (x_val, y_val))"),
        (in_place, "your function changed the arrays it was given"),
    ],
)
def test_split_and_scale_mistakes_get_their_hint(answer, phrase):
    feedback = check.split_and_scale(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):
        feedback.raise_if_wrong()


def test_split_and_scale_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.split_and_scale(stub)
