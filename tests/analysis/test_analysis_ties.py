"""Ties in ACUTE judgements ("tie", "both_bad"): read, counted, tested and ranked, each checked against an
independent computation (hand counts, scipy's binomial test and Wilson interval, choix, a direct Davidson
likelihood maximisation, the Arena Elo formula), and the whole CLI on a file with ties."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import choix
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq, minimize
from scipy.stats import binomtest
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from analysis.acute.agreement import agreement
from analysis.acute.pairwise import half_win_interval
from analysis.acute.ranking import worker_cell_counts
from analysis.acute.records import BOTH_BAD_CODE, TIE_CODE, load_acute_judgements
from analysis.acute.statistics import AcuteOptions, analyse_acute
from analysis.acute.tables import csv_tables, summary
from analysis.acute.workers import loo_majority_agreement
from analysis.stats.bradley_terry import elo_scale, fit_bradley_terry, with_ties_as_half_wins
from analysis.stats.davidson import fit_davidson
from analysis.stats.intervals import Z_95
from analysis.synthetic.acute import StudyDesign, SyntheticStudy
from humaneval.input_errors import InputError

from analysis_record_factory import judgement
from cli_in_process import run_analysis

ROOT = Path(__file__).resolve().parents[2]


def _pair_records(a: str, b: str, wins_a: int, wins_b: int, ties: int, both_bad: int, start: int = 0) -> list[dict[str, Any]]:
    """One judgement per worker (ids from `start`), sides alternating, in the order wins_a, wins_b, ties, both_bad."""
    winners = [a] * wins_a + [b] * wins_b + ["tie"] * ties + ["both_bad"] * both_bad
    return [judgement(worker_id=f"w{start + i}", unit_id=f"u{start + i}", pair_id=f"{a}-{b}", model_a=a, model_b=b,
                      left=a if i % 2 else b, winner=w) for i, w in enumerate(winners)]


# --- reading ------------------------------------------------------------------------------------------------
def test_tie_and_both_bad_are_read_as_their_codes(write_records) -> None:
    path = write_records([judgement(winner="tie"), judgement(worker_id="w2", winner="both_bad"),
                          judgement(worker_id="w3", winner="beta")])
    j = load_acute_judgements([path])
    assert j.winner.tolist() == [TIE_CODE, BOTH_BAD_CODE, j.models.index("beta")]
    assert j.decisive.tolist() == [False, False, True] and j.tie.tolist() == [True, True, False]
    assert j.loser[j.decisive].tolist() == [j.models.index("alpha")]
    assert [j.winner_name(i) for i in range(3)] == ["tie", "both_bad", "beta"]


@pytest.mark.parametrize(("key", "name"), [("model_a", "tie"), ("model_b", "both_bad")])
def test_a_model_named_like_a_tie_is_refused(write_records, key: str, name: str) -> None:
    path = write_records([judgement(), judgement(worker_id="w2", **{key: name, "left": name, "winner": name})])
    with pytest.raises(InputError) as err:
        load_acute_judgements([path])
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 2, key)


def test_cli_refuses_a_model_named_tie_and_writes_nothing(write_records, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = write_records([judgement(), judgement(worker_id="w2", model_b="tie", winner="alpha")])
    out = tmp_path / "report"
    proc = run_analysis(capsys, "acute", "--judgements", path, "--out", out)
    assert proc.returncode == 2 and f"{path}:2: field 'model_b'" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_the_documented_tie_line_is_read(tmp_path: Path) -> None:
    """docs/formats.md, section 'ACUTE judgements': the example line with a tie is valid input."""
    doc = (ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    block = re.search(r"A tie in the same shape.*?```json\n(.*?)\n```", doc, re.S)
    assert block is not None
    record = json.loads(block.group(1))
    path = tmp_path / "tie.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    j = load_acute_judgements([path])
    assert record["winner"] == "both_bad" and j.winner.tolist() == [BOTH_BAD_CODE]


# --- the pairwise numbers against hand counts and scipy -------------------------------------------------------
def test_half_win_rate_and_sign_test_against_a_hand_count(write_records) -> None:
    # alpha-beta: 9 alpha, 3 beta, 4 tie, 2 both_bad; alpha-gamma: 5 alpha, 5 gamma, no ties
    path = write_records(_pair_records("alpha", "beta", 9, 3, 4, 2) + _pair_records("alpha", "gamma", 5, 5, 0, 0, 100))
    results = analyse_acute(load_acute_judgements([path]), AcuteOptions(bootstrap_rounds=0))
    sig = csv_tables(results)["significance.csv"].set_index(["model_a", "model_b"])
    ab = sig.loc[("alpha", "beta")]
    assert (ab["wins_a"], ab["wins_b"], ab["ties"], ab["both_bad"], ab["n"], ab["n_decisive"]) == (9, 3, 6, 2, 18, 12)
    assert ab["win_rate_a"] == pytest.approx((9 + 6 / 2) / 18)
    assert ab["win_rate_a_decisive"] == pytest.approx(9 / 12) and ab["tie_rate"] == pytest.approx(6 / 18)
    exact = binomtest(9, 12, 0.5)
    assert ab["p_value"] == pytest.approx(exact.pvalue, rel=1e-12)
    wilson = exact.proportion_ci(method="wilson")
    cp = exact.proportion_ci(method="exact")
    assert (ab["ci_wilson_low"], ab["ci_wilson_high"]) == pytest.approx((wilson.low, wilson.high), rel=1e-12)
    assert (ab["ci_cp_low"], ab["ci_cp_high"]) == pytest.approx((cp.low, cp.high), rel=1e-12)
    ag = sig.loc[("alpha", "gamma")]
    assert ag["win_rate_a"] == ag["win_rate_a_decisive"] == 0.5 and ag["ties"] == 0
    # the grid shares the half-win rate, the count grid counts ties
    grid, counts = csv_tables(results)["grid.csv"], csv_tables(results)["grid_counts.csv"]
    assert grid.loc["beta", "alpha"] == pytest.approx((3 + 3) / 18) and counts.loc["alpha", "beta"] == 18
    s = summary(results)
    assert (s["ties"]["ties"], s["ties"]["both_bad"]) == (6, 2) and s["ties"]["tie_rate"] == pytest.approx(6 / 28)
    assert "sign test" in s["ties"]["test"] and "half a win" in s["ties"]["win_rate"]
    assert any("alpha vs beta is not settled (75% for alpha over 12 decisive judgements, 6 ties)" in v
               for v in s["verdict"]), s["verdict"]


def test_half_win_interval_is_wilson_without_ties_and_solves_the_score_equation_with_them() -> None:
    for wins, n in [(0, 7), (3, 10), (18, 25), (40, 40)]:
        ci = binomtest(wins, n).proportion_ci(method="wilson")
        assert half_win_interval(wins, 0, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    wins, ties, n = 14, 9, 40
    m, tau = (wins + ties / 2) / n, ties / n
    score = lambda mu: (m - mu) ** 2 - Z_95**2 * (mu * (1 - mu) - tau / 4) / n  # noqa: E731
    low, high = half_win_interval(wins, ties, n)
    assert low == pytest.approx(brentq(score, 0.0, m), abs=1e-12)
    assert high == pytest.approx(brentq(score, m, 1.0), abs=1e-12)


@pytest.mark.parametrize(("probs", "n"), [((0.4, 0.3, 0.3), 60), ((0.2, 0.1, 0.7), 40)])
def test_half_win_interval_covers_and_tie_as_two_votes_does_not(probs: tuple[float, float, float], n: int) -> None:
    """Simulated trinomial studies (win, tie, loss probabilities): about 95% coverage; writing a tie as one win
    each way covers less."""
    truth = probs[0] + probs[1] / 2
    draws = np.random.default_rng(5).multinomial(n, probs, size=3000)
    ours = naive = 0
    for w, t, _ in draws.tolist():
        low, high = half_win_interval(w, t, n)
        ours += low <= truth <= high
        doubled = binomtest(2 * w + t, 2 * n).proportion_ci(method="wilson")
        naive += doubled.low <= truth <= doubled.high
    assert 0.935 <= ours / len(draws) <= 0.965
    assert naive / len(draws) < 0.92


def test_a_pair_judged_only_as_ties_has_no_test(write_records) -> None:
    path = write_records(_pair_records("alpha", "beta", 0, 0, 5, 1) + _pair_records("alpha", "gamma", 8, 2, 0, 0, 50))
    results = analyse_acute(load_acute_judgements([path]), AcuteOptions(bootstrap_rounds=0))
    [ab] = [t for t in results.main.pairs if t.model_b == "beta"]
    assert ab.n == 6 and ab.win_rate_a == 0.5 and np.isnan(ab.p_value) and np.isnan(ab.ci_win_rate[0])
    [ag] = [t for t in results.main.pairs if t.model_b == "gamma"]
    assert ag.p_holm == pytest.approx(binomtest(8, 10).pvalue)  # the all-tie pair is no test in the correction
    assert any("all 6 judgements are ties" in v for v in summary(results)["verdict"])


def test_a_study_of_only_ties_shows_no_interval_and_no_order(write_records, recwarn: pytest.WarningsRecorder) -> None:
    """Every strength is 0 in every resample: a [0, 0] interval or "best first: alpha, beta" would read as a
    result. Twelve workers pass the worker-bootstrap minimum, so only the no-decisive rule can hold it back."""
    path = write_records(_pair_records("alpha", "beta", 0, 0, 10, 2))
    results = analyse_acute(load_acute_judgements([path]), AcuteOptions(bootstrap_rounds=50))
    ranking = summary(results)["ranking"]
    assert [(m["ci"], m["ci_plain"], m["rank_set"], m["rank"]) for m in ranking] == [(None, None, None, 1)] * 2
    assert "decisive" in results.main.worker_bootstrap.message
    assert summary(results)["verdict"][0] == "Ranking by Bradley–Terry strength, best first: alpha = beta."
    assert not [w for w in recwarn if "divide" in str(w.message)]  # agreement over one category: no 0/0 warning


# --- ranking ---------------------------------------------------------------------------------------------------
def _random_tables(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 7))
    wins = rng.integers(0, 25, (k, k)).astype(float)
    np.fill_diagonal(wins, 0)
    ties = np.triu(rng.integers(0, 10, (k, k)), 1).astype(float)
    return wins, ties + ties.T


@pytest.mark.parametrize("seed", range(4))
def test_ties_as_half_wins_agree_with_choix_on_doubled_counts(seed: int) -> None:
    """Doubling every count makes half wins whole: 2 per decisive win, one (i, j) and one (j, i) per tie;
    the doubled likelihood needs a doubled ridge."""
    wins, ties = _random_tables(seed)
    k, ridge = wins.shape[0], 0.01
    data = [(i, j) for i in range(k) for j in range(k) for _ in range(2 * int(wins[i, j]) + int(ties[i, j]))]
    theirs = choix.opt_pairwise(k, data, alpha=2 * ridge, method="Newton-CG", tol=1e-12)
    ours = fit_bradley_terry(with_ties_as_half_wins(wins, ties), ridge)
    assert ours == pytest.approx(theirs - theirs.mean(), abs=1e-4)


def test_elo_scale_matches_the_arena_formula() -> None:
    theta = np.array([0.7, -0.2, 0.05, -0.55])
    elo = elo_scale(theta)
    for i in range(4):
        for j in range(4):
            arena = 1 / (1 + 10 ** ((elo[j] - elo[i]) / 400))
            assert arena == pytest.approx(1 / (1 + np.exp(theta[j] - theta[i])), abs=1e-12)
    assert elo_scale(0.0) == 1000.0


def _davidson_nll(params: np.ndarray, wins: np.ndarray, ties: np.ndarray, ridge: float) -> float:
    """The Davidson negative log-likelihood written from the model's probabilities, pair by pair."""
    theta, nu = params[:-1], np.exp(params[-1])
    pi = np.exp(theta)
    total = ridge * float((theta**2).sum())
    k = len(theta)
    for i in range(k):
        for j in range(i + 1, k):
            tie = nu * np.sqrt(pi[i] * pi[j])
            d = pi[i] + pi[j] + tie
            total -= wins[i, j] * np.log(pi[i] / d) + wins[j, i] * np.log(pi[j] / d) + ties[i, j] * np.log(tie / d)
    return total


@pytest.mark.parametrize(("seed", "ridge"), [(0, 0.0), (1, 0.01), (2, 0.01)])
def test_davidson_fit_is_the_likelihood_maximum(seed: int, ridge: float) -> None:
    wins, ties = _random_tables(seed)
    theta, nu = fit_davidson(wins, ties, ridge)
    k = wins.shape[0]
    direct = minimize(_davidson_nll, np.zeros(k + 1), args=(wins, ties, ridge), method="Nelder-Mead",
                      options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40_000, "maxfev": 40_000})
    assert theta == pytest.approx(direct.x[:-1] - direct.x[:-1].mean(), abs=1e-4)
    assert nu == pytest.approx(np.exp(direct.x[-1]), rel=1e-4)
    ours = _davidson_nll(np.append(theta, np.log(nu)), wins, ties, ridge)
    assert ours <= direct.fun + 1e-7


def test_davidson_recovers_a_known_tie_parameter_and_is_bradley_terry_without_ties() -> None:
    rng = np.random.default_rng(3)
    truth, nu_true, k = np.array([0.8, 0.0, -0.3, -0.5]), 0.9, 4
    wins, ties = np.zeros((k, k)), np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            tie = nu_true * np.exp((truth[i] + truth[j]) / 2)
            d = np.exp(truth[i]) + np.exp(truth[j]) + tie
            w_i, w_j, t = rng.multinomial(4000, [np.exp(truth[i]) / d, np.exp(truth[j]) / d, tie / d])
            wins[i, j], wins[j, i], ties[i, j], ties[j, i] = w_i, w_j, t, t
    theta, nu = fit_davidson(wins, ties, 0.0)
    assert nu == pytest.approx(nu_true, rel=0.05)
    assert theta == pytest.approx(truth - truth.mean(), abs=0.05)
    plain, nu0 = fit_davidson(wins, np.zeros((k, k)), 0.01)
    assert nu0 == 0.0 and plain == pytest.approx(fit_bradley_terry(wins, 0.01), abs=1e-12)


def test_batch_of_davidson_fits_equals_single_fits() -> None:
    tables = [_random_tables(10), _random_tables(11)]
    k = min(t[0].shape[0] for t in tables)
    wins = np.stack([w[:k, :k] for w, _ in tables])
    ties = np.stack([t[:k, :k] for _, t in tables])
    theta, nu = fit_davidson(wins, ties)
    for b in range(2):
        single_theta, single_nu = fit_davidson(wins[b], ties[b])
        assert theta[b] == pytest.approx(single_theta, abs=1e-9) and nu[b] == pytest.approx(single_nu)


def test_resampled_workers_bring_their_ties(write_records) -> None:
    path = write_records(_pair_records("alpha", "beta", 6, 2, 3, 1) + _pair_records("beta", "gamma", 4, 4, 2, 0, 40))
    j = load_acute_judgements([path])
    cells = worker_cell_counts(j).toarray()
    k = len(j.models)
    assert cells.shape[1] == 2 * k * k
    assert cells[:, : k * k].sum() == 16 and cells[:, k * k :].sum() == 6
    # each tie sits with its own worker
    tie_workers = sorted({j.workers[w] for w in j.worker[j.tie]})
    assert sorted(j.workers[w] for w in np.flatnonzero(cells[:, k * k :].sum(axis=1))) == tie_workers


# --- the other tables ------------------------------------------------------------------------------------------
def _study_with_ties(path: Path, tie_share: float = 0.3, **design: Any) -> Path:
    d = StudyDesign(strengths={"alpha": 0.5, "beta": 0.1, "gamma": -0.4}, n_judgements=900, n_workers=30, n_pairs=60,
                    tie_share=tie_share, both_bad_share=0.4, **design)
    return SyntheticStudy(d).write(path)


def test_position_bias_is_that_of_the_decisive_judgements(tmp_path: Path) -> None:
    """Ties left out: every position-bias number equals the one of the same file without its ties."""
    path = _study_with_ties(tmp_path / "ties.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    decisive = tmp_path / "decisive.jsonl"
    decisive.write_text("\n".join(x for x in lines if json.loads(x)["winner"] not in ("tie", "both_bad")) + "\n",
                        encoding="utf-8")
    with_ties, without = (analyse_acute(load_acute_judgements([p]), AcuteOptions(bootstrap_rounds=0)).position
                          for p in (path, decisive))
    assert with_ties.ties_left_out == len(lines) - len(decisive.read_text(encoding="utf-8").splitlines()) > 0
    assert (with_ties.left_chosen, with_ties.n, with_ties.cmh_p) == (without.left_chosen, without.n, without.cmh_p)
    pd.testing.assert_frame_equal(with_ties.by_pair, without.by_pair)


def test_agreement_counts_a_tie_as_its_own_answer(write_records) -> None:
    # pair 1: alpha, alpha, tie; pair 2: tie, both_bad, beta; pair 3: alpha, beta, tie
    rows = [("p1", "alpha"), ("p1", "alpha"), ("p1", "tie"), ("p2", "tie"), ("p2", "both_bad"), ("p2", "beta"),
            ("p3", "alpha"), ("p3", "beta"), ("p3", "tie")]
    path = write_records([judgement(worker_id=f"w{i}", pair_id=p, winner=w) for i, (p, w) in enumerate(rows)])
    a = agreement(load_acute_judgements([path]))
    per = a.per_pair.set_index("pair_id")
    assert per.loc["p1", ["n", "chose_model_a", "ties"]].tolist() == [3, 2, 1]
    assert per.loc["p2", ["n", "chose_model_a", "ties"]].tolist() == [3, 0, 2]
    assert per.loc["p2", "majority_share"] == pytest.approx(2 / 3) and per.loc["p3", "majority_share"] == pytest.approx(1 / 3)
    table = np.array([[2, 0, 1], [0, 1, 2], [1, 1, 1]])  # (alpha, beta, tie) per pair, by hand
    assert a.fleiss_kappa == pytest.approx(statsmodels_fleiss(table, method="fleiss"), abs=1e-12)


def test_ratings_per_worker_and_ranking_count_ties(write_records) -> None:
    records = [judgement(worker_id="w1", pair_id=str(i), winner=w) for i, w in enumerate(["alpha", "tie", "both_bad", "beta"])]
    results = analyse_acute(load_acute_judgements([write_records(records)]), AcuteOptions(bootstrap_rounds=0))
    tables = csv_tables(results)
    ratings = tables["ratings_per_worker.csv"].set_index("model")
    assert ratings.loc["alpha", ["comparisons", "wins", "ties"]].tolist() == [4, 1, 2]
    assert ratings.loc["alpha", "win_rate"] == pytest.approx((1 + 2 / 2) / 4)
    ranking = tables["ranking.csv"].set_index("model")
    assert ranking.loc["alpha", ["n", "wins", "ties"]].tolist() == [4, 1, 2]
    assert ranking["elo"].tolist() == pytest.approx(elo_scale(ranking["strength"].to_numpy()).tolist())
    assert tables["judgements.csv"]["winner"].tolist() == ["alpha", "tie", "both_bad", "beta"]


def test_synthetic_ties_leave_the_rest_of_the_study_unchanged(tmp_path: Path) -> None:
    plain = [json.loads(x) for x in _study_with_ties(tmp_path / "a.jsonl", 0.0).read_text().splitlines()]
    tied = [json.loads(x) for x in _study_with_ties(tmp_path / "b.jsonl", 0.3).read_text().splitlines()]
    assert len(plain) == len(tied)
    changed = [(p, t) for p, t in zip(plain, tied) if p != t]
    assert changed and all(t["winner"] in ("tie", "both_bad") for _, t in changed)
    assert all({k: v for k, v in p.items() if k not in ("winner", "reason")} ==
               {k: v for k, v in t.items() if k not in ("winner", "reason")} for p, t in changed)
    share = len(changed) / sum(not r["is_onboarding"] for r in tied)
    assert 0.25 < share < 0.35


# --- the whole CLI -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tie_model", ["half", "davidson"])
def test_cli_on_a_file_with_ties(tmp_path: Path, tie_model: str) -> None:
    path = _study_with_ties(tmp_path / "ties.jsonl", with_dialogues=True)
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "analysis", "acute", "--judgements", str(path), "--out", str(out),
                           "--bootstrap-rounds", "30", "--tie-model", tie_model], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "Elo" in proc.stdout and "WARNING" not in proc.stderr
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["ties"]["ties"] > 0 and s["ties"]["both_bad"] > 0
    assert s["ranking_method"]["tie_model"] == tie_model
    nu = s["ranking_method"]["tie_parameter"]
    assert (nu is None) if tie_model == "half" else (0.1 < nu < 10)
    assert all({"ties", "elo"} <= set(m) for m in s["ranking"])
    assert all({"ties", "both_bad", "tie_rate", "n_decisive", "win_rate_a_decisive", "ci_win_rate"} <= set(p)
               for p in s["pairs"])
    assert s["position_bias"]["ties_left_out"] == s["ties"]["ties"]
    sig = pd.read_csv(out / "significance.csv")
    assert (sig["n"] == sig["n_decisive"] + sig["ties"]).all()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "sign test" in html and "tie-aware" in html and "<i>both bad</i>" in html
    if tie_model == "davidson":
        assert "Davidson" in html and f"ν = {nu:.2f}" in " ".join(s["verdict"])


def test_worker_agreement_and_side_bias_with_ties(write_records) -> None:
    """A worker who answers "tie" where the others mostly did agrees with them; ties never count as a side."""
    rows = [("w1", "tie"), ("w2", "tie"), ("w3", "both_bad"), ("w4", "alpha"), ("w5", "alpha")]
    j = load_acute_judgements([write_records([judgement(worker_id=w, winner=x, left="alpha" if i % 2 == 0 else "beta")
                                              for i, (w, x) in enumerate(rows)])])
    agrees, others = loo_majority_agreement(j, np.ones(len(j), bool), np.arange(len(j)))
    # others of w1: tie, tie(both_bad), alpha, alpha -> no single most given answer; of w4: 3 ties, 1 alpha -> tie
    assert agrees.tolist() == [-1, -1, -1, 0, 0] and others.tolist() == [4] * 5
    results = analyse_acute(j, AcuteOptions(bootstrap_rounds=0))
    workers = results.workers.set_index("worker_id")
    # the pair is shown both ways; w1's only judgement is a tie, so w1 has no left-choice rate; w5 chose the left one
    assert workers.loc["w1", "left_chosen"] == 0 and np.isnan(workers.loc["w1", "left_rate"])
    assert workers.loc["w5", "left_rate"] == 1.0 and workers.loc["w4", "left_rate"] == 0.0


def test_a_study_of_ties_only_has_no_tie_parameter(write_records) -> None:
    path = write_records(_pair_records("alpha", "beta", 0, 0, 8, 3) + _pair_records("alpha", "gamma", 0, 0, 6, 0, 20))
    results = analyse_acute(load_acute_judgements([path]), AcuteOptions(bootstrap_rounds=0, tie_model="davidson"))
    s = summary(results)
    assert s["ranking_method"]["tie_parameter"] is None and all(m["strength"] == 0 for m in s["ranking"])
    assert any("ν cannot be estimated" in v for v in s["verdict"])
    assert not any("No pairwise difference" in v for v in s["verdict"])  # no pair was tested
