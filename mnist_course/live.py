"""Live feedback while something long runs: training curves with an ETA (a Keras callback) and a progress counter.

When a person watches (an IPython kernel, and ``$MNIST_COURSE_UNATTENDED`` is not ``"1"``) both draw in place through
IPython display handles, which JupyterLab, VS Code and Colab all update. Unattended (papermill, nbval, a script)
each prints one quiet line when it is done, the same on every run and machine, so stored notebook outputs show no
progress text and stay stable.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import keras
from matplotlib.ticker import MaxNLocator

from mnist_course.plots import new_figure

UNATTENDED_ENV = "MNIST_COURSE_UNATTENDED"
REFRESH_S = 0.5  # the ETA line and the progress bar are redrawn at most this often (the curves once per epoch)
SKIPPED = ("learning_rate", "lr")  # logged by schedules, not a metric to plot
T = TypeVar("T")


def attended() -> bool:
    """True when a person presumably watches: an IPython kernel runs and ``$MNIST_COURSE_UNATTENDED`` is not "1"."""
    if os.environ.get(UNATTENDED_ENV) == "1":
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def display(obj: Any, **kwargs: Any) -> Any:
    """IPython's ``display`` (one name to patch in tests)."""
    from IPython.display import display as ipython_display

    return ipython_display(obj, **kwargs)


def format_seconds(seconds: float) -> str:
    """A duration for people: "8 s", "2 min 05 s", "1 h 03 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def eta_seconds(
    epoch_times: list[float],
    epochs_left: int,
    batch_seconds: float | None = None,
    batches_left: int = 0,
    steps: int | None = None,
) -> float | None:
    """Seconds still to go: the batches left in this epoch at this epoch's mean batch time, plus ``epochs_left``
    later epochs at the mean finished-epoch time (or, before any epoch finished, at ``steps`` batches each).
    None when there is nothing to estimate from yet."""
    per_epoch = sum(epoch_times) / len(epoch_times) if epoch_times else None
    if batch_seconds is None:
        return None if per_epoch is None else epochs_left * per_epoch
    if per_epoch is None:
        if steps is None:
            return None
        per_epoch = batch_seconds * steps
    return batches_left * batch_seconds + epochs_left * per_epoch


class Status:
    """One line of text shown as HTML or plain text (the ETA line, the progress bar)."""

    def __init__(self, text: str, fraction: float | None = None) -> None:
        self.text, self.fraction = text, fraction

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        bar = (
            ""
            if self.fraction is None
            else f'<progress value="{self.fraction:.4f}" max="1" style="width:min(240px,40%);'
            'vertical-align:middle;margin-right:8px"></progress>'
        )
        return f'<div class="mnist-live-status" style="font-family:monospace">{bar}{html.escape(self.text)}</div>'


def split_metrics(names: Iterable[str]) -> list[str]:
    """The base metrics of Keras log keys, the loss first: ``["loss", "accuracy"]`` for accuracy, loss, val_loss, ..."""
    bases: list[str] = []
    for name in names:
        base = name.removeprefix("val_")
        if base not in SKIPPED and base not in bases:
            bases.append(base)
    return sorted(bases, key=lambda base: base != "loss")  # the loss first, the others in Keras' order


class LivePlot(keras.callbacks.Callback):
    """Draws each metric (loss, accuracy, ...) per epoch as training runs, train solid and validation dashed in the
    same colour, with a line saying how long the cell still needs; unattended it prints one line at the end,
    ``trained for 5 epochs``.

    ``history`` holds the values plotted (the same as ``model.fit(...).history``); ``figure`` is the figure shown.
    """

    def __init__(self, title: str | None = None) -> None:
        super().__init__()
        self.title = title
        self.history: dict[str, list[float]] = {}
        self.figure = None
        self.lines: dict[str, Any] = {}
        self._attended = False
        self._plot_handle = self._status_handle = None

    # -- the epochs ------------------------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epochs, self.steps = self.params.get("epochs") or 1, self.params.get("steps")
        self.history, self.lines, self.figure, self.epoch_times = {}, {}, None, []
        self.started, self.first_epoch, self._last_status = time.monotonic(), None, 0.0
        self._attended = attended()
        if self._attended:
            self.figure = new_figure(9, 3.2)
            if self.title:
                self.figure.suptitle(self.title)
            self._plot_handle = display(self.figure, display_id=True)
            self._status_handle = display(Status("training: waiting for the first batch"), display_id=True)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch, self.epoch_started = epoch, time.monotonic()
        if self.first_epoch is None:
            self.first_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        now = time.monotonic()
        if not self._attended or now - self._last_status < REFRESH_S:
            return
        self._last_status = now
        done = batch + 1
        per_batch = (now - self.epoch_started) / done
        left = eta_seconds(
            self.epoch_times, self.epochs - self.epoch - 1, per_batch, max((self.steps or done) - done, 0), self.steps
        )
        of = f"/{self.steps}" if self.steps else ""
        self._status(f"epoch {self.epoch + 1}/{self.epochs}, batch {done}{of} · {self._times(left)}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_times.append(time.monotonic() - self.epoch_started)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        if not self._attended:
            return
        self._draw()
        self._plot_handle.update(self.figure)
        left = eta_seconds(self.epoch_times, self.epochs - epoch - 1)
        self._status(f"epoch {epoch + 1}/{self.epochs} done · {self._times(left)}")

    def on_train_end(self, logs: dict | None = None) -> None:
        epochs = len(self.epoch_times)
        if self._attended:
            self._status(f"{epochs} epoch{'s' * (epochs != 1)} in {format_seconds(time.monotonic() - self.started)}")
        else:
            where = f"{self.title}: " if self.title else ""
            print(f"{where}trained for {epochs} epoch{'s' * (epochs != 1)}", flush=True)

    # -- drawing ---------------------------------------------------------------------------------------------------
    def _times(self, left: float | None) -> str:
        elapsed = format_seconds(time.monotonic() - self.started)
        return f"{elapsed} so far" + ("" if left is None else f", about {format_seconds(left)} left")

    def _status(self, text: str) -> None:
        self._status_handle.update(Status(text))

    def _draw(self) -> None:
        """Create the axes and lines when the first epoch's metrics are known, then give every line its values."""
        bases = split_metrics(self.history)
        if not self.lines:
            axes = self.figure.subplots(1, len(bases), squeeze=False)[0]
            for i, (ax, base) in enumerate(zip(axes, bases, strict=True)):
                for prefix, style, kind in (("", "-", "train"), ("val_", "--", "validation")):
                    if prefix + base in self.history:
                        (self.lines[prefix + base],) = ax.plot(
                            [], [], linestyle=style, color=f"C{i}", marker="o", markersize=3, label=f"{kind} {base}"
                        )
                ax.set_xlabel("epoch")
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_title(base)
                ax.set_xlim(self.first_epoch + 0.8, self.epochs + 0.2)
                ax.legend(loc="best", fontsize=8)
                ax.grid(alpha=0.3)
        for name, line in self.lines.items():
            values = self.history.get(name, [])
            line.set_data(range(self.first_epoch + 1, self.first_epoch + 1 + len(values)), values)
        for ax in self.figure.axes:
            ax.relim()
            ax.autoscale_view(scalex=False)
        self.figure.tight_layout()


def progress(iterable: Iterable[T], total: int | None = None, label: str = "") -> Iterator[T]:
    """Yield the items of ``iterable`` while showing how many are done (a bar when ``total`` or ``len()`` is
    known) and an ETA, updated in place; unattended, print one line at the end, ``label: done, N in all``."""
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    name = f"{label}: " if label else ""
    of = f"/{total}" if total is not None else ""
    if not attended():
        done = 0
        for item in iterable:
            done += 1
            yield item
        print(f"{name}done, {done} in all", flush=True)
        return
    started, shown, done = time.monotonic(), 0.0, 0
    handle = display(Status(f"{name}0{of}", 0.0 if total else None), display_id=True)
    for done, item in enumerate(iterable, start=1):
        yield item
        now = time.monotonic()
        if now - shown >= REFRESH_S or done == total:
            shown = now
            left = "" if not total else f", about {format_seconds((now - started) / done * (total - done))} left"
            handle.update(
                Status(f"{name}{done}{of} · {format_seconds(now - started)}{left}", done / total if total else None)
            )
    handle.update(Status(f"{name}{done}{of} in {format_seconds(time.monotonic() - started)}", 1.0 if total else None))


__all__ = [
    "UNATTENDED_ENV",
    "LivePlot",
    "Status",
    "attended",
    "eta_seconds",
    "format_seconds",
    "progress",
    "split_metrics",
]
