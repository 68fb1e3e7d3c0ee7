"""Notebook 05 (CNNs): model selection on a validation split (``selection``), the registry models over seeds
(``registry``), their shipped results files (``results``, read back by ``load``)."""

from mnist_course.lessons.cnn.load import load_results
from mnist_course.lessons.cnn.registry import (
    CNNS,
    MODELS_FILE,
    accuracy_range,
    accuracy_text,
    against_sources,
    compared_models,
    dense_rows,
    model_seeds,
    models_table,
    plot_accuracies,
    run_models,
)
from mnist_course.lessons.cnn.results import save_results
from mnist_course.lessons.cnn.selection import (
    COURSE_EPOCHS,
    RULE,
    SELECTION_FILE,
    VALIDATION_IMAGES,
    one_se_choice,
    recipes_follow,
    run_selection,
    selection_table,
)

__all__ = [
    "CNNS",
    "COURSE_EPOCHS",
    "MODELS_FILE",
    "RULE",
    "SELECTION_FILE",
    "VALIDATION_IMAGES",
    "accuracy_range",
    "accuracy_text",
    "against_sources",
    "compared_models",
    "dense_rows",
    "load_results",
    "model_seeds",
    "models_table",
    "one_se_choice",
    "plot_accuracies",
    "recipes_follow",
    "run_models",
    "run_selection",
    "save_results",
    "selection_table",
]
