"""Multiple-comparison corrections across all model pairs, and the significance stars.

With 8 models there are 28 pairs; at α = .05 about one and a half "significant" pairs are expected
by chance alone. ParlAI reported raw p-values; we report Holm (controls the family-wise error rate,
valid under any dependence) and Benjamini–Hochberg (controls the false discovery rate). The stars
use **Holm**, the conservative one, so a starred pair is a claim one can defend.
"""

from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests

STAR_CORRECTION = "holm"
STAR_LEVELS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm step-down adjusted p-values."""
    p = np.asarray(p_values, dtype=float)
    return multipletests(p, method="holm")[1] if p.size else p


def benjamini_hochberg(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Benjamini–Hochberg step-up adjusted p-values (false discovery rate)."""
    p = np.asarray(p_values, dtype=float)
    return multipletests(p, method="fdr_bh")[1] if p.size else p


def stars(adjusted_p: float) -> str:
    """'***' < .001, '**' < .01, '*' < .05, else ''; apply to Holm-adjusted p (STAR_CORRECTION)."""
    for level, mark in STAR_LEVELS:
        if adjusted_p < level:
            return mark
    return ""
