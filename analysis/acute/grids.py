"""Win counts between models, and the win-rate and count grids (row beats column).

ParlAI's grid dropped models that never won; here every model seen in the input has a row and a
column, whatever its record, and cells of pairs never compared are empty (NaN), not 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.acute.records import AcuteJudgements


def win_matrix(judgements: AcuteJudgements) -> np.ndarray:
    """K×K counts: `wins[i, j]` = times model i was chosen over model j."""
    k = len(judgements.models)
    cells = judgements.winner.astype(np.int64) * k + judgements.loser.astype(np.int64)
    return np.bincount(cells, minlength=k * k).reshape(k, k)


def win_rate_grid(models: list[str], wins: np.ndarray) -> pd.DataFrame:
    """Share of comparisons the row model won against the column model (NaN where never compared)."""
    n = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, wins / np.where(n > 0, n, 1), np.nan)
    return pd.DataFrame(rate, index=models, columns=models)


def count_grid(models: list[str], wins: np.ndarray) -> pd.DataFrame:
    """Number of judgements between the row and the column model."""
    return pd.DataFrame(wins + wins.T, index=models, columns=models)
