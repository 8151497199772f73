"""The reports' own distribution functions, tests and corrections (built on scipy.special, so that a report
imports neither scipy.stats nor statsmodels: 70 MB and 1.6 s together) against those libraries, which are
independent implementations here, over wide grids, and against published values."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.special import chdtrc
from scipy.stats import binom, binomtest, chi2
from scipy.stats import fisher_exact as scipy_fisher_exact
from statsmodels.stats.multitest import multipletests

from analysis.stats.corrections import benjamini_hochberg, holm
from analysis.stats.distributions import binom_cdf, binom_isf, binom_sf
from analysis.stats.exact_tests import fisher_exact, two_sided_half_p
from analysis.stats.intervals import clopper_pearson, median_interval

RNG_SEED = 20261202


def _grid(size: int = 60_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts from below 0 to past n (n from 0 to 3,000), success rates over (0, 1) and exactly 0.5."""
    rng = np.random.default_rng(RNG_SEED)
    n = rng.integers(0, 3000, size).astype(float)
    k = np.floor(rng.random(size) * (n + 3)) - 1
    p = rng.random(size)
    p[: size // 4] = 0.5
    return k, n, p


@pytest.mark.parametrize("ours, theirs", [(binom_cdf, binom.cdf), (binom_sf, binom.sf)])
def test_binomial_tails_equal_scipy_stats(ours, theirs) -> None:  # type: ignore[no-untyped-def]
    k, n, p = _grid()
    got, want = ours(k, n, p), theirs(k, n, p)
    assert np.abs(got - want).max() < 5e-15
    visible = want > 1e-250  # below that scipy.stats underflows to 0 where the tail is still ~1e-270
    assert np.abs(got - want)[visible].max() <= 1e-12 * want[visible].max()
    assert (np.abs(got - want)[visible] <= 1e-10 * want[visible]).all()


def test_the_tails_are_nan_where_there_is_no_binomial_as_scipy_stats_gives() -> None:
    """A NaN count, an n that is NaN, negative, infinite or fractional, or a p outside [0, 1] is no binomial: a
    0 or a 1 there would be a p-value of 0 or 1 out of nothing (`two_sided_half_p(nan, 5)` would be 0)."""
    nan, inf = float("nan"), float("inf")
    k = np.array([nan, 2, 2, 2, 2, 7, 2, 2])
    n = np.array([5, nan, -1, inf, 5.5, 5, 5, 5])
    p = np.array([0.3, 0.3, 0.3, 0.3, 0.3, nan, 1.5, -0.1])
    for ours, theirs in ((binom_cdf, binom.cdf), (binom_sf, binom.sf)):
        assert np.isnan(ours(k, n, p)).all() and np.isnan(theirs(k, n, p)).all()
    assert np.isnan(two_sided_half_p(np.array([nan, 3]), np.array([5, 5]))[0])


def test_the_tails_step_at_whole_counts_and_end_at_0_and_1() -> None:
    assert binom_cdf([-1, -0.5, 0, 2.7, 3, 10], 3, 0.5).tolist() == [0.0, 0.0, 0.125, 0.875, 1.0, 1.0]
    assert binom_sf([-1, -0.5, 0, 2.7, 3, 10], 3, 0.5).tolist() == [1.0, 1.0, 0.875, 0.125, 0.0, 0.0]


@pytest.mark.parametrize("q", [0.025, 0.005, 0.1, 0.5])
@pytest.mark.parametrize("p", [0.5, 0.3, 0.9])
def test_upper_quantile_equals_scipy_stats(q: float, p: float) -> None:
    n = np.arange(0, 20_000)
    assert np.array_equal(binom_isf(q, n, p), binom.isf(q, n, p))


def test_fisher_exact_on_published_tables() -> None:
    # Fisher's tea-tasting experiment (Agresti 2002, table 3.8): two-sided P = 0.486
    assert fisher_exact([[3, 1], [1, 3]]) == pytest.approx((9.0, 0.4857142857142857), rel=1e-12)
    # Wikipedia's "Fisher's exact test" example (dieting by sex: 1, 9 / 11, 3): two-sided p = 0.002759
    assert fisher_exact([[1, 9], [11, 3]])[1] == pytest.approx(0.002759, rel=1e-3)
    assert fisher_exact([[0, 5], [0, 7]]) == (pytest.approx(float("nan"), nan_ok=True), 1.0)
    assert fisher_exact([[4, 0], [0, 4]])[0] == float("inf")
    with pytest.raises(ValueError, match="non-negative"):
        fisher_exact([[1, -1], [2, 3]])


def test_fisher_exact_tells_apart_tables_a_hundred_millionth_apart() -> None:
    """Tables more likely than the observed one by less than R's tolerance (1e-7) are not "as likely": counting
    them (R's convention) moved these p-values by 14% and 3%; found by a read-only review, checked with exact
    integer arithmetic (the table x = 795 of the first is 4.98e-8 more likely than the observed one)."""
    assert fisher_exact([[746, 1565], [211, 348]])[1] == pytest.approx(0.0143673819926, rel=1e-10)
    assert fisher_exact([[1169, 716], [1224, 753]])[1] == pytest.approx(scipy_fisher_exact([[1169, 716], [1224, 753]]).pvalue,
                                                                       rel=1e-10)


def test_fisher_exact_equals_scipy_stats() -> None:
    rng = np.random.default_rng(RNG_SEED)
    worst = 0.0
    for i in range(6000):
        table = rng.integers(0, [5, 30, 300, 5000, 50_000][i % 5], (2, 2))
        if i % 7 == 0:
            table[1] = table[0]  # symmetric margins: tables as likely as the observed one on both sides
        odds, p = fisher_exact(table)
        theirs = scipy_fisher_exact(table)
        assert odds == pytest.approx(theirs.statistic, nan_ok=True)
        if theirs.pvalue > 1e-290:
            worst = max(worst, abs(p - theirs.pvalue) / theirs.pvalue)
    assert worst < 1e-9


def test_clopper_pearson_equals_scipy_binomtest() -> None:
    rng = np.random.default_rng(RNG_SEED)
    for n in (1, 2, 10, 100, 1000, 100_000):
        for k in {0, n, *rng.integers(0, n + 1, 20).tolist()}:
            ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
            assert clopper_pearson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-11)
    assert clopper_pearson(0, 10)[0] == 0.0 and clopper_pearson(10, 10)[1] == 1.0


# Conservative 95% ranks of the median's interval (n: lower, upper; the lowest confidence at or above 95%),
# as Campbell & Gardner, "Calculating confidence intervals for some non-parametric analyses", BMJ 1988, give them.
PUBLISHED_MEDIAN_RANKS = {6: (1, 6), 7: (1, 7), 8: (1, 8), 9: (2, 8), 10: (2, 9), 11: (2, 10), 12: (3, 10),
                          13: (3, 11), 14: (3, 12), 15: (4, 12), 16: (4, 13), 17: (5, 13), 18: (5, 14),
                          19: (5, 15), 20: (6, 15), 25: (8, 18), 30: (10, 21)}


def test_median_interval_takes_the_published_ranks() -> None:
    """Values 1..n in shuffled order: the interval's ends are the ranks themselves."""
    rng = np.random.default_rng(RNG_SEED)
    for n, ranks in PUBLISHED_MEDIAN_RANKS.items():
        assert median_interval(rng.permutation(np.arange(1.0, n + 1)).tolist()) == ranks, n


def test_median_interval_is_the_widest_rank_scipy_binom_allows_and_none_below_it() -> None:
    """Against scipy.stats.binom: the largest k whose coverage 1 - 2 P(B <= k - 1) is at least the level."""
    for level in (0.9, 0.95, 0.99):
        for n in range(1, 120):
            ks = [k for k in range(1, n // 2 + 1) if 1 - 2 * binom.cdf(k - 1, n, 0.5) >= level]
            expected = (float(max(ks)), float(n - max(ks) + 1)) if ks else None
            assert median_interval([float(v) for v in range(1, n + 1)], level) == expected, (level, n)
    assert median_interval([3.0, 1.0, 2.0, 5.0, 4.0]) is None  # 5 values cannot reach 95%


def test_chi_square_tail_with_one_degree_of_freedom_is_scipy_stats_one() -> None:
    x = np.random.default_rng(RNG_SEED).random(10_000) * 40
    assert np.array_equal(chdtrc(1, x), chi2.sf(x, 1))


@pytest.mark.parametrize("method, ours", [("holm", holm), ("fdr_bh", benjamini_hochberg)])
def test_corrections_are_statsmodels_bit_for_bit(method: str, ours) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(RNG_SEED)
    for size in (1, 2, 5, 28, 120):
        for p in (rng.random(size), rng.random(size) ** 6, np.round(rng.random(size), 1)):  # spread, tiny, tied
            assert np.array_equal(ours(p), multipletests(p, method=method)[1])
    assert ours([]).size == 0


def test_a_report_imports_neither_scipy_stats_nor_statsmodels() -> None:
    """What the memory and start-up figures of bench/analysis.py rest on: any import of either, direct or through
    another package, puts 35 MB back into every report."""
    probe = ("import sys, analysis.acute.cli, analysis.safety.cli, analysis.auto.cli, analysis.acute.plan; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'statsmodels' or m.startswith('scipy.stats')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
