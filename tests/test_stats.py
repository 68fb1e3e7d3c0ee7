"""The accuracy intervals the course prints next to every compared accuracy."""

import math

import pytest

from mnist_course.stats import accuracy_interval, differ, format_accuracy, mean_spread


def test_wilson_endpoints_solve_the_score_equation():
    # The Wilson interval is the set of p with (p_hat - p)^2 <= z^2 p (1 - p) / n: its ends make that an equality.
    z, n, p_hat = 1.959963984540054, 10_000, 0.993
    for end in accuracy_interval(p_hat, n):
        assert (p_hat - end) ** 2 == pytest.approx(z * z * end * (1 - end) / n, rel=1e-9)
    low, high = accuracy_interval(p_hat, n)
    assert (round(100 * low, 2), round(100 * high, 2)) == (99.12, 99.45)


def test_wilson_stays_in_0_1_and_is_not_empty_at_100_percent():
    low, high = accuracy_interval(1.0, 50)
    assert high == 1.0 and 0.92 < low < 0.93  # 50/50 right: the lower end is n / (n + z^2) = 0.9287
    assert low == pytest.approx(50 / (50 + 1.959963984540054**2))


def test_mean_spread_uses_n_minus_one():
    mean, spread = mean_spread([0.990, 0.992, 0.994])
    assert mean == pytest.approx(0.992) and spread == pytest.approx(0.002)


def test_differ_only_when_intervals_do_not_overlap():
    assert differ((0.98, 0.985), (0.99, 0.995))
    assert not differ((0.98, 0.991), (0.99, 0.995))


def test_format_and_bad_input():
    assert format_accuracy(0.993, 10_000) == "99.30 % (99.12-99.45)"
    with pytest.raises(ValueError, match="divide a percentage by 100"):
        accuracy_interval(99.3, 10_000)
    with pytest.raises(ValueError, match="at least one test image"):
        accuracy_interval(0.9, 0)
    with pytest.raises(ValueError, match="at least two values"):
        mean_spread([0.9])
    assert not any(math.isnan(v) for v in accuracy_interval(1.0, 10))
