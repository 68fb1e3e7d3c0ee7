"""Real MNIST for the course: an offline-first loader with verification, and the preprocessing steps it teaches.

One job per module: ``readers`` (IDX and npz files), ``verify`` (what real MNIST is), ``sources`` (where to look),
``cache`` (storing a verified copy), ``download`` (mirrors through pooch); only ``loader`` composes them.
"""

from mnist_course.data.download import DEFAULT_MIRRORS, Mirror
from mnist_course.data.errors import (
    MnistCacheError,
    MnistDataError,
    MnistDownloadError,
    MnistFormatError,
    MnistNotFoundError,
    MnistReadError,
)
from mnist_course.data.loader import CacheUpdate, fetch, idx_file_path, load_arrays, load_mnist, update_cache
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
from mnist_course.data.readers import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from mnist_course.data.sources import Source, locate
from mnist_course.data.verify import ARRAY_SHA256, SHAPES, array_sha256, verify_arrays

__all__ = [
    "ARRAY_SHA256",
    "CacheUpdate",
    "DEFAULT_MIRRORS",
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "Mirror",
    "MnistCacheError",
    "MnistDataError",
    "MnistDownloadError",
    "MnistFormatError",
    "MnistNotFoundError",
    "MnistReadError",
    "NUM_CLASSES",
    "SHAPES",
    "Source",
    "add_channel",
    "array_sha256",
    "class_ids",
    "fetch",
    "flatten",
    "idx_file_path",
    "load_arrays",
    "load_mnist",
    "locate",
    "one_hot",
    "read_idx",
    "scale",
    "subset",
    "to_model_input",
    "train_val_split",
    "update_cache",
    "verify_arrays",
]
