"""Per model pair: the exact binomial (sign) test, confidence intervals, effect size and power.

This is ParlAI's ACUTE significance table done properly: every unordered pair that was compared is
listed once (`model_a` < `model_b` alphabetically, docs/formats.md, section 'Analysis reports'), with Wilson (good coverage, never
outside [0, 1]) and Clopper–Pearson (exact, conservative) intervals, multiple-comparison adjusted
p-values, Cohen's h, and the judgements that 80% power would need at the observed win rate.

Ties ("tie" and "both_bad") are reported, never dropped silently. Two win rates are given:
`win_rate_a` counts a tie as half a win for each side (Chatbot Arena's convention, unbiased towards 0.5
when ties are common), `win_rate_a_decisive` uses the decisive judgements only. The exact test is the sign
test: the binomial test of the decisive judgements against one half (ties carry no sign), so its p-value,
the Wilson and Clopper–Pearson intervals, Cohen's h and the power are all of the decisive win rate. The
half-win rate has its own interval (`half_win_interval`). Without ties both rates and every number are
what they were before ties existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.stats.corrections import benjamini_hochberg, holm, stars
from analysis.stats.exact_tests import binomial_summary
from analysis.stats.intervals import Z_95
from analysis.stats.power import cohens_h, n_for_power


@dataclass
class PairTest:
    """One unordered pair, from model_a's side; `p_value`, `ci_wilson`, `ci_cp` are of the decisive judgements."""

    model_a: str
    model_b: str
    wins_a: int
    wins_b: int
    n: int  # every judgement of the pair, ties included
    win_rate_a: float  # ties as half a win
    p_value: float
    ci_wilson: tuple[float, float]
    ci_cp: tuple[float, float]
    cohens_h: float
    n_for_80_power: int | None
    p_holm: float = float("nan")
    p_bh: float = float("nan")
    stars: str = ""
    ties: int = 0  # both kinds ("tie" and "both_bad")
    both_bad: int = 0  # of `ties`, those marked "both_bad"
    ci_win_rate: tuple[float, float] = (float("nan"), float("nan"))  # of `win_rate_a` (half_win_interval)

    @property
    def n_decisive(self) -> int:
        return self.wins_a + self.wins_b

    @property
    def win_rate_a_decisive(self) -> float:
        """model_a's share of the decisive judgements (NaN when every judgement was a tie)."""
        return self.wins_a / self.n_decisive if self.n_decisive else float("nan")

    @property
    def tie_rate(self) -> float:
        return self.ties / self.n


def half_win_interval(wins: int, ties: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """95% score interval of the half-win rate m = (wins + ties/2) / n, aware that ties are a third outcome.

    Each judgement scores 1, ½ or 0; with tie rate τ its variance is m(1 − m) − τ/4, smaller than a
    binomial's (a tie is not a coin flip between a win and a loss, so writing it as one win each way
    would double n and make intervals about √2 too narrow). As Wilson's interval does for a proportion,
    the ends are the m with (m̂ − m)² = z²·(m(1 − m) − τ̂/4)/n, τ̂ the observed tie rate: a quadratic whose
    roots lie in [0, 1]. Without ties it is exactly Wilson's interval.
    """
    m, tau, c = (wins + ties / 2) / n, ties / n, z * z / n
    a, b, q = 1 + c, -(2 * m + c), m * m + c * tau / 4
    root = np.sqrt(max(b * b - 4 * a * q, 0.0))
    return float((-b - root) / (2 * a)), float((-b + root) / (2 * a))


def pair_tests(models: list[str], wins: np.ndarray, ties: np.ndarray | None = None,
               both_bad: np.ndarray | None = None) -> list[PairTest]:
    """Tests for every pair with at least one judgement; `wins[i, j]` = times model i beat model j,
    `ties` and `both_bad` symmetric counts of ties (both kinds) and of "both_bad" ties.

    `models` must be sorted so that i < j means model_a < model_b alphabetically. A pair judged only
    as ties has no decisive judgement: no sign test, no Wilson or Clopper–Pearson interval (NaN, and left
    out of the multiple-comparison correction), and no half-win interval either (with every judgement a
    tie the plugged-in tie rate of 1 would give the zero-width [0.5, 0.5]).
    """
    ties = np.zeros_like(wins) if ties is None else ties
    both_bad = np.zeros_like(wins) if both_bad is None else both_bad
    tests: list[PairTest] = []
    nan2 = (float("nan"), float("nan"))
    k = len(models)
    for i in range(k):
        for j in range(i + 1, k):
            w_a, w_b, t = int(wins[i, j]), int(wins[j, i]), int(ties[i, j])
            decisive, n = w_a + w_b, w_a + w_b + t
            if n == 0:
                continue
            p, wilson, cp = binomial_summary(w_a, decisive) if decisive else (float("nan"), nan2, nan2)
            rate = w_a / decisive if decisive else float("nan")
            tests.append(
                PairTest(
                    model_a=models[i], model_b=models[j], wins_a=w_a, wins_b=w_b, n=n, win_rate_a=(w_a + t / 2) / n,
                    p_value=p, ci_wilson=wilson, ci_cp=cp, cohens_h=cohens_h(rate) if decisive else float("nan"),
                    n_for_80_power=n_for_power(rate, 0.05, 0.8) if decisive else None,
                    ties=t, both_bad=int(both_bad[i, j]),
                    ci_win_rate=half_win_interval(w_a, t, n) if decisive else nan2,  # all ties: τ̂ = 1 gives [½, ½]
                )
            )
    tested = [t for t in tests if t.n_decisive]
    p_values = np.array([t.p_value for t in tested])
    for t, ph, pb in zip(tested, holm(p_values), benjamini_hochberg(p_values)):
        t.p_holm, t.p_bh, t.stars = float(ph), float(pb), stars(float(ph))
    return tests
