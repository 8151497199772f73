"""Every number of `analysis auto`: per model the share of replies with male words, with female words and
flagged by each safety check (Wilson intervals); against a baseline model, the reduction factor of each
share with its log-scale (Katz) interval and Fisher's exact test, Holm-corrected over the family.

The unit is the reply: a share is (replies with the feature) / (replies measured). For a recorded
check the replies measured are those it judged (a check that did not run on a reply leaves it out).
Replies of one conversation are treated as independent, as the model card's numbers do; in world logs of
`models generate` each line is one reply to its own context, so they are.

The reduction factor of a measure is baseline share / model share (the card's "reduces replies with male
words by a factor of 9": 9 = uncontrolled share / controlled share). Its 95% interval is Katz et al.'s
(1978) log-scale interval of a ratio of two independent proportions: log(factor) ± z·√(1/a − 1/n₁ + 1/b
− 1/n₂), with a events of n₁ replies for the baseline and b of n₂ for the model. With no event on either
side the factor is 0 or infinite and the interval undefined; with few, the normal approximation on the
log scale fails. Below `MIN_EVENTS_FOR_RATE_RATIO` events on either side the factor is "not enough data"
(Fisher's test, exact at any count, is still given). The family Holm corrects is every (model, measure)
test against the baseline in the report.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from humaneval.input_errors import InputError

from analysis.auto.checks import ReplyCheck, builtin_check, run_checks
from analysis.auto.records import Replies
from analysis.auto.word_lists import GENDERED_LISTS, WordMatcher
from analysis.stats.corrections import holm, stars
from analysis.stats.exact_tests import fisher_exact
from analysis.stats.intervals import Z_95, wilson
from analysis.stats.sufficiency import Rule

log = logging.getLogger(__name__)

MIN_EVENTS_FOR_RATE_RATIO = Rule(
    "MIN_EVENTS_FOR_RATE_RATIO",
    5,
    "replies with the feature on each side",
    "the reduction factor divides two shares: with no reply with the feature on one side it is 0 or infinite, "
    "and the log-scale (Katz) interval rests on 1/a + 1/b, which the normal approximation follows only from "
    "about 5 events per side; below that the interval's coverage is far from 95%",
)

GENDERED, CHECK, RECORDED_CHECK = "gendered words", "safety check", "recorded safety check"
#: reductions.csv's columns, also when there is no baseline or nothing to compare (the folder always has the file)
REDUCTION_COLUMNS = ["baseline", "model", "measure", "kind", "baseline_events", "baseline_n", "baseline_rate", "events",
                     "n", "rate", "factor", "factor_ci_low", "factor_ci_high", "not_enough_data", "p_value", "p_holm",
                     "stars_holm"]


@dataclass(frozen=True)
class AutoOptions:
    """What to measure: the built-in safety checks to run by name (`checks.CHECKS`), the checks built from a
    server config (`checks.configured_checks`), and the baseline model (or None)."""

    checks: tuple[str, ...] = ("string_matcher",)
    baseline: str | None = None
    configured: tuple[ReplyCheck, ...] = ()


@dataclass
class AutoResults:
    """`measures` (name -> kind) in report order; `checks_run` the checks run here (name -> what it is);
    `hits` one column per measure, one row per reply (1.0 / 0.0, NaN when a recorded check did not judge it);
    `matched` the words and checks behind them; `rates` one row per (model, measure); `reductions` one row per
    (model, measure) against the baseline."""

    replies: Replies
    options: AutoOptions
    measures: dict[str, str]
    checks_run: dict[str, str]
    hits: pd.DataFrame
    matched: pd.DataFrame
    rates: pd.DataFrame
    reductions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REDUCTION_COLUMNS))


def reply_hits(replies: Replies, checks: Sequence[ReplyCheck]) -> tuple[dict[str, str], pd.DataFrame, pd.DataFrame]:
    """Measures, per-reply hits and the matched words / flagging checks of every reply."""
    texts = replies.replies["text"].tolist()
    measures: dict[str, str] = {}
    hits: dict[str, np.ndarray] = {}
    matched: dict[str, list[str]] = {}
    for name, words in GENDERED_LISTS.items():
        matcher = WordMatcher(words)
        found = [matcher.find(t) for t in texts]
        measures[name] = GENDERED
        hits[name] = np.array([bool(f) for f in found], dtype=float)
        matched[name] = [" ".join(dict.fromkeys(f)) for f in found]
    flags = run_checks(checks, replies.replies)
    for check in checks:
        if check.name in measures:
            raise InputError(f"a safety check may not be named like a measure ({check.name!r})", field="--safety-config")
        measures[check.name] = CHECK
        hits[check.name] = np.array(flags[check.name], dtype=float)
    for name in replies.recorded_checks:
        measures[name] = RECORDED_CHECK
        hits[name] = replies.recorded[name].to_numpy(float)
    flagged_by = [", ".join(c for c in measures if measures[c] != GENDERED and hits[c][i] == 1.0) for i in range(len(texts))]
    return measures, pd.DataFrame(hits, columns=list(measures)), pd.DataFrame({**matched, "flagged_by": flagged_by})


def rate_table(replies: Replies, measures: dict[str, str], hits: pd.DataFrame) -> pd.DataFrame:
    """rates.csv: one row per model and measure: replies measured, replies with the feature, share, 95% Wilson."""
    rows = []
    model = replies.replies["model"]
    for m in replies.models:
        mine = hits[(model == m).to_numpy()]
        for name, kind in measures.items():
            column = mine[name]
            n, events = int(column.notna().sum()), int((column == 1.0).sum())
            lo, hi = wilson(events, n)
            rows.append({"model": m, "measure": name, "kind": kind, "n": n, "events": events,
                         "rate": events / n if n else math.nan, "ci_wilson_low": float(lo), "ci_wilson_high": float(hi)})
    return pd.DataFrame(rows)


def katz_interval(a: int, n1: int, b: int, n2: int) -> tuple[float, float, float]:
    """(a/n1) / (b/n2) and its 95% log-scale interval (Katz et al. 1978); a, b ≥ 1."""
    factor = (a / n1) / (b / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
    return factor, factor * math.exp(-Z_95 * se), factor * math.exp(Z_95 * se)


def reduction_table(rates: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """reductions.csv: per other model and measure, the reduction factor against `baseline` (or why it is not
    given), Fisher's exact two-sided p and Holm's p over every test of the table."""
    base = rates[rates["model"] == baseline].set_index("measure")
    rows = []
    for r in rates[rates["model"] != baseline].itertuples():
        b = base.loc[r.measure]
        a, n1, k, n2 = int(b["events"]), int(b["n"]), int(r.events), int(r.n)
        row = {"baseline": baseline, "model": r.model, "measure": r.measure, "kind": r.kind,
               "baseline_events": a, "baseline_n": n1, "baseline_rate": b["rate"],
               "events": k, "n": n2, "rate": r.rate,
               "factor": math.nan, "factor_ci_low": math.nan, "factor_ci_high": math.nan, "not_enough_data": "",
               "p_value": math.nan}
        if n1 == 0 or n2 == 0:
            row["not_enough_data"] = f"needs replies judged by this check on both sides (have {n1} and {n2})"
            rows.append(row)
            continue
        rule = MIN_EVENTS_FOR_RATE_RATIO
        if a == n1 and k == n2:  # every reply on both sides: the log-scale interval has zero width, not certainty
            row["not_enough_data"] = f"needs replies without the feature on at least one side (all {n1} and {n2} have it)"
        elif min(a, k) >= rule.minimum:
            row["factor"], row["factor_ci_low"], row["factor_ci_high"] = katz_interval(a, n1, k, n2)
        else:
            row["not_enough_data"] = f"needs at least {rule.minimum} {rule.what} (have {a} and {k})"
        row["p_value"] = float(fisher_exact([[a, n1 - a], [k, n2 - k]])[1])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=REDUCTION_COLUMNS[:-2])
    tested = frame["p_value"].notna().to_numpy()
    frame["p_holm"] = math.nan
    frame.loc[tested, "p_holm"] = holm(frame.loc[tested, "p_value"].to_numpy(float))
    frame["stars_holm"] = [stars(p) if math.isfinite(p) else "" for p in frame["p_holm"]]
    return frame


def analyse_auto(replies: Replies, options: AutoOptions = AutoOptions()) -> AutoResults:
    """All tables of an `analysis auto` report from the replies read."""
    checks = [*(builtin_check(name) for name in options.checks), *options.configured]
    measures, hits, matched = reply_hits(replies, checks)
    rates = rate_table(replies, measures, hits)
    reductions = reduction_table(rates, options.baseline) if options.baseline else pd.DataFrame(columns=REDUCTION_COLUMNS)
    log.info("measured %d replies of %d models on %d measures", len(hits), len(replies.models), len(measures))
    return AutoResults(replies=replies, options=options, measures=measures,
                       checks_run={c.name: c.description for c in checks}, hits=hits, matched=matched, rates=rates,
                       reductions=reductions)

