"""How much ACUTE workers agree on the same conversation pair.

Each judged pair is a unit and each judgement a rating in one of two nominal categories: "chose the
alphabetically first model" or "chose the other". Three views:
- per pair, the majority share (1.0 = unanimous, 0.5 = split);
- Fleiss' kappa over pairs with ≥ 2 judgements (`analysis.stats.agreement`, unequal numbers allowed);
- Krippendorff's alpha (nominal), which handles unequal numbers natively.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.acute.records import AcuteJudgements
from analysis.stats.agreement import fleiss_kappa, krippendorff_alpha_bootstrap, krippendorff_alpha_nominal
from analysis.stats.sufficiency import MIN_ANNOTATIONS_PER_ITEM_FOR_AGREEMENT, MIN_ITEMS_FOR_AGREEMENT, Insufficient, check


@dataclass
class Agreement:
    per_pair: pd.DataFrame  # pair, run_id, pair_id, model_a, model_b, n, chose_first, majority_share
    n_pairs_multi: int  # pairs with ≥ 2 judgements
    mean_majority_share: float  # over pairs with ≥ 2 judgements
    fleiss_kappa: float
    krippendorff_alpha: float
    #: not None when there are too few pairs judged twice: reports show "not enough data" instead of the three
    #: numbers above (NaN when no pair was judged twice)
    insufficient: Insufficient | None = None
    #: 95% percentile bootstrap interval of alpha, resampling pairs (NaN, NaN when it cannot be computed)
    alpha_ci: tuple[float, float] = (float("nan"), float("nan"))


def pair_vote_counts(judgements: AcuteJudgements) -> tuple[np.ndarray, np.ndarray]:
    """Per pair index: judgements, and how many chose the alphabetically first of the two models."""
    first = np.minimum(judgements.model_a, judgements.model_b)
    n_pairs = len(judgements.pair_keys)
    n = np.bincount(judgements.pair, minlength=n_pairs)
    chose_first = np.bincount(judgements.pair, weights=(judgements.winner == first), minlength=n_pairs)
    return n, chose_first.astype(np.int64)


def agreement(judgements: AcuteJudgements) -> Agreement:
    """Majority share per pair, and Fleiss' kappa and Krippendorff's alpha over multiply-judged pairs."""
    n, chose_first = pair_vote_counts(judgements)
    judged = np.flatnonzero(n > 0)
    model_first = np.zeros(len(judgements.pair_keys), dtype=np.int64)
    model_second = np.zeros(len(judgements.pair_keys), dtype=np.int64)
    model_first[judgements.pair] = np.minimum(judgements.model_a, judgements.model_b)
    model_second[judgements.pair] = np.maximum(judgements.model_a, judgements.model_b)
    share = np.maximum(chose_first, n - chose_first) / np.maximum(n, 1)
    per_pair = pd.DataFrame(
        {
            "pair": judged,
            "run_id": [judgements.pair_keys[p][0] for p in judged],
            "pair_id": [judgements.pair_keys[p][1] for p in judged],
            "model_a": [judgements.models[m] for m in model_first[judged]],
            "model_b": [judgements.models[m] for m in model_second[judged]],
            "n": n[judged],
            "chose_model_a": chose_first[judged],
            "majority_share": share[judged],
        }
    )
    multi = judged[n[judged] >= 2]
    if multi.size == 0:
        thin = check(MIN_ANNOTATIONS_PER_ITEM_FOR_AGREEMENT, int(n.max()) if n.size else 0)
    else:
        thin = check(MIN_ITEMS_FOR_AGREEMENT, int(multi.size))
    if multi.size == 0:
        nan = float("nan")
        return Agreement(per_pair, 0, nan, nan, nan, thin)
    # the numbers are computed even below MIN_ITEMS_FOR_AGREEMENT (library users may want them); the report
    # and summary.json show "not enough data" instead whenever `insufficient` is set
    table = np.column_stack([chose_first[multi], n[multi] - chose_first[multi]])
    low, high, _ = krippendorff_alpha_bootstrap(table)
    return Agreement(
        per_pair=per_pair,
        n_pairs_multi=int(multi.size),
        mean_majority_share=float(share[multi].mean()),
        fleiss_kappa=fleiss_kappa(table),
        krippendorff_alpha=krippendorff_alpha_nominal(table),
        insufficient=thin,
        alpha_ci=(low, high),
    )
