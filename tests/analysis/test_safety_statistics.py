"""Safety statistics against independent computations: hand counts, scipy, statsmodels, hand-derived κ/α."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest, fisher_exact, hypergeom
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from analysis.safety.records import load_safety_labels
from analysis.safety.statistics import SafetyOptions, analyse_safety
from test_safety_records import safety_label, write


def wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def item_records(model: str, item: str, answers: list[str], **extra: object) -> list[dict]:
    return [safety_label(model=model, item_id=item, worker_id=f"w{i}", label=a, **extra) for i, a in enumerate(answers)]


def analyse(tmp_path: Path, records: list[dict], **options: object):
    return analyse_safety(load_safety_labels([write(tmp_path / "labels.jsonl", records)]), SafetyOptions(**options))


def test_rates_and_wilson_intervals(tmp_path: Path) -> None:
    """alpha: 13 labels on 4 items, 7 NOT OK; items unsafe by majority: 2 of 3 decided (item 4 is a 2:2 tie)."""
    recs = (item_records("alpha", "1", ["ok", "ok", "ok"]) + item_records("alpha", "2", ["not_ok_most", "not_ok_some", "ok"])
            + item_records("alpha", "3", ["not_ok_most", "not_ok_most", "not_ok_minority"])
            + item_records("alpha", "4", ["ok", "ok", "not_ok_some", "not_ok_most"])
            + item_records("beta", "5", ["ok", "ok", "ok"]))
    m = analyse(tmp_path, recs).models.set_index("model")
    a = m.loc["alpha"]
    assert (a["n"], a["unsafe"]) == (13, 7) and a["unsafe_rate"] == pytest.approx(7 / 13)
    lo, hi = wilson_by_hand(7, 13)
    assert (a["unsafe_ci_low"], a["unsafe_ci_high"]) == pytest.approx((lo, hi), abs=1e-12)
    scipy_ci = binomtest(7, 13).proportion_ci(method="wilson")
    assert (a["unsafe_ci_low"], a["unsafe_ci_high"]) == pytest.approx((scipy_ci.low, scipy_ci.high), abs=1e-12)
    assert (a["not_ok_most"], a["not_ok_some"], a["not_ok_minority"], a["ok"]) == (4, 2, 1, 6)
    assert (a["not_ok_most_ci_low"], a["not_ok_most_ci_high"]) == pytest.approx(proportion_confint(4, 13, method="wilson"))
    assert (a["items"], a["majority_items"], a["majority_ties"], a["majority_unsafe"]) == (4, 3, 1, 2)
    assert (a["majority_unsafe_ci_low"], a["majority_unsafe_ci_high"]) == pytest.approx(wilson_by_hand(2, 3), abs=1e-12)
    assert a["bucket_ties"] == 1  # item 2 (one each of three buckets); item 4's plurality is ok
    b = m.loc["beta"]
    assert (b["unsafe"], b["majority_unsafe"], b["majority_items"]) == (0, 0, 1) and b["unsafe_ci_low"] == 0.0


def test_majority_ties_reported_per_item(tmp_path: Path) -> None:
    recs = (item_records("alpha", "1", ["ok", "not_ok_most"]) + item_records("alpha", "2", ["not_ok_some", "not_ok_most", "ok"])
            + item_records("alpha", "3", ["not_ok_some", "not_ok_some", "ok", "ok"]))
    items = analyse(tmp_path, recs).items.set_index("item_id")
    assert items.loc["1", "majority"] == "tie" and items.loc["1", "majority_bucket"] == "tie"
    assert items.loc["2", "majority"] == "unsafe" and items.loc["2", "majority_bucket"] == "tie"
    assert items.loc["3", "majority"] == "tie" and items.loc["3", "majority_bucket"] == "tie"
    assert items.index[0] in {"1", "3"}  # fully split items come first


def test_fisher_and_holm_on_item_majorities(tmp_path: Path) -> None:
    plan = {"alpha": (9, 12), "beta": (2, 10), "gamma": (5, 11)}  # unsafe items, items
    recs = []
    for model, (unsafe, n) in plan.items():
        for i in range(n):
            recs += item_records(model, f"{model}{i}", ["not_ok_some"] * 3 if i < unsafe else ["ok", "ok", "not_ok_most"])
    comps = analyse(tmp_path, recs).comparisons
    assert list(zip(comps["model_a"], comps["model_b"])) == [("alpha", "beta"), ("alpha", "gamma"), ("beta", "gamma")]
    for row in comps.itertuples(index=False):
        (ua, na), (ub, nb) = plan[row.model_a], plan[row.model_b]
        assert (row.unsafe_items_a, row.items_a, row.unsafe_items_b, row.items_b) == (ua, na, ub, nb)
        assert row.p_value == pytest.approx(fisher_exact([[ua, na - ua], [ub, nb - ub]])[1], rel=1e-12)
        # independent: sum the hypergeometric probabilities no larger than the observed table's
        dist = hypergeom(na + nb, ua + ub, na)
        support = np.arange(max(0, ua + ub - nb), min(na, ua + ub) + 1)
        probs = dist.pmf(support)
        assert row.p_value == pytest.approx(probs[probs <= dist.pmf(ua) * (1 + 1e-7)].sum(), rel=1e-9)
    assert comps["p_holm"].to_numpy() == pytest.approx(multipletests(comps["p_value"], method="holm")[1], rel=1e-12)
    # Holm by hand: sorted p times (3, 2, 1), running maximum, capped at 1
    p = comps["p_value"].to_numpy()
    order = np.argsort(p)
    by_hand = np.minimum(1, np.maximum.accumulate(p[order] * np.array([3, 2, 1])))
    assert comps["p_holm"].to_numpy()[order] == pytest.approx(by_hand, rel=1e-12)


def test_agreement_on_a_hand_table(tmp_path: Path) -> None:
    """Four items × three labels; κ and α derived by hand (docs/analysis_safety.md shows the arithmetic).

    4-way counts (ok, minority, some, most): [3,0,0,0] [0,0,0,3] [2,0,1,0] [1,0,2,0]
    Fleiss: P̄ = (1 + 1 + 1/3 + 1/3)/4 = 2/3; P_e = .5² + .25² + .25² = .375; κ = (2/3 − .375)/.625 = 7/15.
    Binary [3,0] [0,3] [2,1] [1,2]: P_e = .5; κ = 1/3.
    Krippendorff: 4 disagreeing pairs of 12 values, D_o = 1/3; D_e = (144 − 36 − 9 − 9)/132 = 15/22 → α = 23/45;
    binary D_e = 72/132 = 6/11 → α = 7/18.
    """
    recs = (item_records("alpha", "1", ["ok"] * 3) + item_records("alpha", "2", ["not_ok_most"] * 3)
            + item_records("alpha", "3", ["ok", "ok", "not_ok_some"]) + item_records("alpha", "4", ["ok", "not_ok_some", "not_ok_some"]))
    # four items are below the report's default minimum for agreement (stats.sufficiency): lower it to see the numbers
    agreement = analyse(tmp_path, recs, min_agreement_items=4).agreement.set_index(["scope", "scale"])
    for scope in ("all models", "alpha"):
        assert agreement.loc[(scope, "4-way"), "fleiss_kappa"] == pytest.approx(7 / 15, abs=1e-12)
        assert agreement.loc[(scope, "binary"), "fleiss_kappa"] == pytest.approx(1 / 3, abs=1e-12)
        assert agreement.loc[(scope, "4-way"), "krippendorff_alpha"] == pytest.approx(23 / 45, abs=1e-9)
        assert agreement.loc[(scope, "binary"), "krippendorff_alpha"] == pytest.approx(7 / 18, abs=1e-9)
        assert agreement.loc[(scope, "binary"), "items_with_2_labels"] == 4


def test_gold_excluded_and_onboarding_records(tmp_path: Path) -> None:
    recs = item_records("alpha", "1", ["ok", "not_ok_most", "not_ok_most"])
    # w0 answers 3 gold items, gets 1 right (binary); w1 gets 2 of 2 right; gold items never count for a model
    recs += [safety_label(worker_id="w0", item_id=f"g{i}", model="gold", is_gold=True, gold_label=g, label=a)
             for i, (g, a) in enumerate([("not_ok_most", "ok"), ("ok", "not_ok_some"), ("not_ok_some", "not_ok_minority")])]
    recs += [safety_label(worker_id="w1", item_id=f"g{i}", model="gold", is_gold=True, gold_label=g, label=a)
             for i, (g, a) in enumerate([("not_ok_most", "not_ok_some"), ("ok", "ok")])]
    recs += [safety_label(worker_id="w9", item_id="1", model="alpha", label="ok", excluded=True, excluded_reason="gold <3")]
    recs += [{"task": "safety", "is_onboarding": True, "worker_id": "w5"}]
    result = analyse(tmp_path, recs, gold_threshold=0.75, min_gold=2)
    assert result.labels.models == ["alpha"] and result.excluded_workers == ["w9"]
    alpha = result.models.iloc[0]
    assert (alpha["n"], alpha["unsafe"], alpha["items"]) == (3, 2, 1)
    workers = result.workers.set_index("worker_id")
    assert (workers.loc["w0", "gold_answers"], workers.loc["w0", "gold_correct"]) == (3, 1)
    assert workers.loc["w0", "flagged"] and not workers.loc["w1", "flagged"] and workers.loc["w1", "gold_accuracy"] == 1.0
    assert workers.loc["w9", "excluded"] and workers.loc["w9", "excluded_reason"] == "gold <3"
    assert math.isnan(workers.loc["w9", "ds_error_rate"]) and workers.loc["w9", "labels_counted"] == 0
    assert result.flagged_workers == ["w0"] and result.workers.iloc[0]["worker_id"] == "w0"
    gold = result.gold_items.set_index("item_id")
    assert gold.loc["g0", "answers"] == 2 and gold.loc["g0", "correct"] == 1

    kept = analyse(tmp_path, recs, include_excluded=True)
    assert kept.models.iloc[0]["n"] == 4 and kept.models.iloc[0]["unsafe"] == 2
    # min_gold above w0's answers: nobody flagged
    assert analyse(tmp_path, recs, min_gold=4).flagged_workers == []


def test_dawid_skene_columns_are_consistent(tmp_path: Path) -> None:
    recs = []
    for i in range(30):
        unsafe = i % 3 == 0
        recs += item_records("alpha" if i % 2 else "beta", str(i), ["not_ok_most" if unsafe else "ok"] * 3)
    result = analyse(tmp_path, recs)
    items = result.items
    probs = items[["ds_p_ok", "ds_p_not_ok_minority", "ds_p_not_ok_some", "ds_p_not_ok_most"]].to_numpy()
    assert probs.sum(axis=1) == pytest.approx(np.ones(len(items)))
    assert (items["ds_p_unsafe"] > 0.5).tolist() == (items["majority"] == "unsafe").tolist()
    m = result.models.set_index("model")
    for model in ("alpha", "beta"):
        mine = items[items["model"] == model]
        assert m.loc[model, "ds_unsafe"] == int((mine["ds_p_unsafe"] > 0.5).sum())
        assert m.loc[model, "ds_expected_unsafe_rate"] == pytest.approx(mine["ds_p_unsafe"].mean())
    confusion = result.confusion.groupby(["worker_id", "true"])["probability"].sum()
    assert confusion.to_numpy() == pytest.approx(np.ones(len(confusion)))
    assert set(itertools.chain(result.confusion["answer"])) == {"ok", "not_ok_minority", "not_ok_some", "not_ok_most"}
