"""The optimizer playground of notebook 07 without a browser: its paths are the course's rule objects' and Keras'
optimizers', and every control changes what is on screen."""

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from mnist_course.lessons.optimizers_and_losses.rules import SGD, Adagrad, Adam, RMSprop, RotatedBowl
from mnist_course.widgets import OptimizerPlayground
from mnist_course.widgets.optimizer_playground import SURFACES

PNG = b"\x89PNG\r\n\x1a\n"
# Keras turns a Python η, β, ρ or μ into float32 before using it: these values float32 holds exactly (1 - 2^-k).
EXACT = {"momentum": 0.75, "rho": 0.875, "beta_1": 0.875, "beta_2": 1 - 2**-10}


def playground(surface="valley", steps=12, learning_rate=0.05, **settings) -> OptimizerPlayground:
    """A playground with its controls set as a student would set them."""
    widget = OptimizerPlayground(steps=steps)
    widget.surface.value = surface
    widget.learning_rate.value = learning_rate
    for name, value in settings.items():
        getattr(widget, name).value = value
    return widget


def by_hand(name, steps, surface, learning_rate, momentum, rho, beta_1, beta_2) -> np.ndarray:
    """The path of the course's rule object, stepped one gradient at a time here."""
    rule = {
        "SGD": lambda: SGD(learning_rate=learning_rate),
        "momentum": lambda: SGD(learning_rate=learning_rate, momentum=momentum),
        "RMSprop": lambda: RMSprop(learning_rate=learning_rate, rho=rho),
        "Adam": lambda: Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2),
        "Adagrad": lambda: Adagrad(learning_rate=learning_rate),
    }[name]()
    w, path = np.array(SURFACES[surface].start), []
    path.append(w)
    for _ in range(steps):
        w = rule.step(w, SURFACES[surface].bowl.gradient(w))
        path.append(w)
    return np.array(path)


def keras_path(name, steps, surface, learning_rate, momentum, rho, beta_1, beta_2) -> np.ndarray:
    """keras.optimizers.<...> on a float64 keras.Variable, the gradient taken by TensorFlow from the loss written
    here: (x² + 20·y²) / 2 in the valley's coordinates (turned by 45° for the turned valley)."""
    import keras
    import tensorflow as tf

    optimizer = {
        "SGD": lambda: keras.optimizers.SGD(learning_rate=learning_rate),
        "momentum": lambda: keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
        "RMSprop": lambda: keras.optimizers.RMSprop(learning_rate=learning_rate, rho=rho),
        "Adam": lambda: keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2),
        "Adagrad": lambda: keras.optimizers.Adagrad(learning_rate=learning_rate),
    }[name]()
    start = {"valley": [-4.0, 1.0], "turned valley": [-3.5, -2.0]}[surface]
    turn = 0.0 if surface == "valley" else np.pi / 4
    variable = keras.Variable(np.array(start), dtype="float64")
    path = [np.array(start)]
    for _ in range(steps):
        with tf.GradientTape() as tape:
            x, y = variable[0], variable[1]
            u, v = np.cos(turn) * x + np.sin(turn) * y, -np.sin(turn) * x + np.cos(turn) * y
            loss = 0.5 * (u**2 + 20.0 * v**2)
        optimizer.apply_gradients([(tape.gradient(loss, variable), variable)])
        path.append(np.array(variable.numpy()))
    return np.array(path)


DEFAULTS = {"momentum": 0.9, "rho": 0.9, "beta_1": 0.9, "beta_2": 0.999}
CASES = [
    ("valley", 0.05, DEFAULTS),
    ("valley", 2**-6, EXACT),
    ("turned valley", 2**-3, EXACT),
    ("turned valley", 2**-2, {"momentum": 0.5, "rho": 0.5, "beta_1": 0.5, "beta_2": 0.9375}),  # SGD diverges
]


@pytest.mark.parametrize("surface, learning_rate, settings", CASES)
def test_the_paths_are_the_rule_objects_stepped_by_hand(surface, learning_rate, settings):
    widget = playground(surface, steps=15, learning_rate=learning_rate, **settings)
    assert widget.shown_rules == ["SGD", "momentum", "RMSprop", "Adam", "Adagrad"]
    for name in widget.shown_rules:
        expected = by_hand(name, 15, surface, learning_rate, **settings)
        np.testing.assert_array_equal(widget.paths[name], expected, err_msg=name)


@pytest.mark.parametrize("surface, learning_rate, settings", CASES)
def test_the_paths_are_keras_optimizers_paths(surface, learning_rate, settings):
    widget = playground(surface, steps=8, learning_rate=learning_rate, **settings)
    # Keras rounds η = 0.05 and the default β's and ρ to float32 (0.999 -> 0.99900001...): about 1e-7 relative
    tolerance = 1e-9 if settings is not DEFAULTS else 1e-5
    for name in widget.shown_rules:
        theirs = keras_path(name, 8, surface, learning_rate, **settings)
        np.testing.assert_allclose(widget.paths[name], theirs, rtol=tolerance, atol=tolerance, err_msg=name)
        assert np.max(np.abs(theirs[-1] - theirs[0])) > 0.05, name  # the weights did move


def test_sgd_on_the_valley_worked_by_hand():
    widget = playground("valley", steps=10, learning_rate=0.04)
    # x shrinks by 1 − η = 0.96 per step, y by 1 − 20·η = 0.2
    x, y = -4.0 * 0.96**10, 1.0 * 0.2**10
    np.testing.assert_allclose(widget.paths["SGD"][-1], [x, y], rtol=1e-12)
    loss = 0.5 * (x**2 + 20 * y**2)  # 5.3188...
    rows = re.findall(r"<tr><td[^>]*>(\w+)</td><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td></tr>", widget.table.value)
    assert rows[0] == ("SGD", f"{loss:.3g}", f"{100 * loss / 18:.3g} %")
    assert "loss after<br>10 steps" in widget.table.value and "start (-4, 1): loss 18" in widget.table.value


def test_each_slider_changes_only_the_rules_it_belongs_to():
    widget = playground("valley", steps=20)
    for control, value, changed in [
        ("momentum", 0.5, {"momentum"}),
        ("rho", 0.5, {"RMSprop"}),
        ("beta_1", 0.5, {"Adam"}),
        ("beta_2", 0.95, {"Adam"}),
        ("learning_rate", 0.02, {"SGD", "momentum", "RMSprop", "Adam", "Adagrad"}),
    ]:
        before, picture, table = dict(widget.paths), widget.image.value, widget.table.value
        getattr(widget, control).value = value
        moved = {n for n in widget.paths if not np.array_equal(widget.paths[n], before[n])}
        assert moved == changed, control
        assert widget.image.value != picture and widget.table.value != table, control
    assert widget.figure.texts[0].get_text().endswith("η = 0.02")  # the title says the learning rate


def test_steps_slider_and_step_button():
    widget = playground("valley", steps=5)
    assert widget.shown_steps == 5 and all(len(p) == 6 for p in widget.paths.values())
    picture, before = widget.image.value, dict(widget.paths)
    widget.step_button.click()
    assert widget.steps.value == widget.shown_steps == 6 and all(len(p) == 7 for p in widget.paths.values())
    assert widget.image.value != picture and "after<br>6 steps" in widget.table.value
    for name, path in widget.paths.items():  # a step adds one point to each path, the earlier ones stay
        np.testing.assert_array_equal(path[:6], before[name])
    widget.steps.value = 40
    assert "after<br>40 steps" in widget.table.value and len(widget.paths["Adam"]) == 41
    widget.steps.value = widget.steps.max
    widget.step_button.click()
    assert widget.shown_steps == widget.steps.max == 200  # the button stops at the slider's end


def test_rule_checkboxes_choose_the_paths_shown():
    widget = playground("valley")
    widget.checkboxes["Adagrad"].value = False
    widget.checkboxes["SGD"].value = False
    assert widget.shown_rules == ["momentum", "RMSprop", "Adam"] and set(widget.paths) == set(widget.shown_rules)
    assert ">SGD<" not in widget.table.value and ">Adam<" in widget.table.value
    legend = [t.get_text() for t in widget.figure.axes[0].get_legend().get_texts()]
    assert [t.split(":")[0] for t in legend] == ["minimum", "momentum", "RMSprop", "Adam"]
    for box in widget.checkboxes.values():
        box.value = False
    assert widget.paths == {} and "tick a rule" in widget.table.value and widget.image.value[:8] == PNG


def test_the_surface_dropdown_changes_the_start_and_the_frame():
    widget = playground("valley")
    widget.surface.value = "turned valley"
    assert all(np.array_equal(p[0], [-3.5, -2.0]) for p in widget.paths.values())
    assert widget.figure.axes[0].get_ylim() == (-3.0, 1.5) and "turned by 45°" in widget.figure.texts[0].get_text()
    assert "start (-3.5, -2): loss" in widget.table.value


def test_a_diverging_path_keeps_the_frame_and_says_diverged():
    widget = playground("valley", steps=30, learning_rate=0.3)  # SGD: y is multiplied by 1 − 20·0.3 = −5 per step
    assert widget.diverged == ["SGD", "momentum"]
    assert re.search(r">SGD</td><td[^>]*>diverged</td>", widget.table.value)
    assert widget.figure.axes[0].get_xlim() == (-4.5, 1.5) and widget.figure.axes[0].get_ylim() == (-1.3, 1.3)
    legend = [t.get_text() for t in widget.figure.axes[0].get_legend().get_texts()]
    assert "SGD: diverged" in legend and "Adam: diverged" not in legend
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflowing to inf and nan draws without a warning
        widget.learning_rate.value = 10**widget.learning_rate.max  # η ≈ 3.2: y grows by 62 per step
        widget.steps.value = 200
    assert not np.all(np.isfinite(widget.paths["SGD"][-1])) and "SGD" in widget.diverged
    assert widget.image.value[:8] == PNG and widget.figure.axes[0].get_ylim() == (-1.3, 1.3)


def test_the_stored_output_is_a_picture_and_one_sentence():
    bundle = OptimizerPlayground()._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "image/png" in data and "application/vnd.jupyter.widget-view+json" in data
    text = data["text/plain"]
    assert text.count(". ") == 0 and text.endswith(".") and "object at" not in text and "5 update rules" in text


def test_the_turned_bowl():
    turned = RotatedBowl(a=1.0, b=20.0, angle=90.0)  # along the valley is now y, across it x: (20·x² + y²) / 2
    assert turned.loss(np.array([1.0, 2.0])) == pytest.approx(0.5 * (20 + 4))
    np.testing.assert_allclose(turned.gradient(np.array([1.0, 2.0])), [20.0, 2.0], atol=1e-12)
    diagonal, w, h = RotatedBowl(angle=30.0), np.array([0.7, -1.3]), 1e-6
    numeric = [(diagonal.loss(w + h * e) - diagonal.loss(w - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(diagonal.gradient(w), numeric, rtol=1e-6)
    grid = np.zeros((3, 4, 2))
    assert turned.loss(grid).shape == (3, 4)
