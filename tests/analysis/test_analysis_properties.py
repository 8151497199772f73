"""Properties that must hold for any counts (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats.bradley_terry import fit_bradley_terry
from analysis.stats.exact_tests import binomial_summary


@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
@settings(max_examples=60, deadline=None)
def test_intervals_contain_the_estimate(kn: tuple[int, int]) -> None:
    k, n = kn
    p, wilson, cp = binomial_summary(k, n)
    assert 0 <= p <= 1
    for lo, hi in (wilson, cp):
        assert 0 <= lo <= k / n <= hi <= 1
    # the mirrored count gives the mirrored interval
    _, wilson_m, cp_m = binomial_summary(n - k, n)
    assert np.allclose(wilson_m, (1 - wilson[1], 1 - wilson[0])) and np.allclose(cp_m, (1 - cp[1], 1 - cp[0]))


@given(st.lists(st.integers(0, 25), min_size=16, max_size=16), st.permutations(range(4)))
@settings(max_examples=40, deadline=None)
def test_bradley_terry_is_equivariant_and_centred(cells: list[int], perm: list[int]) -> None:
    wins = np.array(cells).reshape(4, 4)
    theta = fit_bradley_terry(wins)
    permuted = fit_bradley_terry(wins[np.ix_(perm, perm)])
    assert np.allclose(permuted, theta[perm], atol=1e-6)
    assert abs(theta.sum()) < 1e-8
    # swapping every winner and loser mirrors the strengths
    assert np.allclose(fit_bradley_terry(wins.T), -theta, atol=1e-6)
