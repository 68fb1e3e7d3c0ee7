"""The NumPy update rules of notebook 07 (lessons.optimizers_and_losses.rules) against keras.optimizers:
the same gradients, the same weights.

Keras runs on float64 variables so that the comparison measures the rules, not float32 rounding. The gradient
sequence mixes sizes from 1 to 1e-4 (where ε's placement matters) and changes sign (where momentum matters); a
second test checks that this sequence tells the usual wrong variants of each rule from Keras' rule, so the 1e-6
agreement is not an accident of easy inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnist_course.lessons.optimizers_and_losses import rules as opt

W0 = np.array([0.5, -1.5, 2.0, 0.25])
_RNG = np.random.default_rng(2024)
SCALES = np.array([1.0, 1e-2, 1e-3, 1e-4])
GRADIENTS = [_RNG.normal(size=4) * SCALES for _ in range(8)]
TOL = 1e-6

# (Keras class name, keyword arguments): Keras' defaults, then settings where every term of the rule counts. Keras
# turns a Python β into a float32 tensor before casting it to the variable's dtype (float32(0.999) = 0.99900001...,
# which moves √(1 − β₂ᵗ) by 6e-6 relative); the large-step cases use β's that float32 holds exactly (1 − 2⁻ᵏ).
BETAS = {"beta_1": 1 - 2**-3, "beta_2": 1 - 2**-10}
CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}),
    ("RMSprop", {"learning_rate": 0.1, "rho": 0.8}),
    ("Adagrad", {}),
    ("Adagrad", {"learning_rate": 0.5, "initial_accumulator_value": 0.01}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.1, **BETAS}),
    ("AdamW", {}),
    ("AdamW", {"learning_rate": 0.1, "weight_decay": 0.5, **BETAS}),
]


def keras_trajectory(name: str, kwargs: dict, gradients=GRADIENTS, w0=W0) -> list[np.ndarray]:
    """The weights after each step of keras.optimizers.<name>(**kwargs) on a float64 variable."""
    import keras

    variable = keras.Variable(np.array(w0, dtype=np.float64), dtype="float64")
    optimizer = getattr(keras.optimizers, name)(**kwargs)
    out = []
    for g in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), variable)])
        out.append(np.array(variable.numpy()))
    return out


def gap(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_each_rule_follows_keras_step_for_step(name, kwargs):
    ours = opt.RULES[name](**kwargs).run(W0, GRADIENTS)
    theirs = keras_trajectory(name, kwargs)
    assert gap(ours, theirs) < TOL
    assert gap(theirs, [W0] * len(theirs)) > 1e-4  # the weights did move: a rule that does nothing would fail


def test_the_defaults_are_keras_defaults():
    import keras

    for name, rule in opt.RULES.items():
        ours, theirs = rule(), getattr(keras.optimizers, name)()
        assert ours.learning_rate == pytest.approx(float(theirs.learning_rate), rel=1e-6), name
        for attribute in ("momentum", "rho", "epsilon", "beta_1", "beta_2", "weight_decay"):
            if hasattr(ours, attribute):
                assert getattr(ours, attribute) == pytest.approx(getattr(theirs, attribute)), (name, attribute)
    assert opt.Adagrad().initial == keras.optimizers.Adagrad().initial_accumulator_value == 0.1


def _rmsprop_epsilon_outside(w, g, state, lr=0.1, rho=0.8, eps=1e-7):
    state["s"] = rho * state.get("s", 0.0) + (1 - rho) * g**2
    return w - lr * g / (np.sqrt(state["s"]) + eps)


def _adagrad_from_zero(w, g, state, lr=0.5, eps=1e-7):
    state["a"] = state.get("a", 0.0) + g**2
    return w - lr * g / np.sqrt(state["a"] + eps)


def _adam(w, g, state, *, correct=True, paper_epsilon=False, lr=0.1, b1=BETAS["beta_1"], b2=BETAS["beta_2"], eps=1e-7):
    t = state["t"] = state.get("t", 0) + 1
    m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g**2
    if paper_epsilon:  # Kingma & Ba's Algorithm 1: ε added to the corrected √v̂
        return w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t) if correct else lr
    return w - lr_t * m / (np.sqrt(v) + eps)


def _adamw_decay_after(w, g, state, lr=0.1, wd=0.5):
    w = _adam(w, g, state)
    return w - lr * wd * w


def _momentum_without_nesterov(w, g, state, lr=0.1, mu=0.9):
    state["v"] = mu * state.get("v", 0.0) - lr * g
    return w + state["v"]


def _run(rule, **kwargs) -> list[np.ndarray]:
    w, state, out = W0.copy(), {}, []
    for g in GRADIENTS:
        w = rule(w, g, state, **kwargs)
        out.append(w)
    return out


@pytest.mark.parametrize(
    "case, wrong",
    [
        (CASES[4], _run(_rmsprop_epsilon_outside)),
        (CASES[6], _run(_adagrad_from_zero)),
        (CASES[8], _run(_adam, correct=False)),
        (CASES[8], _run(_adam, paper_epsilon=True)),
        (CASES[10], _run(_adamw_decay_after)),
        (CASES[2], _run(_momentum_without_nesterov)),
    ],
    ids=[
        "rmsprop-eps-outside-root",
        "adagrad-from-zero",
        "adam-no-bias-correction",
        "adam-paper-epsilon",
        "adamw-decay-after-step",
        "nesterov-as-plain-momentum",
    ],
)
def test_the_gradient_sequence_tells_a_wrong_variant_from_keras(case, wrong):
    name, kwargs = case
    assert gap(wrong, keras_trajectory(name, kwargs)) > 100 * TOL


def test_adam_first_step_is_about_the_learning_rate_whatever_the_gradient_size():
    w = opt.Adam(learning_rate=0.01).step(np.zeros(4), SCALES)  # gradients from 1 down to 1e-4
    # at t = 1: m = 0.1·g, √v = √0.001·|g|, η_t = η·√0.001 / 0.1, so the step is η·g / (|g| + ε/√0.001)
    np.testing.assert_allclose(-w, 0.01 * SCALES / (SCALES + 1e-7 / np.sqrt(0.001)), rtol=1e-9)
    assert np.all(np.abs(w + 0.01) < 4e-4)  # about η for every weight, from g = 1 down to g = 1e-4


def test_descend_on_the_bowl():
    bowl = opt.Bowl(a=1.0, b=20.0)
    assert bowl.loss(np.array([1.0, 1.0])) == pytest.approx(10.5)
    np.testing.assert_allclose(bowl.gradient(np.array([2.0, -1.0])), [2.0, -20.0])
    path = opt.SGD(learning_rate=0.04).descend(np.array([-4.0, 1.0]), bowl.gradient, 30)
    assert path.shape == (31, 2) and np.array_equal(path[0], [-4.0, 1.0])
    np.testing.assert_allclose(path[:, 1], (1 - 0.04 * 20.0) ** np.arange(31))  # y: factor 1 − η·b per step
    np.testing.assert_allclose(path[:, 0], -4.0 * (1 - 0.04) ** np.arange(31))
    too_large = opt.SGD(learning_rate=0.11).descend(np.array([0.0, 1.0]), bowl.gradient, 20)  # η·b > 2
    assert abs(too_large[-1, 1]) > 1.0  # diverges across the steep axis
    losses = bowl.loss(path)
    assert losses.shape == (31,) and np.all(np.diff(losses) < 0)


def test_bad_learning_rate_is_refused():
    with pytest.raises(ValueError, match="learning_rate"):
        opt.Adam(learning_rate=0)
