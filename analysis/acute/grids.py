"""Win and tie counts between models, and the win-rate and count grids (row beats column).

ParlAI's grid dropped models that never won; here every model seen in the input has a row and a
column, whatever its record, and cells of pairs never compared are empty (NaN), not 0. A tie (either
kind: "tie" or "both_bad") counts as half a win for each side in the win-rate grid (Chatbot Arena's
convention), so with ties the grid still reads "share of the row model's points against the column model".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.acute.records import BOTH_BAD_CODE, AcuteJudgements, index_dtype


def pair_cells(model_a: np.ndarray, model_b: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per record: the lower and the higher model code of its pair, and the pair's cell `lower · k + higher`
    in a K×K table (`index_dtype`)."""
    lo, hi = np.minimum(model_a, model_b), np.maximum(model_a, model_b)
    cell = lo.astype(index_dtype(k * k))
    cell *= k  # in place: 4 MB an array at a million judgements
    cell += hi
    return lo, hi, cell


def win_matrix(judgements: AcuteJudgements) -> np.ndarray:
    """K×K counts: `wins[i, j]` = times model i was chosen over model j (decisive judgements only)."""
    k = len(judgements.models)
    decisive = judgements.decisive
    cells = judgements.winner[decisive].astype(index_dtype(k * k))
    cells *= k  # in place: a million judgements make each array of cells 4 MB
    cells += judgements.loser[decisive]
    return np.bincount(cells, minlength=k * k).reshape(k, k)


def tie_matrix(judgements: AcuteJudgements, both_bad_only: bool = False) -> np.ndarray:
    """Symmetric K×K counts of ties between models i and j: both kinds, or only "both_bad" ones."""
    k = len(judgements.models)
    mask = judgements.winner == BOTH_BAD_CODE if both_bad_only else judgements.tie
    upper = np.bincount(pair_cells(judgements.model_a[mask], judgements.model_b[mask], k)[2], minlength=k * k).reshape(k, k)
    return upper + upper.T


def win_rate_grid(models: list[str], wins: np.ndarray, ties: np.ndarray | None = None) -> pd.DataFrame:
    """Share of comparisons the row model won against the column model, a tie counting half (NaN where never compared)."""
    ties = np.zeros_like(wins) if ties is None else ties
    n = wins + wins.T + ties
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, (wins + ties / 2) / np.where(n > 0, n, 1), np.nan)
    return pd.DataFrame(rate, index=models, columns=models)


def count_grid(models: list[str], wins: np.ndarray, ties: np.ndarray | None = None) -> pd.DataFrame:
    """Number of judgements between the row and the column model, ties included."""
    ties = np.zeros_like(wins) if ties is None else ties
    return pd.DataFrame(wins + wins.T + ties, index=models, columns=models)
