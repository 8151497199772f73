"""Per model pair: the exact binomial test, two confidence intervals, effect size and power.

This is ParlAI's ACUTE significance table done properly: every unordered pair that was compared is
listed once (`model_a` < `model_b` alphabetically, docs/formats.md, section 'Analysis reports'), with Wilson (good coverage, never
outside [0, 1]) and Clopper–Pearson (exact, conservative) intervals, multiple-comparison adjusted
p-values, Cohen's h, and the judgements that 80% power would need at the observed win rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.stats.corrections import benjamini_hochberg, holm, stars
from analysis.stats.exact_tests import binomial_summary
from analysis.stats.power import cohens_h, n_for_power


@dataclass
class PairTest:
    """One unordered pair, from model_a's side."""

    model_a: str
    model_b: str
    wins_a: int
    wins_b: int
    n: int
    win_rate_a: float
    p_value: float
    ci_wilson: tuple[float, float]
    ci_cp: tuple[float, float]
    cohens_h: float
    n_for_80_power: int | None
    p_holm: float = float("nan")
    p_bh: float = float("nan")
    stars: str = ""


def pair_tests(models: list[str], wins: np.ndarray) -> list[PairTest]:
    """Tests for every pair with at least one judgement; `wins[i, j]` = times model i beat model j.

    `models` must be sorted so that i < j means model_a < model_b alphabetically.
    """
    tests: list[PairTest] = []
    k = len(models)
    for i in range(k):
        for j in range(i + 1, k):
            w_a, w_b = int(wins[i, j]), int(wins[j, i])
            n = w_a + w_b
            if n == 0:
                continue
            p, wilson, cp = binomial_summary(w_a, n)
            rate = w_a / n
            tests.append(
                PairTest(
                    model_a=models[i], model_b=models[j], wins_a=w_a, wins_b=w_b, n=n, win_rate_a=rate,
                    p_value=p, ci_wilson=wilson, ci_cp=cp, cohens_h=cohens_h(rate),
                    n_for_80_power=n_for_power(rate, 0.05, 0.8),
                )
            )
    p_values = np.array([t.p_value for t in tests])
    for t, ph, pb in zip(tests, holm(p_values), benjamini_hochberg(p_values)):
        t.p_holm, t.p_bh, t.stars = float(ph), float(pb), stars(float(ph))
    return tests
