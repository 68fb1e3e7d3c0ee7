"""The self-checks of notebook 01: the reference solutions pass, each anticipated mistake gets its own hint."""

from __future__ import annotations

import gzip
import re
import struct

import numpy as np
import pytest

from mnist_course.exercises import ExerciseNotSolved
from mnist_course.exercises import lesson01 as check
from mnist_course.exercises.feedback import forget_predictions


@pytest.fixture(autouse=True)
def _real_copy(real_data_dir, monkeypatch):
    """The checks load their own copy of MNIST: point them at the real one."""
    monkeypatch.setenv("MNIST_COURSE_DATA", str(real_data_dir))


def stub(*args):
    raise NotImplementedError("Exercise: write your code here")


# Exercise 1.1 -------------------------------------------------------------------------------------------------------


def idx_file(array):
    """The reference answer: the format written out with struct, independently of the check's own encoder."""
    return struct.pack(f">I{array.ndim}I", 0x0800 + array.ndim, *array.shape) + array.tobytes()


def test_to_idx_accepts_the_solution_and_names_the_magic_numbers():
    feedback = check.to_idx(idx_file)
    assert feedback.ok and feedback.message.startswith("correct. The magic numbers 0x00000801, 0x00000802")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert "0x00000804" in feedback.message and "read_idx reads each file back" in feedback.message
    assert repr(feedback).startswith("✅ Exercise 1.1: correct.")
    assert check.to_idx(lambda a: bytearray(idx_file(a))).ok  # a bytearray is bytes enough


def test_the_reference_answer_matches_the_official_label_file(real_arrays, real_data_dir):
    """The format the check asks for is MNIST's own: the reference gives the official test label file, byte for byte."""
    with gzip.open(real_data_dir / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        official = f.read()
    assert idx_file(real_arrays["y_test"]) == official and official[:4] == bytes([0, 0, 8, 1])


def _header(array, magic, order=">"):
    return struct.pack(f"{order}I{array.ndim}I", magic, *array.shape)


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda a: _header(a, 2051) + a.tobytes(), "says 3 dimensions; this array has 1"),
        (lambda a: _header(a, 0x0800 + a.ndim, "<") + a.tobytes(), "the header is little-endian"),
        (
            lambda a: struct.pack("<I", 0x0800 + a.ndim) + _header(a, 0)[4:] + a.tobytes(),
            "the magic number is little-endian",
        ),
        (lambda a: _header(a, a.ndim) + a.tobytes(), "then 08 (unsigned bytes)"),
        (lambda a: struct.pack(">4I", 0x0800 + a.ndim, *a.shape, *[0] * (3 - a.ndim)) + a.tobytes(), "a header of 16"),
        (lambda a: struct.pack(">I", 0x0800 + a.ndim) + a.tobytes(), "a header of 4 bytes"),
        (lambda a: a.tobytes(), "a header of 0 bytes"),
        (lambda a: _header(a, 0x0800 + a.ndim) + a.astype(np.int64).tobytes(), "8 bytes per value"),
        (lambda a: _header(a, 0x0800 + a.ndim) + a.tobytes(order="F"), "column-major order"),
        (lambda a: _header(a, 0x0800 + a.ndim), "only the header"),
        (lambda a: _header(a, 0x0800 + a.ndim) + bytes(a.size), "the values after it are not"),
        (
            lambda a: struct.pack(f">I{a.ndim}I", 0x0800 + a.ndim, *a.shape[::-1]) + a.tobytes(),
            "the dimensions are reversed",
        ),
        (lambda a: gzip.compress(idx_file(a)), "gzip-compressed"),
        (lambda a: idx_file(a).hex(), "that is text"),
        (lambda a: np.frombuffer(idx_file(a), np.uint8), "yours is a ndarray"),
        (lambda a: idx_file(a) + b"\0", "the IDX file of shape (7,) has 15"),
        (lambda a: None, "forget `return`"),
    ],
)
def test_to_idx_mistakes_get_their_hint(answer, phrase):
    feedback = check.to_idx(answer)
    assert not feedback.ok and feedback.message.startswith("not yet.")
    assert phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_to_idx_refuses_an_answer_that_changes_the_array():
    def in_place(array):
        result = idx_file(array)
        array[...] = 0
        return result

    assert "changed the array it was given" in check.to_idx(in_place).message


def test_to_idx_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.to_idx(stub)


# Exercise 1.2 -------------------------------------------------------------------------------------------------------


def mean_ink(x, y):
    return np.array([x[y == digit].mean() for digit in range(10)])


def test_mean_ink_per_digit_accepts_the_solution_and_names_the_extremes(real_arrays):
    x, y = real_arrays["x_train"], real_arrays["y_train"]
    means = np.array([x[y == d].mean() for d in range(10)])
    feedback = check.mean_ink_per_digit(mean_ink)
    assert feedback.ok and feedback.message.startswith("correct.")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert f"Digit {means.argmax()} uses the most ink" in feedback.message
    assert f"digit {means.argmin()} the least" in feedback.message


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (lambda x, y: np.array([x[y == d].mean(axis=0) for d in range(10)]), "average image of each digit"),
        (lambda x, y: np.bincount(y, minlength=10), "these are the label counts"),
        (lambda x, y: np.full(10, x.mean()), "all ten values are equal"),
        (lambda x, y: mean_ink(x, y) / 255, "[0, 1] scale"),
        (lambda x, y: np.array([x[y == d].sum() for d in range(10)]), "you summed the pixels"),
        (lambda x, y: np.array([x[y == d].sum(axis=(1, 2)).mean() for d in range(10)]), "you summed the pixels"),
        (lambda x, y: np.bincount(y, weights=x.mean(axis=(1, 2))) / len(y), "divided by the number of all images"),
        (lambda x, y: mean_ink(x, y)[:9], "expected 10 numbers"),
        (lambda x, y: mean_ink(x, y)[::-1], "(mean of all pixels of all its images)"),
    ],
)
def test_mean_ink_per_digit_mistakes_get_their_hint(answer, phrase):
    feedback = check.mean_ink_per_digit(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_mean_ink_per_digit_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.mean_ink_per_digit(stub)


# Exercise 1.3 -------------------------------------------------------------------------------------------------------

# The decompressed sizes of t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, from the format: 16 + 10000 * 28 * 28
# and 8 + 10000 (literals, not computed by the code under test).
IMAGES_BYTES, LABELS_BYTES = 7_840_016, 10_008


@pytest.fixture(scope="module")
def test_files(real_data_dir):
    return real_data_dir / "t10k-images-idx3-ubyte.gz", real_data_dir / "t10k-labels-idx1-ubyte.gz"


TRUTH = "The image file has 7,840,016 = 16 + 10,000 x 28 x 28 bytes, the label file 10,008 = 8 + 10,000"
CHANGED = "You changed your prediction after this check first ran"


def test_predicted_sizes_a_right_prediction_held_and_explains_it(test_files):
    feedback = check.predicted_sizes(lambda: (16 + 10000 * 28 * 28, 8 + 10000), *test_files)
    assert feedback.ok and feedback.message.startswith(f"prediction recorded; your prediction held. {TRUTH}")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert "lets you know a file's size before you open it" in feedback.message
    assert "did not hold" not in feedback.message and CHANGED not in feedback.message
    assert repr(feedback).startswith("✅ Exercise 1.3: prediction recorded; your prediction held.")


@pytest.mark.parametrize("answer", [[np.int64(IMAGES_BYTES), LABELS_BYTES], (float(IMAGES_BYTES), np.uint32(10_008))])
def test_predicted_sizes_takes_any_two_whole_numbers(answer, test_files):
    feedback = check.predicted_sizes(lambda: answer, *test_files)
    assert feedback.ok and feedback.message.startswith("prediction recorded; your prediction held."), feedback


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ((IMAGES_BYTES - 16, LABELS_BYTES), "image file: 7,840,000 counts the data only"),
        ((IMAGES_BYTES, LABELS_BYTES - 8), "label file: 10,000 counts the data only"),
        ((IMAGES_BYTES, LABELS_BYTES + 8), "a 16-byte header belongs to a file with three dimensions"),
        ((IMAGES_BYTES - 8, LABELS_BYTES), "an 8-byte header belongs to a file with one dimension"),
        ((16 + 60000 * 784, LABELS_BYTES), "that is the training file's count"),
        ((IMAGES_BYTES, 60_008), "that is the training file's count"),
        ((16 + 4 * 10000 * 784, LABELS_BYTES), "one byte per value, not four"),
        ((IMAGES_BYTES + 1, LABELS_BYTES), "the file has 7,840,016"),
    ],
)
def test_predicted_sizes_a_wrong_prediction_earns_the_point_and_says_what_it_left_out(answer, phrase, test_files):
    feedback = check.predicted_sizes(lambda: answer, *test_files)
    assert feedback.ok and feedback.message.startswith(f"prediction recorded; your prediction did not hold. {TRUTH}")
    assert phrase in feedback.message, feedback.message
    assert feedback.raise_if_wrong() is feedback  # the check cell shows ✅: the point is for the prediction
    assert "again" not in feedback.message and "new prediction" not in feedback.message


def test_predicted_sizes_names_the_part_that_held(test_files):
    feedback = check.predicted_sizes(lambda: (IMAGES_BYTES - 16, LABELS_BYTES), *test_files)
    assert feedback.message.endswith("so 16 more bytes. label file: 10,008 held."), feedback.message
    forget_predictions()
    both = check.predicted_sizes(lambda: (IMAGES_BYTES - 16, LABELS_BYTES - 8), *test_files).message
    assert "image file: 7,840,000 counts the data only" in both and "label file: 10,000 counts the data only" in both
    assert " held." not in both


def test_predicted_sizes_recognises_the_compressed_size_on_disk(test_files):
    on_disk = test_files[0].stat().st_size
    feedback = check.predicted_sizes(lambda: (on_disk, LABELS_BYTES), *test_files)
    assert feedback.ok and "your prediction did not hold" in feedback.message
    assert "size of the .gz file on disk" in feedback.message


def test_predicted_sizes_evaluates_the_first_prediction_it_checked(test_files):
    """Running the check, reading the sizes and predicting again changes nothing: the first prediction counts."""
    first = check.predicted_sizes(lambda: (IMAGES_BYTES - 16, LABELS_BYTES), *test_files)
    assert first.ok and "did not hold" in first.message and CHANGED not in first.message
    again = check.predicted_sizes(lambda: (IMAGES_BYTES, LABELS_BYTES), *test_files)
    assert again.ok and again.message.startswith("prediction recorded; your prediction did not hold.")
    assert "image file: 7,840,000 counts the data only" in again.message and CHANGED in again.message
    same = check.predicted_sizes(lambda: [np.int64(IMAGES_BYTES - 16), LABELS_BYTES], *test_files)
    assert same.message == first.message  # the same numbers again: no change to note


def test_predicted_sizes_a_right_first_prediction_stays_held(test_files):
    assert "your prediction held" in check.predicted_sizes(lambda: (IMAGES_BYTES, LABELS_BYTES), *test_files).message
    later = check.predicted_sizes(lambda: (1, 2), *test_files)
    assert later.ok and later.message.startswith("prediction recorded; your prediction held.")
    assert CHANGED in later.message


@pytest.mark.parametrize(
    "answer, phrase",
    [
        ((LABELS_BYTES, IMAGES_BYTES), "your two numbers are swapped"),
        (IMAGES_BYTES, "return two whole numbers"),
        ((IMAGES_BYTES, LABELS_BYTES, 0), "return two whole numbers"),
        (("7840016", LABELS_BYTES), "return two whole numbers"),
        ((IMAGES_BYTES + 0.5, LABELS_BYTES), "return two whole numbers"),
        ((True, LABELS_BYTES), "return two whole numbers"),
        ("78", "return two whole numbers"),
        (None, "did you forget `return`?"),
    ],
)
def test_predicted_sizes_an_answer_that_is_not_a_prediction_gets_its_hint(answer, phrase, test_files):
    feedback = check.predicted_sizes(lambda: answer, *test_files)
    assert not feedback.ok and feedback.message.startswith("not yet."), feedback.message
    assert phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()
    # nothing was committed: a well-formed prediction afterwards is the one that counts
    right_after = check.predicted_sizes(lambda: (IMAGES_BYTES, LABELS_BYTES), *test_files)
    assert right_after.ok and "your prediction held" in right_after.message and CHANGED not in right_after.message


def test_predicted_sizes_lets_the_stub_error_through(test_files):
    with pytest.raises(NotImplementedError, match="^Exercise: write your code here$"):
        check.predicted_sizes(stub, *test_files)


# Exercise 1.4 -------------------------------------------------------------------------------------------------------


def nearest(images, image):
    return int(np.abs(images.astype(np.int16) - image.astype(np.int16)).sum(axis=(1, 2)).argmin())


def the_blog_post(images, image):  # the exercise's snippet
    distances = np.abs(images - image).sum(axis=(1, 2))
    return int(distances.argmin())


def test_the_exercise_premise_holds(real_arrays):
    """The snippet finds an image of the set itself, and for most test digits another image than the nearest."""
    images, tests = real_arrays["x_train"][:2000], real_arrays["x_test"][:20]
    assert all(the_blog_post(images, images[i]) == i for i in range(0, 2000, 97))
    assert sum(the_blog_post(images, t) != nearest(images, t) for t in tests) > 10


def test_nearest_image_accepts_the_solution_and_reports_the_real_digits(real_arrays):
    images, labels = real_arrays["x_train"][:2000], real_arrays["y_train"][:2000]
    tests, test_labels = real_arrays["x_test"][:20], real_arrays["y_test"][:20]
    right_labels = sum(int(labels[nearest(images, t)] == y) for t, y in zip(tests, test_labels))
    agree = sum(the_blog_post(images, t) == nearest(images, t) for t in tests)
    feedback = check.nearest_image(nearest)
    assert feedback.ok and feedback.message.startswith("correct. Among the first 2,000 training images")
    assert feedback.raise_if_wrong() is feedback  # a check cell shows it
    assert f"found the same image for only {agree} of them" in feedback.message
    assert f"{right_labels} of these 20 right" in feedback.message
    as_float = lambda images, image: np.abs(images.astype("float32") - image).sum(axis=(1, 2)).argmin()  # noqa: E731
    assert check.nearest_image(as_float).ok  # a NumPy integer is an index too


@pytest.mark.parametrize(
    "answer, phrase",
    [
        (the_blog_post, "images - image is computed in uint8, which wraps around"),
        (lambda images, image: int(np.abs(image - images).sum(axis=(1, 2)).argmin()), "image - images wraps around"),
        (
            lambda images, image: int(np.abs(images.astype(np.int8) - image.astype(np.int8)).sum(axis=(1, 2)).argmin()),
            "int8 holds -128..127",
        ),
        (
            lambda images, image: int(np.abs(images.astype(np.uint16) - image).sum(axis=(1, 2)).argmin()),
            "an unsigned type wraps around below 0",
        ),
        (
            lambda images, image: int(((images.astype(np.int32) - image) ** 2).sum(axis=(1, 2)).argmin()),
            "you changed the distance",
        ),
        (
            lambda images, image: int(np.abs(images.astype(np.int32) - image).sum(axis=(1, 2)).argmax()),
            "argmax picks the farthest image",
        ),
        (
            lambda images, image: np.abs(images.astype(np.int32) - image).sum(axis=(1, 2)),
            "you returned all the distances",
        ),
        (lambda images, image: 0, "on test digit 0 you picked image 0, the nearest is image"),
        (lambda images, image: len(images), "is not an image of the"),
        (lambda images, image: "0", "return one index, a whole number"),
        (lambda images, image: None, "forget `return`"),
    ],
)
def test_nearest_image_mistakes_get_their_hint(answer, phrase):
    feedback = check.nearest_image(answer)
    assert not feedback.ok and phrase in feedback.message, feedback.message
    with pytest.raises(ExerciseNotSolved, match=re.escape(phrase)):  # what a check cell raises
        feedback.raise_if_wrong()


def test_nearest_image_refuses_an_answer_that_changes_the_images():
    def in_place(images, image):
        images -= image  # uint8, in the caller's array
        return int(images.sum(axis=(1, 2)).argmin())

    assert "changed the arrays it was given" in check.nearest_image(in_place).message


def test_nearest_image_lets_the_stub_error_through():
    with pytest.raises(NotImplementedError):
        check.nearest_image(stub)
