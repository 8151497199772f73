"""Kaplan–Meier survival on integer times, with Greenwood confidence bands.

Used for "turns until the bot is first fooled": a conversation with an event (the first NOT OK) at turn k,
or censored at its length when it never had one. Times are whole turns, so the curve is tabulated at every
integer k = 1..longest, whether or not anything happened at k (nothing happening leaves Ŝ and its band as
they were).

Greenwood (1926): Var̂ Ŝ(k) = Ŝ(k)² Σ_{j≤k} d_j / (n_j (n_j − d_j)) with n_j at risk and d_j events at j.
Two pointwise 95% bands, computed as `scipy.stats.ecdf(CensoredData(...)).sf.confidence_interval(method)`
computes them (tests/analysis/test_survival.py checks them against it):

- `"log-log"` (Kalbfleisch & Prentice, 1980): Ŝ^exp(±z·σ) with σ² = Σ d/(n(n−d)) / (log Ŝ)²; always inside
  [0, 1] and better behaved with few conversations than the plain band — the reports use it.
- `"linear"`: Ŝ ± z·√Var̂, clipped to [0, 1] (scipy's default).

Both are undefined where Ŝ = 0 after the last at-risk conversation was fooled (the Greenwood sum divides
by n − d = 0); scipy then gives NaN for the log-log band and we do too. Before the first event the
log-log band is undefined (log 1 = 0) and the linear one has zero width: both say nothing there, so
both are NaN (not the certain-looking [1, 1]).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.stats.intervals import Z_95

BAND_METHODS = ("log-log", "linear")


def kaplan_meier_table(time: np.ndarray, event: np.ndarray, method: str = "log-log") -> pd.DataFrame:
    """Rows k = 1..max(time): `at_risk`, `events`, `censored`, `survival` Ŝ(k), `greenwood_se` (√Var̂),
    `band_low`, `band_high` (pointwise 95% band by `method`, NaN where undefined; see the module).

    `time` are positive integers; `event` True for an event at that time, False for censored there.
    """
    if method not in BAND_METHODS:
        raise ValueError(f"method must be one of {BAND_METHODS}, got {method!r}")
    time = np.asarray(time, dtype=np.int64)
    event = np.asarray(event, dtype=bool)
    if time.size and time.min() < 1:
        raise ValueError("times must be integers >= 1")
    longest = int(time.max()) if time.size else 0
    ks = np.arange(1, longest + 1)
    events = np.bincount(time[event], minlength=longest + 1)[1:]
    censored = np.bincount(time[~event], minlength=longest + 1)[1:]
    # at risk at k: everyone whose time is k or later (censored at k counts as at risk at k)
    leaving = events + censored
    at_risk = time.size - np.concatenate([[0], np.cumsum(leaving)[:-1]]) if longest else np.zeros(0, np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1.0 - events / np.maximum(at_risk, 1))
        terms = np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)
        greenwood = np.cumsum(terms)  # inf once at_risk == events (Ŝ drops to 0)
        se = survival * np.sqrt(greenwood)
        if method == "linear":
            low = np.clip(survival - Z_95 * se, 0.0, 1.0)
            high = np.clip(survival + Z_95 * se, 0.0, 1.0)
        else:
            log_s = np.log(survival)
            sigma = np.sqrt(greenwood) / np.abs(log_s)
            low = survival ** np.exp(Z_95 * sigma)
            high = survival ** np.exp(-Z_95 * sigma)
    undefined = (np.cumsum(events) == 0) | ~np.isfinite(greenwood) | (survival <= 0)
    se = np.where(np.isfinite(greenwood), se, math.nan)
    low, high = np.where(undefined, math.nan, low), np.where(undefined, math.nan, high)
    return pd.DataFrame({"bot_turn": ks, "at_risk": at_risk.astype(np.int64), "events": events, "censored": censored,
                         "survival": survival, "greenwood_se": se, "band_low": low, "band_high": high})
