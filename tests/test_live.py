"""Live feedback: LivePlot driven by a real (tiny) model.fit, watched and unattended; progress() over loops."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from mnist_course import live


class Handle:
    """Stands in for IPython's DisplayHandle: remembers what was displayed and every update."""

    def __init__(self, obj) -> None:
        self.shown, self.updates = obj, []

    def update(self, obj) -> None:
        self.updates.append(obj)


@pytest.fixture
def unattended(monkeypatch):
    monkeypatch.setenv(live.UNATTENDED_ENV, "1")


@pytest.fixture
def watched(monkeypatch):
    """A kernel is running and nobody set $MNIST_COURSE_UNATTENDED; display() is captured, refreshes unthrottled."""
    monkeypatch.delenv(live.UNATTENDED_ENV, raising=False)
    monkeypatch.setattr("IPython.get_ipython", lambda: SimpleNamespace(kernel=object()))
    monkeypatch.setattr(live, "REFRESH_S", 0.0)
    handles: list[Handle] = []

    def fake_display(obj, display_id=False):
        assert display_id is True, "live feedback must update in place, through a display handle"
        handles.append(Handle(obj))
        return handles[-1]

    monkeypatch.setattr(live, "display", fake_display)
    return handles


def fit(callback, epochs: int = 3, validation: bool = True):
    """A tiny dense model on random data (64 examples, 4 batches per epoch), trained with ``callback``."""
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 8)).astype("float32"), rng.integers(0, 3, 64)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    extra = {"validation_data": (x[:16], y[:16])} if validation else {}
    return model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=[callback], **extra)


def test_unattended_training_prints_one_stable_line_per_epoch(unattended, capsys):
    fit(live.LivePlot())
    assert capsys.readouterr().out.splitlines() == ["trained for 3 epochs"]
    fit(live.LivePlot("dense"), epochs=2)
    assert capsys.readouterr().out.splitlines() == ["dense: trained for 2 epochs"]


def test_without_a_kernel_it_is_unattended_too(monkeypatch, capsys):
    monkeypatch.delenv(live.UNATTENDED_ENV, raising=False)
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert not live.attended()
    monkeypatch.setattr("IPython.get_ipython", lambda: SimpleNamespace())  # terminal IPython: a shell, no kernel
    assert not live.attended()
    fit(live.LivePlot(), epochs=2)
    assert capsys.readouterr().out.splitlines() == ["trained for 2 epochs"]


def test_watched_training_updates_the_curves_once_per_epoch(watched, capsys):
    plot = live.LivePlot("tiny")
    history = fit(plot, epochs=3)
    assert capsys.readouterr().out == ""
    figure_handle, status_handle = watched
    assert figure_handle.shown is plot.figure
    assert len(figure_handle.updates) == 3 and all(f is plot.figure for f in figure_handle.updates)
    assert plot.history == history.history

    axes = {ax.get_title(): ax for ax in plot.figure.axes}
    assert list(axes) == ["loss", "accuracy"]
    for metric, ax in axes.items():
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {f"train {metric}", f"validation {metric}"}
        train, val = lines[f"train {metric}"], lines[f"validation {metric}"]
        assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
        assert train.get_color() == val.get_color()
        assert list(train.get_xdata()) == [1, 2, 3]
        assert list(train.get_ydata()) == pytest.approx(history.history[metric])
        assert list(val.get_ydata()) == pytest.approx(history.history[f"val_{metric}"])
    assert axes["loss"].get_lines()[0].get_color() != axes["accuracy"].get_lines()[0].get_color()

    texts = [repr(s) for s in status_handle.updates]
    assert re.fullmatch(r"epoch 1/3, batch 1/4 · \d+ s so far, about \d+ s left", texts[0]), texts
    assert any(re.fullmatch(r"epoch 2/3, batch 2/4 · \d+ s so far, about \d+ s left", t) for t in texts), texts
    done = [t for t in texts if " done · " in t]
    assert [t.split(" done")[0] for t in done] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert re.fullmatch(r"epoch 2/3 done · \d+ s so far, about \d+ s left", done[1]), done
    assert re.fullmatch(r"3 epochs in \d+ s", texts[-1]), texts[-1]
    assert "<progress" not in status_handle.updates[-1]._repr_html_()


def test_watched_training_without_validation_draws_train_lines_only(watched):
    plot = live.LivePlot()
    history = fit(plot, epochs=2, validation=False)
    labels = sorted(line.get_label() for ax in plot.figure.axes for line in ax.get_lines())
    assert labels == ["train accuracy", "train loss"]
    assert len(watched[0].updates) == 2 and plot.history == history.history


def test_eta_and_durations():
    assert live.eta_seconds([10.0, 20.0], 3) == 45.0  # 3 epochs at the mean of 15 s
    assert live.eta_seconds([], 2) is None
    assert live.eta_seconds([], 2, batch_seconds=0.5, batches_left=4, steps=10) == 12.0  # 4 x 0.5 + 2 x (10 x 0.5)
    assert live.eta_seconds([10.0], 1, batch_seconds=0.5, batches_left=4, steps=10) == 12.0  # 2 + 1 x 10
    assert live.eta_seconds([], 1, batch_seconds=0.5, batches_left=0, steps=None) is None
    assert [live.format_seconds(s) for s in (0.4, 59, 125, 3780)] == ["0 s", "59 s", "2 min 05 s", "1 h 03 min"]
    assert live.split_metrics(["accuracy", "loss", "val_accuracy", "val_loss", "learning_rate"]) == ["loss", "accuracy"]


def test_progress_unattended_prints_one_line_at_the_end(unattended, capsys):
    assert [x * x for x in live.progress(range(5), label="squares")] == [0, 1, 4, 9, 16]
    assert capsys.readouterr().out.splitlines() == ["squares: done, 5 in all"]
    assert list(live.progress(iter("abc"))) == ["a", "b", "c"]  # no len(): a count, no total
    assert capsys.readouterr().out.splitlines() == ["done, 3 in all"]
    assert list(live.progress(iter("ab"), total=2, label="runs")) == ["a", "b"]
    assert capsys.readouterr().out.splitlines() == ["runs: done, 2 in all"]


def test_progress_watched_updates_a_bar_in_place(watched, capsys):
    assert list(live.progress(["a", "b", "c", "d"], label="maps")) == ["a", "b", "c", "d"]
    assert capsys.readouterr().out == ""
    (handle,) = watched
    assert repr(handle.shown) == "maps: 0/4" and handle.shown.fraction == 0.0
    texts = [repr(s) for s in handle.updates]
    assert re.fullmatch(r"maps: 2/4 · \d+ s, about \d+ s left", texts[1]), texts
    assert re.fullmatch(r"maps: 4/4 in \d+ s", texts[-1]), texts
    assert [s.fraction for s in handle.updates][:4] == [0.25, 0.5, 0.75, 1.0]
    assert '<progress value="1.0000"' in handle.updates[-1]._repr_html_()
    list(live.progress(iter("xy")))
    assert repr(watched[-1].updates[-1]).startswith("2 in ") and watched[-1].updates[-1].fraction is None
