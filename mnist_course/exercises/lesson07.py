"""Self-checks for notebook 07 (optimizers and losses): predict the largest stable SGD learning rate of a new bowl,
debug one-hot labels fed to a sparse loss, build Adam's step in the paper's form, predict momentum's path."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mnist_course.exercises import feedback
from mnist_course.exercises.feedback import Feedback
from mnist_course.exercises.lesson07_momentum import momentum_path
from mnist_course.lessons.optimizers_and_losses.rules import SGD, Bowl

# --- Exercise 7.1: predict, then run -----------------------------------------------------------------------------

BOWL = Bowl(a=40.0, b=5.0)  # steep along x this time, flat along y: not the valley of the notebook
START = (-4.0, 1.0)
STEPS = 100
MARGIN = 0.03  # the check runs SGD 3 % below and 3 % above the predicted rate


def sgd_on_the_bowl(learning_rate: float, steps: int = STEPS) -> np.ndarray:
    """The path of plain SGD on :data:`BOWL` from :data:`START`: shape (steps + 1, 2)."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging path may overflow: that is the point
        return SGD(learning_rate).descend(np.array(START), BOWL.gradient, steps)


def _final_loss(learning_rate: float) -> float:
    """The loss after :data:`STEPS` steps of SGD at ``learning_rate`` (inf when the path overflowed)."""
    end = sgd_on_the_bowl(learning_rate)[-1]
    with np.errstate(over="ignore"):
        return float(BOWL.loss(end)) if np.all(np.isfinite(end)) else math.inf


# Predictions students make instead of 2/40, with what each one missed (given when such a prediction did not hold).
_MISREAD = [
    (2 / 20, "That is the limit of the notebook's valley, 2/20. This bowl is steeper: its curvatures are 40 and 5."),
    (2 / 5, "That is the limit of the flat direction y (curvature 5). The steep direction x diverges first."),
    (
        1 / 40,
        "At 1/40 the steep coordinate lands on 0 in one step (1 − 40η = 0): the fastest rate for x, not the "
        "largest stable one. x only needs |1 − 40η| ≤ 1.",
    ),
    (2 / 45, "You added the two curvatures: each coordinate has its own factor, 1 − 40η for x and 1 − 5η for y."),
]
_LIMIT = (
    "x, the steep direction, is multiplied by 1 − 40η per step and stays bounded while |1 − 40η| ≤ 1, that is "
    "η ≤ 2/40 = 0.05; y (curvature 5) would tolerate 0.4, but at 0.05 it shrinks by only 1 − 5·0.05 = 0.75 per "
    "step. The steepest direction sets SGD's largest learning rate for every weight, whichever axis it lies on."
)


def largest_stable_rate(function: Callable[[], Any]) -> Feedback:
    """Check ``function()``, a prediction committed before the run: the largest learning rate at which plain SGD does
    not diverge on :data:`BOWL`, ``(40·x² + 5·y²) / 2``. The check then runs SGD for :data:`STEPS` steps at 3 % below
    and 3 % above the prediction: it held when the first run does not diverge and the second does. The point is for
    the committed prediction (the first well-formed one checked), held or not."""
    ex = "7.1"
    answer = feedback.call(function)
    if answer is None:
        return feedback.wrong(ex, feedback.NO_RETURN)
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, float, np.integer, np.floating)):
        return feedback.wrong(ex, f"return one number, your predicted learning rate, e.g. 0.3; got {answer!r:.40}.")
    rate = float(answer)
    if not math.isfinite(rate) or rate <= 0:
        return feedback.wrong(ex, f"a learning rate is a positive number; you predicted {rate:g}.")
    rate, changed = feedback.commit(ex, rate)  # the first prediction is the one run
    start = float(BOWL.loss(np.array(START)))
    below, above = rate * (1 - MARGIN), rate * (1 + MARGIN)
    loss_below, loss_above = _final_loss(below), _final_loss(above)
    ran = (
        f"The check ran {STEPS} steps from a loss of {start:g}: at {below:.4g} (3 % below yours) the loss ends at "
        f"{loss_below:.3g}, at {above:.4g} (3 % above) at {loss_above:.3g}. "
    )
    if loss_below <= start < loss_above:
        return feedback.predicted(ex, True, ran + _LIMIT, changed)
    missed = next((text for value, text in _MISREAD if math.isclose(rate, value, rel_tol=MARGIN)), None)
    if missed is None and loss_below > start:
        missed = "Even 3 % below your rate SGD diverges: the largest stable rate is lower than yours."
    elif missed is None:
        missed = "SGD still does not diverge 3 % above your rate: it tolerates more."
    return feedback.predicted(ex, False, f"{ran}{missed} The largest stable rate is 0.05: {_LIMIT}", changed)


# --- Exercise 7.2: debug -------------------------------------------------------------------------------------------

_SPARSE = {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"}
_CATEGORICAL = {"categorical_crossentropy", "CategoricalCrossentropy"}


def _loss_name(model: Any) -> str:
    loss = getattr(model, "loss", None)
    return loss if isinstance(loss, str) else type(loss).__name__


def one_hot_with_sparse_loss(
    function: Callable[..., Any], x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray
) -> Feedback:
    """Check ``function(x, y) -> model``, the fixed snippet: it trains without error on integer labels ``y`` with a
    cross-entropy whose label format matches, and the model beats chance on the validation images."""
    ex = "7.2"
    try:
        model = feedback.call(function, x_train, y_train)
    except ValueError as err:
        text = str(err)
        # TensorFlow's wording first, then JAX's and PyTorch's
        if "target.ndim - 1" in text or "same shape up until the last dimension" in text:
            return feedback.wrong(
                ex,
                "Keras still says the shapes of `target` and `output` do not fit: the loss is sparse "
                "(integer labels, one number per image) but the labels are one-hot rows of "
                "10. Either pass y as it is, or use categorical_crossentropy.",
            )
        if "same rank" in text or "must have the same shape" in text:
            return feedback.wrong(
                ex,
                "now the loss is categorical (one-hot rows) but the labels are integers: keep "
                "one format on both sides, sparse loss + integer labels or categorical loss "
                "+ keras.utils.to_categorical(y, 10).",
            )
        raise
    if model is None:
        return feedback.wrong(ex, feedback.NO_RETURN)
    if not hasattr(model, "predict"):
        return feedback.wrong(ex, f"return the trained Keras model, not a {type(model).__name__}.")
    name = _loss_name(model)
    if name not in _SPARSE | _CATEGORICAL:
        return feedback.wrong(
            ex,
            f"the model trains with {name}: that hides the error instead of fixing it. Keep "
            "the cross-entropy and make the labels match it.",
        )
    accuracy = float(np.mean(np.argmax(model.predict(x_val, verbose=0), axis=1) == y_val))
    if accuracy < 0.5:
        return feedback.wrong(
            ex,
            f"it runs, but the model reaches only {accuracy:.0%} on the validation images: "
            "did it train (fit), with the softmax output kept?",
        )
    which = "integer labels with the sparse loss" if name in _SPARSE else "one-hot labels with the categorical loss"
    return feedback.right(
        ex,
        f"{which}: it trains, well above chance on the validation images after one epoch. "
        "Both fixes train the same network the same way: they are one loss, −log p[true "
        "class], for two label formats (adam and adam-sparse in the race).",
    )


# --- Exercise 7.3: build -------------------------------------------------------------------------------------------

_W0 = np.array([0.3, -0.7, 0.2])
_GRADS = [
    np.array([0.5, -0.02, 1e-4]),
    np.array([0.4, 0.01, 1e-4]),
    np.array([-0.3, -0.02, -2e-4]),
    np.array([0.2, 0.03, 1e-4]),
]
_ADAM = {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
AdamStep = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]


@functools.cache
def _keras_adam() -> tuple[np.ndarray, ...]:
    """Weights after each step of keras.optimizers.Adam on the check's gradients (float64, computed once)."""
    import keras

    var = keras.Variable(_W0.copy(), dtype="float64")
    adam = keras.optimizers.Adam(**_ADAM)
    out = []
    for g in _GRADS:
        adam.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), var)])
        out.append(np.array(keras.ops.convert_to_numpy(var)))
    return tuple(out)


def _variant(
    *, correct_m: bool = True, correct_v: bool = True, keras_epsilon: bool = True, square: bool = True
) -> AdamStep:
    def step(w, m, v, g, t, lr, beta_1, beta_2, epsilon):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * (g**2 if square else np.abs(g))
        m_hat = m / (1 - beta_1**t) if correct_m else m
        v_hat = v / (1 - beta_2**t) if correct_v else v
        eps = epsilon / math.sqrt(1 - beta_2**t) if keras_epsilon else epsilon
        return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v

    return step


_NO_CORRECTION = (
    "no bias correction: m and v start at 0, so early on they are too small by 1 − βᵗ. Divide m by "
    "1 − β₁ᵗ and v by 1 − β₂ᵗ."
)
_ONLY_M = (
    "you correct m but not v: v̂ = v / (1 − β₂ᵗ) too. Without it the first steps are √(1/(1 − β₂)) ≈ 32 times too large."
)
_ONLY_V = "you correct v but not m: m̂ = m / (1 − β₁ᵗ) too, or the first steps are 10 times too small."
_ABS = "v is a running mean of the *squared* gradients: g**2, not |g|."
# Adam steps students write instead of Keras' rule, with the hint each one gets; a mistake is recognised with
# either placement of ε, since it shows in the large gradients too.
_VARIANTS: list[tuple[AdamStep, str]] = [
    (
        _variant(keras_epsilon=False),
        "close, but not Keras: you add ε to √v̂, as the paper writes it. Keras adds ε to "
        "√v (before the correction, the paper's 'ε̂' form), which is ε / √(1 − β₂ᵗ) next "
        "to √v̂. It matters only for tiny gradients, like the third weight's 1e-4 here.",
    ),
    *[(_variant(correct_m=False, correct_v=False, keras_epsilon=k), _NO_CORRECTION) for k in (True, False)],
    *[(_variant(correct_v=False, keras_epsilon=k), _ONLY_M) for k in (True, False)],
    *[(_variant(correct_m=False, keras_epsilon=k), _ONLY_V) for k in (True, False)],
    *[(_variant(square=False, keras_epsilon=k), _ABS) for k in (True, False)],
]
_T_FROM_ONE = (
    "t counts from 1: at t = 0, 1 − β₁⁰ = 0 and the correction divides by zero. Use the t the check passes as it is."
)


def _run(step: Callable[..., Any]) -> list[np.ndarray] | str:
    w, m, v, out = _W0.copy(), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(_GRADS, start=1):
        result = feedback.call(
            step,
            w.copy(),
            m.copy(),
            v.copy(),
            g.copy(),
            t,
            _ADAM["learning_rate"],
            _ADAM["beta_1"],
            _ADAM["beta_2"],
            _ADAM["epsilon"],
        )
        if result is None:
            return feedback.NO_RETURN
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            return "return three arrays: the new (w, m, v)."
        arrays = [feedback.as_array(x) for x in result]
        if any(a is None or a.shape != _W0.shape for a in arrays):
            return "return three arrays shaped like w: the new (w, m, v)."
        w, m, v = (a.astype(np.float64) for a in arrays)
        out.append(w)
    return out


def _close(a: list[np.ndarray], b: tuple[np.ndarray, ...] | list[np.ndarray], tol: float = 1e-6) -> bool:
    return len(a) == len(b) and all(
        np.all(np.isfinite(x)) and np.allclose(x, y, rtol=0, atol=tol) for x, y in zip(a, b)
    )


def adam_step(function: AdamStep) -> Feedback:
    """Check four steps of ``function(w, m, v, g, t, lr, beta_1, beta_2, epsilon) -> (w, m, v)``, Adam in the
    paper's form (m̂, v̂ explicit), against ``keras.optimizers.Adam`` to 1e-6."""
    ex = "7.3"
    try:
        answer = _run(function)
    except ZeroDivisionError:
        return feedback.wrong(ex, _T_FROM_ONE)
    if isinstance(answer, str):
        return feedback.wrong(ex, answer)
    keras_steps = _keras_adam()
    if _close(answer, keras_steps):
        return feedback.right(
            ex,
            "four steps as keras.optimizers.Adam takes them. Look at the first: m̂ = g and "
            "v̂ = g², so every weight moves by about η = 0.01 whether its gradient is 0.5 or "
            "1e-4. That is why Adam's default η = 0.001 means 'about 0.001 per weight per "
            "step' and SGD's 0.01 means '0.01 times the gradient'.",
        )
    if not all(np.all(np.isfinite(x)) for x in answer):
        return feedback.wrong(ex, "your weights become inf or nan: " + _T_FROM_ONE)
    for variant, hint in _VARIANTS:
        if _close(answer, _run(variant)):
            return feedback.wrong(ex, hint)
    if np.allclose(answer[0], _W0, atol=1e-9):
        return feedback.wrong(ex, "the weights do not move: return w − η·m̂ / (√v̂ + ε / √(1 − β₂ᵗ)) as the new w.")
    if np.all(np.sign(answer[0] - _W0) == np.sign(_GRADS[0])):
        return feedback.wrong(
            ex, "your weights climb the gradient: subtract the step, w − η·m̂ / (√v̂ + ε / √(1 − β₂ᵗ))."
        )
    return feedback.wrong(
        ex,
        "not the weights of keras.optimizers.Adam: m ← β₁·m + (1 − β₁)·g, "
        "v ← β₂·v + (1 − β₂)·g², m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), "
        "w ← w − η·m̂ / (√v̂ + ε / √(1 − β₂ᵗ)).",
    )


__all__ = [
    "BOWL",
    "MARGIN",
    "START",
    "STEPS",
    "adam_step",
    "largest_stable_rate",
    "momentum_path",
    "one_hot_with_sparse_loss",
    "sgd_on_the_bowl",
]
