"""Tests for evaluation: report numbers, confusion matrix, mistakes and the figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnist_course import evaluation  # noqa: E402
from mnist_course.models import build_model  # noqa: E402
from mnist_course.predict import probabilities  # noqa: E402


def probs_for(preds: list[int], confidence: list[float]) -> np.ndarray:
    """Probability rows predicting ``preds`` with the given top probability, rest spread evenly."""
    out = np.zeros((len(preds), 10))
    for row, (p, c) in enumerate(zip(preds, confidence)):
        out[row] = (1 - c) / 9
        out[row, p] = c
    return out


Y_TRUE = np.array([0, 0, 1, 1, 2, 2])
PROBS = probs_for([0, 1, 1, 1, 2, 0], [0.9, 0.6, 0.8, 0.7, 0.99, 0.95])  # two mistakes: rows 1 and 5


def test_report_accuracy_and_confusion_matrix() -> None:
    report = evaluation.evaluation_report(PROBS, None, Y_TRUE)
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.per_class[:3].tolist() == pytest.approx([0.5, 1.0, 0.5])
    expected = np.zeros((10, 10), dtype=int)
    expected[0, 0] = expected[0, 1] = expected[2, 2] = expected[2, 0] = 1
    expected[1, 1] = 2
    assert report.confusion.shape == (10, 10)
    assert report.confusion.dtype.kind == "i"
    assert (report.confusion == expected).all()
    assert report.n == 6 and report.errors == 2


def test_report_text_is_rounded_percent() -> None:
    text = str(evaluation.evaluation_report(PROBS, None, np.eye(10)[Y_TRUE]))  # one-hot labels work too
    assert "test accuracy: 66.67 % (2 errors in 6 images)" in text
    assert "  0:  50.00 %" in text and "  1: 100.00 %" in text
    assert text == evaluation.evaluation_report(PROBS, None, Y_TRUE).to_text()


def test_report_rejects_wrong_shapes() -> None:
    with pytest.raises(ValueError, match="expected probabilities"):
        evaluation.evaluation_report(PROBS[:, :5], None, Y_TRUE)


def test_report_from_a_model_reshapes_and_softmaxes_logits() -> None:
    x = np.random.default_rng(0).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    logits_model = build_model("cnn-32-64", seed=0)  # outputs logits
    probs = probabilities(logits_model, x)
    assert probs.shape == (20, 10)
    assert np.allclose(probs.sum(axis=1), 1) and probs.min() >= 0
    y = probs.argmax(axis=1)
    assert evaluation.evaluation_report(logits_model, x, y).accuracy == 1.0
    flat_model = build_model("dense-512", seed=0)  # (N, 28, 28) uint8 is flattened for it
    assert evaluation.evaluation_report(flat_model, x, y).n == 20


def test_misclassified_sorted_by_confidence() -> None:
    assert evaluation.misclassified(PROBS, Y_TRUE).tolist() == [5, 1]
    assert evaluation.misclassified(probs_for([3], [0.9]), [3]).tolist() == []


def test_plot_history_single_run_solid_and_dashed() -> None:
    history = {
        "loss": [1.0, 0.5, 0.3],
        "accuracy": [0.7, 0.8, 0.9],
        "val_loss": [1.1, 0.6, 0.4],
        "val_accuracy": [0.6, 0.75, 0.85],
    }
    fig = evaluation.plot_history(history, title="demo")
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ("loss", "accuracy")):
        train, val = ax.lines
        assert ax.get_ylabel() == metric
        assert (train.get_linestyle(), val.get_linestyle()) == ("-", "--")
        assert train.get_color() == val.get_color()
        assert list(val.get_ydata()) == history[f"val_{metric}"]
    assert fig._suptitle.get_text() == "demo"


def test_plot_history_overlays_runs_and_accepts_keras_history() -> None:
    keras_history = keras.callbacks.History()
    keras_history.history = {"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]}
    fig = evaluation.plot_history({"a": {"loss": [1.0, 0.9]}, "b": keras_history}, metrics=("loss",))
    (ax,) = fig.axes
    assert [line.get_linestyle() for line in ax.lines] == ["-", "-", "--"]
    assert ax.lines[0].get_color() != ax.lines[1].get_color()
    assert ax.lines[1].get_color() == ax.lines[2].get_color()
    assert [line.get_label() for line in ax.lines] == ["a train", "b train", "b validation"]
    assert len(evaluation.plot_history(keras_history, metrics=("loss",)).axes[0].lines) == 2


def test_plot_confusion_matrix_writes_every_count() -> None:
    cm = evaluation.evaluation_report(PROBS, None, Y_TRUE).confusion
    fig = evaluation.plot_confusion_matrix(cm)
    ax, bar = fig.axes  # the matrix and its colour bar
    assert len(ax.texts) == 100 and bar.get_ylabel() == "mistakes (off-diagonal count)"
    assert sorted(t.get_text() for t in ax.texts)[-1] == "2"


def test_confusion_counts_stay_readable_on_the_darkest_cells() -> None:
    cm = np.diag([50] * 10)
    cm[3, 5], cm[1, 2] = 40, 4  # the darkest mistake, and a light one
    ax = evaluation.plot_confusion_matrix(cm).axes[0]
    colour = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_color() for t in ax.texts}
    assert colour[(3, 5)] == "white" and colour[(1, 2)] == "black" and colour[(0, 0)] == "tab:blue"


def test_plot_misclassified_gallery_titles() -> None:
    x = np.zeros((6, 28, 28), dtype=np.uint8)
    fig = evaluation.plot_misclassified(x, Y_TRUE, PROBS, n=16)
    assert len(fig.axes) == 2  # only the two mistakes get a panel
    assert [ax.get_title() for ax in fig.axes] == [
        "true 2, predicted 0\n95.0 % sure",
        "true 0, predicted 1\n60.0 % sure",
    ]
    assert len(evaluation.plot_misclassified(x, Y_TRUE, PROBS, n=1).axes) == 1
    titled = evaluation.plot_misclassified(x, Y_TRUE, PROBS, title="the most confident mistakes")
    assert titled.get_suptitle() == "the most confident mistakes"


@pytest.mark.parametrize(
    "p, text",
    [
        (0.95, "95.0 %"),
        (0.6, "60.0 %"),
        (0.97345, "97.3 %"),
        (0.99949, "99.9 %"),
        (0.9996, "99.96 %"),
        (0.999996, "99.9996 %"),
        (0.9999999, "> 99.9999 %"),
        (1.0, "100.0 %"),
        (0.0, "0.0 %"),
    ],
)
def test_confidence_text_keeps_a_decimal_and_never_rounds_below_one_up_to_100(p, text) -> None:
    assert evaluation.confidence_text(p) == text


def test_plot_seed_curves_draws_mean_of_the_seeds_with_a_band() -> None:
    runs = {
        "a": [{"loss": [1.0, 0.5], "val_loss": [1.2, 0.8]}, {"loss": [3.0, 1.5], "val_loss": [1.4, 1.0]}],
        "b": [{"loss": [2.0, 1.0]}, {"loss": [2.0, 1.0]}],
    }
    fig = evaluation.plot_seed_curves(runs, metrics=("loss",), title="two runs")
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.lines}
    assert sorted(lines) == ["a train", "a validation", "b train"]
    assert lines["a train"].get_ydata().tolist() == [2.0, 1.0]  # mean of 1 and 3, of 0.5 and 1.5
    assert lines["a validation"].get_linestyle() == "--"
    assert lines["a train"].get_color() != lines["b train"].get_color()
    assert len(ax.collections) == 3  # one ± spread band per curve
    assert fig.get_suptitle() == "two runs"


def test_plot_reliability_shows_bins_counts_diagonal_and_ece() -> None:
    # 6 answers at 95 % all right, 2 at 55 % both wrong: ECE = 6/8 * 0.05 + 2/8 * 0.55 = 17.50 %
    probs = probs_for([0] * 6 + [3, 3], [0.95] * 6 + [0.55] * 2)
    fig = evaluation.plot_reliability(probs, np.zeros(8, dtype=int), title="toy model", n_bins=10)
    top, bottom = fig.axes
    assert fig.get_suptitle() == "toy model: ECE 17.50 % (10 bins, 8 images)"
    diagonal = top.lines[0]
    assert list(diagonal.get_xdata()) == [0, 100] and list(diagonal.get_ydata()) == [0, 100]
    bars = sorted((round(b.get_x() + b.get_width() / 2), round(b.get_height())) for b in top.patches)
    assert bars == [(55, 0), (95, 100)]  # accuracy in percent at the centre of the bins 50-60 % and 90-100 %
    points = top.lines[1]
    assert sorted(points.get_xdata().tolist()) == pytest.approx([55.0, 95.0])  # mean confidence of each bin
    assert sorted(t.get_text() for t in bottom.texts) == ["2", "6"]
    assert "(%)" in top.get_ylabel() and "(%)" in bottom.get_xlabel() and "images" in bottom.get_ylabel()
    assert bottom.get_yscale() == "log"
    assert evaluation.plot_reliability(probs, np.zeros(8, dtype=int)).get_suptitle().startswith("reliability diagram")


def test_figures_are_not_registered_with_pyplot() -> None:
    plt.close("all")
    evaluation.plot_reliability(PROBS, Y_TRUE)
    evaluation.plot_history({"loss": [1.0]}, metrics=("loss",))
    evaluation.plot_confusion_matrix(np.eye(10, dtype=int))
    evaluation.plot_misclassified(np.zeros((6, 784)), Y_TRUE, PROBS)
    assert plt.get_fignums() == []  # so %matplotlib inline cannot show them a second time
