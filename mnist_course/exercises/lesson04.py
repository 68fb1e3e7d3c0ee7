"""Self-checks for the exercises of notebook 04 (a multilayer perceptron): predictions, a seed spread debugged, a
network, where EarlyStopping stops, the train–validation gap at 2,000 images."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import NO_RETURN, Feedback, call, model_hint, not_whole, right, wrong
from mnist_course.exercises.feedback import whole as _whole
from mnist_course.exercises.lesson04_run import keras_params as _keras_params
from mnist_course.exercises.lesson04_run import predict_then_run, predicted_gap
from mnist_course.exercises.lesson04_seeds import seed_scores

__all__ = ["build_256_128", "early_stop", "keras_early_stop", "predict_then_run", "predicted_gap", "seed_scores"]


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


# Validation losses, one per epoch, and a patience: (a) the loss stalls, then improves too late; (b) the same with
# one more epoch of patience; (c) an equal loss is no improvement; (d) never stops; (e) patience 1; (f) the count of
# epochs without improvement starts again at each improvement; (g) never stops, yet the best epoch is not the last.
_STOPS = (
    ([0.50, 0.40, 0.35, 0.36, 0.37, 0.38, 0.30], 3),
    ([0.50, 0.40, 0.35, 0.36, 0.37, 0.38, 0.30], 4),
    ([0.50, 0.40, 0.40, 0.41, 0.39], 2),
    ([0.50, 0.40, 0.30], 2),
    ([0.30, 0.31, 0.29, 0.32, 0.33], 1),
    ([0.50, 0.52, 0.45, 0.46, 0.47, 0.40], 2),
    ([0.50, 0.40, 0.45], 2),
)


def keras_early_stop(val_losses: list[float], patience: int) -> tuple[int, int]:
    """What Keras' own ``EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)`` does with
    these validation losses: (epochs trained, epoch whose weights it restores), counted from 1. The callback is fed
    the losses directly; before each epoch the model's one weight is set to the epoch's number, so the weight it
    restores says which epoch it chose."""
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, use_bias=False)])
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    stopper.set_model(model)
    model.stop_training = False
    stopper.on_train_begin()
    trained = len(val_losses)
    for epoch, loss in enumerate(val_losses):
        model.set_weights([np.full((1, 1), epoch + 1.0)])
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if model.stop_training:
            trained = epoch + 1
            break
    stopper.on_train_end()
    return trained, int(round(float(model.get_weights()[0][0, 0])))


def _waiting_rule(
    losses: list[float], patience: int, ties_improve: bool = False, reset: bool = True, restore_always: bool = True
) -> tuple[int, int]:
    """A plain reading of the callback, with one of its usual misreadings switched on, for naming a student's
    mistake (the verdict itself comes from Keras)."""
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best or (ties_improve and loss == best):
            best, best_epoch, wait = loss, epoch, 0 if reset else wait
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(losses), best_epoch if restore_always else len(losses)


def _stop_hint(losses: list[float], patience: int, got: tuple[int, int], want: tuple[int, int]) -> str:
    trained, restored = want
    mistakes = [
        ((trained - 1, restored - 1), "epochs are counted from 1, as Keras prints them ('Epoch 1/20'): add 1 to both."),
        (
            _waiting_rule(losses, patience, ties_improve=True),
            "an equal loss is no improvement: Keras asks for a strictly lower one (min_delta=0).",
        ),
        (
            _waiting_rule(losses, patience, reset=False),
            "the count of epochs without improvement starts again at 0 at every improvement: the callback stops "
            "after `patience` epochs *in a row* without one.",
        ),
        (
            _waiting_rule(losses, patience, restore_always=False),
            "Keras 3 puts back the best epoch's weights when training ends, also when the callback never stopped it.",
        ),
        (
            _waiting_rule(losses, patience - 1) if patience > 1 else None,
            f"with patience {patience} the callback lets {patience} epochs in a row pass without improvement and "
            "stops at the last of them, not one epoch earlier (or you count the epochs trained from 0).",
        ),
        (
            (trained, trained),
            "restore_best_weights=True puts back the weights of the best epoch, not of the last one trained.",
        ),
    ]
    for mistake, hint in mistakes:
        if mistake == got and mistake != want:
            return hint
    return (
        f"for val_losses={losses} and patience={patience} Keras trains {trained} epochs and restores epoch "
        f"{restored}; yours: {got}."
    )


def early_stop(function: Callable[..., Any]) -> Feedback:
    """Exercise 4.4: ``function(val_losses, patience) -> (epochs trained, epoch restored)``, as Keras'
    ``EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)`` decides; checked against
    that callback itself (:func:`keras_early_stop`) on the sequences of :data:`_STOPS`."""
    ex = "4.4"
    for losses, patience in _STOPS:
        given = list(losses)
        answer = call(function, given, patience)
        if given != losses:
            return wrong(ex, "your function changes the list of losses it is given: read it without modifying it.")
        if answer is None:
            return wrong(ex, NO_RETURN)
        pair = answer if isinstance(answer, (tuple, list)) and len(answer) == 2 else None
        numbers = None if pair is None else (_whole(pair[0]), _whole(pair[1]))
        if numbers is None or None in numbers:
            return wrong(ex, f"return two whole numbers, (epochs_trained, restored_epoch); yours: {answer!r:.60}")
        want = keras_early_stop(losses, patience)
        if numbers != want:
            return wrong(ex, _stop_hint(losses, patience, numbers, want))
    return right(
        ex,
        f"Your rule makes the same decisions as Keras' EarlyStopping on all {len(_STOPS)} sequences: it waits "
        "`patience` epochs in a row without a strictly lower loss, then stops; when training ends it rolls the "
        "weights back to the best epoch. A larger patience survives a loss that stalls before it improves again "
        "(the first two cases: patience 3 keeps epoch 3, patience 4 reaches epoch 7's 0.30), at the price of up to "
        "`patience` epochs trained past the best when the loss does not improve again.",
    )
