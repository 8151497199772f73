"""`analysis auto`'s numbers against independent computations: planted shares recovered from synthetic world
logs, Wilson intervals against statsmodels, the reduction factor and its Katz interval by hand, Fisher's test
against scipy, Holm by hand; and "not enough data" wherever a factor would be 0, infinite or unstable."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import fisher_exact, norm
from statsmodels.stats.proportion import proportion_confint

from analysis.auto.records import load_replies
from analysis.auto.statistics import MIN_EVENTS_FOR_RATE_RATIO, AutoOptions, analyse_auto
from analysis.synthetic.auto import MEASURES, AutoDesign, write_world_logs


def _world_log(path: Path, replies: dict[str, list[str]]) -> Path:
    lines = []
    for model, texts in replies.items():
        for i, text in enumerate(texts):
            lines.append({"dialog": [[{"id": "teacher", "text": f"context {i}", "episode_done": True},
                                      {"id": model, "text": text, "episode_done": True}]], "context": []})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _hand_katz(a: int, n1: int, b: int, n2: int) -> tuple[float, float, float]:
    """Katz et al. (1978), written out: RR = (a/n1)/(b/n2), log RR ± z·sqrt((1-p1)/a + (1-p2)/b)."""
    p1, p2 = a / n1, b / n2
    z = norm.ppf(0.975)
    se = math.sqrt((1 - p1) / a + (1 - p2) / b)
    return p1 / p2, math.exp(math.log(p1 / p2) - z * se), math.exp(math.log(p1 / p2) + z * se)


def _hand_holm(p: list[float]) -> list[float]:
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out


def test_planted_shares_are_recovered_exactly_and_covered(tmp_path: Path) -> None:
    design = AutoDesign(replies_per_model=600, seed=3)
    planted = write_world_logs(design, tmp_path / "logs.jsonl")
    results = analyse_auto(load_replies([planted.path]))
    rates = results.rates.set_index(["model", "measure"])
    for model, probabilities in design.models.items():
        for measure, p in zip(MEASURES, probabilities):
            row = rates.loc[(model, measure)]
            assert int(row["events"]) == planted.counts[model][measure] and int(row["n"]) == planted.n[model]
            lo, hi = proportion_confint(planted.counts[model][measure], planted.n[model], method="wilson")
            assert row["ci_wilson_low"] == pytest.approx(lo, abs=1e-12)
            assert row["ci_wilson_high"] == pytest.approx(hi, abs=1e-12)
            # a 95% interval misses its truth 1 time in 20: the share is checked within 4 standard errors instead
            assert abs(row["rate"] - p) <= 4 * math.sqrt(p * (1 - p) / planted.n[model]), (model, measure)


def test_reduction_factor_interval_fisher_and_holm_match_independent_computations(tmp_path: Path) -> None:
    design = AutoDesign(models={"base": (0.27, 0.18, 0.12), "controlled": (0.03, 0.045, 0.12), "other": (0.2, 0.2, 0.02)},
                        replies_per_model=1500, seed=5)
    planted = write_world_logs(design, tmp_path / "logs.jsonl")
    results = analyse_auto(load_replies([planted.path]), AutoOptions(baseline="base"))
    red = results.reductions
    assert set(red["model"]) == {"controlled", "other"} and len(red) == 6
    base = planted.counts["base"]
    n = design.replies_per_model
    for row in red.itertuples():
        a, b = base[row.measure], planted.counts[row.model][row.measure]
        factor, lo, hi = _hand_katz(a, n, b, n)
        assert row.factor == pytest.approx(factor, rel=1e-12)
        assert (row.factor_ci_low, row.factor_ci_high) == (pytest.approx(lo, rel=1e-12), pytest.approx(hi, rel=1e-12))
        assert row.p_value == pytest.approx(fisher_exact([[a, n - a], [b, n - b]])[1], rel=1e-12)
    assert red["p_holm"].tolist() == pytest.approx(_hand_holm(red["p_value"].tolist()), rel=1e-12)
    # the planted factor (0.27 / 0.03 = 9 for male words, the card's claim) lies in the interval
    male = red[(red["model"] == "controlled") & (red["measure"] == "male words")].iloc[0]
    assert male.factor_ci_low <= 9 <= male.factor_ci_high
    female = red[(red["model"] == "controlled") & (red["measure"] == "female words")].iloc[0]
    assert female.factor_ci_low <= 4 <= female.factor_ci_high
    assert male.p_holm < 0.001 and male.stars_holm == "***"


def test_zero_or_few_events_give_not_enough_data_never_a_degenerate_factor(tmp_path: Path) -> None:
    few = MIN_EVENTS_FOR_RATE_RATIO.minimum - 1
    logs = _world_log(tmp_path / "logs.jsonl", {
        "base": ["my brother is here."] * 40 + ["my sister is here."] * few + ["fine."] * 20,
        "zero": ["fine."] * 60,  # no male or female word at all: factor would be infinite
        "few": ["he is here."] * few + ["she is here."] * 30 + ["fine."] * 30,
    })
    results = analyse_auto(load_replies([logs]), AutoOptions(checks=(), baseline="base"))
    red = results.reductions.set_index(["model", "measure"])
    for key in [("zero", "male words"), ("zero", "female words"), ("few", "male words"), ("few", "female words")]:
        row = red.loc[key]
        assert math.isnan(row["factor"]) and math.isnan(row["factor_ci_low"]) and math.isnan(row["factor_ci_high"])
        assert row["not_enough_data"].startswith(f"needs at least {MIN_EVENTS_FOR_RATE_RATIO.minimum} ")
        assert np.isfinite(row["p_value"])  # Fisher's test holds at any count
    assert "(have 40 and 0)" in red.loc[("zero", "male words"), "not_enough_data"]
    assert "(have 4 and 30)" in red.loc[("few", "female words"), "not_enough_data"]


def test_a_recorded_check_counts_only_the_replies_it_judged(tmp_path: Path) -> None:
    def record(i: int, model: str, verdict: dict | None) -> dict:
        return {"task": "bad", "run_id": "r", "conversation_id": f"{model}{i}", "turn_index": 1, "model": model,
                "text": "hello", "label": "__ok__", "safety": {} if verdict is None else {"clf": verdict}}

    lines = ([record(i, "a", {"unsafe": i < 6, "score": 0.9 if i < 6 else 0.1}) for i in range(20)]
             + [record(i, "a", {"unsafe": None, "score": None}) for i in range(20, 30)]  # did not run
             + [record(i, "b", None) for i in range(10)])  # never judged
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    results = analyse_auto(load_replies([path]), AutoOptions(checks=(), baseline="a"))
    rates = results.rates.set_index(["model", "measure"])
    assert (rates.loc[("a", "clf (recorded)"), "events"], rates.loc[("a", "clf (recorded)"), "n"]) == (6, 20)
    assert rates.loc[("b", "clf (recorded)"), "n"] == 0 and math.isnan(rates.loc[("b", "clf (recorded)"), "rate"])
    row = results.reductions.set_index(["model", "measure"]).loc[("b", "clf (recorded)")]
    assert "both sides (have 20 and 0)" in row["not_enough_data"] and math.isnan(row["p_value"])
    assert math.isnan(row["p_holm"])  # left out of Holm's family
