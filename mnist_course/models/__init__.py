"""The course's models: recipes, their layer stacks, building and training them, and trained models kept in the cache.

``mnist_course.models`` itself is the model zoo (:mod:`mnist_course.models.zoo`): ``build_model``, ``train``,
``list_models`` and the recipe look-ups. The other modules are imported by name: ``recipes``, ``layers``, ``augment``,
``key`` (what identifies a trained model) and ``store`` (trained models shared between notebooks).
"""

from mnist_course.models.zoo import (
    Recipe,
    batches,
    build_model,
    count_params,
    describe,
    get_recipe,
    input_shape,
    list_models,
    make_optimizer,
    prepare,
    published,
    train,
)

__all__ = [
    "Recipe",
    "batches",
    "build_model",
    "count_params",
    "describe",
    "get_recipe",
    "input_shape",
    "list_models",
    "make_optimizer",
    "prepare",
    "published",
    "train",
]
