"""One self-contained HTML page for a BAD collection: fooled rates, time to the first NOT OK, the
safety layer against the workers, the workers, and the NOT OK turns themselves.

No scripts, no external files. Bot replies and worker ids are whatever the bots and workers typed,
so every input string passes through `html.escape` (directly or via `analysis.report.html_parts.breakable`/`fmt`,
which also let over-long words break so they cannot widen the page). The turn viewer is capped and
the page says where.
"""

from __future__ import annotations

from analysis.report.escaping import escape

import numpy as np
import pandas as pd

from analysis.bad.statistics import BCA_BELOW_CONVERSATIONS, BadResults
from analysis.bad.verdict import MODELS, PAIRS, SAFETY, verdict
from analysis.report.bucket_rates import bucket_rates_html
from analysis.report.charts import rate_intervals, step_curves
from analysis.report.html_parts import (
    VerdictSentence,
    breakable,
    card,
    fmt,
    interval,
    not_enough_data,
    p_value,
    page,
    percent,
    table,
    verdict_box,
    wide,
)
from analysis.stats.multilabel import ALL
from analysis.stats.sufficiency import MIN_CONVERSATIONS_FOR_CLUSTER_BOOTSTRAP

MAX_WORKER_ROWS = 300
MAX_VIEWER_TURNS = 400
PALETTE = ("#08519c", "#d94801", "#31a354", "#756bb1", "#e7298a", "#66a61e", "#a6761d", "#1b9e77", "#666666")


def _ci(lo: float, hi: float) -> str:
    return interval(lo, hi, ".1%")


def _fooled_chart(models: pd.DataFrame) -> str:
    def pairs(name: str) -> list[tuple[float, float]]:
        return list(zip(models[f"{name}_low"], models[f"{name}_high"]))

    return rate_intervals(
        models["model"].tolist(),
        [
            ("turns, Wilson", models["unsafe_rate"], pairs("ci_wilson"), "#6baed6"),
            # no dot without an interval: a lone dot would read as a rate known exactly
            ("turns, bootstrap", models["unsafe_rate"].where(models["bootstrap_method"] != "", np.nan),
             pairs("ci_conversation_bootstrap"), "#08519c"),
            ("conversations", models["conversation_fooled_rate"], pairs("ci_conversation_wilson"), "#d94801"),
            ("verified fooled", models["verified_fooled_rate"], pairs("ci_verified_wilson"), "#a50f15"),
        ],
        "share NOT OK (dot) with 95% interval (line)",
    )


def _not_enough(needs: str) -> str:
    """"not enough data: needs …" from the sufficiency rule's "needs …" text."""
    return not_enough_data(needs.removeprefix("needs "))


def _bootstrap_cell(m: object) -> str:
    """The conversation-bootstrap interval, its method when BCa, or why there is none."""
    if m.bootstrap_not_enough_data:
        return _not_enough(m.bootstrap_not_enough_data)
    if m.bootstrap_degenerate:
        return f"<span class='thin'>no interval: {escape(m.bootstrap_degenerate)}</span>"
    if not m.bootstrap_method:
        return "—"
    return _ci(m.ci_conversation_bootstrap_low, m.ci_conversation_bootstrap_high) + (" BCa" if m.bootstrap_method == "BCa" else "")


def _design_effect_cell(m: object) -> str:
    """The design effect, or why it is not given (never a ratio of a zero variance)."""
    if m.bootstrap_not_enough_data:
        return _not_enough(m.bootstrap_not_enough_data)
    if m.design_effect_note:
        return f"<span class='thin'>{escape(m.design_effect_note)}</span>"
    return fmt(m.design_effect, 2)


def _verified_cells(m: object) -> str:
    """The four "verified fooled" cells, or one "not enough data" cell when no safety check judged the model's turns."""
    if m.safety_layer_not_enough_data:
        return f"<td colspan='4'>{_not_enough(m.safety_layer_not_enough_data)}</td>"
    return (f"<td>{int(m.verified_fooled):,}</td><td>{percent(m.verified_fooled_rate)}</td>"
            f"<td>{_ci(m.ci_verified_wilson_low, m.ci_verified_wilson_high)}</td><td>{percent(m.verified_share_of_fooled)}</td>")


def _layer_cards(m: pd.DataFrame, layer: pd.Series) -> list[str]:
    """Verified fooled, layer recall and precision; "not enough data" when no safety check judged any turn."""
    if layer["not_enough_data"]:
        missing = _not_enough(layer["not_enough_data"])
        return [card(missing, "verified fooled: NOT OK, layer missed"), card(missing, "safety-layer recall and precision")]
    return [card(fmt(int(m["verified_fooled"].sum())), "verified fooled: NOT OK, layer missed"),
            card(percent(float(layer["recall"])), "safety-layer recall"),
            card(percent(float(layer["precision"])), "safety-layer precision")]


def _models_html(models: pd.DataFrame) -> str:
    rows = []
    for m in models.itertuples():
        rows.append(
            f"<tr><td class='t'>{breakable(m.model)}</td><td>{m.n:,}</td><td>{m.fooled:,}</td><td>{percent(m.unsafe_rate)}</td>"
            f"<td>{_ci(m.ci_wilson_low, m.ci_wilson_high)}</td>"
            f"<td>{_bootstrap_cell(m)}</td><td>{_design_effect_cell(m)}</td>"
            f"<td>{m.conversations:,}</td><td>{m.conversations_fooled:,}</td><td>{percent(m.conversation_fooled_rate)}</td>"
            f"<td>{_ci(m.ci_conversation_wilson_low, m.ci_conversation_wilson_high)}</td>"
            f"{_verified_cells(m)}"
            f"<td>{m.replaced:,}</td><td>{m.workers:,}</td><td>{fmt(m.mean_rating, 2)}</td></tr>"
        )
    head = (
        "<tr><th class='t' rowspan='2'>model</th><th colspan='6'>bot turns</th><th colspan='4'>conversations</th>"
        "<th colspan='4'>verified fooled (NOT OK, layer missed)</th><th rowspan='2'>replies replaced</th>"
        "<th rowspan='2'>workers</th><th rowspan='2'>mean rating</th></tr>"
        "<tr><th>n</th><th>NOT OK</th><th>fooled rate</th><th>95% Wilson</th><th>95% conversation bootstrap</th>"
        "<th>design effect</th><th>n</th><th>with ≥ 1 NOT OK</th><th>share</th><th>95% Wilson</th>"
        "<th>turns</th><th>per bot turn</th><th>95% Wilson</th><th>of NOT OK</th></tr>"
    )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _pairs_html(pairs: pd.DataFrame) -> str:
    if not len(pairs):
        return "<p class='note'>Only one model: nothing to compare.</p>"
    rows = "".join(
        f"<tr><td class='t'>{breakable(p.model_a)}</td><td class='t'>{breakable(p.model_b)}</td>"
        f"<td>{p.fooled_a:,} / {p.conversations_a:,}</td><td>{percent(p.rate_a)}</td>"
        f"<td>{p.fooled_b:,} / {p.conversations_b:,}</td><td>{percent(p.rate_b)}</td>"
        f"<td>{p.difference:+.1%}</td><td>{fmt(p.odds_ratio, 2)}</td><td>{p_value(p.p_value)}</td>"
        f"<td>{p_value(p.p_holm)} <span class='stars'>{escape(p.stars_holm)}</span></td></tr>"
        for p in pairs.itertuples()
    )
    head = ("<tr><th class='t'>model A</th><th class='t'>model B</th><th>A fooled / conversations</th><th>A share</th>"
            "<th>B fooled / conversations</th><th>B share</th><th>A − B</th><th>odds ratio</th><th>p (Fisher)</th>"
            "<th>p Holm</th></tr>")
    return wide(f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>")


def _survival_html(results: BadResults) -> str:
    series = []
    for i, model in enumerate(results.labels.models):
        curve = results.survival[results.survival["model"] == model]
        series.append((model, curve["bot_turn"].to_numpy(), curve["survival"].to_numpy(), curve["band_low"].to_numpy(),
                       curve["band_high"].to_numpy(), PALETTE[i % len(PALETTE)]))
    chart = step_curves(series, "bot turns", "conversations still unfooled")
    m = results.models
    frame = pd.DataFrame({
        "model": m["model"], "conversations": m["conversations"], "with NOT OK": m["conversations_fooled"],
        "median first NOT OK (fooled only)": m["first_notok_median"], "mean first NOT OK (fooled only)": m["first_notok_mean"],
        "Kaplan–Meier median": m["unfooled_median_km"], "mean bot turns": m["mean_bot_turns"],
    })
    return f"<div class='side'>{chart}{table(frame, {'model'})}</div>"


def _safety_frame(frame: pd.DataFrame, not_run: list[str]) -> pd.DataFrame:
    """The safety table, with a "not run" row per check that judged no turn (left out of every number)."""
    shown = pd.DataFrame({
        **({"model": frame["model"]} if "model" in frame else {}),
        "verdict": np.where(frame["verdict"] == "layer", "layer (any check)", frame["check"]),
        "turns judged": frame["n"], "TP": frame["tp"], "FP": frame["fp"], "FN": frame["fn"], "TN": frame["tn"],
        "precision": [percent(v) for v in frame["precision"]],
        "precision 95% Wilson": [_ci(lo, hi) for lo, hi in zip(frame["precision_ci_low"], frame["precision_ci_high"])],
        "recall": [percent(v) for v in frame["recall"]],
        "recall 95% Wilson": [_ci(lo, hi) for lo, hi in zip(frame["recall_ci_low"], frame["recall_ci_high"])],
        "F1": frame["f1"], "flagged": [percent(v) for v in frame["flag_rate"]],
        "not enough data": [_not_enough(r) if r else None for r in frame["not_enough_data"]],
    })
    if not frame["not_enough_data"].any():
        shown = shown.drop(columns=["not enough data"])
    if not not_run:
        return shown
    parts = []
    for model in (frame["model"].unique().tolist() if "model" in frame else [None]):
        rows = shown if model is None else shown[shown["model"] == model]
        extra = pd.DataFrame([{**({} if model is None else {"model": model}), "verdict": f"{c}: not run"}
                              for c in not_run])
        parts += [rows, extra]
    out = pd.concat(parts, ignore_index=True).astype(object)
    return out.where(out.notna(), None)


def _workers_html(workers: pd.DataFrame) -> str:
    shown = workers.head(MAX_WORKER_ROWS)
    note = (f"<p class='note'>Showing {len(shown):,} of {len(workers):,} workers (flagged first); all are in workers.csv.</p>"
            if len(workers) > len(shown) else "")
    frame = shown.rename(columns={
        "worker_id": "worker", "bot_turns": "bot turns", "notok": "NOT OK", "notok_share": "NOT OK share",
        "median_seconds_per_conversation": "median s / conversation", "median_seconds_per_bot_turn": "median s / bot turn",
        "mean_rating": "mean rating",
    })
    flagged = ["flag" if f else "" for f in shown["flags"]]
    return note + f"<div class='scroll'>{table(frame, {'worker', 'flags'}, flagged)}</div>"


def _viewer_html(results: BadResults) -> str:
    turns = results.notok_turns
    if not len(turns):
        return "<p class='note'>No bot turn was labelled NOT OK.</p>"
    shown = turns.head(MAX_VIEWER_TURNS)
    out = []
    if len(turns) > len(shown):
        out.append(f"<p class='note'>Showing the first {len(shown):,} of {len(turns):,} NOT OK turns; all are in notok_turns.csv.</p>")
    for model, group in shown.groupby("model", sort=True):
        missed = int((group["layer"] == "missed").sum())
        rows = "".join(
            f"<tr><td class='t'>{breakable(t.conversation_id)}</td><td class='t'>{breakable(t.worker_id)}</td><td>{t.bot_turn}</td>"
            f"<td class='t wrap'>{breakable(t.text)}</td><td class='t'>{breakable(t.layer)}</td>"
            f"<td class='t'>{breakable(t.flagged_by)}</td><td class='t'>{breakable(t.safety_action)}</td></tr>"
            for t in group.itertuples()
        )
        out.append(
            f"<details class='pair'><summary>{breakable(model)}: {len(group):,} NOT OK turns, {missed:,} missed by the "
            "safety layer</summary>"
            + wide("<table><thead><tr><th class='t'>conversation</th><th class='t'>worker</th>"
                   "<th>bot turn</th><th class='t'>bot reply</th><th class='t'>safety layer</th><th class='t'>flagged by</th>"
                   f"<th class='t'>action</th></tr></thead><tbody>{rows}</tbody></table>")
            + "</details>"
        )
    return "".join(out)


def _buckets_html(results: BadResults) -> str:
    """The checkbox buckets per bucket and model (chart and table), and why there is no agreement; "" without buckets."""
    b = results.buckets
    if not results.labels.buckets:
        return ""
    reasons = sorted(set(b.loc[b["scope"] == ALL, "not_enough_data"]) - {""})
    agreement = ("Agreement between workers per bucket: " + "; ".join(_not_enough(r) for r in reasons)
                 + " — each bot turn is labelled once, by its conversation's worker." if reasons else
                 "Agreement between workers per bucket is in buckets.csv.")
    return (bucket_rates_html(b, PALETTE, "share of bot turns asked the bucket that ticked it")
            + f"<p class='note'>{agreement}</p>")


def _unknown_times_note(results: BadResults) -> str:
    unknown = int(results.conversations["seconds"].isna().sum())
    if not unknown:
        return ""
    return (f" Times unknown for {unknown:,} of {len(results.conversations):,} conversation(s) (no time in the records, "
            "or a 0-second placeholder): they are left out of the seconds columns and the speed flag.")


def render_html(results: BadResults) -> str:
    labels, m, safety = results.labels, results.models, results.safety
    t = labels.turns
    layer = safety[safety["verdict"] == "layer"].iloc[0]
    excluded = (f" {labels.excluded_conversations:,} incomplete conversations ({labels.excluded_turns:,} bot turns) "
                "are left out (--include-incomplete keeps them).") if labels.excluded_conversations else ""
    not_run = (" Not run: " + ", ".join(breakable(c) for c in labels.checks_not_run) + "."
               if labels.checks_not_run else "")
    cards = "".join([
        card(fmt(len(labels.models)), "models"),
        card(fmt(labels.n_conversations), "conversations"),
        card(fmt(len(t)), "labelled bot turns"),
        card(fmt(int(t["worker_id"].nunique())), "workers"),
        card(percent(float(t["notok"].mean())), "bot turns labelled NOT OK (all models)"),
        *_layer_cards(m, layer),
        card(fmt(len(results.flagged_workers)), "flagged workers"),
    ])
    buckets_html = _buckets_html(results)
    buckets = "" if not buckets_html else f"""<h2 id='annotation-buckets'>Annotation buckets</h2>
<p class='note'>The checkboxes the workers were shown with each bot reply (record field <code>buckets</code>). Per bucket and
model: the share of bot turns asked the bucket that the worker ticked, with a 95% Wilson interval, which treats turns as
independent (turns of one conversation are not, so it is too narrow; below {MIN_CONVERSATIONS_FOR_CLUSTER_BOOTSTRAP.minimum}
conversations asked the bucket it is left out, "not enough data", as for the fooled rate). A turn whose record does not list a bucket was not
asked it and is left out of that bucket's share. All of it, with every model pooled, is in buckets.csv.</p>
{buckets_html}
"""
    body = f"""
<h1>Bot-adversarial dialogue report</h1>
<p class='lead'>Runs: {', '.join(breakable(r) for r in labels.runs)}. Safety checks: {', '.join(breakable(c) for c in labels.checks) or 'none'}.{not_run}{escape(excluded)}</p>
{verdict_box(VerdictSentence(s.text, s.anchor) for s in verdict(results))}
<div class='cards'>{cards}</div>

<h2 id='{MODELS}'>How often each model was fooled</h2>
<p class='note'>A bot turn is <b>fooled</b> when the worker labelled it NOT OK. Turns of one conversation are not
independent, so the per-turn rate has two 95% intervals: <b>Wilson</b> (treats turns as independent) and a
<b>conversation bootstrap</b> ({results.options.bootstrap_rounds:,} rounds, seed {results.options.seed},
whole conversations resampled): percentile with {BCA_BELOW_CONVERSATIONS} or more conversations, BCa (marked)
with fewer, and none below {MIN_CONVERSATIONS_FOR_CLUSTER_BOOTSTRAP.minimum} conversations ("not enough data") or
when every conversation has the same NOT OK share (zero variance). The design effect is the bootstrap variance
over the binomial one: above 1, the Wilson interval is too narrow; it is not given when either variance is zero. <b>Conversations</b>: the share with at least one NOT OK (Wilson).
<b>Verified fooled</b>: bot turns labelled NOT OK that no safety check flagged (Wilson).</p>
{_fooled_chart(m)}
<div class='scroll'>{_models_html(m)}</div>

<h2 id='{PAIRS}'>Model against model</h2>
<p class='note'>Fisher's exact test (two-sided) on conversations with at least one NOT OK (conversations are
independent, turns are not), Holm-adjusted over all pairs: * p&nbsp;&lt;&nbsp;.05, ** &lt;&nbsp;.01, *** &lt;&nbsp;.001.</p>
{_pairs_html(results.pairs)}

<h2 id='survival'>Bot turns until the first NOT OK</h2>
<p class='note'>Kaplan–Meier: the share of conversations still unfooled after k bot turns; a conversation without a
NOT OK counts as unfooled for its length and is censored there. The Kaplan–Meier median is the first bot turn where
at most half remain unfooled (— when never reached). The plain median and mean count fooled conversations only.
Shaded: the pointwise 95% Greenwood band (log-log), not drawn before the first NOT OK nor once no conversation is
left unfooled.</p>
{_survival_html(results)}

<h2 id='{SAFETY}'>Safety layer against the workers</h2>
<p class='note'>Positive = unsafe. The workers' labels are the reference: TP = layer flagged a NOT OK turn, FP =
flagged an OK turn, FN = let a NOT OK turn through. The layer flags a reply when any check does; each check is
scored over the turns it judged. A check that judged no turn (not configured) is shown as <b>not run</b> and left
out of precision and recall.</p>
{table(_safety_frame(safety, labels.checks_not_run), {'verdict'})}
<h3>Per model</h3>
{table(_safety_frame(results.safety_by_model, labels.checks_not_run), {'model', 'verdict'})}

{buckets}
<h2>Workers</h2>
<p class='note'>Flags: every one of at least {results.options.same_label_turns} turns given the same label; median
seconds per bot turn below {results.options.min_seconds_per_turn:g}. Flagged workers still count in every number above;
review them.{_unknown_times_note(results)}</p>
{_workers_html(results.workers)}

<h2>NOT OK turns</h2>
{_viewer_html(results)}
"""
    return page("Bot-adversarial dialogue report", body)
