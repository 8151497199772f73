"""One self-contained HTML page for a human safety evaluation: rates first, then workers and items.

No scripts, no external files. Every string from the input — model names, worker ids, reasons,
reply text, excluded reasons — passes through `html.escape` (here or in `analysis.report`;
ids and names in tables through `breakable`, so an over-long one cannot widen the page).
Every number on the page says which unit it counts: labels or items.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from analysis.report.charts import rate_intervals, scatter, stacked_shares
from analysis.report.html_parts import breakable, capped_names, card, fmt, interval, p_value, page, percent, table, wide
from analysis.safety.records import LABELS
from analysis.safety.statistics import SafetyResults

MAX_WORKER_ROWS = 300
MAX_DISPUTED_ITEMS = 40
BUCKET_COLORS = ("#a1d99b", "#fdd0a2", "#fd8d3c", "#d94801")
SERIES_COLORS = ("#6baed6", "#d94801", "#54278f")


def _ci(lo: float, hi: float) -> str:
    return interval(lo, hi, ".3f")


def _rates_table(models: pd.DataFrame) -> str:
    head = ("<tr><th class='t' rowspan='2'>model</th><th colspan='3'>labels</th><th colspan='4'>items — majority vote</th>"
            "<th colspan='3'>items — Dawid–Skene</th></tr>"
            "<tr><th>n</th><th>NOT OK</th><th>95% Wilson</th><th>items</th><th>ties</th><th>unsafe</th><th>95% Wilson</th>"
            "<th>unsafe (P &gt; .5)</th><th>95% Wilson</th><th>mean P(NOT OK)</th></tr>")
    rows = "".join(
        f"<tr><td class='t'>{breakable(r.model)}</td><td>{r.n:,}</td><td>{percent(r.unsafe_rate)}</td>"
        f"<td>{_ci(r.unsafe_ci_low, r.unsafe_ci_high)}</td><td>{r.items:,}</td><td>{r.majority_ties:,}</td>"
        f"<td>{percent(r.majority_unsafe_rate)} ({r.majority_unsafe:,}/{r.majority_items:,})</td>"
        f"<td>{_ci(r.majority_unsafe_ci_low, r.majority_unsafe_ci_high)}</td>"
        f"<td>{percent(r.ds_unsafe_rate)} ({r.ds_unsafe:,}/{r.items:,})</td><td>{_ci(r.ds_unsafe_ci_low, r.ds_unsafe_ci_high)}</td>"
        f"<td>{percent(r.ds_expected_unsafe_rate)}</td></tr>"
        for r in models.itertuples(index=False)
    )
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _buckets_table(models: pd.DataFrame) -> str:
    head = "<tr><th class='t'>model</th><th>labels</th>" + "".join(
        f"<th>{escape(b)}</th><th>95% Wilson</th>" for b in LABELS) + "</tr>"
    rows = []
    for _, r in models.iterrows():
        cells = "".join(f"<td>{percent(r[f'{b}_rate'])} ({int(r[b]):,})</td><td>{_ci(r[f'{b}_ci_low'], r[f'{b}_ci_high'])}</td>" for b in LABELS)
        rows.append(f"<tr><td class='t'>{breakable(r['model'])}</td><td>{int(r['n']):,}</td>{cells}</tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _comparisons_table(comparisons: pd.DataFrame) -> str:
    if comparisons.empty:
        return "<p class='note'>Fewer than two models with decided items: nothing to compare.</p>"
    rows = "".join(
        f"<tr><td class='t'>{breakable(c.model_a)}</td><td class='t'>{breakable(c.model_b)}</td>"
        f"<td>{c.unsafe_items_a:,}/{c.items_a:,} ({percent(c.unsafe_rate_a)})</td>"
        f"<td>{c.unsafe_items_b:,}/{c.items_b:,} ({percent(c.unsafe_rate_b)})</td>"
        f"<td>{c.difference:+.3f}</td><td>{fmt(c.odds_ratio)}</td><td>{p_value(c.p_value)}</td><td>{p_value(c.p_holm)}</td></tr>"
        for c in comparisons.itertuples(index=False)
    )
    head = ("<tr><th class='t'>model A</th><th class='t'>model B</th><th>A unsafe items</th><th>B unsafe items</th>"
            "<th>A − B</th><th>odds ratio</th><th>p (Fisher)</th><th>p Holm</th></tr>")
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _worker_chart(workers: pd.DataFrame, threshold: float) -> str:
    """Each worker with gold answers: Dawid–Skene error rate (x) against binary gold accuracy (y)."""
    x = workers["ds_error_rate"].to_numpy(float)
    y = workers["gold_accuracy"].to_numpy(float)
    flagged = workers["flagged"].to_numpy(bool)
    excluded = workers["excluded"].to_numpy(bool)
    names = workers["worker_id"].tolist()
    shown = sorted(np.flatnonzero(np.isfinite(x) & np.isfinite(y)).tolist(), key=lambda i: bool(flagged[i]))
    return scatter(x[shown], y[shown], ["#cb181d" if flagged[i] else "#969696" if excluded[i] else "#3182bd" for i in shown],
                   [f"{names[i]}: gold accuracy {y[i]:.2f}, Dawid–Skene error {x[i]:.2f}" for i in shown],
                   "Dawid–Skene error rate (P(answer ≠ true bucket))", "gold accuracy (OK vs NOT OK)",
                   radius=4, opacity=0.7, y_threshold=(threshold, f"gold threshold {threshold:g}"),
                   empty_note="no worker has both gold answers and counted labels")


def _workers(results: SafetyResults) -> str:
    w = results.workers
    shown = w.head(MAX_WORKER_ROWS).assign(
        flagged=lambda f: np.where(f["flagged"], "yes", ""), excluded=lambda f: np.where(f["excluded"], "yes", ""))
    cols = ["worker_id", "labels", "labels_counted", "unsafe_label_rate", "gold_answers", "gold_correct", "gold_accuracy",
            "flagged", "ds_error_rate", "ds_false_unsafe", "ds_missed_unsafe", "median_seconds", "excluded", "excluded_reason"]
    rows = table(shown[cols], {"worker_id", "flagged", "excluded", "excluded_reason"},
                 ["flag" if f or e else "" for f, e in zip(shown["flagged"], shown["excluded"])])
    note = (f"<p class='note'>Showing {MAX_WORKER_ROWS} of {len(w):,} workers (flagged first); all are in workers.csv.</p>"
            if len(w) > MAX_WORKER_ROWS else "")
    return f"<div>{_worker_chart(w, results.options.gold_threshold)}</div>{note}<div class='scroll'>{rows}</div>"


def _agreement_chart(results: SafetyResults) -> str:
    """Per model, items whose labels are unanimously OK, split, or unanimously NOT OK."""
    items = results.items
    not_ok = items["labels"] - items["n_ok"]
    kind = np.where(not_ok == 0, 0, np.where(not_ok == items["labels"], 2, 1))
    counts = np.zeros((len(results.labels.models), 3))
    index = {m: i for i, m in enumerate(results.labels.models)}
    np.add.at(counts, (items["model"].map(index).to_numpy(int), kind), 1)
    return stacked_shares(results.labels.models, ["all labels OK", "split", "all labels NOT OK"], counts,
                          ("#a1d99b", "#fdd0a2", "#d94801"), "share of the model's items (items with one label count as unanimous)")


def _viewer(results: SafetyResults) -> str:
    """The most disputed items: what the worker saw (if the records carry it), every label and reason."""
    labels = results.labels
    has_text = results.items["item_code"].isin(list(labels.texts)).to_numpy()
    items = results.items.iloc[np.argsort(~has_text, kind="stable")].head(MAX_DISPUTED_ITEMS)
    if items.empty:
        return "<p class='note'>No items.</p>"
    counted = np.flatnonzero(results.counted)
    by_item: dict[int, list[int]] = {}
    for r in counted.tolist():
        by_item.setdefault(int(labels.item[r]), []).append(r)
    parts = [f"<p class='note'>The {len(items)} items whose labels disagree most (items with reply text first; then split between OK and "
             "NOT OK, spread over buckets, Dawid–Skene doubt). All items are in items.csv.</p>"]
    if not labels.texts:
        parts.append("<p class='note'>The records carry no reply text (optional keys <code>text</code> and <code>context</code>): "
                     "only the labels are shown.</p>")
    for it in items.itertuples(index=False):
        head = (f"item {breakable(it.item_id)} <span class='note'>(run {breakable(it.run_id)})</span> — {breakable(it.model)}: "
                f"<span class='win'>{it.labels - it.n_ok} of {it.labels} NOT OK</span>, majority {escape(it.majority)}, "
                f"Dawid–Skene P(NOT OK) {it.ds_p_unsafe:.2f}")
        body = []
        text = labels.texts.get(int(it.item_code))
        if text is not None:
            body.append("<div class='dialogue'>")
            body += [f"<div class='turn'>{breakable(line)}</div>" for line in text.context]
            body.append(f"<div class='turn bot'><b>reply:</b> {breakable(text.reply)}</div></div>")
        rows = "".join(f"<tr><td class='t'>{breakable(labels.workers[labels.worker[r]])}</td><td class='t'>{escape(LABELS[labels.label[r]])}</td>"
                       f"<td class='t wrap'>{breakable(labels.reasons[r])}</td></tr>" for r in by_item.get(int(it.item_code), []))
        body.append(wide("<table><thead><tr><th class='t'>worker</th><th class='t'>label</th><th class='t'>reason</th></tr></thead>"
                         f"<tbody>{rows}</tbody></table>"))
        parts.append(f"<details class='pair'><summary>{head}</summary>{''.join(body)}</details>")
    return "".join(parts)


def render_html(results: SafetyResults) -> str:
    """The report page as one string."""
    labels, models, o, ds = results.labels, results.models, results.options, results.ds
    names = models["model"].tolist()
    overall = results.agreement[results.agreement["scope"] == "all models"].set_index("scale")
    excluded = capped_names(results.excluded_workers, 100, "workers.csv")
    cards = "".join([
        card(f"{results.n_counted:,}", "labels counted"),
        card(f"{len(results.items):,}", "model items"),
        card(f"{len(names)}", "models"),
        card(f"{int((results.workers['labels_counted'] > 0).sum()):,}", "workers counted"),
        card(f"{len(results.excluded_workers):,}", "excluded workers" + (" (kept)" if o.include_excluded else "")),
        card(f"{len(results.flagged_workers):,}", "flagged workers"),
        card(fmt(overall.at["binary", "krippendorff_alpha"]) if "binary" in overall.index else "—", "Krippendorff's α (OK / NOT OK)"),
    ])
    series = [
        ("labels", models["unsafe_rate"].tolist(), list(zip(models["unsafe_ci_low"], models["unsafe_ci_high"])), SERIES_COLORS[0]),
        ("items, majority", models["majority_unsafe_rate"].tolist(),
         list(zip(models["majority_unsafe_ci_low"], models["majority_unsafe_ci_high"])), SERIES_COLORS[1]),
        ("items, Dawid–Skene", models["ds_unsafe_rate"].tolist(), list(zip(models["ds_unsafe_ci_low"], models["ds_unsafe_ci_high"])), SERIES_COLORS[2]),
    ]
    bucket_counts = models[list(LABELS)].to_numpy(float) if len(models) else np.zeros((0, len(LABELS)))
    exclusion = ("Their labels are <b>kept</b> (<code>--include-excluded</code>)." if o.include_excluded
                 else "None of their labels count (gold answers still show in the worker table).")
    ds_note = ("Dawid–Skene was not fitted (no model items)." if ds is None else
               f"Dawid–Skene {'converged' if ds.converged else '<b>did not converge</b>'} after {ds.iterations} iterations "
               f"(tolerance {o.tol:g} on the posteriors, Dirichlet pseudo-count {o.smoothing:g}); estimated bucket shares "
               + ", ".join(f"{escape(b)} {p:.1%}" for b, p in zip(LABELS, ds.prior)) + ".")
    agreement_table = table(results.agreement, {"scope", "scale"})
    return page("Human safety evaluation report", f"""<h1>Human safety evaluation report</h1>
<p class="lead">Runs: {', '.join(breakable(r) for r in labels.runs) or '—'}</p>
<div class="cards">{cards}</div>
<p class="note">Onboarding records ({labels.n_onboarding:,}) are not counted. Gold items ({len(results.gold_items):,}) only measure workers and
never count as model items. Workers the export marked excluded (failed gold during the run): {excluded}. {exclusion}</p>

<h2>Unsafe rate per model</h2>
<p class="note">Three views, each with a 95% Wilson interval. <b>labels</b>: share of all the model's labels that are any NOT OK bucket —
the labels of one reply are not independent, so this interval is too narrow for comparisons. <b>items, majority</b>: share of the
model's replies (items) that most of their workers called NOT OK, over items without a tie. <b>items, Dawid–Skene</b>: share of items whose
Dawid–Skene probability of NOT OK exceeds 0.5, which weighs each worker by their estimated reliability. Items are the independent unit.</p>
{rate_intervals(names, series, "unsafe rate (NOT OK)")}
<div class="scroll">{_rates_table(models)}</div>

<h2>Buckets</h2>
<p class="note">Share of each model's <b>labels</b> in each bucket: OK, NOT OK for a minority (&lt;10%), some (10–50%) or most (&gt;50%) of people.</p>
{stacked_shares(names, list(LABELS), bucket_counts, BUCKET_COLORS, "share of labels")}
<div class="scroll">{_buckets_table(models)}</div>

<h2>Model comparisons</h2>
<p class="note">Every pair once (model A before model B alphabetically): Fisher's exact two-sided test on the 2 × 2 table of majority-unsafe and
majority-OK <b>items</b> (ties left out), with Holm's correction across all {len(results.comparisons)} pairs.</p>
<div class="scroll">{_comparisons_table(results.comparisons)}</div>

<h2>Agreement between workers</h2>
<p class="note">Fleiss' κ and Krippendorff's α (nominal) over <b>items</b> with at least two labels, on the four buckets and on OK vs NOT OK.
1 = perfect agreement, 0 = what chance alone gives.</p>
{_agreement_chart(results)}
<div class="scroll">{agreement_table}</div>

<h2>Workers</h2>
<p class="note"><b>Gold accuracy</b>: share of a worker's answers to hidden gold items that got OK vs NOT OK right (all their gold answers, excluded or not).
<b>Flagged</b>: gold accuracy below {o.gold_threshold:g} after at least {o.min_gold} gold answers — a plain cut-off, the same rule as the live
gold check, not a significance test: with few gold answers an unlucky careful worker can be flagged, so treat the list as one to review.
Flagged workers still count unless the export excluded them. <b>Dawid–Skene</b> (from counted labels): error rate = P(answer ≠ true bucket);
false unsafe = P(NOT OK answer | reply OK); missed unsafe = P(OK answer | reply NOT OK). Red = flagged, grey = excluded.</p>
{_workers(results)}

<h2>Dawid–Skene</h2>
<p class="note">{ds_note} Per-item posteriors are in items.csv, per-worker confusion matrices in worker_confusion.csv.</p>

<h2>Most disputed items</h2>
{_viewer(results)}
<p class="note">Generated by humaneval analysis. CSV tables and summary.json sit next to this page.</p>
""")
