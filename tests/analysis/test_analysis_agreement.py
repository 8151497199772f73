"""Fleiss' kappa and Krippendorff's alpha on the published examples, and our unequal-rater generalisation."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from analysis.acute.agreement import agreement
from analysis.acute.records import load_acute_judgements
from analysis.stats.agreement import fleiss_kappa, krippendorff_alpha_nominal

from analysis_record_factory import judgement

FLEISS_1971 = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])

nan = np.nan
KRIPPENDORFF_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
])


def test_fleiss_1971() -> None:
    assert round(fleiss_kappa(FLEISS_1971), 3) == 0.210


def test_krippendorff_2011_all_levels() -> None:
    got = {level: round(krippendorff.alpha(reliability_data=KRIPPENDORFF_2011, level_of_measurement=level), 3)
           for level in ("nominal", "ordinal", "interval", "ratio")}
    assert got == {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}
    # the same data as a value-count table through our wrapper
    values = [1, 2, 3, 4, 5]
    counts = np.array([[np.sum(KRIPPENDORFF_2011[:, u] == v) for v in values] for u in range(12)])
    assert round(krippendorff_alpha_nominal(counts), 3) == 0.743


def test_unequal_raters_generalisation() -> None:
    rng = np.random.default_rng(3)
    equal = rng.integers(0, 5, (30, 2))
    equal[:, 1] = 4 - equal[:, 0]  # 4 raters everywhere
    assert fleiss_kappa(equal) == pytest.approx(statsmodels_fleiss_kappa(equal))
    # unequal: hand computation of the generalised formula on a tiny table
    table = np.array([[2, 0], [1, 2], [0, 3], [1, 1]])
    n_i = table.sum(1)
    p_i = ((table**2).sum(1) - n_i) / (n_i * (n_i - 1))  # 1, 1/3, 1, 0
    pj = table.sum(0) / table.sum()  # 4/10, 6/10
    pe = (pj**2).sum()
    expected = (p_i.mean() - pe) / (1 - pe)
    assert fleiss_kappa(table) == pytest.approx(expected)
    assert fleiss_kappa(table) == pytest.approx((7 / 12 - 0.52) / 0.48)


def test_agreement_on_records(write_records) -> None:
    recs = [
        judgement(worker_id="w1", pair_id="0", winner="alpha"),
        judgement(worker_id="w2", pair_id="0", winner="alpha"),
        judgement(worker_id="w3", pair_id="0", winner="beta"),
        judgement(worker_id="w1", pair_id="1", winner="beta"),
        judgement(worker_id="w2", pair_id="1", winner="beta"),
        judgement(worker_id="w1", pair_id="2", winner="beta"),  # judged once: no agreement
    ]
    a = agreement(load_acute_judgements([write_records(recs)]))
    shares = dict(zip(a.per_pair["pair_id"], a.per_pair["majority_share"]))
    assert shares == pytest.approx({"0": 2 / 3, "1": 1.0, "2": 1.0})
    assert a.n_pairs_multi == 2
    assert a.mean_majority_share == pytest.approx((2 / 3 + 1) / 2)
    table = np.array([[2, 1], [0, 2]])
    assert a.fleiss_kappa == pytest.approx(fleiss_kappa(table))
    # coders (w1, w2, w3) × units (pair 0, pair 1, pair 2); alpha = 0, beta = 1
    data = np.array([[0, 1, 1], [0, 1, np.nan], [1, np.nan, np.nan]])
    assert a.krippendorff_alpha == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
