"""Exact binomial tests, intervals and multiple-comparison corrections against published values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from analysis.acute.pairwise import pair_tests
from analysis.stats.corrections import benjamini_hochberg, holm, stars
from analysis.stats.exact_tests import binomial_summary


def test_ten_nil_and_seven_three() -> None:
    assert binomial_summary(10, 10)[0] == pytest.approx(0.001953125, abs=1e-6)
    assert binomial_summary(7, 10)[0] == pytest.approx(0.34375, abs=1e-6)


def test_75_of_100_p_and_intervals() -> None:
    p, wilson, cp = binomial_summary(75, 100)
    assert float(f"{p:.3g}") == 5.64e-7
    assert [round(x, 3) for x in wilson] == [0.657, 0.825]
    assert [round(x, 3) for x in cp] == [0.653, 0.831]


def test_wilson_matches_closed_form() -> None:
    # independent computation of the Wilson score interval
    k, n, z = 37, 52, 1.959963984540054
    phat = k / n
    centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    _, wilson, _ = binomial_summary(k, n)
    assert wilson == pytest.approx((centre - half, centre + half), abs=1e-12)


def test_holm_and_bh() -> None:
    p = [0.01, 0.02, 0.03, 0.04, 0.2]
    assert holm(p) == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.2], abs=1e-6)
    assert benjamini_hochberg(p) == pytest.approx([0.05, 0.05, 0.05, 0.05, 0.2], abs=1e-6)


def test_stars_thresholds() -> None:
    assert [stars(x) for x in (0.0009, 0.001, 0.009, 0.04, 0.05, 0.5)] == ["***", "**", "**", "*", "", ""]


def test_pair_tests_lists_each_pair_once_and_adjusts() -> None:
    models = ["a", "b", "c"]
    wins = np.array([[0, 30, 12], [10, 0, 0], [8, 0, 0]])  # b and c never met
    tests = pair_tests(models, wins)
    assert [(t.model_a, t.model_b) for t in tests] == [("a", "b"), ("a", "c")]
    ab = tests[0]
    assert (ab.wins_a, ab.wins_b, ab.n) == (30, 10, 40)
    assert ab.p_value == pytest.approx(binomtest(30, 40).pvalue)
    raw = np.array([t.p_value for t in tests])
    assert [t.p_holm for t in tests] == pytest.approx(holm(raw))
    assert [t.p_bh for t in tests] == pytest.approx(benjamini_hochberg(raw))
    assert ab.stars == stars(ab.p_holm)
    assert ab.cohens_h == pytest.approx(2 * np.arcsin(np.sqrt(0.75)) - 2 * np.arcsin(np.sqrt(0.5)))
