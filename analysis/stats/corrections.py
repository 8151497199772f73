"""Multiple-comparison corrections across all model pairs, and the significance stars.

With 8 models there are 28 pairs; at α = .05 about one and a half "significant" pairs are expected
by chance alone. ParlAI reported raw p-values; we report Holm (controls the family-wise error rate,
valid under any dependence) and Benjamini–Hochberg (controls the false discovery rate). The stars
use **Holm**, the conservative one, so a starred pair is a claim one can defend.

Both are a sort and a running extreme, written here in the operations statsmodels' `multipletests` uses
(so the same bits; `tests/analysis/test_distributions.py` compares them): importing statsmodels took 36 MB and
0.8 s of every report, for these two lines.
"""

from __future__ import annotations

import numpy as np

STAR_CORRECTION = "holm"
STAR_LEVELS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm step-down adjusted p-values: the i-th smallest of m times (m - i + 1), never below a smaller one's, at most 1."""
    p = np.asarray(p_values, dtype=float)
    if not p.size:
        return p
    order = np.argsort(p)
    return _in_order(np.minimum(np.maximum.accumulate(p[order] * np.arange(p.size, 0, -1)), 1.0), order)


def benjamini_hochberg(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Benjamini–Hochberg step-up adjusted p-values (false discovery rate): the i-th smallest of m times m / i,
    never above a larger one's, at most 1."""
    p = np.asarray(p_values, dtype=float)
    if not p.size:
        return p
    order = np.argsort(p)
    scaled = p[order] / (np.arange(1, p.size + 1) / float(p.size))
    return _in_order(np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0), order)


def _in_order(adjusted: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Values computed in sorted order (`order` = argsort of the input), put back in the input's order."""
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def stars(adjusted_p: float) -> str:
    """'***' < .001, '**' < .01, '*' < .05, else ''; apply to Holm-adjusted p (STAR_CORRECTION)."""
    for level, mark in STAR_LEVELS:
        if adjusted_p < level:
            return mark
    return ""
