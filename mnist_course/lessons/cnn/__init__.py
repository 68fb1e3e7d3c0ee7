"""Notebook 05 (CNNs): model selection on a validation split (``selection``), the registry models over seeds
(``registry``), their shipped results files (``results``, read back by ``load``)."""

from mnist_course.lessons.cnn.load import load_results
from mnist_course.lessons.cnn.registry import MODELS_FILE, accuracy_range, accuracy_text, dense_rows, run_models
from mnist_course.lessons.cnn.results import save_results
from mnist_course.lessons.cnn.selection import (
    COURSE_EPOCHS,
    RULE,
    SELECTION_FILE,
    VALIDATION_IMAGES,
    one_se_choice,
    run_selection,
    selection_table,
)

__all__ = [
    "COURSE_EPOCHS",
    "MODELS_FILE",
    "RULE",
    "SELECTION_FILE",
    "VALIDATION_IMAGES",
    "accuracy_range",
    "accuracy_text",
    "dense_rows",
    "load_results",
    "one_se_choice",
    "run_models",
    "run_selection",
    "save_results",
    "selection_table",
]
