"""Notebook 04's choices read off validation curves over seeds: the mean curve and its spread, the best epoch, the
one-standard-error rule for the number of epochs, and :func:`choose`, which makes all of the selection's choices."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mnist_course.stats import one_se_rule

History = dict[str, list[float]]  # one seed's Keras history: metric name -> one value per epoch


def mean_curve(histories: Sequence[Mapping[str, Sequence[float]]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-epoch mean and sample standard deviation of ``key`` over the seeds' histories."""
    values = np.array([h[key] for h in histories], dtype=np.float64)
    spread = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
    return values.mean(axis=0), spread


def best_epoch(histories: Sequence[Mapping[str, Sequence[float]]], monitor: str = "val_loss") -> int:
    """The epoch (from 1) where the seeds' mean of ``monitor`` is best: lowest loss, highest accuracy."""
    mean, _ = mean_curve(histories, monitor)
    return int(np.argmax(mean) if "accuracy" in monitor else np.argmin(mean)) + 1


def one_standard_error(histories: Sequence[Mapping[str, Sequence[float]]], monitor: str = "val_loss") -> int:
    """The fewest epochs whose mean ``monitor`` (a loss: lower is better) over the seeds lies within one standard
    error of the lowest mean: :func:`mnist_course.stats.one_se_rule` with the standard error over the seeds (each
    epoch's sample standard deviation over the seeds divided by the square root of their number)."""
    mean, spread = mean_curve(histories, monitor)
    return one_se_rule(mean, spread / math.sqrt(len(histories)), lower_is_better=True) + 1


def choose(study: Mapping[str, Sequence[History]]) -> dict[str, dict[str, Any]]:
    """The choices the validation runs make, by the one-standard-error rule, with the numbers behind them.

    dense-512: the epochs :func:`one_standard_error` picks at a constant rate; then the cosine decay over those
    epochs replaces the book's constant rate only if its mean validation loss at the last epoch is lower than the
    constant rate's by more than one standard error of the difference. mlp-3x500 (dropout 0.2): the epochs
    :func:`one_standard_error` picks.
    """
    constant, cosine = study["dense-512 constant"], study["dense-512 cosine"]
    epochs = one_standard_error(constant)
    at = {}
    for run, histories in (("constant", constant), ("cosine", cosine)):
        loss, loss_spread = mean_curve(histories, "val_loss")
        accuracy, accuracy_spread = mean_curve(histories, "val_accuracy")
        at[run] = {
            "val_loss": float(loss[epochs - 1]),
            "val_loss_spread": float(loss_spread[epochs - 1]),
            "val_accuracy": float(accuracy[epochs - 1]),
            "val_accuracy_spread": float(accuracy_spread[epochs - 1]),
        }
    error = math.sqrt((at["constant"]["val_loss_spread"] ** 2 + at["cosine"]["val_loss_spread"] ** 2) / len(constant))
    gain = at["constant"]["val_loss"] - at["cosine"]["val_loss"]
    mlp = study["mlp-3x500 dropout 0.2"]
    return {
        "dense-512": {
            "epochs": epochs,
            "schedule": "cosine" if gain > error else "constant",
            "lowest_mean_val_loss_at": best_epoch(constant),
            "at_chosen_epoch": at,
            "cosine_gain": gain,
            "standard_error": error,
        },
        "mlp-3x500": {
            "epochs": one_standard_error(mlp),
            "lowest_mean_val_loss_at": best_epoch(mlp),
            "no_dropout_lowest_mean_val_loss_at": best_epoch(study["mlp-3x500 no dropout"]),
        },
    }


__all__ = ["History", "best_epoch", "choose", "mean_curve", "one_standard_error"]
