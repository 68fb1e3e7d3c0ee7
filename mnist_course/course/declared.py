"""Every notebook's parameters, declared once: names, types, allowed values and what ``None`` means in each profile."""

from __future__ import annotations

from dataclasses import replace

from mnist_course.course.param import Param
from mnist_course.lessons.optimizers_and_losses.entrants import RUN_NAMES
from mnist_course.notebook import PROFILES

_SEED = Param(int, "seed of every random choice", minimum=0, maximum=2**31 - 2)
_PROFILE = Param(
    str,
    "how long the notebook runs: ci (seconds), student (about a minute) or full (the instructor's reproduction)",
    choices=PROFILES,
    none_means="$MNIST_COURSE_PROFILE, else student",
)
_CNNS = ("course-cnn", "cnn-16-36", "cnn-32-64", "lenet-avgpool", "keras-io-convnet")
_MODELS = ("dense-512", "mlp-3x500", "cnn-16-36", "cnn-32-64", "lenet-avgpool", "keras-io-convnet", "course-cnn")
# 1/12 of TRAIN_SIZE is held out for validation: at least one image per digit there.
_TRAIN_SIZE = dict(type=int, minimum=120, maximum=60000, help="training images used (1/12 held out for validation)")


def _epochs(what: str, ci: int, full: int | None, full_words: str, student: int | None = None) -> Param:
    student = ci if student is None else student  # TODO(student profile): each notebook sets its own value
    return Param(
        int,
        f"epochs of {what}",
        minimum=1,
        maximum=200,
        none_means=f"{ci} in ci, {student} in student, {full_words} in full",
        by_profile={"ci": ci, "student": student, "full": full},
    )


def _count(help: str, maximum: int, ci: int, full: int, minimum: int = 1, student: int | None = None) -> Param:
    student = ci if student is None else student  # TODO(student profile): each notebook sets its own value
    return Param(
        int,
        help,
        minimum=minimum,
        maximum=maximum,
        none_means=f"{ci} in ci, {student} in student, {full} in full",
        by_profile={"ci": ci, "student": student, "full": full},
    )


DECLARED: dict[str, dict[str, Param]] = {
    "01_loading_mnist": {
        "PROFILE": _PROFILE,
        "SEED": _SEED,
        "N_FIRST": Param(int, "how many of the first training digits to show", minimum=1, maximum=100),
    },
    "02_preprocessing": {
        "PROFILE": _PROFILE,
        "SEED": _SEED,
        "VAL_SIZE": Param(int, "training examples held out for validation", minimum=10, maximum=30000),
        "N_PRED": Param(int, "examples in the loss comparison", minimum=1, maximum=1000),
    },
    "03_how_a_network_learns": {
        "PROFILE": _PROFILE,
        "SEED": _SEED,
        "TRAIN_SIZE": Param(
            int,
            "training images used (a tenth held out for validation)",
            minimum=1000,
            maximum=60000,
            none_means="6000 in ci, 60000 in student, 60000 in full",
            by_profile={"ci": 6000, "student": 60000, "full": 60000},
        ),
        "LEARNING_RATE": Param(
            float, "step size of gradient descent (hand loop and Keras SGD)", minimum=1e-4, maximum=100.0
        ),
        "BATCH_SIZE": Param(int, "images per gradient step", minimum=1, maximum=54000),
        "EPOCHS": _epochs("the hand loop and of the Keras model", 1, 20, "20", student=5),
    },
    "04_mlp": {
        "PROFILE": _PROFILE,
        "SEED": _SEED,
        "TRAIN_SIZE": Param(
            **_TRAIN_SIZE,
            none_means="3000 in ci, 12000 in student, 60000 in full",
            by_profile={"ci": 3000, "student": 12000, "full": 60000},
        ),
        "EPOCHS_DENSE": _epochs(
            "dense-512 trained here (at most: EarlyStopping may stop it sooner)", 1, 10, "10", student=3
        ),
        "EPOCHS_MLP": _epochs(
            "mlp-3x500 trained here (at most: EarlyStopping may stop it sooner)", 2, 10, "10", student=4
        ),
        "RETRAIN_SHIPPED": Param(
            bool,
            "train the long validation study and the three-seed final runs here (tens of "
            "minutes) instead of reading results/04_mlp_full.json",
            none_means="True in full, False in ci and student",
            by_profile={"ci": False, "student": False, "full": True},
        ),
    },
    "05_cnn": {  # student: 20,000 images x 2 epochs (the first cycle of the course CNN's schedule)
        "PROFILE": _PROFILE,
        "SEED": _SEED,
        "TRAIN_SIZE": Param(
            int,
            "training images of the models trained here (no validation split: the recipes "
            "were chosen on validation data in the full profile)",
            minimum=100,
            maximum=60000,
            none_means="4000 in ci, 20000 in student, 60000 in full",
            by_profile={"ci": 4000, "student": 20000, "full": 60000},
        ),
        "EPOCHS": _epochs(
            "the course CNN", 2, None, "its recipe's 6 (two cycles), chosen on validation data", student=2
        ),
        "LIVE_MODELS": Param(
            list,
            "registry models retrained here next to their shipped full-profile results",
            choices=_MODELS,
            none_means="none",
        ),
        "SEED_EPOCHS": _epochs("the models of LIVE_MODELS", 1, None, "each recipe's own", student=2),
        "RETRAIN": Param(bool, "retrain the models trained here even when the course cache has them"),
    },
    "06_what_the_cnn_sees": {
        "PROFILE": _PROFILE,
        "SEED": _SEED,
        "MODEL_NAME": Param(str, "the CNN whose insides are shown", choices=_CNNS),
        # EPOCHS and TRAIN_EXAMPLES: their ci and student values are notebook 05's, set below (_as_in_05)
        "EPOCHS": _epochs("the model, if it must be trained here", 1, None, "the recipe's own"),
        "TRAIN_EXAMPLES": _count("training images, if the model must be trained here", 60000, 2000, 60000, 100),
        "DIGIT_INDEX": Param(int, "the test digit followed through the network", minimum=0, maximum=9999),
        "SCAN_EXAMPLES": _count(
            "test images searched for the most exciting ones", 10000, 1000, 10000, 16, student=10000
        ),
        "TOP_K": Param(int, "images shown per channel", minimum=1, maximum=16),
    },
    "07_optimizers_and_losses": {
        "PROFILE": _PROFILE,
        "SEED": _SEED,
        "EPOCHS": _epochs("every run of the race", 1, 10, "10", student=10),
        "LIVE_RUNS": Param(
            list,
            "runs trained here",
            choices=RUN_NAMES,
            none_means="ci: sgd, adam, adam-mse; student: sgd, sgd-momentum, adam; full: all 16",
        ),
        "RACE_SEEDS": _count("seeds the live race runs (SEED, SEED + 1, ...)", 5, 1, 3, student=1),
    },
    "08_playground": {
        "PROFILE": _PROFILE,
        "SEED": _SEED,
        "MODEL_NAME": Param(str, "the model you draw for", choices=_MODELS),
        # EPOCHS and TRAIN_EXAMPLES: their ci and student values are notebook 05's, set below (_as_in_05)
        "EPOCHS": _epochs("the model, if it must be trained here", 1, None, "the recipe's own"),
        "TRAIN_EXAMPLES": _count("training images, if the model must be trained here", 60000, 2000, 60000, 100),
        "TEST_EXAMPLES": _count(
            "validation digits in the matrix, test digits in the score", 10000, 2000, 10000, 10, student=10000
        ),
    },
}


def _as_in_05(notebook: str, name: str, name_05: str, profiles: tuple[str, ...] = ("ci", "student")) -> None:
    """Give ``DECLARED[notebook][name]`` notebook 05's values of ``name_05`` in ``profiles`` (read, not copied): 06
    and 08 then ask for the very course CNN that 05 trains in those profiles and load it from the cache (in full,
    the recipe's own settings, which 05's full profile also uses)."""
    param = DECLARED[notebook][name]
    source = DECLARED["05_cnn"][name_05].by_profile
    assert param.by_profile is not None and param.none_means is not None and source is not None
    by_profile = {**param.by_profile, **{profile: source[profile] for profile in profiles}}
    full_words = param.none_means.split(" in student, ", 1)[1]
    DECLARED[notebook][name] = replace(
        param,
        by_profile=by_profile,
        none_means=f"{by_profile['ci']} in ci and {by_profile['student']} in student (as in notebook 05), {full_words}",
    )


for _notebook in ("06_what_the_cnn_sees", "08_playground"):
    _as_in_05(_notebook, "EPOCHS", "EPOCHS")
    _as_in_05(_notebook, "TRAIN_EXAMPLES", "TRAIN_SIZE")


__all__ = ["DECLARED"]
