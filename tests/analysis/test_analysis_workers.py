"""Worker statistics: leave-one-out agreement, side-bias test, timing, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from analysis.acute.records import load_acute_judgements
from analysis.acute.timing import seconds_per_comparison
from analysis.acute.workers import FlagThresholds, loo_majority_agreement, worker_table
from analysis.stats.exact_tests import two_sided_half_p
from analysis.stats.grouped import group_median

from analysis_record_factory import judgement


def test_two_sided_half_p_equals_binomtest() -> None:
    ks, ns = np.array([0, 3, 7, 10, 55, 13]), np.array([10, 10, 10, 10, 100, 13])
    assert two_sided_half_p(ks, ns) == pytest.approx([binomtest(int(k), int(n)).pvalue for k, n in zip(ks, ns)])


def test_leave_one_out_majority(write_records) -> None:
    recs = [
        judgement(worker_id="w1", pair_id="0", winner="alpha"),
        judgement(worker_id="w2", pair_id="0", winner="alpha"),
        judgement(worker_id="w3", pair_id="0", winner="beta"),
        judgement(worker_id="w1", pair_id="1", winner="beta"),
        judgement(worker_id="w2", pair_id="1", winner="alpha"),
    ]
    j = load_acute_judgements([write_records(recs)])
    agree, others = loo_majority_agreement(j, np.ones(len(j), bool), np.arange(len(j)))
    # pair 0: w1 vs others {alpha, beta} -> tie; w2 likewise; w3 vs {alpha, alpha} -> disagrees
    # pair 1: each sees one opposite vote -> disagrees
    assert agree.tolist() == [-1, -1, 0, 0, 0]
    assert others.tolist() == [2, 2, 2, 1, 1]


def test_unit_time_is_split_over_its_comparisons(write_records) -> None:
    recs = [
        judgement(unit_id="u1", pair_id=str(i), started_at=100.0, submitted_at=190.0) for i in range(3)
    ] + [judgement(unit_id="u2", started_at=100.0, submitted_at=112.0),
         judgement(unit_id="u3", pair_id="7", started_at=0.0, submitted_at=5.0),
         judgement(unit_id="u3", pair_id="8", started_at=5.0, submitted_at=20.0)]
    j = load_acute_judgements([write_records(recs)])
    assert seconds_per_comparison(j).tolist() == [30.0, 30.0, 30.0, 12.0, 5.0, 15.0]


def test_group_median_matches_pandas() -> None:
    rng = np.random.default_rng(0)
    groups, values = rng.integers(0, 7, 200), rng.normal(size=200)
    expected = pd.Series(values).groupby(groups).median().reindex(range(8)).to_numpy()
    assert group_median(groups, values, 8) == pytest.approx(expected, nan_ok=True)


def test_flags(write_records) -> None:
    recs = []
    for i in range(30):  # w_left always picks left; w_fast takes 2 s; careful ones agree
        pair = str(i)
        for w in ("c1", "c2", "c3"):
            recs.append(judgement(worker_id=w, unit_id=f"{w}{i}", pair_id=pair, left="beta" if i % 2 else "alpha", winner="alpha"))
        recs.append(judgement(worker_id="w_left", unit_id=f"l{i}", pair_id=pair, left="beta" if i % 2 else "alpha",
                              winner="beta" if i % 2 else "alpha"))
        recs.append(judgement(worker_id="w_fast", unit_id=f"f{i}", pair_id=pair, left="beta" if i % 2 else "alpha",
                              winner="alpha", submitted_at=1795260002.0))
    recs.append(judgement(worker_id="w_fail", onboarding_passed=False, is_onboarding=True, pair_id="onb", unit_id="x"))
    j = load_acute_judgements([write_records(recs)])
    passed = np.array([j.workers[w] != "w_fail" for w in j.worker])
    table = worker_table(j, seconds_per_comparison(j), passed, FlagThresholds(min_seconds=5))
    flags = dict(zip(table["worker_id"], table["flags"]))
    assert flags["c1"] == flags["c2"] == flags["c3"] == ""
    assert flags["w_left"] == "low agreement; side bias"
    assert flags["w_fast"] == "too fast"
    assert flags["w_fail"] == "failed onboarding"
    row = table.set_index("worker_id").loc["w_left"]
    assert row["left_rate"] == 1.0 and row["agreement"] == 0.5
    assert table.iloc[0]["flags"] != ""  # flagged first
