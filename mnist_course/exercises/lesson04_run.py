"""Self-checks of notebook 04 that run what they check: exercises 4.1 and 4.5 (predict, then run) and 4.2 (seed
003's ``train_model``, debugged)."""

from __future__ import annotations

import builtins
import math
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from mnist_course.exercises.feedback import NO_RETURN, Feedback, call, commit, predicted, right, whole, wrong


def keras_params(sizes: Sequence[int]) -> int:
    """What Keras counts for a stack of ``Dense`` layers with these sizes (input size first)."""
    total = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layer = keras.layers.Dense(n_out)
        layer.build((None, n_in))
        total += layer.count_params()
    return total


def _count_mistakes(sizes: Sequence[int]) -> list[tuple[int, str]]:
    """Counts a usual slip gives for these sizes, each with its hint."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    weights = sum(a * b for a, b in pairs)
    return [
        (
            weights,
            "the biases are missing: every Dense layer also has one bias per output unit, so a layer has "
            "n_in × n_out + n_out parameters.",
        ),
        (
            weights + sum(a for a, _ in pairs),
            "the biases belong to the outputs: one bias per unit a layer computes (n_out), not one per input (n_in).",
        ),
        (weights + sum(sizes), "the input is not a layer and has no biases: count n_out biases per layer only."),
        (
            pairs[0][0] * pairs[0][1] + pairs[0][1],
            "that is the first layer only: add the output layer, "
            "n_in × n_out + n_out for every pair of neighbouring sizes.",
        ),
    ]


def _net(hidden: int) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _shape(value: Any) -> tuple[int, ...] | None:
    """``value`` as a shape tuple of whole numbers (a list or NumPy shape is fine), else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(whole(v) is not None for v in value):
        return None
    return tuple(int(v) for v in value)


def predict_then_run(function: Callable[[], Sequence[Any]]) -> Feedback:
    """Exercise 4.1: ``function()`` returns the predicted parameter counts of 784 → 100 → 10 and 784 → 200 → 10, and
    the shapes of ``predict`` on five images and of its ``argmax(axis=1)``; checked by building the networks and
    running them. The point is for the first well-formed prediction checked (:func:`commit`), held or not."""
    ex = "4.1"
    if not callable(function):
        raise TypeError("the check expects the function itself (`predictions`, without brackets)")
    answer = function()
    names = ("params_100", "params_200", "predict_shape", "argmax_shape")
    if not isinstance(answer, (tuple, list)) or len(answer) != 4:
        return wrong(ex, f"predictions() should return the four values: return {', '.join(names)}.")
    mine = [whole(v) for v in answer[:2]] + [_shape(v) for v in answer[2:]]
    for name, given, value in zip(names, answer, mine):
        if given is None and name.startswith("params"):
            return wrong(ex, f"write your prediction for {name[7:]} hidden units into {name}.")
        if value is None:
            what = "one whole number" if name.startswith("params") else "a tuple such as (3, 4)"
            return wrong(ex, f"{name} should be {what}; yours is {given!r:.40}.")
    mine, changed = commit(ex, tuple(mine))
    small = _net(100)
    probs = keras.ops.convert_to_numpy(small.predict_on_batch(np.random.default_rng(0).random((5, 784), "float32")))
    truth = (small.count_params(), _net(200).count_params(), probs.shape, probs.argmax(axis=1).shape)
    notes = []
    for hidden, count, true in ((100, mine[0], truth[0]), (200, mine[1], truth[1])):
        if count == true:
            continue
        hints = [hint for mistake, hint in _count_mistakes([784, hidden, 10]) if mistake == count]
        if hidden == 200 and count == 2 * truth[0]:
            hints = [
                f"not 2 × {truth[0]:,}: doubling the hidden units doubles both weight matrices and the hidden "
                "biases, but the output layer keeps its 10 biases."
            ]
        notes.append(
            f"params_{hidden}: you predicted {count:,}; Keras counts {true:,}: "
            + (hints[0] if hints else "a layer from n_in to n_out units has n_in × n_out + n_out parameters.")
        )
    if mine[2] != truth[2]:
        hint = (
            "predict keeps the batch axis: five images in, five rows out, each with 10 probabilities."
            if mine[2] == (10,)
            else "that is the shape after argmax: predict itself gives all 10 probabilities for each image."
            if mine[2] == (5,)
            else "one row per image, one column per digit."
        )
        notes.append(f"predict_shape: you predicted {mine[2]}; it returned {truth[2]}: {hint}")
    if mine[3] != truth[3]:
        notes.append(
            f"argmax_shape: you predicted {mine[3]}; it returned {truth[3]}: argmax(axis=1) takes the position of "
            "the largest of each row's 10 values and keeps one number per image."
        )
    missed = [name for name, guess, true in zip(names, mine, truth) if guess != true]
    kept = [name for name in names if name not in missed]
    verdict = f"Did not hold: {', '.join(missed)} (held: {', '.join(kept) or 'none'}). " if missed else "All four: "
    return predicted(
        ex,
        not missed,
        f"{verdict}Keras counts {truth[0]:,} and {truth[1]:,} parameters (not quite twice: the output layer's 10 "
        f"biases do not double), predict gave {truth[2]} and argmax {truth[3]}: the batch axis stays, one row of 10 "
        f"probabilities per image. {' '.join(notes)}".strip(),
        changed,
    )


GAP_AT = 2000  # the training-set size exercise 4.5 asks about (the lesson runs 250, 1,000 and 4,000 images)
HOLDS_WITHIN = 2.0  # points: a predicted gap holds when it lies this close to the measured mean gap


def predicted_gap(
    function: Callable[[], Any],
    train_and_score: Callable[[int, int], tuple[float, float]],
    seeds: Sequence[int],
    scores: Mapping[tuple[int, int], tuple[float, float]] | None = None,
) -> Feedback:
    """Exercise 4.5: ``function()`` returns the predicted gap, training minus validation accuracy in points, of the
    lesson's dense-512 trained on :data:`GAP_AT` images. The prediction is committed first (it earns the point, held
    or not), then measured with the lesson's ``train_and_score(n, seed) -> (training %, validation %)`` per seed;
    ``scores``, the lesson's table ``{(n, seed): (training %, validation %)}``, places the result among its sizes."""
    ex = "4.5"
    value = call(function)
    if value is None:
        return wrong(ex, NO_RETURN)
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not number or not math.isfinite(float(value)) or not 0 <= float(value) <= 100:
        return wrong(
            ex,
            "return one number of points between 0 and 100, e.g. 12.5 for a training accuracy 12.5 points above "
            f"the validation accuracy; yours: {value!r:.40}",
        )
    first, changed = commit(ex, float(value))
    runs = [train_and_score(GAP_AT, seed) for seed in seeds]
    gaps = [train - val for train, val in runs]
    mean = float(np.mean(gaps))
    held = abs(first - mean) <= HOLDS_WITHIN
    direction = "" if held else (" The gap is smaller than that." if first > mean else " The gap is larger than that.")
    message = (
        f"Trained on {GAP_AT:,} images, dense-512's gap is {mean:.1f} points, the mean of {len(gaps)} seeds "
        f"({', '.join(f'{g:.1f}' for g in gaps)}); you predicted {first:g}, "
        f"{'within' if held else 'more than'} {HOLDS_WITHIN:g} points of it.{direction} Training accuracy is "
        f"{np.mean([t for t, _ in runs]):.2f} % and validation accuracy {np.mean([v for _, v in runs]):.2f} %."
    )
    return predicted(ex, held, message + _among_the_lesson_sizes(mean, scores), changed)


def _among_the_lesson_sizes(mean: float, scores: Mapping[tuple[int, int], tuple[float, float]] | None) -> str:
    """Where the measured mean gap at GAP_AT lies among the lesson's own sizes (empty without them)."""
    if not scores:
        return ""
    by_size: dict[int, list[float]] = {}
    for (n, _), (train, val) in scores.items():
        by_size.setdefault(n, []).append(train - val)
    gap = {n: float(np.mean(v)) for n, v in by_size.items()}
    below = [n for n in gap if n < GAP_AT]
    above = [n for n in gap if n > GAP_AT]
    if below and above:
        low, high = max(below), min(above)
        inside = min(gap[low], gap[high]) <= mean <= max(gap[low], gap[high])
        return (
            f" The lesson's table has a gap of {gap[low]:.1f} points at {low:,} images and {gap[high]:.1f} at "
            f"{high:,}: at {GAP_AT:,} it lies {'between the two' if inside else 'outside them'}."
        )
    nearest = max(below) if below else min(above)
    side = "smaller" if mean < gap[nearest] else "larger"
    return (
        f" The lesson's table has a gap of {gap[nearest]:.1f} points at {nearest:,} images: at {GAP_AT:,} it is {side}."
    )


def _blobs(n: int, seed: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` 784-pixel vectors around ten fixed random centres, labels 0-9 (made up: no MNIST needed)."""
    centres = np.random.default_rng(4).random((10, 784), dtype=np.float32)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = np.clip(centres[y] + noise * rng.standard_normal((n, 784)).astype(np.float32), 0, 1)
    return x, y


def _isolated(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its global names replaced by a fresh namespace holding only ``keras`` and ``np``: what it
    finds when imported from a file of its own."""
    namespace = {"__builtins__": builtins, "keras": keras, "np": np, "__name__": "imported"}
    fresh = types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )
    fresh.__kwdefaults__ = function.__kwdefaults__
    return fresh


def _tiny() -> keras.Model:
    return keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(10, activation="softmax")])


def train_model(function: Callable[..., Any]) -> Feedback:
    """Exercise 4.2: ``function(model, x_train, y_train, x_test, y_test, learning_rate=, epochs=)`` trains with SGD
    at ``learning_rate`` for ``epochs`` epochs and returns the accuracy on the test data, using no global names."""
    ex = "4.2"
    if not callable(function):
        return wrong(ex, "pass the function itself: check.train_model(train_model), without brackets.")
    fixed = _isolated(function)
    (x_tr, y_tr), (x_te, y_te) = _blobs(320, 1, 0.9), _blobs(200, 2, 1.2)
    keras.utils.set_random_seed(0)
    still = _tiny()
    before = [w.copy() for w in still.get_weights()]
    try:
        fixed(still, x_tr, y_tr, x_te, y_te, learning_rate=0.0, epochs=1)
    except NameError as err:
        name = str(err).split("'")[1] if "'" in str(err) else str(err)
        return wrong(
            ex,
            f"your function still reads {name!r} from the notebook: imported elsewhere there is no such "
            f"name. Take it as an argument (model, x_train, y_train, x_test, y_test, learning_rate, "
            f"epochs) and use the argument inside.",
        )
    except TypeError as err:
        return wrong(
            ex,
            f"call it as train_model(model, x_train, y_train, x_test, y_test, learning_rate=0.01, "
            f"epochs=1); calling it that way raised: {err}",
        )
    if not isinstance(still.optimizer, keras.optimizers.SGD):
        return wrong(
            ex,
            f"compile with keras.optimizers.SGD(learning_rate=learning_rate), as the original did; "
            f"yours uses {type(still.optimizer).__name__}.",
        )
    if any(not np.array_equal(a, b) for a, b in zip(before, still.get_weights())):
        return wrong(
            ex,
            "with learning_rate=0.0 the weights still changed: your function ignores its learning_rate "
            "argument. Pass it on: keras.optimizers.SGD(learning_rate=learning_rate).",
        )
    model = _tiny()
    answer = fixed(model, x_tr, y_tr, x_te, y_te, learning_rate=0.1, epochs=2)
    steps = 2 * math.ceil(len(y_tr) / 32)
    taken = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    if taken != steps:
        return wrong(
            ex,
            f"with epochs=2 the model took {taken} steps, not {steps} "
            f"(2 epochs of {len(y_tr)} images in batches of 32): pass epochs=epochs to fit.",
        )
    on_test, on_train = (
        float(np.mean(keras.ops.convert_to_numpy(model(x, training=False)).argmax(axis=1) == y))
        for x, y in ((x_te, y_te), (x_tr, y_tr))
    )
    if answer is None:
        return wrong(ex, NO_RETURN)
    if isinstance(answer, (list, tuple)):
        return wrong(ex, "model.evaluate returns [loss, accuracy]: return the accuracy, its [1].")
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return wrong(ex, f"return the accuracy, one number; yours is a {type(answer).__name__}.")
    if math.isclose(value, on_test, abs_tol=1e-5):
        return right(
            ex,
            "It now runs wherever it is imported: in a namespace holding only keras and np it trained, "
            "honoured learning_rate and epochs, and returned the accuracy on the test data it was given. "
            "A function that takes everything it uses as arguments can be tested, reused and imported.",
        )
    if math.isclose(value, on_train, abs_tol=1e-5):
        return wrong(ex, "that is the accuracy on the training data: evaluate on x_test, y_test.")
    return wrong(
        ex,
        f"you return {value:.4g}; the model's accuracy on the test data it was given is {on_test:.4f}: "
        f"return model.evaluate(x_test, y_test, verbose=0)[1].",
    )


__all__ = ["GAP_AT", "keras_params", "predict_then_run", "predicted_gap", "train_model"]
