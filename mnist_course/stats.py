"""How sure an accuracy is: its 95 % interval on a test set, and mean ± spread over seeds.

And how to compare models as a statistician would: McNemar's exact test for two models scored on the same images,
a paired comparison over seeds (the same seeds for both), the one-standard-error rule (one definition), and
calibration (how often answers given with a confidence are right, and the expected calibration error).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile: 95 % of a normal lies within ±Z95 deviations


def _check_accuracy(accuracy: float, n: int) -> None:
    if n < 1:
        raise ValueError(f"n={n}: an accuracy needs at least one test image")
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy={accuracy!r} must be a fraction in [0, 1] (divide a percentage by 100)")


def accuracy_interval(accuracy: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of an accuracy (a fraction in [0, 1]) measured on ``n`` independent test images.

    Unlike ``accuracy ± z·sqrt(p(1-p)/n)`` it stays inside [0, 1] and is right near 100 %. At 99.3 % on 10,000 images
    it is 99.12-99.45 %.
    """
    _check_accuracy(accuracy, n)
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    spread = z / (1 + z * z / n) * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n))
    return max(0.0, centre - spread), min(1.0, centre + spread)


def accuracy_se(p: float, n: int) -> float:
    """Binomial standard error ``sqrt(p (1 - p) / n)`` of an accuracy ``p`` (a fraction) on ``n`` independent images."""
    _check_accuracy(p, n)
    return math.sqrt(p * (1 - p) / n)


def mean_spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (n - 1 in the denominator) of ``values``, e.g. accuracies over seeds."""
    if len(values) < 2:
        raise ValueError(f"mean_spread needs at least two values (seeds), got {len(values)}")
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean of ``values`` (one per seed) and its standard error over the seeds: sample sd / sqrt(number of seeds)."""
    mean, spread = mean_spread(values)
    return mean, spread / math.sqrt(len(values))


def differ(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two intervals ``(low, high)`` do not overlap: a conservative check that the two values differ.

    Overlap means "not resolved", never "a tie": two values can differ while their 95 % intervals overlap. For two
    models scored on the same images use :func:`mcnemar`; for the same seeds run for both, :func:`paired_seeds`.
    """
    return a[1] < b[0] or b[1] < a[0]


def format_accuracy(accuracy: float, n: int) -> str:
    """``"99.30 % (99.12-99.45)"``: an accuracy with its 95 % interval, in percent."""
    low, high = accuracy_interval(accuracy, n)
    return f"{100 * accuracy:.2f} % ({100 * low:.2f}-{100 * high:.2f})"


def _verdict(a_wins: bool, b_wins: bool, names: tuple[str, str], said: str) -> str:
    """``"<winner> <said>"``, or ``"not resolved"``: ``said`` keeps the verdict to what was measured (these images,
    these seeds)."""
    return f"{names[0]} {said}" if a_wins else f"{names[1]} {said}" if b_wins else "not resolved"


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's exact test: ``a_only`` images only A gets right, ``b_only`` only B, the two-sided p-value."""

    a_only: int
    b_only: int
    p_value: float
    alpha: float = 0.05
    names: tuple[str, str] = ("A", "B")

    @property
    def verdict(self) -> str:
        """``"A right more often on these images"`` or the same of B (p < alpha), else ``"not resolved"``."""
        resolved = self.p_value < self.alpha
        a_wins, b_wins = resolved and self.a_only > self.b_only, resolved and self.b_only > self.a_only
        return _verdict(a_wins, b_wins, self.names, "right more often on these images")

    def __str__(self) -> str:
        a, b = self.names
        return (
            f"McNemar: only {a} right on {self.a_only} images, only {b} right on {self.b_only}; "
            f"exact p = {self.p_value:.3g}: {self.verdict} (alpha {self.alpha:g})"
        )


def _correct(values: object, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype != bool and not (array.ndim == 1 and np.isin(array, (0, 1)).all()):
        raise ValueError(f"{name} must hold True/False per image (e.g. probs.argmax(axis=1) == y), got {array.dtype}")
    return array.astype(bool)


def mcnemar(
    correct_a: object, correct_b: object, alpha: float = 0.05, names: tuple[str, str] = ("A", "B")
) -> McNemarResult:
    """McNemar's exact test for two classifiers scored on the same images, from their per-image "correct" arrays.

    Only the images where they disagree count: if A and B were equally good, each disagreement would go either way
    with probability 1/2, so the p-value is the two-sided binomial test of ``a_only`` in ``a_only + b_only`` trials.
    """
    import scipy.stats  # here, not at the top: it takes a second or two to import

    a, b = _correct(correct_a, "correct_a"), _correct(correct_b, "correct_b")
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(f"need two 1-D 'correct' arrays over the same images, got shapes {a.shape} and {b.shape}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r} must lie between 0 and 1 (e.g. 0.05)")
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(b & ~a))
    p = 1.0 if a_only + b_only == 0 else float(scipy.stats.binomtest(a_only, a_only + b_only, 0.5).pvalue)
    return McNemarResult(a_only, b_only, p, alpha, names)


@dataclass(frozen=True)
class PairedResult:
    """Paired comparison over seeds of A - B: mean difference, its standard error, interval at 1 - alpha, p-value."""

    differences: tuple[float, ...]
    mean: float
    se: float
    low: float
    high: float
    p_value: float
    alpha: float = 0.05
    higher_is_better: bool = True
    names: tuple[str, str] = ("A", "B")

    @property
    def verdict(self) -> str:
        """``"not resolved"`` when the interval contains 0, else which of the two is better, in what was measured:
        ``"A higher over these seeds"`` (``"lower"`` when lower is better)."""
        above, below = self.low > 0, self.high < 0
        a_wins = above if self.higher_is_better else below
        said = f"{'higher' if self.higher_is_better else 'lower'} over these seeds"
        return _verdict(a_wins, (above or below) and not a_wins, self.names, said)

    def __str__(self) -> str:
        a, b = self.names
        level = f"{100 * (1 - self.alpha):g} %"
        # every number to the decimals of the standard error's second significant digit
        d = max(0, 1 - math.floor(math.log10(self.se))) if self.se > 0 and math.isfinite(self.se) else 4
        return (
            f"{a} - {b} over {len(self.differences)} seeds: {self.mean:+.{d}f} ± {self.se:.{d}f} (standard error), "
            f"{level} interval {self.low:+.{d}f} to {self.high:+.{d}f}, p = {self.p_value:.3g}: {self.verdict}"
        )


def _seed_pairs(a: Sequence[float] | Mapping[int, float], b: Sequence[float] | Mapping[int, float]) -> np.ndarray:
    if isinstance(a, Mapping) != isinstance(b, Mapping):
        raise ValueError("pass both models' values as mappings seed -> value, or both as lists in the same seed order")
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b):
            raise ValueError(
                f"a paired comparison needs the same seeds for both; in one only: {sorted(set(a) ^ set(b))}"
            )
        a, b = [a[s] for s in sorted(a)], [b[s] for s in sorted(a)]
    if len(a) != len(b):
        raise ValueError(f"need one value per seed for both models, same seeds in the same order: {len(a)} vs {len(b)}")
    return np.array([np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)])


def paired_seeds(
    a: Sequence[float] | Mapping[int, float],
    b: Sequence[float] | Mapping[int, float],
    *,
    alpha: float = 0.05,
    higher_is_better: bool = True,
    names: tuple[str, str] = ("A", "B"),
) -> PairedResult:
    """Paired t comparison of two models run with the same seeds: ``a`` and ``b`` hold one value per seed (lists in
    the same seed order, or mappings ``seed -> value``). The interval is mean difference ± t(1 - alpha/2, n - 1)·se."""
    import scipy.stats

    pairs = _seed_pairs(a, b)
    n = pairs.shape[1]
    if n < 2:
        raise ValueError(f"a paired comparison needs at least 2 seeds run for both models, got {n}: run more seeds")
    if not np.isfinite(pairs).all() or not 0 < alpha < 1:
        raise ValueError(f"need finite values per seed and 0 < alpha < 1, got {pairs.tolist()} and alpha={alpha!r}")
    d = pairs[0] - pairs[1]
    mean, se = float(d.mean()), float(d.std(ddof=1) / math.sqrt(n))
    if se == 0:  # every seed gives the same difference: t is infinite (or 0/0 when that difference is 0)
        p = 1.0 if mean == 0 else 0.0
    else:
        p = float(scipy.stats.ttest_rel(pairs[0], pairs[1]).pvalue)
    half = float(scipy.stats.t.ppf(1 - alpha / 2, n - 1)) * se
    return PairedResult(tuple(d.tolist()), mean, se, mean - half, mean + half, p, alpha, higher_is_better, names)


def one_se_rule(means: Sequence[float], ses: Sequence[float], *, lower_is_better: bool = False) -> int:
    """The one-standard-error rule: the index of the simplest candidate whose mean is within one standard error of
    the best mean (the best candidate's standard error); ``means`` are ordered simplest candidate first.

    The standard error is whatever the caller measured: over seeds (:func:`mean_se`) or binomial on one validation
    set (:func:`accuracy_se`); the two are different quantities, so the caller must say which one it used.
    """
    if len(means) == 0 or len(means) != len(ses):
        raise ValueError(f"need one standard error per candidate and at least one: {len(means)} means, {len(ses)} ses")
    m, s = np.asarray(means, dtype=np.float64), np.asarray(ses, dtype=np.float64)
    if not (np.isfinite(m).all() and np.isfinite(s).all() and (s >= 0).all()):
        raise ValueError(f"means must be finite and standard errors finite and >= 0, got {m.tolist()}, {s.tolist()}")
    best = int(np.argmin(m) if lower_is_better else np.argmax(m))
    within = m <= m[best] + s[best] if lower_is_better else m >= m[best] - s[best]
    return int(np.flatnonzero(within)[0])


@dataclass(frozen=True)
class Calibration:
    """Per confidence bin ``(edges[i], edges[i + 1]]``: mean confidence, accuracy (NaN when empty) and count; ECE."""

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray
    ece: float


def calibration_bins(probs: np.ndarray, y: np.ndarray, n_bins: int = 15) -> Calibration:
    """How often the answers given with each confidence are right: ``probs`` (N, classes) softmax probabilities,
    ``y`` class ids or one-hot rows; confidence = the top probability, in ``n_bins`` equal bins of [0, 1].

    The expected calibration error is the count-weighted mean of |accuracy - confidence| over the bins.
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(y)
    labels = labels.argmax(axis=1) if labels.ndim == 2 else labels
    if probs.ndim != 2 or probs.shape[1] < 2 or labels.shape != (len(probs),) or len(probs) == 0 or n_bins < 1:
        raise ValueError(
            f"need probs (N, classes), N labels and n_bins >= 1, got {probs.shape}, {labels.shape}, {n_bins}"
        )
    if probs.min() < 0 or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probs rows must be probabilities summing to 1: pass softmax outputs (predict.probabilities)")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bins, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / count
    full = count > 0
    ece = float(np.sum(count[full] * np.abs(accuracy[full] - mean_conf[full])) / len(probs))
    return Calibration(edges, mean_conf, accuracy, count, ece)


__all__ = [
    "Z95",
    "Calibration",
    "McNemarResult",
    "PairedResult",
    "accuracy_interval",
    "accuracy_se",
    "calibration_bins",
    "differ",
    "format_accuracy",
    "mcnemar",
    "mean_se",
    "mean_spread",
    "one_se_rule",
    "paired_seeds",
]
