"""Self-checks for the exercises of notebook 04 (a multilayer perceptron): predictions, a debugged function, a network,
the best epoch, the train–validation gap at 2,000 images."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import Feedback, call, model_hint, not_whole, right, wrong
from mnist_course.exercises.feedback import whole as _whole
from mnist_course.exercises.lesson04_run import keras_params as _keras_params
from mnist_course.exercises.lesson04_run import predict_then_run, predicted_gap, train_model

__all__ = ["best_epoch", "build_256_128", "predict_then_run", "predicted_gap", "train_model"]


def _not_whole(exercise: str, value: Any, what: str) -> Feedback:
    return not_whole(exercise, value, f"{what} as one whole number")


def _activation(function: Any) -> str:
    return getattr(function, "__name__", str(function))


def _dense_stack(model: keras.Model) -> tuple[list[tuple[keras.layers.Dense, str]], str | None]:
    """``(Dense layer, activation it ends up with)`` in order (ReLU/Activation layers folded in), and the type of
    the first layer that does not belong in a dense network (``None`` when there is none)."""
    stack: list[tuple[keras.layers.Dense, str]] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            stack.append((layer, _activation(layer.activation)))
        elif isinstance(layer, (keras.layers.ReLU, keras.layers.Softmax, keras.layers.Activation)):
            name = (
                "relu"
                if isinstance(layer, keras.layers.ReLU)
                else "softmax"
                if isinstance(layer, keras.layers.Softmax)
                else _activation(layer.activation)
            )
            if stack and stack[-1][1] == "linear":
                stack[-1] = (stack[-1][0], name)
        elif not isinstance(layer, (keras.layers.Dropout, keras.layers.Flatten, keras.layers.InputLayer)):
            return stack, type(layer).__name__
    return stack, None


def _loss(model: keras.Model) -> tuple[str, bool]:
    """The compiled loss as a bare lower-case name without underscores, and whether it expects logits."""
    loss = model.loss
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        return str(config.get("name", "")).replace("_", "").lower(), bool(config.get("from_logits"))
    return _activation(loss).replace("_", "").lower(), False


def _network_hint(model: Any) -> str | None:
    """What is wrong with the model returned for exercise 4.3, or ``None``."""
    problem = model_hint(model, "keras.Input(shape=(784,))")
    if problem:
        return problem
    shape = tuple(model.inputs[0].shape[1:])
    if shape in ((28, 28), (28, 28, 1)):
        return (
            f"the input is {shape}, an image; this notebook feeds flattened vectors (x_tr has shape (N, 784)): "
            f"keras.Input(shape=(784,))."
        )
    if shape != (784,):
        return f"the input must be a vector of 784 pixels, keras.Input(shape=(784,)); yours has shape {shape}."
    stack, stranger = _dense_stack(model)
    if stranger:
        return f"a dense network needs only Dense layers (Dropout is fine); yours has a {stranger}."
    units = [layer.units for layer, _ in stack]
    if units == [256, 128]:
        return 'the output layer is missing: Dense(10, activation="softmax"), one unit per digit.'
    if units in ([256, 10], [128, 10], [10]):
        return "a hidden layer is missing: Dense(256) then Dense(128), both ReLU, before the output."
    if units == [128, 256, 10]:
        return "the hidden layers are swapped: 256 units first, then 128."
    if units != [256, 128, 10]:
        return f"the Dense layers should have 256, 128 and 10 units (the output one per digit); yours have {units}."
    for layer, activation in stack[:-1]:
        if activation != "relu":
            return (
                f'the hidden Dense({layer.units}) has no activation: add activation="relu". Without it, stacked '
                f"dense layers collapse into one linear map."
                if activation == "linear"
                else f'the hidden Dense({layer.units}) uses {activation}; the task asks for activation="relu".'
            )
    output = stack[-1][1]
    if output == "linear":
        return (
            "the softmax is missing: the output layer gives 10 raw scores, but the loss expects probabilities "
            'that sum to 1: Dense(10, activation="softmax").'
        )
    if output == "sigmoid":
        return (
            "sigmoid gives 10 independent numbers that need not sum to 1; a digit is exactly one of ten classes: "
            'activation="softmax".'
        )
    if output != "softmax":
        return f'the output layer uses {output}; it needs activation="softmax" to give 10 probabilities.'
    if not (getattr(model, "compiled", False) and model.optimizer is not None):
        return (
            'the model is not compiled: call net.compile(optimizer="adam", loss="sparse_categorical_crossentropy",'
            ' metrics=["accuracy"]) before returning it.'
        )
    loss, from_logits = _loss(model)
    if loss == "categoricalcrossentropy":
        return (
            'the labels here are integers 0-9, so the loss is "sparse_categorical_crossentropy"; '
            '"categorical_crossentropy" expects one-hot vectors.'
        )
    if loss != "sparsecategoricalcrossentropy":
        return f'for integer labels use loss="sparse_categorical_crossentropy"; yours is {loss or model.loss!r}.'
    if from_logits:
        return "the loss has from_logits=True, but the softmax already gives probabilities: drop from_logits."
    if not isinstance(model.optimizer, keras.optimizers.Adam):
        return f'the task asks for Adam: optimizer="adam" (yours is {type(model.optimizer).__name__}).'
    if any(not layer.use_bias for layer, _ in stack):
        return "a Dense layer has use_bias=False: keep the biases (the default)."
    return None


def build_256_128(function: Callable[[], keras.Model]) -> Feedback:
    """Exercise 4.3: ``function()`` returns a compiled 784 → 256 ReLU → 128 ReLU → 10 softmax model (not trained)."""
    ex = "4.3"
    model = call(function)
    hint = _network_hint(model)
    if hint:
        return wrong(ex, hint)
    expected, dense_512 = _keras_params([784, 256, 128, 10]), _keras_params([784, 512, 10])
    if model.count_params() != expected:
        return wrong(ex, f"the model has {model.count_params():,} parameters; 784 → 256 → 128 → 10 has {expected:,}.")
    return right(
        ex,
        f"784 → 256 → 128 → 10 has {expected:,} parameters, {100 * expected / dense_512:.0f} % of "
        f"dense-512's {dense_512:,}: two narrow hidden layers cost less than one wide one.",
    )


# Made-up histories. In the first, the lowest validation loss, the lowest training loss, the highest validation
# accuracy and the last epoch are four different epochs; in the third, two epochs tie for the lowest validation loss.
_RISES = {
    "loss": [0.35, 0.16, 0.11, 0.08, 0.06, 0.05, 0.04, 0.045],
    "val_loss": [0.19, 0.12, 0.095, 0.10, 0.11, 0.13, 0.14, 0.15],
    "val_accuracy": [0.944, 0.962, 0.970, 0.972, 0.975, 0.971, 0.970, 0.969],
}
_LATE = {
    "loss": [0.40, 0.20, 0.13, 0.10, 0.08, 0.07, 0.06],
    "val_loss": [0.25, 0.15, 0.12, 0.11, 0.10, 0.12, 0.14],
    "val_accuracy": [0.950, 0.975, 0.970, 0.972, 0.973, 0.971, 0.969],
}
_TIE = {
    "loss": [0.50, 0.30, 0.20, 0.15, 0.10],
    "val_loss": [0.30, 0.18, 0.14, 0.14, 0.16],
    "val_accuracy": [0.920, 0.960, 0.955, 0.958, 0.957],
}
_EPOCH_CASES = ((_RISES, None), (_LATE, "val_loss"), (_TIE, None), (_RISES, "val_accuracy"), (_LATE, "loss"))


def _epoch_mistakes(history: dict[str, list[float]], monitor: str) -> list[tuple[int, str]]:
    values = np.asarray(history[monitor])
    higher = "accuracy" in monitor
    best, worst = (np.argmax, np.argmin) if higher else (np.argmin, np.argmax)
    mistakes = [
        (
            len(values) - int(best(values[::-1])),
            "two epochs tie for the best value: take the first one (np.argmin "
            "and np.argmax do), the same result with fewer epochs.",
        ),
        (
            int(best(values)),
            "that is a 0-based index; epochs are counted from 1, as Keras prints them ('Epoch 1/20'): add 1.",
        ),
    ]
    if monitor == "val_loss":
        for index, hint in (
            (
                int(np.argmin(history["loss"])),
                "that is the epoch of the lowest *training* loss, "
                "which keeps falling while the network overfits: use history['val_loss'].",
            ),
            (
                int(np.argmax(history["val_accuracy"])),
                "that is the epoch of the highest validation "
                "accuracy; the task asks for the lowest validation loss. They need not agree: accuracy "
                "only counts right answers, the loss also how sure they are.",
            ),
        ):
            mistakes += [(index + 1, hint), (index, hint)]
    else:
        mistakes.append(
            (
                int(np.argmin(history["val_loss"])) + 1,
                "read the monitored values, history[monitor], not always 'val_loss'.",
            )
        )
    mistakes += [
        (
            int(worst(values)) + 1,
            "for a loss the best epoch has the lowest value, for an accuracy the highest: "
            "check the monitor's name ('accuracy' in monitor).",
        ),
        (len(values), "that is the last epoch; the best one is where the monitored value is best, usually earlier."),
    ]
    return mistakes


def best_epoch(function: Callable[..., int]) -> Feedback:
    """Exercise 4.4: ``function(history, monitor="val_loss")`` is the 1-based epoch of the best monitored value."""
    ex = "4.4"
    for history, monitor in _EPOCH_CASES:
        given = copy.deepcopy(history)
        answer = call(function, given) if monitor is None else call(function, given, monitor=monitor)
        monitor = monitor or "val_loss"
        if given != history:
            return wrong(
                ex,
                "your function changes the history it is given (sorting a list in place?): find the "
                "best epoch without modifying it, e.g. with np.argmin.",
            )
        values = history[monitor]
        if isinstance(answer, (float, np.floating)) and any(np.isclose(answer, v) for v in values):
            return wrong(ex, f"you return a value of history[{monitor!r}] ({answer}); return its epoch number.")
        epoch = _whole(answer)
        if epoch is None:
            return _not_whole(ex, answer, "the epoch")
        expected = int(np.argmax(values) if "accuracy" in monitor else np.argmin(values)) + 1
        if epoch != expected:
            hints = [hint for mistake, hint in _epoch_mistakes(history, monitor) if mistake == epoch]
            return wrong(
                ex,
                hints[0]
                if hints
                else f"for {monitor} = {values} you return epoch {epoch}; the best "
                f"value is at epoch {expected} (counting from 1).",
            )
    return right(
        ex,
        'Train for that many epochs, or let keras.callbacks.EarlyStopping(monitor="val_loss", '
        "restore_best_weights=True) find it and roll the weights back to it.",
    )
