"""The accuracy intervals the course prints next to every compared accuracy, and the comparisons of models (McNemar,
paired seeds, the one-standard-error rule, calibration), checked against values computed by hand or published."""

import math
from fractions import Fraction

import numpy as np
import pytest

from mnist_course import stats
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


# --- the standard error of one accuracy, and over seeds --------------------------------------------------------------


def test_accuracy_se_is_the_binomial_standard_error():
    assert stats.accuracy_se(0.5, 100) == pytest.approx(0.05)  # sqrt(0.25 / 100)
    assert stats.accuracy_se(0.993, 10_000) == pytest.approx(8.3373e-4, rel=1e-4)  # sqrt(0.006951 / 10,000)
    assert stats.accuracy_se(1.0, 50) == 0.0
    with pytest.raises(ValueError, match="divide a percentage by 100"):
        stats.accuracy_se(99.3, 10_000)


def test_mean_se_divides_the_spread_by_the_root_of_the_number_of_seeds():
    mean, se = stats.mean_se([0.990, 0.992, 0.994])
    assert mean == pytest.approx(0.992) and se == pytest.approx(0.002 / math.sqrt(3))


def test_differ_docstring_says_overlap_is_not_resolved():
    assert "not resolved" in stats.differ.__doc__ and "conservative" in stats.differ.__doc__


# --- McNemar's exact test ------------------------------------------------------------------------------------------


def correct_pairs(a_only: int, b_only: int, both: int = 50, neither: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """'Correct' arrays of two models over the same images: ``a_only`` right for A alone, ``b_only`` for B alone."""
    a = [True] * a_only + [False] * b_only + [True] * both + [False] * neither
    b = [False] * a_only + [True] * b_only + [True] * both + [False] * neither
    order = np.random.default_rng(0).permutation(len(a))
    return np.array(a)[order], np.array(b)[order]


def exact_p(b: int, c: int) -> Fraction:
    """Two-sided exact McNemar p by hand: 2 P(X <= min(b, c)) for X ~ Binomial(b + c, 1/2), at most 1."""
    n = b + c
    return min(Fraction(1), Fraction(2 * sum(math.comb(n, k) for k in range(min(b, c) + 1)), 2**n))


@pytest.mark.parametrize(
    "a_only, b_only, p, verdict",
    [
        (1, 9, Fraction(22, 1024), "B right more often on these images"),  # 2 (C(10,0) + C(10,1)) / 2^10 = 0.021484375
        (12, 2, Fraction(2 * (1 + 14 + 91), 2**14), "A right more often on these images"),  # 0.0129...
        (0, 5, Fraction(2, 32), "not resolved"),  # 5 to 0 is not enough: 0.0625
        (3, 3, Fraction(1), "not resolved"),
        (0, 0, Fraction(1), "not resolved"),  # no disagreement at all
    ],
)
def test_mcnemar_p_values_are_the_hand_computed_binomial_sums(a_only, b_only, p, verdict):
    result = stats.mcnemar(*correct_pairs(a_only, b_only))
    assert (result.a_only, result.b_only) == (a_only, b_only)  # agreements (both right, both wrong) do not count
    assert result.p_value == pytest.approx(float(p), rel=1e-12)
    assert result.verdict == verdict


def test_mcnemar_large_counts_against_exact_fractions():
    result = stats.mcnemar(*correct_pairs(40, 60, both=9_800, neither=100))
    assert result.p_value == pytest.approx(float(exact_p(40, 60)), rel=1e-9)
    assert 0.05 < result.p_value < 0.06 and result.verdict == "not resolved"  # 40 vs 60 of 100: p = 0.0569
    assert stats.mcnemar(*correct_pairs(35, 65)).p_value == pytest.approx(float(exact_p(35, 65)), rel=1e-9)


def test_mcnemar_alpha_names_and_one_line_text():
    result = stats.mcnemar(*correct_pairs(1, 9), alpha=0.01, names=("dense-512", "cnn-32-64"))
    assert result.verdict == "not resolved"  # p = 0.0215 is not below 0.01
    named = stats.mcnemar(*correct_pairs(1, 9), names=("dense-512", "cnn"))
    assert named.verdict == "cnn right more often on these images"
    text = str(stats.mcnemar(*correct_pairs(1, 9)))
    assert "\n" not in text
    assert (
        "only A right on 1 images" in text
        and "only B right on 9;" in text
        and "p = 0.0215" in text
        and "B right more often on these images" in text
    )
    assert stats.mcnemar([1, 0, 1], [0, 0, 1]).a_only == 1  # 0/1 integers work as well as booleans


def test_mcnemar_refuses_bad_input_in_one_line():
    a, b = correct_pairs(1, 9)
    for bad in ((a, b[:-1]), (np.array([0, 2, 1]), np.array([1, 1, 1])), ([], [])):
        with pytest.raises(ValueError) as caught:
            stats.mcnemar(*bad)
        assert "\n" not in str(caught.value)
    with pytest.raises(ValueError, match="alpha"):
        stats.mcnemar(a, b, alpha=5)


# --- paired comparison over seeds ----------------------------------------------------------------------------------

# Student (1908) / Cushny and Peebles: extra hours of sleep of the same 10 patients under two drugs. Published
# (R: t.test(extra ~ group, data = sleep, paired = TRUE)): mean difference -1.58, t = -4.0621, df = 9,
# p = 0.002833, 95 % interval -2.4598858 to -0.7001142.
DRUG_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
DRUG_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_paired_seeds_reproduces_the_textbook_sleep_example():
    result = stats.paired_seeds(DRUG_1, DRUG_2)
    d = [Fraction(str(x)) - Fraction(str(y)) for x, y in zip(DRUG_1, DRUG_2)]
    mean = sum(d) / 10
    squares = sum((x - mean) ** 2 for x in d)  # 13.616 by hand
    assert mean == Fraction(-158, 100) and squares == Fraction(13616, 1000)
    assert result.mean == pytest.approx(-1.58)
    assert result.se == pytest.approx(math.sqrt(squares / 9 / 10))  # 0.38896
    assert result.mean / result.se == pytest.approx(-4.0621, abs=1e-4)
    assert result.p_value == pytest.approx(0.002833, abs=5e-7)
    assert (result.low, result.high) == (pytest.approx(-2.4598858, abs=1e-7), pytest.approx(-0.7001142, abs=1e-7))
    assert result.verdict == "B higher over these seeds"
    assert stats.paired_seeds(DRUG_1, DRUG_2, higher_is_better=False).verdict == "A lower over these seeds"
    text = str(stats.paired_seeds(DRUG_1, DRUG_2, names=("drug 1", "drug 2")))
    assert "\n" not in text and "10 seeds" in text and "p = 0.00283" in text
    assert "drug 2 higher over these seeds" in text


def test_paired_seeds_with_two_degrees_of_freedom_matches_the_closed_form():
    # df = 2: P(|T| > t) = 1 - t / sqrt(2 + t^2); the 97.5 % quantile is 0.95 / sqrt(2 * 0.975 * 0.025) = 4.3027.
    result = stats.paired_seeds({42: 2.0, 43: 4.0, 44: 6.0}, {44: 3.0, 42: 1.0, 43: 2.0})  # differences 1, 2, 3
    t = 2 / (1 / math.sqrt(3))
    assert result.differences == (1.0, 2.0, 3.0) and result.mean == pytest.approx(2.0)
    assert result.p_value == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)  # 0.0742
    half = 0.95 / math.sqrt(2 * 0.975 * 0.025) / math.sqrt(3)
    assert (result.low, result.high) == (pytest.approx(2 - half), pytest.approx(2 + half))
    assert result.low < 0 < result.high and result.verdict == "not resolved"


def test_paired_seeds_edge_cases():
    level = stats.paired_seeds([1.0, 2.0, 3.0], [2.0, 1.0, 3.0])  # differences -1, 1, 0: mean 0, t = 0
    assert level.mean == 0 and level.p_value == pytest.approx(1.0) and level.verdict == "not resolved"
    same = stats.paired_seeds([1.0, 2.0], [0.5, 1.5])  # the same difference on every seed: t is infinite
    assert (same.se, same.p_value, same.low, same.high) == (0.0, 0.0, 0.5, 0.5)
    assert same.verdict == "A higher over these seeds"
    assert stats.paired_seeds([1.0, 2.0], [1.0, 2.0]).p_value == 1.0  # no difference on any seed


def test_paired_seeds_refuses_bad_input_in_one_line():
    with pytest.raises(ValueError, match="at least 2 seeds run for both models, got 1"):
        stats.paired_seeds([0.99], [0.98])
    with pytest.raises(ValueError, match=r"same seeds for both; in one only: \[44, 45\]"):
        stats.paired_seeds({42: 0.9, 43: 0.9, 44: 0.9}, {42: 0.8, 43: 0.8, 45: 0.8})
    with pytest.raises(ValueError, match="one value per seed"):
        stats.paired_seeds([0.9, 0.9, 0.9], [0.8, 0.8])
    with pytest.raises(ValueError, match="as mappings seed -> value, or both as lists"):
        stats.paired_seeds({42: 0.9, 43: 0.9}, [0.8, 0.8])
    with pytest.raises(ValueError, match="finite"):
        stats.paired_seeds([0.9, float("nan")], [0.8, 0.8])


# --- the one-standard-error rule -----------------------------------------------------------------------------------


def test_one_se_rule_on_hand_made_accuracies():
    # best 0.986 (index 3), its standard error 0.002: anything >= 0.984 counts; the simplest such is index 2
    assert stats.one_se_rule([0.970, 0.980, 0.985, 0.986], [0.002, 0.002, 0.0015, 0.002]) == 2
    # the best candidate's standard error decides, not each candidate's own: 0.90 is not within 0.01 of 0.95
    assert stats.one_se_rule([0.90, 0.95], [0.10, 0.01]) == 1
    assert stats.one_se_rule([0.5, 0.75], [0.0, 0.25]) == 0  # exactly one standard error below: within
    assert stats.one_se_rule([0.7], [0.1]) == 0
    # binomial standard errors on 10,000 validation images: the best 0.992 has se 0.00089, so 0.9915 is within
    ses = [stats.accuracy_se(p, 10_000) for p in (0.990, 0.9915, 0.992)]
    assert stats.one_se_rule([0.990, 0.9915, 0.992], ses) == 1


def test_one_se_rule_on_hand_made_losses():
    # lowest loss 0.20 (index 3), se 0.015: anything <= 0.215 counts; the simplest such is 0.21 (index 2)
    losses, ses = [0.30, 0.25, 0.21, 0.20, 0.22], [0.01, 0.01, 0.02, 0.015, 0.01]
    assert stats.one_se_rule(losses, ses, lower_is_better=True) == 2
    assert stats.one_se_rule(losses, ses) == 0  # read as accuracies, the highest (0.30) is the simplest


def test_one_se_rule_refuses_bad_input():
    for means, ses in (([], []), ([0.9, 0.8], [0.01]), ([0.9], [-0.01]), ([float("nan")], [0.01])):
        with pytest.raises(ValueError):
            stats.one_se_rule(means, ses)


# --- calibration ---------------------------------------------------------------------------------------------------


def confident(preds: list[int], confidence: list[float]) -> np.ndarray:
    """Probability rows over 10 classes: ``confidence`` on the predicted class, the rest spread evenly."""
    out = np.empty((len(preds), 10))
    for row, (p, c) in enumerate(zip(preds, confidence)):
        out[row] = (1 - c) / 9
        out[row, p] = c
    return out


def test_ece_all_at_80_percent_right_60_percent_is_20_points():
    y = np.arange(10) % 10
    preds = list(y[:6]) + [int(v + 1) % 10 for v in y[6:]]  # 6 of 10 right
    cal = stats.calibration_bins(confident(preds, [0.8] * 10), y)
    assert cal.ece == pytest.approx(0.2)
    full = cal.count > 0
    assert cal.count[full].tolist() == [10] and len(cal.count) == 15
    assert cal.confidence[full][0] == pytest.approx(0.8) and cal.accuracy[full][0] == pytest.approx(0.6)
    assert np.isnan(cal.accuracy[~full]).all()


def test_ece_weights_bins_by_their_counts():
    # 6 answers at 95 % all right (gap 0.05), 2 at 55 % both wrong (gap 0.55): ECE = 6/8 0.05 + 2/8 0.55 = 0.175
    y = np.zeros(8, dtype=int)
    cal = stats.calibration_bins(confident([0] * 6 + [3, 3], [0.95] * 6 + [0.55] * 2), y, n_bins=10)
    assert cal.ece == pytest.approx(0.175)  # the unweighted mean of the gaps would be 0.30
    assert cal.count.tolist() == [0, 0, 0, 0, 0, 2, 0, 0, 0, 6]
    assert cal.edges.tolist() == pytest.approx([k / 10 for k in range(11)])
    assert stats.calibration_bins(confident([0] * 6 + [3, 3], [0.95] * 6 + [0.55] * 2), np.eye(10)[y]).ece == (
        pytest.approx(0.175)
    )  # one-hot labels give the same


def test_calibration_bins_are_closed_on_the_right_and_perfect_calibration_scores_zero():
    y = np.array([0, 0, 0, 0])
    cal = stats.calibration_bins(confident([0, 0, 0, 1], [0.75] * 4), y, n_bins=4)
    assert cal.ece == pytest.approx(0.0)  # 3 of 4 right at 75 %
    assert cal.count.tolist() == [0, 0, 4, 0]  # 0.75 lies in (0.5, 0.75]
    assert stats.calibration_bins(confident([0], [1.0]), [0], n_bins=4).count.tolist() == [0, 0, 0, 1]


def test_calibration_bins_refuses_logits_and_mismatched_labels():
    with pytest.raises(ValueError, match="softmax"):
        stats.calibration_bins(np.array([[2.0, -1.0], [0.5, 3.0]]), [0, 1])
    with pytest.raises(ValueError, match="N labels"):
        stats.calibration_bins(confident([0, 1], [0.9, 0.9]), [0, 1, 2])
