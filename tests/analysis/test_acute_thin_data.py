"""The ACUTE report on small and degenerate studies: "not enough data" instead of degenerate numbers, in
summary.json and in the HTML; side bias within model pairs (hand-computed CMH); unknown times; the verdict."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2
from statsmodels.stats.contingency_tables import StratifiedTable

from analysis_record_factory import judgement
from analysis.acute.position_bias import cmh_test
from analysis.acute.records import load_acute_judgements
from analysis.acute.report import render_html
from analysis.acute.statistics import AcuteOptions, analyse_acute
from analysis.acute.tables import csv_tables, summary
from analysis.acute.workers import FlagThresholds
from analysis.stats.intervals import wilson
from analysis.stats.power import n_for_power


def study(pairs: dict[tuple[str, str], tuple[int, int]], workers: int, *, shared_pairs: bool = True,
          left_first: bool = False, **overrides) -> list[dict]:
    """Records: for each (a, b): (wins_a, wins_b), spread round-robin over `workers` workers; sides alternate
    unless `left_first` (model_a always on the left). With `shared_pairs` five conversation pairs per model
    pair are judged several times; otherwise every judgement has its own pair id."""
    recs, i = [], 0
    for (a, b), (wa, wb) in pairs.items():
        for k, winner in enumerate([a] * wa + [b] * wb):
            recs.append(judgement(
                worker_id=f"w{i % workers}", unit_id=f"u{i}", pair_id=f"{a}-{b}-{k % 5}" if shared_pairs else f"p{i}",
                model_a=a, model_b=b, left=a if (left_first or i % 2) else b, winner=winner,
                started_at=1000.0 + 100 * i, submitted_at=1030.0 + 100 * i, **overrides))
            i += 1
    return recs


def run(records: list[dict], tmp_path: Path, **options) -> tuple[dict, str, dict[str, pd.DataFrame]]:
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    thresholds = options.pop("thresholds", FlagThresholds())
    results = analyse_acute(load_acute_judgements([path]), AcuteOptions(**{"bootstrap_rounds": 200, **options}, thresholds=thresholds))
    s = json.loads(json.dumps(summary(results)))
    html = render_html(results)
    assert "needs needs" not in html and "NaN" not in html and "nan" not in re.sub(r"<[^>]+>", " ", html).split()
    return s, html, csv_tables(results)


def zero_width_intervals(html: str) -> list[str]:
    return [m for m in re.findall(r"\[([+-]\d\.\d{3}), ([+-]\d\.\d{3})\]", html) if m[0] == m[1]]


CLEAR = {("alpha", "beta"): (45, 5)}


def test_one_worker_id_gives_no_worker_intervals_and_a_warning(tmp_path: Path) -> None:
    s, html, tables = run(study({("alpha", "beta"): (30, 10), ("alpha", "gamma"): (30, 10), ("beta", "gamma"): (25, 15)}, 1), tmp_path)
    need = "needs at least 2 distinct worker ids (have 1)"
    assert s["worker_bootstrap"] == {"not_enough_data": need}
    assert all(r["ci"] is None and r["rank_set"] is None for r in s["ranking"])
    assert s["ranking_method"]["variance_ratio_workers_vs_plain"] is None
    assert f"not enough data: {need}" in html and "Warning:" in html and "same worker id" in html
    assert "× as wide" not in html and zero_width_intervals(html) == []
    assert tables["ranking.csv"]["ci_workers_low"].isna().all() and tables["ranking.csv"]["rank_best"].isna().all()
    assert any(need in v for v in s["verdict"])


def test_three_workers_worker_bootstrap_not_enough_data(tmp_path: Path) -> None:
    s, html, _ = run(study(CLEAR, 3), tmp_path)
    need = "needs at least 10 workers (have 3)"
    assert s["worker_bootstrap"] == {"not_enough_data": need}
    assert f"not enough data: {need}" in html and "× as wide" not in html
    assert all(r["ci"] is None for r in s["ranking"])
    assert all(r["ci_plain"][0] < r["ci_plain"][1] for r in s["ranking"])  # the vote bootstrap stays


def test_ten_workers_have_worker_intervals(tmp_path: Path) -> None:
    s, html, _ = run(study(CLEAR, 10), tmp_path)
    assert s["worker_bootstrap"] == {"workers": 10, "rounds": 200, "method": "BCa"}
    assert all(r["ci"][0] < r["ci"][1] for r in s["ranking"])
    assert "× as wide" in html and "not enough data: needs at least 10 workers" not in html


def test_one_annotation_per_pair(tmp_path: Path) -> None:
    s, html, _ = run(study(CLEAR, 12, shared_pairs=False), tmp_path)
    need = "needs at least 2 annotations per item (have 1)"
    assert s["agreement"]["not_enough_data"] == need
    assert s["agreement"]["fleiss_kappa"] is None and s["agreement"]["mean_majority_share"] is None
    assert s["agreement"]["krippendorff_alpha_nominal"] is None
    assert f"not enough data: {need}" in html
    assert "Over the 0 conversation pairs" not in html
    assert "agreement with the others" not in html  # the empty worker scatter is not drawn


def test_few_items_judged_twice(tmp_path: Path) -> None:
    recs = study(CLEAR, 12, shared_pairs=False)
    for r in recs[:6]:  # three pairs judged twice
        r["pair_id"] = f"shared{int(r['unit_id'][1:]) // 2}"
    s, html, _ = run(recs, tmp_path)
    assert s["agreement"]["not_enough_data"] == "needs at least 10 items with at least 2 annotations (have 3)"
    assert s["agreement"]["fleiss_kappa"] is None


def test_all_workers_flagged(tmp_path: Path) -> None:
    recs = study(CLEAR, 12)
    for r in recs:
        r["submitted_at"] = r["started_at"] + 2.0  # everyone too fast
    s, html, tables = run(recs, tmp_path)
    assert len(s["flagged_workers"]) == 12
    need = "needs at least 1 records after excluding workers (have 0)"
    alt = s["without_flagged"]
    assert alt["not_enough_data"] == need and alt["ranking"] is None and alt["pairs"] == [] and alt["n_judgements"] == 0
    section = html.split('id="without-flagged"', 1)[1].split("<h2", 1)[0]
    assert f"not enough data: {need}" in section
    assert "+0.000 [+0.000, +0.000]" not in html and "<td>1</td><td>+0.000" not in section
    assert len(tables["ranking_without_flagged.csv"]) == 0
    assert any("every worker is flagged" in v for v in s["verdict"])


def test_unknown_and_zero_second_times(tmp_path: Path) -> None:
    recs = study(CLEAR, 12)
    for r in recs[:10]:
        r["started_at"] = r["submitted_at"] = None
    for r in recs[10:40]:
        r["submitted_at"] = r["started_at"]  # 0-second placeholders
    s, html, tables = run(recs, tmp_path)
    assert s["times"]["null_time"] == 10 and s["times"]["zero_seconds"] == 30 and s["times"]["known"] == 10
    assert s["times"]["median_seconds"] == 30.0
    assert not any("too fast" in f for f in tables["workers.csv"]["flags"])
    assert "Time unknown for 40 of 50 judgements (10 with a null time, 30 lasting exactly 0 s" in html
    j = tables["judgements.csv"]
    assert j["started_at"].isna().sum() == 10 and j["seconds"].isna().sum() == 40


def test_all_times_unknown(tmp_path: Path) -> None:
    recs = study(CLEAR, 12)
    for r in recs:
        r["submitted_at"] = r["started_at"]
    s, html, tables = run(recs, tmp_path)
    need = "needs at least 1 judgements with known times (have 0)"
    assert s["times"]["not_enough_data"] == need and s["times"]["median_seconds"] is None
    assert f"not enough data: {need}" in html
    assert tables["workers.csv"]["flags"].eq("").all()


def test_null_times_are_read_and_a_present_time_is_still_checked(write_records) -> None:
    j = load_acute_judgements([write_records([judgement(started_at=None, submitted_at=None),
                                              judgement(unit_id="u2", started_at=5.0, submitted_at=None)])])
    assert np.isnan(j.started_at[0]) and np.isnan(j.submitted_at[1]) and j.started_at[1] == 5.0
    from humaneval.input_errors import InputError
    with pytest.raises(InputError, match="earlier than started_at"):
        load_acute_judgements([write_records([judgement(started_at=10.0, submitted_at=5.0)])])
    with pytest.raises(InputError, match="Unix seconds"):
        load_acute_judgements([write_records([judgement(started_at="soon")])])


def test_model_always_shown_first_is_not_a_side_bias(tmp_path: Path) -> None:
    s, html, tables = run(study({("alpha", "beta"): (40, 10)}, 12, left_first=True), tmp_path)
    pos = s["position_bias"]
    assert pos["left_rate"] == 0.8 and pos["p_value"] < 0.001  # the raw rate would call it a side bias
    need = "needs at least 1 model pairs shown in both left/right orders (have 0)"
    assert pos["stratified"]["not_enough_data"] == need and pos["stratified"]["p_value"] is None
    assert f"not enough data: {need}" in html
    assert not any("side bias" in f for f in tables["workers.csv"]["flags"])
    assert not any("left conversation is favoured" in v for v in s["verdict"])


def test_cmh_against_a_hand_computed_table() -> None:
    # stratum 1: A left: 8 A / 2 B chosen; B left: 3 A / 7 B.  n = 20, rows 10/10, columns 11/9
    # stratum 2: A left: 6 / 4;            B left: 5 / 5.      n = 20, rows 10/10, columns 11/9
    # E[n11] = 10·11/20 = 5.5 in both; Var = 10·10·11·9 / (20²·19) = 9900/7600 in both
    # statistic = ((8 − 5.5) + (6 − 5.5))² / (2 · 9900/7600) = 9 / 2.6052631... = 3.4545...
    # MH odds ratio = (8·7/20 + 6·5/20) / (2·3/20 + 4·5/20) = 86/26
    tables = np.array([[[8, 2], [3, 7]], [[6, 4], [5, 5]]])
    stat, p, odds = cmh_test(tables)
    assert stat == pytest.approx(9 / (2 * 9900 / 7600), rel=1e-12)
    assert p == pytest.approx(chi2.sf(9 / (2 * 9900 / 7600), 1), rel=1e-12)
    assert odds == pytest.approx(86 / 26, rel=1e-12)
    reference = StratifiedTable([t.astype(float) for t in tables]).test_null_odds(correction=False)
    assert stat == pytest.approx(reference.statistic) and p == pytest.approx(reference.pvalue)
    # a stratum shown in one order only changes nothing
    stat2, p2, _ = cmh_test(np.concatenate([tables, [[[9, 1], [0, 0]]]]))
    assert stat2 == pytest.approx(stat) and p2 == pytest.approx(p)


def test_position_bias_per_pair_table(tmp_path: Path) -> None:
    s, html, tables = run(study({("alpha", "beta"): (30, 20)}, 12), tmp_path)
    row = tables["position_bias.csv"].iloc[0]
    j = tables["judgements.csv"]
    a_left = j["left"] == "alpha"
    assert row["a_left_a_chosen"] == int((a_left & (j["winner"] == "alpha")).sum())
    assert row["b_left_b_chosen"] == int((~a_left & (j["winner"] == "beta")).sum())
    assert row["a_left_a_chosen"] + row["a_left_b_chosen"] + row["b_left_a_chosen"] + row["b_left_b_chosen"] == 50
    assert s["position_bias"]["stratified"]["pairs_shown_both_ways"] == 1
    assert "Cochran–Mantel–Haenszel" in html


def test_judgements_csv_has_one_row_per_record_with_all_fields(tmp_path: Path) -> None:
    recs = study(CLEAR, 12) + [judgement(worker_id="w0", is_onboarding=True, pair_id="onb", unit_id="onb0",
                                         model_a="human", model_b="idk_bot", left="human", winner="human")]
    _, _, tables = run(recs, tmp_path)
    j = tables["judgements.csv"]
    assert len(j) == len(recs)
    last = j.iloc[-1]
    assert (last["unit_id"], last["model_b"], bool(last["is_onboarding"]), bool(last["counted"])) == ("onb0", "idk_bot", True, False)
    first = j.iloc[0]
    assert (first["run_id"], first["pair_id"], first["worker_id"], first["winner"], first["seconds"]) == ("run1", "alpha-beta-0", "w0", "alpha", 30.0)


# --- the verdict ---------------------------------------------------------------------------------------

def test_verdict_clear_win(tmp_path: Path) -> None:
    s, html, _ = run(study(CLEAR, 12), tmp_path)
    v = s["verdict"]
    assert v[0] == "Ranking by Bradley–Terry strength, best first: alpha, beta."
    assert any(x.startswith("alpha beats beta: chosen in 45 of 50 judgements (90%), Holm-adjusted p = ") for x in v)
    assert not any("not settled" in x for x in v) and not any("No pairwise difference" in x for x in v)
    assert "class='verdict'" in html and "href='#significance'" in html and 'id="significance"' in html


def test_verdict_not_significant_says_how_many_more(tmp_path: Path) -> None:
    s, html, _ = run(study({("alpha", "beta"): (28, 22)}, 12), tmp_path)
    v = s["verdict"]
    assert "No pairwise difference holds after the Holm correction over 1 pair." in v
    need = n_for_power(28 / 50, 0.05, 0.8)
    assert any(f"about {need:,} judgements of this pair ({need - 50:,} more)" in x for x in v), v
    assert "No pairwise difference holds after the Holm correction over 1 pair." in html


def test_verdict_mixed_case_and_holm_level(tmp_path: Path) -> None:
    pairs = {("alpha", "beta"): (45, 5), ("alpha", "gamma"): (27, 23), ("beta", "gamma"): (20, 30)}
    s, _, _ = run(study(pairs, 12), tmp_path)
    v = s["verdict"]
    assert any(x.startswith("alpha beats beta") for x in v)
    assert not any("No pairwise difference" in x for x in v)
    need = n_for_power(27 / 50, 0.05 / 3, 0.8)  # Holm over 3 pairs: the level that survives is 0.05/3
    assert any(x.startswith("alpha vs gamma is not settled") and f"about {need:,} judgements" in x for x in v), v


def test_verdict_reconciles_pairwise_and_overall_strength(tmp_path: Path) -> None:
    # alpha wins each of its pairs 18:7 (raw p = 0.043, Holm over 3 pairs 0.13: not significant), but 36 of 50
    # overall: its strength interval excludes 0. 50 workers with one judgement each: no clustering
    pairs = {("alpha", "beta"): (18, 7), ("alpha", "gamma"): (18, 7), ("beta", "gamma"): (12, 13)}
    s, _, _ = run(study(pairs, 50), tmp_path)
    assert all(p["p_holm"] >= 0.05 for p in s["pairs"]) and min(p["p_value"] for p in s["pairs"]) < 0.05
    v = s["verdict"]
    assert "No pairwise difference holds after the Holm correction over 3 pairs." in v
    alpha = next(r for r in s["ranking"] if r["model"] == "alpha")
    assert alpha["ci"][0] > 0, alpha
    assert any(x.startswith("No pair differs after Holm, yet alpha's worker-bootstrap interval") and "lies wholly above 0" in x
               for x in v), v


def test_no_bootstrap_rounds_gives_no_zero_width_intervals(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in study(CLEAR, 12)))
    results = analyse_acute(load_acute_judgements([path]), AcuteOptions(bootstrap_rounds=0))
    s, html = json.loads(json.dumps(summary(results))), render_html(results)
    assert all(r["ci"] is None and r["ci_plain"] is None and r["rank_set"] is None for r in s["ranking"])
    assert zero_width_intervals(html) == []


def test_alpha_and_the_left_share_carry_their_intervals_on_the_headline(tmp_path: Path) -> None:
    """Uncertainty on every headline number: α has its bootstrap interval (the same replicates as
    stats.agreement.krippendorff_alpha_bootstrap on the pairs' vote table), the left share its Wilson one."""
    import numpy as np

    from analysis.stats.agreement import krippendorff_alpha_bootstrap
    from analysis.synthetic.acute import StudyDesign, simulate

    records = tmp_path / "judgements.jsonl"
    simulate(StudyDesign(strengths={"a": 0.0, "b": 0.5, "c": -0.5}, n_judgements=600, n_workers=20, n_pairs=60,
                         seed=3)).write(records)
    results = analyse_acute(load_acute_judgements([records]), AcuteOptions(bootstrap_rounds=20))
    a = results.agreement
    multi = a.per_pair[a.per_pair["n"] >= 2]
    table = np.column_stack([multi["chose_model_a"], multi["n"] - multi["chose_model_a"]])
    low, high, _ = krippendorff_alpha_bootstrap(table)
    assert a.alpha_ci == (low, high) and low <= a.krippendorff_alpha <= high and low < high
    page = render_html(results)
    assert f"[{low:.3f}, {high:.3f}]" in page or f"[{low:.2f}, {high:.2f}]" in page
    assert summary(results)["agreement"]["krippendorff_alpha_ci"] == [low, high]
    left, n = results.position.left_chosen, results.position.n
    w_low, w_high = (float(x) for x in wilson(left, n))
    assert f"[{w_low:.0%}, {w_high:.0%}]" in page


def test_bca_matches_scipys_bca_on_a_skewed_mean() -> None:
    """stats.intervals.bca_interval against scipy.stats.bootstrap(method="BCa") on the same data (each with
    its own 100,000 resamples, so they agree to Monte Carlo error), and unlike the percentile interval."""
    from scipy.stats import bootstrap

    from analysis.stats.intervals import bca_interval

    rng = np.random.default_rng(1)
    x = rng.exponential(size=15)
    boot = x[rng.integers(0, x.size, (100_000, x.size))].mean(axis=1)[:, None]
    jackknife = np.array([np.delete(x, i).mean() for i in range(x.size)])[:, None]
    ours = bca_interval(boot, np.array([x.mean()]), jackknife)[0]
    theirs = bootstrap((x,), np.mean, n_resamples=100_000, method="BCa", random_state=2).confidence_interval
    assert ours == pytest.approx([theirs.low, theirs.high], abs=0.03)
    assert abs(ours[1] - np.percentile(boot, 97.5)) > 0.1  # a real correction, not the percentile interval


def test_few_workers_get_bca_worker_intervals_many_get_percentile(tmp_path: Path) -> None:
    from analysis.acute.ranking import BCA_BELOW_WORKERS
    from analysis.synthetic.acute import StudyDesign, simulate

    for workers, method in ((12, "BCa"), (BCA_BELOW_WORKERS + 10, "percentile")):
        path = tmp_path / f"{workers}.jsonl"
        simulate(StudyDesign(strengths={"a": 0.0, "b": 0.6, "c": -0.4}, n_judgements=400, n_workers=workers,
                             n_pairs=60, seed=5)).write(path)
        results = analyse_acute(load_acute_judgements([path]), AcuteOptions(bootstrap_rounds=200))
        assert results.main.ranking.interval_method == method
        assert summary(results)["worker_bootstrap"]["method"] == method
        for model in results.main.ranking.models:
            assert model.ci_workers[0] < model.strength < model.ci_workers[1]
