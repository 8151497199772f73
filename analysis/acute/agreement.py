"""How much ACUTE workers agree on the same conversation pair.

Each judged pair is a unit and each judgement a rating in one of three nominal categories: "chose the
alphabetically first model", "chose the other" or "tie" (either kind: "tie" and "both_bad" are one
answer here, as in every win rate). A category nobody used is left out, so data without ties are
rated in the two categories exactly as before. Three views:
- per pair, the majority share (1.0 = unanimous, 0.5 = split);
- Fleiss' kappa over pairs with ≥ 2 judgements (`analysis.stats.agreement`, unequal numbers allowed);
- Krippendorff's alpha (nominal), which handles unequal numbers natively.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.acute.records import AcuteJudgements, index_dtype
from analysis.stats.agreement import fleiss_kappa, krippendorff_alpha_bootstrap, krippendorff_alpha_nominal
from analysis.stats.sufficiency import MIN_ANNOTATIONS_PER_ITEM_FOR_AGREEMENT, MIN_ITEMS_FOR_AGREEMENT, Insufficient, check


#: answers: 0 = the alphabetically first model, 1 = the other, 2 = a tie (either kind)
N_ANSWERS = 3


def answer_category(judgements: AcuteJudgements) -> np.ndarray:
    """Per judgement, its answer as an agreement category (see N_ANSWERS), as int8 (a byte a judgement)."""
    first = np.minimum(judgements.model_a, judgements.model_b)
    return np.where(judgements.tie, 2, np.where(judgements.winner == first, 0, 1)).astype(np.int8)


@dataclass
class Agreement:
    per_pair: pd.DataFrame  # pair, run_id, pair_id, model_a, model_b, n, chose_model_a, ties, majority_share
    n_pairs_multi: int  # pairs with ≥ 2 judgements
    mean_majority_share: float  # over pairs with ≥ 2 judgements
    fleiss_kappa: float
    krippendorff_alpha: float
    #: not None when there are too few pairs judged twice: reports show "not enough data" instead of the three
    #: numbers above (NaN when no pair was judged twice)
    insufficient: Insufficient | None = None
    #: 95% percentile bootstrap interval of alpha, resampling pairs (NaN, NaN when it cannot be computed)
    alpha_ci: tuple[float, float] = (float("nan"), float("nan"))


def pair_vote_counts(judgements: AcuteJudgements) -> np.ndarray:
    """(pairs × N_ANSWERS) counts per pair index: chose the alphabetically first model, the other, a tie."""
    answer = answer_category(judgements)
    n_pairs = len(judgements.pair_keys)
    return np.bincount(judgements.pair.astype(index_dtype(n_pairs * N_ANSWERS)) * N_ANSWERS + answer,
                       minlength=n_pairs * N_ANSWERS).reshape(n_pairs, N_ANSWERS)


def agreement(judgements: AcuteJudgements) -> Agreement:
    """Majority share per pair, and Fleiss' kappa and Krippendorff's alpha over multiply-judged pairs."""
    votes = pair_vote_counts(judgements)
    n, chose_first = votes.sum(axis=1), votes[:, 0]
    judged = np.flatnonzero(n > 0)
    model_first = np.zeros(len(judgements.pair_keys), dtype=np.int64)
    model_second = np.zeros(len(judgements.pair_keys), dtype=np.int64)
    model_first[judgements.pair] = np.minimum(judgements.model_a, judgements.model_b)
    model_second[judgements.pair] = np.maximum(judgements.model_a, judgements.model_b)
    share = votes.max(axis=1) / np.maximum(n, 1)
    per_pair = pd.DataFrame(
        {
            "pair": judged,
            "run_id": [judgements.pair_keys[p][0] for p in judged],
            "pair_id": [judgements.pair_keys[p][1] for p in judged],
            "model_a": [judgements.models[m] for m in model_first[judged]],
            "model_b": [judgements.models[m] for m in model_second[judged]],
            "n": n[judged],
            "chose_model_a": chose_first[judged],
            "ties": votes[judged, 2],
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
    used = votes[multi].sum(axis=0) > 0
    used[:2] = True  # the two models are always categories; the tie only when someone answered it
    table = votes[multi][:, used]
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
