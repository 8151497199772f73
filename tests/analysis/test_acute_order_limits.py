"""ACUTE rankings the data cannot support (issue 15, hostile trial): perfect separation, groups never compared
with each other, bootstrap resamples that cannot vary; the heatmap of a ties-only pair and the side-bias verdict
with an infinite odds ratio. Each case says what the data do not give instead of printing a degenerate number."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.sparse.csgraph import connected_components

from analysis_record_factory import judgement
from analysis.acute.connectivity import comparison_groups, separations
from analysis.report.charts import heatmap
from analysis.stats.bradley_terry import fit_bradley_terry
from analysis.stats.davidson import fit_davidson
from test_acute_thin_data import run, study
from cli_in_process import run_analysis


def test_perfect_separation_shows_no_interval_and_says_the_ridge_sets_the_strength(tmp_path: Path) -> None:
    s, html, tables = run(study({("m1", "m2"): (50, 0)}, workers=12), tmp_path)
    # the strength is the ridge's: a smaller ridge moves it far (the MLE is infinite)
    wins = np.array([[0.0, 50.0], [0.0, 0.0]])
    assert fit_bradley_terry(wins, 0.001)[0] > fit_bradley_terry(wins, 0.01)[0] + 1
    assert s["separation"] == ["m1 won all 50 comparisons with m2"]
    for r in s["ranking"]:
        assert r["ci"] is None and r["ci_plain"] is None and r["rank_set"] is None
    assert any(v.startswith("Strength not estimable: m1 won all 50 comparisons with m2") and "ridge" in v
               for v in s["verdict"])
    assert "m1 beats m2" in " ".join(s["verdict"])  # the pairwise test still says what holds
    assert tables["ranking.csv"][["ci_workers_low", "ci_plain_low", "rank_best"]].isna().all().all()
    assert "Strength not estimable" in html and not re.findall(r"\[[+-]3\.\d{3}, [+-]3\.\d{3}\]", html)


def test_separation_between_blocks_is_found_as_a_graph_would() -> None:
    # a ⇄ b mixed, both always beat c; d only tied with c: {c, d} is one block, below {a, b}
    wins = np.array([[0, 3, 4, 0], [2, 0, 5, 0], [0, 0, 0, 0], [0, 0, 0, 0]], float)
    ties = np.zeros((4, 4))
    ties[2, 3] = ties[3, 2] = 2
    found = separations(wins, ties)
    assert [(s.winners, s.losers, s.n) for s in found] == [((0, 1), (2, 3), 9)]
    # strongly connected when c beats a once: no separation
    wins[2, 0] = 1
    assert separations(wins, ties) == []
    n, _ = connected_components((wins + ties) > 0, directed=True, connection="strong")
    assert n == 1


def test_groups_never_compared_get_no_order_across_groups(tmp_path: Path) -> None:
    s, html, tables = run(study({("m1", "m2"): (20, 10), ("m3", "m4"): (8, 22)}, workers=12), tmp_path)
    assert s["ranking_groups"] == [["m1", "m2"], ["m4", "m3"]]
    ranks = {r["model"]: r["rank"] for r in s["ranking"]}
    assert ranks == {"m1": 1, "m2": 2, "m4": 1, "m3": 2}  # within each group
    assert all(r["ci"] is None and r["rank_set"] is None and r["ci_plain"] is None for r in s["ranking"])
    assert s["separation"] == []
    text = " ".join(s["verdict"])
    assert "fall into 2 groups never compared with each other: {m1, m2}; {m4, m3}" in text
    assert "not given by the data" in text and "m1 = m4" not in text
    assert "group 1: m1, m2; group 2: m4, m3" in text
    assert "never compared with each other" in html and "rank in group" in html
    assert tables["ranking.csv"]["rank_best"].isna().all()


def test_comparison_groups_match_scipy_and_link_ties() -> None:
    wins = np.zeros((5, 5))
    wins[0, 1] = 3
    ties = np.zeros((5, 5))
    ties[2, 3] = ties[3, 2] = 1  # a tie links its two models
    groups = comparison_groups(wins, ties)
    assert groups == [[0, 1], [2, 3], [4]]
    n, labels = connected_components((wins + wins.T + ties) > 0, directed=False)
    assert n == len(groups) and all(len({labels[i] for i in g}) == 1 for g in groups)


def test_balanced_workers_give_no_zero_width_worker_interval(tmp_path: Path) -> None:
    # every worker chose m1 once and m2 once: every worker resample is balanced, the worker interval [0, 0]
    records = []
    for w in range(12):
        for k, winner in enumerate(["m1", "m2"] * 5):
            records.append(judgement(worker_id=f"w{w}", unit_id=f"u{w}-{k}", pair_id=f"p{w}-{k}", model_a="m1",
                                     model_b="m2", left="m1" if k % 2 else "m2", winner=winner))
    s, html, _ = run(records, tmp_path)
    assert s["worker_bootstrap"] == {"not_enough_data": "needs at least 2 distinct resampled strengths per model (have 1)"}
    assert all(r["ci"] is None for r in s["ranking"])
    # the vote bootstrap varies and stays
    assert all(r["ci_plain"][0] < 0 < r["ci_plain"][1] for r in s["ranking"])
    assert "[+0.000, +0.000]" not in html and "[0.000, 0.000]" not in html


def test_normal_data_keep_their_intervals(tmp_path: Path) -> None:
    s, _, _ = run(study({("a", "b"): (30, 20), ("b", "c"): (28, 22), ("a", "c"): (33, 17)}, workers=12), tmp_path)
    assert s["ranking_groups"] == [["a", "b", "c"]] and s["separation"] == []
    assert all(r["ci"][0] < r["strength"] < r["ci"][1] and r["ci_plain"][0] < r["ci_plain"][1] for r in s["ranking"])


def test_heatmap_of_a_ties_only_pair_shows_a_dash() -> None:
    ci = np.full((2, 2, 2), np.nan)
    svg = heatmap(["m1", "m2"], np.full((2, 2), 0.5), np.full((2, 2), 60), ci, {})
    assert "nan" not in svg and svg.count(">—<") == 2


def test_ties_only_report_has_no_nan_in_the_heatmap(tmp_path: Path) -> None:
    records = [judgement(worker_id=f"w{i % 12}", unit_id=f"u{i}", pair_id=f"p{i}", model_a="m1", model_b="m2",
                         left="m1", winner="tie") for i in range(30)]
    _, html, _ = run(records, tmp_path)
    assert "nan%" not in html


def test_side_bias_verdict_prints_no_infinite_odds_ratio(tmp_path: Path) -> None:
    # the left conversation is chosen every time, in both orders: the Mantel–Haenszel odds ratio is infinite
    records = [judgement(worker_id=f"w{i % 12}", unit_id=f"u{i}", pair_id=f"p{i}", model_a="m1", model_b="m2",
                         left="m1" if i % 2 else "m2", winner="m1" if i % 2 else "m2") for i in range(60)]
    s, _, _ = run(records, tmp_path)
    assert not math.isfinite(s["position_bias"]["stratified"]["mh_odds_ratio_left"] or math.inf)
    side = [v for v in s["verdict"] if v.startswith("Side bias")]
    assert side and "inf" not in side[0].replace("infinite", "") and "no finite value" in side[0]


def _one_decisive_among_ties() -> list[dict]:
    return [judgement(worker_id=f"w{i % 12}", unit_id=f"u{i}", pair_id=f"p{i}", model_a="m1", model_b="m2", left="m1",
                      winner="m1" if i == 0 else "tie") for i in range(101)]


def test_davidson_one_decisive_among_ties_is_the_ridge_not_the_data(tmp_path: Path) -> None:
    """Hostile trial: 1 win and 100 ties gave Elo 1292 vs 708 under Davidson. The fit is right (it is the direct
    maximum of the penalised likelihood), but the likelihood has no finite maximum: d and ν grow together."""
    wins, ties = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.0, 100.0], [100.0, 0.0]])

    def penalised(x: np.ndarray, ridge: float) -> float:
        t1, t2, eta = x
        log_d = np.logaddexp(np.logaddexp(t1, t2), eta + (t1 + t2) / 2)
        return -((t1 - log_d) + 100 * (eta + (t1 + t2) / 2 - log_d)) + ridge * (t1**2 + t2**2)

    found = {}
    for ridge in (0.01, 0.001):
        best = minimize(penalised, np.zeros(3), args=(ridge,), method="Nelder-Mead",
                        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
        theta, nu = fit_davidson(wins, ties, ridge)
        assert theta == pytest.approx(best.x[:2] - best.x[:2].mean(), abs=1e-4)
        assert nu == pytest.approx(np.exp(best.x[2]), rel=1e-3)
        found[ridge] = theta[0]
    assert found[0.001] > found[0.01] + 0.5  # set by the ridge: a smaller one moves it far
    s, _, _ = run(_one_decisive_among_ties(), tmp_path, tie_model="davidson")
    assert s["separation"] == ["m1 won all 1 decisive comparisons with m2"]
    assert all(r["ci"] is None and r["ci_plain"] is None for r in s["ranking"])
    assert any(v.startswith("Strength not estimable: m1 won all 1 decisive comparisons") for v in s["verdict"])


def test_half_wins_bound_one_decisive_among_ties(tmp_path: Path) -> None:
    """With ties as half wins the same data are 50.5 : 50.5 − 1 — a finite, tiny difference with intervals."""
    s, _, _ = run(_one_decisive_among_ties(), tmp_path)
    assert s["separation"] == []
    expected = fit_bradley_terry(np.array([[0.0, 51.0], [50.0, 0.0]]), 0.01)
    assert [r["strength"] for r in s["ranking"]] == pytest.approx(expected.tolist(), abs=1e-9)
    assert all(r["ci"] is not None for r in s["ranking"])


def test_cli_says_the_order_is_not_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in study({("m1", "m2"): (20, 10), ("m3", "m4"): (8, 22)}, workers=12)))
    done = run_analysis(capsys, "acute", "--judgements", path, "--out", tmp_path / "out", "--bootstrap-rounds", "50")
    assert done.returncode == 0, done.stderr
    assert "fall into 2 groups never compared with each other: {m1, m2}; {m4, m3}" in done.stdout


@pytest.mark.parametrize("seed", range(40))
def test_components_equal_scipy_csgraph_on_random_graphs(seed: int) -> None:
    """The closure-based components (no scipy.sparse.csgraph import in a report) against csgraph's own, weak and
    strong, on random sparse comparison graphs of 1 to 30 models."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 31))
    wins = (rng.random((k, k)) < rng.choice([0.03, 0.08, 0.2])) * rng.integers(1, 5, (k, k)).astype(float)
    np.fill_diagonal(wins, 0)
    ties = np.zeros((k, k))
    groups = comparison_groups(wins, ties)
    n_weak, weak = connected_components((wins + wins.T) > 0, directed=False)
    assert sorted(sorted(g) for g in groups) == sorted(np.flatnonzero(weak == c).tolist() for c in range(n_weak))
    n_strong, strong = connected_components(wins > 0, directed=True, connection="strong")
    blocks = {tuple(np.flatnonzero(strong == c).tolist()) for c in range(n_strong)}
    for s in separations(wins, ties):  # every side of a separation is a strong block, and the wins really go one way
        assert s.winners in blocks and s.losers in blocks
        assert wins[np.ix_(s.losers, s.winners)].sum() == 0 and wins[np.ix_(s.winners, s.losers)].sum() == s.n
    expected = sum(1 for a in blocks for b in blocks if a != b and wins[np.ix_(a, b)].sum() > 0)
    assert len(separations(wins, ties)) == expected
