"""Softmax regression, gradient descent and backpropagation by hand (notebook 03), checked against hand-computed
literals, central finite differences and TensorFlow's autodiff, never against themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mnist_course.lessons.how_a_network_learns import backprop
from mnist_course.lessons.how_a_network_learns import plots as learning_plots
from mnist_course.lessons.how_a_network_learns import softmax_regression as learning


def _problem(n: int = 6, features: int = 5, classes: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, features))
    labels = rng.integers(0, classes, size=n)
    y = np.eye(classes)[labels]
    return x, y, labels, rng.normal(0, 0.5, size=(features, classes)), rng.normal(0, 0.5, size=classes)


def _tape(function, *arrays):
    """Autodiff gradients of ``function(*tensors)`` for every array, in float64, with tf.GradientTape."""
    import tensorflow as tf

    variables = [tf.Variable(a, dtype=tf.float64) for a in arrays]
    with tf.GradientTape() as tape:
        loss = function(*variables)
    return [g.numpy() for g in tape.gradient(loss, variables)]


# softmax and cross-entropy ---------------------------------------------------------------------------------------


def test_softmax_matches_hand_computed_values_and_ignores_a_shift():
    e = math.e
    expected = [1 / (1 + e + e * e), e / (1 + e + e * e), e * e / (1 + e + e * e)]  # exp(0,1,2) / their sum
    assert np.allclose(learning.softmax(np.array([[0.0, 1.0, 2.0]])), [expected], atol=1e-12)
    with np.errstate(over="raise", invalid="raise"):  # the stable form never overflows
        big = learning.softmax(np.array([[1000.0, 1001.0, 1002.0]]))
    assert np.allclose(big, [expected], atol=1e-12)
    assert np.allclose(learning.softmax(np.array([-1000.0, 0.0])), [0.0, 1.0])  # also along a 1-d vector


def test_log_softmax_is_finite_where_softmax_underflows():
    out = learning.log_softmax(np.array([[0.0, -2000.0]]))
    assert np.allclose(out, [[0.0, -2000.0]])  # log(1) and -2000 - log(1 + e^-2000)


def test_cross_entropy_of_uniform_predictions_is_log_of_the_class_count():
    y = np.eye(10)[[3, 7]]
    assert learning.cross_entropy(y, np.full((2, 10), 0.1)) == pytest.approx(math.log(10))
    assert learning.cross_entropy_from_logits(y, np.zeros((2, 10))) == pytest.approx(math.log(10))


def test_general_cross_entropy_equals_minus_log_p_true_on_one_hot_rows_and_differs_on_soft_ones():
    p = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]])
    assert learning.cross_entropy(np.eye(3)[[0, 2]], p) == pytest.approx(-(math.log(0.7) + math.log(0.5)) / 2)
    soft = np.array([[0.9, 0.05, 0.05]])
    assert learning.cross_entropy(soft, p[:1]) == pytest.approx(
        -(0.9 * math.log(0.7) + 0.05 * math.log(0.2) + 0.05 * math.log(0.1))
    )


def test_cross_entropy_counts_zero_times_log_zero_as_zero_and_refuses_integer_labels():
    assert learning.cross_entropy(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]])) == 0.0
    with pytest.raises(ValueError, match="one-hot targets"):
        learning.cross_entropy(np.array([0, 1]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="must both be"):
        learning.cross_entropy_from_logits(np.array([0, 1]), np.zeros((2, 2)))


def test_one_hot_rows_and_bad_input():
    assert learning.one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert learning.one_hot(np.array([1])).dtype == np.float32
    with pytest.raises(ValueError, match="integer labels"):
        learning.one_hot(np.eye(3))


# gradients -------------------------------------------------------------------------------------------------------


def test_numerical_gradient_of_a_known_function_and_its_restoring_of_the_parameter():
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = w.copy()
    grad = learning.numerical_gradient(lambda: float((w**3).sum()), w)
    assert np.allclose(grad, 3 * before**2, atol=1e-6) and np.array_equal(w, before)
    some = learning.numerical_gradient(lambda: float((w**3).sum()), w, indices=[(0, 1)])
    assert some[0, 1] == pytest.approx(12.0, abs=1e-6) and some[0, 0] == some[1, 0] == some[1, 1] == 0
    with pytest.raises(TypeError, match="float64"):
        learning.numerical_gradient(lambda: 0.0, w.astype(np.float32))


def test_accuracy_counts_the_largest_logit():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    w = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    b = np.zeros(3)
    assert learning.accuracy(x, np.array([0, 2, 0]), w, b) == pytest.approx(2 / 3)  # third row: argmax is 2
    assert learning.accuracy(x, np.eye(3)[[0, 2, 2]], w, b) == 1.0


# gradient descent ------------------------------------------------------------------------------------------------


def test_one_full_batch_step_is_minus_learning_rate_times_the_gradient_at_zero():
    x, y, _, _, _ = _problem(n=4, features=3, seed=2)
    run = learning.gradient_descent(x, y, learning_rate=0.5, batch_size=4, epochs=1)
    # At W = 0, b = 0 every probability is 1/10, so the gradient is x.T @ (0.1 - Y) / N and (0.1 - Y) averaged.
    assert np.allclose(run.weights, -0.5 * x.T @ (0.1 - y) / 4, atol=1e-6)
    assert np.allclose(run.bias, -0.5 * (0.1 - y).mean(axis=0), atol=1e-6)
    assert run.steps == 1 and run.losses == [pytest.approx(math.log(10), abs=1e-6)]


def test_mini_batches_visit_every_row_once_per_epoch_with_a_smaller_last_batch():
    x, y, _, _, _ = _problem(n=10, features=3, seed=3)
    run = learning.gradient_descent(x, y, learning_rate=0.1, batch_size=4, epochs=2, seed=0)
    assert run.steps == 6  # 4 + 4 + 2 per epoch
    half = learning.gradient_descent(x, y, learning_rate=0.1, batch_size=1, epochs=0.5)
    assert half.steps == 5


def test_a_small_learning_rate_lowers_the_full_batch_loss_at_every_step_and_a_huge_one_does_not():
    x, y, _, _, _ = _problem(n=40, features=6, seed=4)
    small = learning.gradient_descent(x, y, learning_rate=0.1, batch_size=40, epochs=30)
    assert all(b < a for a, b in zip(small.losses, small.losses[1:]))
    huge = learning.gradient_descent(x * 30, y, learning_rate=50, batch_size=40, epochs=5)
    assert max(huge.losses) > 10 * math.log(10)


def test_checkpoints_measure_the_validation_loss_at_the_start_and_along_the_way():
    x, y, _, _, _ = _problem(n=20, features=3, seed=5)
    run = learning.gradient_descent(x, y, learning_rate=0.1, batch_size=5, epochs=1, validation=(x, y), checkpoints=2)
    assert [seen for seen, _ in run.checkpoints] == [0, 10, 20]
    assert run.checkpoints[0][1] == pytest.approx(math.log(10), abs=1e-6)
    full = learning.gradient_descent(x, y, learning_rate=0.1, batch_size=20, epochs=1, validation=(x, y), checkpoints=5)
    assert [seen for seen, _ in full.checkpoints] == [0, 20]  # one step passes every mark: one point


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(learning_rate=0.1, batch_size=0), "batch_size"),
        (dict(learning_rate=0.0), "learning_rate > 0"),
        (dict(learning_rate=0.1, epochs=0), "epochs > 0"),
    ],
)
def test_gradient_descent_refuses_bad_settings(kwargs, fragment):
    x, y, _, _, _ = _problem(n=5, features=2)
    with pytest.raises(ValueError, match=fragment):
        learning.gradient_descent(x, y, **kwargs)


def test_gradient_descent_refuses_integer_labels():
    x, _, labels, _, _ = _problem(n=5, features=2)
    with pytest.raises(ValueError, match="one_hot"):
        learning.gradient_descent(x, labels, learning_rate=0.1)


# backpropagation -------------------------------------------------------------------------------------------------


def test_sigmoid_values_and_no_overflow():
    assert backprop.sigmoid(np.array([0.0]))[0] == 0.5
    assert backprop.sigmoid(np.array([2.0]))[0] == pytest.approx(1 / (1 + math.exp(-2)))
    with np.errstate(over="raise"):
        assert backprop.sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_stack_gradients_match_tensorflow_autodiff(activation):
    import tensorflow as tf

    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 4))
    y = np.eye(3)[rng.integers(0, 3, size=5)]
    layers = backprop.dense_stack([4, 6, 5, 3], seed=1)
    for layer in layers:
        layer.bias = rng.normal(0, 0.1, size=layer.bias.shape)
    f = {"sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu}[activation]

    def loss(*params):
        a = tf.constant(x)
        for i in range(0, len(params) - 2, 2):
            a = f(a @ params[i] + params[i + 1])
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(y, a @ params[-2] + params[-1]))

    flat = [p for layer in layers for p in (layer.weights, layer.bias)]
    expected = _tape(loss, *flat)
    got = [g for pair in backprop.stack_gradients(x, y, layers, activation) for g in pair]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and np.abs(g - e).max() < 1e-12
    assert backprop.stack_loss(x, y, layers, activation) == pytest.approx(float(loss(*flat)), abs=1e-12)


def test_glorot_uniform_stays_within_its_limit_and_the_stack_is_seeded():
    w = backprop.glorot_uniform(300, 100, np.random.default_rng(0))
    assert (
        w.shape == (300, 100) and np.abs(w).max() <= math.sqrt(6 / 400) and np.abs(w).max() > 0.9 * math.sqrt(6 / 400)
    )
    a, b = backprop.dense_stack([3, 2], seed=5), backprop.dense_stack([3, 2], seed=5)
    assert np.array_equal(a[0].weights, b[0].weights) and not a[0].bias.any()
    with pytest.raises(ValueError, match="at least"):
        backprop.dense_stack([3])


def test_layer_gradient_norms_are_the_norms_of_each_hidden_layers_gradient():
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(8, 5))
    y = np.eye(10)[rng.integers(0, 10, size=8)]
    norms = backprop.layer_gradient_norms(x, y, "tanh", depth=3, width=4, seed=2)
    layers = backprop.dense_stack([5, 4, 4, 4, 10], seed=2)
    expected = []
    for i in range(3):  # finite differences of the loss for each hidden layer's weights
        w = layers[i].weights
        grad = learning.numerical_gradient(lambda: backprop.stack_loss(x, y, layers, "tanh"), w)
        expected.append(np.linalg.norm(grad))
    assert norms.shape == (3,) and np.allclose(norms, expected, rtol=1e-6)


def test_an_unknown_activation_is_named():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        backprop.stack_loss(np.zeros((1, 2)), np.eye(2)[:1], backprop.dense_stack([2, 2]), "swish")


# figures ---------------------------------------------------------------------------------------------------------


def test_loss_curves_draw_one_labelled_line_per_run_in_the_given_colours():
    fig = learning_plots.loss_curves(
        {"lr 0.01": ([0, 1], [2.3, 2.0]), "lr 0.5": ([0, 1, 2], [2.3, 0.5, 0.4])},
        xlabel="step",
        log_y=True,
        colours={"lr 0.5": "tab:red"},
        title="t",
    )
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["lr 0.01", "lr 0.5"]
    assert ax.get_lines()[1].get_color() == "tab:red" and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="at least one"):
        learning_plots.loss_curves({}, xlabel="step")


def test_gradient_norms_figure_numbers_layers_from_one():
    fig = learning_plots.gradient_norms({"relu": np.array([0.1, 0.2, 0.3])})
    line = fig.axes[0].get_lines()[0]
    assert line.get_xdata().tolist() == [1, 2, 3] and fig.axes[0].get_yscale() == "log"


def test_points_only_curves_have_no_line():
    fig = learning_plots.loss_curves(
        {"batch": ([0, 10], [2.3, 1.8]), "mini": ([0, 5, 10], [2.3, 0.5, 0.4])}, xlabel="images", points_only={"batch"}
    )
    batch, mini = fig.axes[0].get_lines()
    assert batch.get_linestyle() == "None" and mini.get_linestyle() == "-"


def test_weight_images_share_one_symmetric_scale_red_positive_blue_negative_with_a_colour_bar():
    w = np.zeros((784, 3))
    w[0, 0], w[1, 2] = 2.0, -0.5
    fig = learning_plots.weight_images(w, title="weights")
    *panels, bar = fig.axes
    images = [ax.get_images()[0] for ax in panels]
    assert len(images) == 3 and all(im.get_clim() == (-2.0, 2.0) for im in images)
    assert images[2].get_array()[0, 1] == -0.5 and [ax.get_title() for ax in panels] == ["0", "1", "2"]
    assert bar.get_ylabel() == "weight" and not bar.get_images()
    cmap = images[0].get_cmap()
    assert cmap.name == learning_plots.SIGNED_CMAP == "RdBu_r"
    top, middle, bottom = cmap(1.0), cmap(0.5), cmap(0.0)
    assert top[0] > 2 * max(top[1], top[2])  # the largest positive weight is red
    assert bottom[2] > 2 * max(bottom[0], bottom[1])  # the most negative one is blue
    assert min(middle[:3]) > 0.9  # 0 is (nearly) white
    with pytest.raises(ValueError, match=r"\(784, classes\)"):
        learning_plots.weight_images(np.zeros((10, 784)))


def test_spreads_by_layer_draws_one_panel_per_activation_and_one_line_per_scale():
    spreads = {
        "tanh": {"0.01": np.array([1e-2, 1e-4, 1e-6]), "glorot": np.array([0.4, 0.3, 0.3])},
        "relu": {"0.01": np.array([1e-2, 1e-4, 1e-6]), "glorot": np.array([0.3, 0.2, 0.1])},
    }
    fig = learning_plots.spreads_by_layer(spreads, title="t", colours={"glorot": "tab:green"})
    assert [ax.get_title() for ax in fig.axes] == ["tanh", "relu"]
    for ax in fig.axes:
        tiny, glorot = ax.get_lines()
        assert tiny.get_label() == "0.01" and glorot.get_color() == "tab:green"
        assert tiny.get_xdata().tolist() == [1, 2, 3] and ax.get_yscale() == "log"
    assert fig.axes[0].get_shared_y_axes().joined(fig.axes[0], fig.axes[1])
    for empty in ({}, {"tanh": {}}):
        with pytest.raises(ValueError, match="at least one activation"):
            learning_plots.spreads_by_layer(empty)
