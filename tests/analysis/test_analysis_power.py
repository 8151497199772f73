"""Sample-size planning: the issue's reference numbers and a brute-force power cross-check."""

from __future__ import annotations


import numpy as np
import pytest
from scipy.stats import binom, binomtest

from analysis.stats.power import design_effect, exact_power, n_exact, n_exact_stable, n_normal, plan_sample_size
from cli_in_process import run_analysis


def test_plan_for_055() -> None:
    assert n_exact(0.55) == 786
    assert n_normal(0.55) == 783
    assert n_exact(0.45) == 786  # symmetric


def brute_force_power(n: int, p: float, alpha: float = 0.05) -> float:
    """Power by running scipy's binomtest on every possible count."""
    ks = np.arange(n + 1)
    reject = np.array([binomtest(int(k), n, 0.5).pvalue <= alpha for k in ks])
    return float(binom.pmf(ks[reject], n, p).sum())


@pytest.mark.parametrize("n", [10, 37, 100, 211])
def test_exact_power_equals_brute_force(n: int) -> None:
    assert exact_power(n, 0.62)[0] == pytest.approx(brute_force_power(n, 0.62), abs=1e-10)


def test_exact_n_is_the_first_reaching_power() -> None:
    n = n_exact(0.65)
    assert brute_force_power(n, 0.65) >= 0.8 > brute_force_power(n - 1, 0.65)
    stable = n_exact_stable(0.65)
    assert stable >= n
    assert all(exact_power(np.arange(stable, stable + 200), 0.65) >= 0.8)


def test_design_effect_inflates_sample() -> None:
    assert design_effect(10, 0.05) == pytest.approx(1.45)
    plan = plan_sample_size(0.55, judgements_per_worker=10, icc=0.05)
    assert plan.n_clustered == int(np.ceil(786 * 1.45))
    assert plan.workers_needed == int(np.ceil(plan.n_clustered / 10))
    assert n_exact(0.5) is None


def test_plan_cli_prints_both_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    done = run_analysis(capsys, "plan", "--win-rate", "0.55", "--alpha", "0.05", "--power", "0.8")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    lines = {line.split("  ")[0].strip(): line.split()[-1] for line in out.splitlines()}
    assert lines["judgements, exact binomial"] == "786"
    assert lines["judgements, normal approximation"] == "783"


def test_plan_cli_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    proc = run_analysis(capsys, "plan", "--win-rate", "1.5")
    assert proc.returncode == 2
    assert "--win-rate" in proc.stderr


def test_n_for_power_switches_to_normal_only_for_huge_n() -> None:
    from analysis.stats.power import n_for_power

    assert n_for_power(0.55) == n_exact(0.55) == 786
    assert n_for_power(0.502) == n_normal(0.502)
    assert abs(n_exact(0.502) - n_normal(0.502)) / n_normal(0.502) < 0.01
    assert n_for_power(0.5) is None
