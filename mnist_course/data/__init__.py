"""Real MNIST for the course: an offline-first loader with verification, and the preprocessing steps it teaches."""

from mnist_course.data.download import DEFAULT_MIRRORS, Mirror, fetch
from mnist_course.data.errors import (
    MnistCacheError,
    MnistDataError,
    MnistDownloadError,
    MnistFormatError,
    MnistNotFoundError,
)
from mnist_course.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from mnist_course.data.loader import Source, load_arrays, load_mnist, locate
from mnist_course.data.preprocess import (
    NUM_CLASSES,
    add_channel,
    class_ids,
    flatten,
    one_hot,
    scale,
    subset,
    to_model_input,
    train_val_split,
)
from mnist_course.data.verify import ARRAY_SHA256, SHAPES, verify_arrays

__all__ = [
    "ARRAY_SHA256", "DEFAULT_MIRRORS", "NUM_CLASSES", "class_ids", "to_model_input", "IMAGES_MAGIC", "LABELS_MAGIC", "SHAPES", "Mirror", "MnistCacheError",
    "MnistDataError", "MnistDownloadError", "MnistFormatError", "MnistNotFoundError", "Source", "add_channel",
    "fetch", "flatten", "load_arrays", "load_mnist", "locate", "one_hot", "read_idx", "scale", "subset",
    "train_val_split", "verify_arrays",
]
