"""`python -m analysis plan` for a whole study: pairs, Holm, workers, units and cost, against a hand computation."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binom, norm

from analysis.acute.plan import plan_study
from cli_in_process import run_analysis


def exact_n_by_hand(p: float, alpha: float, power: float, start: int) -> int:
    """Smallest n ≥ start whose exact two-sided binomial test (rejection region from binom.sf, scanned
    count by count) reaches `power` at true rate p."""
    n = start
    while True:
        # the smallest c with P(X ≥ c | 0.5) ≤ alpha/2 (two-sided test, symmetric)
        c = n // 2 + 1
        while binom.sf(c - 1, n, 0.5) > alpha / 2:
            c += 1
        if binom.sf(c - 1, n, p) + binom.cdf(n - c, n, p) >= power:
            return n
        n += 1


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, str]:
    done = run_analysis(capsys, "plan", *args)
    assert done.returncode == 0, done.stderr
    rows = (line.partition("  ") for line in done.stdout.splitlines() if not line.startswith(" "))
    return {key.strip(): rest.strip() for key, _, rest in rows}


def test_three_models_by_hand(capsys: pytest.CaptureFixture[str]) -> None:
    # 3 models -> 3 pairs; Holm's first step needs p < 0.05 / 3, so each pair is planned at that level
    level = 0.05 / 3
    z_a, z_b = norm.isf(level / 2), norm.ppf(0.8)
    normal = math.ceil(((z_a * 0.5 + z_b * math.sqrt(0.55 * 0.45)) / 0.05) ** 2)
    assert normal == 1045
    exact = exact_n_by_hand(0.55, level, 0.8, start=1000)
    assert exact == 1053
    lines = cli(capsys, "--win-rate", "0.55", "--models", "3")
    assert lines["model pairs"] == "3 (3 models)" and lines["alpha per pair (Holm's first step: alpha / pairs)"] == "0.01667"
    assert lines["judgements, exact binomial"] == str(exact)
    assert lines["judgements, normal approximation"] == str(normal)
    # whole study: 3 × 1053 = 3159 judgements; 5 per worker -> ⌈631.8⌉ = 632 workers; 5 per unit -> 632 units;
    # 632 units × 0.50 = 316.00
    assert lines["judgements, whole study"] == "3159"
    assert lines["workers needed"] == "632"
    assert lines["units"] == "632"
    assert lines["cost (units x reward)"] == "316.00"


def test_clustering_pairs_reward_by_hand() -> None:
    # 2 pairs at 0.025 each; a worker gives 10 judgements, 5 per pair; ICC 0.1 -> design effect 1 + 4·0.1 = 1.4
    exact = exact_n_by_hand(0.6, 0.025, 0.9, start=200)
    plan = plan_study(0.6, pairs=2, power=0.9, judgements_per_worker=10, icc=0.1, judgements_per_unit=4,
                      reward_per_unit=1.25)
    assert plan.per_pair.n_exact == exact
    assert plan.per_pair.design_effect == 1.4
    per_pair = math.ceil(exact * 1.4 - 1e-9)
    assert plan.per_pair.n_clustered == per_pair
    assert plan.judgements == 2 * per_pair
    assert plan.workers == math.ceil(2 * per_pair / 10)
    assert plan.units == math.ceil(2 * per_pair / 4)
    assert plan.cost == plan.units * 1.25


def test_one_pair_keeps_the_reference_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    lines = cli(capsys, "--win-rate", "0.55")
    assert lines["judgements, exact binomial"] == "786" and lines["judgements, whole study"] == "786"
    assert lines["workers needed"] == str(math.ceil(786 / 5)) and lines["units"] == str(math.ceil(786 / 5))


def test_models_and_pairs_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    proc = run_analysis(capsys, "plan", "--win-rate", "0.55", "--models", "3", "--pairs", "2")
    assert proc.returncode == 2
    proc = run_analysis(capsys, "plan", "--win-rate", "0.55", "--models", "1")
    assert proc.returncode == 2 and "--models" in proc.stderr
