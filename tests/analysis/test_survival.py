"""Kaplan–Meier with Greenwood bands (analysis.stats.survival) against scipy.stats.ecdf on censored data, and the
BAD report's survival chart: integer ticks on the bot-turn axis, bands drawn only where defined."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from scipy.stats import CensoredData, ecdf

from analysis.bad.statistics import kaplan_meier
from analysis.report.charts import integer_ticks, step_curves
from analysis.stats.survival import kaplan_meier_table


def _scipy(time: np.ndarray, event: np.ndarray, method: str):
    result = ecdf(CensoredData(uncensored=time[event], right=time[~event]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns where the band is undefined (Ŝ = 0)
        ci = result.sf.confidence_interval(method=method)
    return result.sf.quantiles.astype(int), result.sf.probabilities, ci.low.probabilities, ci.high.probabilities


def _datasets() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(14)
    out = [
        # the docs' example: first NOT OK at 3 and 1, unfooled conversations of length 2 and 5
        (np.array([3, 1, 2, 5]), np.array([True, True, False, False])),
        # ties of events and censoring at one time; the last conversation fooled (Ŝ drops to 0)
        (np.array([2, 2, 2, 3, 4, 4]), np.array([True, False, True, True, False, True])),
        # every conversation fooled
        (np.array([1, 1, 2, 3, 5]), np.ones(5, bool)),
        # one conversation fooled of many
        (np.array([4, 6, 6, 6, 6, 6, 6, 6]), np.array([True] + [False] * 7)),
    ]
    for _ in range(150):
        n = int(rng.integers(2, 40))
        time = rng.integers(1, 12, size=n)
        event = rng.random(n) < rng.uniform(0.1, 0.9)
        if event.any():
            out.append((time, event))
    return out


@pytest.mark.parametrize("method", ["log-log", "linear"])
def test_survival_and_greenwood_bands_match_scipy_ecdf(method: str) -> None:
    for time, event in _datasets():
        ours = kaplan_meier_table(time, event, method).set_index("bot_turn")
        quantiles, sf, low, high = _scipy(time, event, method)
        at = ours.loc[quantiles]
        np.testing.assert_allclose(at["survival"], sf, rtol=0, atol=1e-12)
        before_first_event = (np.cumsum(ours["events"].to_numpy()) == 0)[quantiles - 1]
        for column, ref in (("band_low", low), ("band_high", high)):
            got = at[column].to_numpy()
            # Before the first event scipy's linear band is [1, 1] (zero width) and its log-log band undefined;
            # we give no band there (NaN), since nothing has been learnt yet. Everywhere else: scipy's numbers.
            np.testing.assert_allclose(got[~before_first_event], ref[~before_first_event], rtol=0, atol=1e-9)
            assert np.isnan(got[before_first_event]).all()
        # bands contain the curve where defined, and stay inside [0, 1]
        defined = ours["band_low"].notna()
        assert (ours.loc[defined, "band_low"] <= ours.loc[defined, "survival"] + 1e-12).all()
        assert (ours.loc[defined, "band_high"] >= ours.loc[defined, "survival"] - 1e-12).all()
        assert ((ours.loc[defined, ["band_low", "band_high"]] >= 0) & (ours.loc[defined, ["band_low", "band_high"]] <= 1)).all().all()


def test_greenwood_variance_by_hand() -> None:
    # at risk 4, 3, 2, 1, 1; events at 1 and 3: Var = Ŝ² Σ d/(n(n−d)) = Ŝ² (1/(4·3) + 1/(2·1)) at k = 3
    table = kaplan_meier_table(np.array([3, 1, 2, 5]), np.array([True, True, False, False]))
    assert table["at_risk"].tolist() == [4, 3, 2, 1, 1]
    assert table["survival"].tolist() == pytest.approx([0.75, 0.75, 0.375, 0.375, 0.375])
    assert table.loc[2, "greenwood_se"] == pytest.approx(0.375 * np.sqrt(1 / 12 + 1 / 2))


def test_bad_kaplan_meier_carries_the_band_and_has_no_band_once_everyone_is_fooled() -> None:
    curve = kaplan_meier(np.array([1.0, 2.0, np.nan]), np.array([3.0, 2.0, 1.0]))
    assert curve["bot_turn"].tolist() == [1, 2]
    assert curve["survival"].tolist() == pytest.approx([2 / 3, 0.0])
    assert np.isfinite(curve.loc[0, ["band_low", "band_high"]].astype(float)).all()
    assert curve.loc[1, ["band_low", "band_high"]].isna().all()


@pytest.mark.parametrize("x_max", [1, 2, 3, 7, 12, 13, 25, 60, 101, 999, 25_000])
def test_turn_ticks_are_whole_numbers(x_max: int) -> None:
    ticks = integer_ticks(x_max)
    assert ticks[0] == 0 and all(isinstance(t, int) for t in ticks)
    assert ticks[-1] <= x_max and len(ticks) <= 13 and x_max - ticks[-1] < ticks[1] - ticks[0]


@pytest.mark.parametrize("longest", [2, 3, 5, 30])
def test_survival_chart_ticks_are_integers_and_bands_are_drawn(longest: int) -> None:
    time = np.arange(1, longest + 1)
    event = time % 2 == 1
    table = kaplan_meier_table(time, event)
    svg = step_curves([("m<1>", table["bot_turn"].to_numpy(), table["survival"].to_numpy(),
                           table["band_low"].to_numpy(), table["band_high"].to_numpy(), "#08519c")],
                         "bot turns", "conversations still unfooled")
    ticks = re.findall(r"text-anchor='middle' fill='#555'>([^<]+)</text>", svg)
    assert ticks and all(re.fullmatch(r"\d+", t) for t in ticks), ticks
    assert "m&lt;1&gt;" in svg and "<1>" not in svg
    drawn = svg.count("fill-opacity='0.15'")
    assert drawn == int(table["band_low"].notna().sum()) and drawn > 0
