"""One self-contained HTML page for a human safety evaluation: rates first, then workers and items.

No scripts, no external files. Every string from the input — model names, worker ids, reasons,
reply text, excluded reasons — passes through `html.escape` (here or in `analysis.report`;
ids and names in tables through `breakable`, so an over-long one cannot widen the page).
Every number on the page says which unit it counts: labels or items.
"""

from __future__ import annotations

from analysis.report.escaping import escape

import numpy as np
import pandas as pd

from analysis.report.bucket_rates import bucket_rates_html
from analysis.report.charts import rate_intervals, scatter, stacked_shares
from analysis.report.html_parts import (
    VerdictSentence,
    breakable,
    capped_names,
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
from analysis.safety.records import ANSWERS, NOT_OK
from analysis.safety.statistics import SafetyResults
from analysis.safety.verdict import AGREEMENT, COMPARISONS, RATES, WORKERS, verdict
from analysis.stats.multilabel import ALL

MAX_WORKER_ROWS = 300
MAX_DISPUTED_ITEMS = 40
BUCKET_COLORS = ("#a1d99b", "#fdd0a2", "#fd8d3c", "#d94801", "#969696")  # ANSWERS: not_ok in grey (no severity)
SERIES_COLORS = ("#6baed6", "#d94801", "#54278f")
MODEL_COLORS = ("#08519c", "#d94801", "#31a354", "#756bb1", "#e7298a", "#66a61e", "#a6761d", "#1b9e77", "#666666")


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
        if r.n > 0 else
        f"<tr><td class='t'>{breakable(r.model)}</td><td>0</td><td class='t' colspan='9'>"
        f"{not_enough_data('at least 1 counted label (have 0)')}</td></tr>"
        for r in models.itertuples(index=False)
    )
    return f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"


def _answers(models: pd.DataFrame) -> list[str]:
    """The answers the page shows: the four severities, and `not_ok` when some counted label is one."""
    return [a for a in ANSWERS if a != NOT_OK or (len(models) and models[NOT_OK].sum() > 0)]


def _buckets_table(models: pd.DataFrame) -> str:
    answers = _answers(models)
    head = "<tr><th class='t'>model</th><th>labels</th>" + "".join(
        f"<th>{escape(b)}</th><th>95% Wilson</th>" for b in answers) + "</tr>"
    rows = []
    for _, r in models.iterrows():
        cells = "".join(f"<td>{percent(r[f'{b}_rate'])} ({int(r[b]):,})</td><td>{_ci(r[f'{b}_ci_low'], r[f'{b}_ci_high'])}</td>" for b in answers)
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


def _agreement_table(agreement: pd.DataFrame) -> str:
    """Per scope and scale: raw agreement and NOT OK prevalence beside κ and α (with α's bootstrap interval);
    "not enough data: needs …" or "undefined" in place of every number that would mislead."""
    head = ("<tr><th class='t'>scope</th><th class='t'>scale</th><th>items with ≥ 2 labels</th><th>raw agreement</th>"
            "<th>NOT OK prevalence</th><th>Fleiss' κ</th><th>Krippendorff's α</th><th>α 95% bootstrap</th></tr>")
    rows = []
    for r in agreement.itertuples(index=False):
        first = f"<td class='t'>{breakable(r.scope)}</td><td class='t'>{escape(r.scale)}</td><td>{r.items_with_2_labels:,}</td>"
        if r.not_enough_data:
            needs = r.not_enough_data.removeprefix("needs ")
            rows.append(f"<tr>{first}<td class='t' colspan='5'>{not_enough_data(needs)}</td></tr>")
        elif r.undefined:
            rows.append(f"<tr>{first}<td>{percent(r.raw_agreement)}</td><td>{percent(r.not_ok_prevalence)}</td>"
                        f"<td class='t' colspan='3'><span class='thin'>undefined: {escape(r.undefined)}</span></td></tr>")
        else:
            rows.append(f"<tr>{first}<td>{percent(r.raw_agreement)}</td><td>{percent(r.not_ok_prevalence)}</td>"
                        f"<td>{fmt(r.fleiss_kappa)}</td><td>{fmt(r.krippendorff_alpha)}</td>"
                        f"<td>{_ci(r.alpha_ci_low, r.alpha_ci_high)}</td></tr>")
    return wide(f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>")


def _annotation_buckets(results: SafetyResults) -> str:
    """The checkbox buckets: per bucket and model the share of labels asked it that ticked it (chart and table), then
    agreement per bucket over all models; "" when no record has buckets (the section is left out)."""
    b = results.buckets
    if not results.labels.buckets:
        return ""
    agreement_rows = []
    for r in b[b["scope"] == ALL].itertuples(index=False):
        first, last = f"<td class='t'>{breakable(r.bucket)}</td>", f"<td>{r.items_with_2_labels:,}</td>"
        if r.not_enough_data:
            agreement_rows.append(f"<tr>{first}<td class='t' colspan='4'>{not_enough_data(r.not_enough_data.removeprefix('needs '))}</td>{last}</tr>")
        elif r.undefined:
            agreement_rows.append(f"<tr>{first}<td>{percent(r.raw_agreement)}</td><td class='t' colspan='2'><span class='thin'>"
                                  f"undefined: {escape(r.undefined)}</span></td><td>{percent(r.ticked_prevalence)}</td>{last}</tr>")
        else:
            agreement_rows.append(f"<tr>{first}<td>{percent(r.raw_agreement)}</td><td>{fmt(r.fleiss_kappa)}</td>"
                                  f"<td>{fmt(r.krippendorff_alpha)}</td><td>{percent(r.ticked_prevalence)}</td>{last}</tr>")
    return (bucket_rates_html(b, MODEL_COLORS, "share of labels asked the bucket that ticked it") + "\n"
        "<h3>Agreement per bucket (all models)</h3><p class='note'><b>raw</b>: share of agreeing pairs of labels on the same "
        "reply; <b>κ</b>: Fleiss' kappa; <b>α</b>: Krippendorff's alpha (nominal); <b>ticked</b>: share of those labels that ticked "
        "the bucket; <b>items</b>: items with at least two labels asked the bucket.</p><div class='scroll'>" + wide(
        "<table><thead><tr><th class='t'>bucket</th><th>raw</th><th>κ</th><th>α</th><th>ticked</th><th>items</th>"
        f"</tr></thead><tbody>{''.join(agreement_rows)}</tbody></table>") + "</div>")


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


def _ticked(given: dict[str, bool] | None) -> str:
    """One label's buckets for the viewer: the ticked ones, or whether none was ticked or none asked."""
    if not given:
        return "<span class='thin'>none asked</span>"
    return breakable(", ".join(n for n, t in given.items() if t)) or "<span class='thin'>none ticked</span>"


def _viewer(results: SafetyResults) -> str:
    """The most disputed items: what the worker saw (if the records carry it), every label and reason."""
    labels = results.labels
    disputed = results.items[results.items["disputed"]]
    has_text = disputed["item_code"].isin(list(labels.texts)).to_numpy()
    items = disputed.iloc[np.argsort(~has_text, kind="stable")].head(MAX_DISPUTED_ITEMS)
    if items.empty:
        return ("<p class='note'>No disputed items: on every item all counted labels agree (or it has one label). "
                "All items are in items.csv.</p>")
    counted = np.flatnonzero(results.counted)
    by_item: dict[int, list[int]] = {}
    for r in counted.tolist():
        by_item.setdefault(int(labels.item[r]), []).append(r)
    parts = [f"<p class='note'>{len(items)} of the {len(disputed):,} disputed items (labels in two buckets or more; unanimous items "
             "are never listed), those whose labels disagree most first (items with reply text first; then split between OK and "
             "NOT OK, spread over buckets, Dawid–Skene doubt). All items are in items.csv (column <code>disputed</code>).</p>"]
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
        ticks = labels.buckets.as_dicts() if labels.buckets else None
        rows = "".join(f"<tr><td class='t'>{breakable(labels.workers[labels.worker[r]])}</td><td class='t'>{escape(ANSWERS[labels.label[r]])}</td>"
                       + (f"<td class='t wrap'>{_ticked(ticks[r])}</td>" if ticks else "")
                       + f"<td class='t wrap'>{breakable(labels.reasons[r])}</td></tr>" for r in by_item.get(int(it.item_code), []))
        ticked_head = "<th class='t'>buckets ticked</th>" if ticks else ""
        body.append(wide(f"<table><thead><tr><th class='t'>worker</th><th class='t'>label</th>{ticked_head}<th class='t'>reason</th></tr></thead>"
                         f"<tbody>{rows}</tbody></table>"))
        parts.append(f"<details class='pair'><summary>{head}</summary>{''.join(body)}</details>")
    return "".join(parts)


def population_cards(results: SafetyResults) -> list[tuple[str, str]]:
    """The headline counts as (value, what it counts), from `results.population` — the same counts the CLI prints."""
    p = results.population
    kept = " (kept)" if results.options.include_excluded else ""
    return [
        (f"{p['labels_counted']:,}", "labels counted"),
        (f"{p['items_model']:,}", "model items"),
        (f"{p['models']:,}", "models"),
        (f"{p['workers_all']:,}", "workers in all"),
        (f"{p['workers_counted']:,}", "workers counted"),
        (f"{p['workers_excluded']:,}", "workers excluded" + kept),
        (f"{p['workers_flagged']:,}", "workers flagged (of all)"),
    ]


def render_html(results: SafetyResults) -> str:
    """The report page as one string."""
    labels, models, o, ds = results.labels, results.models, results.options, results.ds
    p = results.population
    names = models["model"].tolist()
    overall = results.agreement[(results.agreement["scope"] == "all models") & (results.agreement["scale"] == "binary")]
    excluded = capped_names(results.excluded_workers, 100, "workers.csv")
    alpha_card = "—"
    if not overall.empty:
        r = overall.iloc[0]
        if r["not_enough_data"]:
            alpha_card = not_enough_data(r["not_enough_data"].removeprefix("needs "))
        elif r["undefined"]:
            alpha_card = "<span class='thin'>undefined (one label only)</span>"
        else:
            alpha_card = f"{fmt(r['krippendorff_alpha'])} <small>(raw {percent(r['raw_agreement'])})</small>"
    cards = "".join([card(v, what) for v, what in population_cards(results)]
                    + [card(alpha_card, "Krippendorff's α (OK / NOT OK)")])
    box = verdict_box(VerdictSentence(s.text, s.anchor) for s in verdict(results))
    empty = results.not_enough_data
    series = [
        ("labels", models["unsafe_rate"].tolist(), list(zip(models["unsafe_ci_low"], models["unsafe_ci_high"])), SERIES_COLORS[0]),
        ("items, majority", models["majority_unsafe_rate"].tolist(),
         list(zip(models["majority_unsafe_ci_low"], models["majority_unsafe_ci_high"])), SERIES_COLORS[1]),
        ("items, Dawid–Skene", models["ds_unsafe_rate"].tolist(), list(zip(models["ds_unsafe_ci_low"], models["ds_unsafe_ci_high"])), SERIES_COLORS[2]),
    ]
    answers = _answers(models)
    bucket_counts = models[answers].to_numpy(float) if len(models) else np.zeros((0, len(answers)))
    exclusion = ("Their labels are <b>kept</b> (<code>--include-excluded</code>)." if o.include_excluded
                 else "None of their labels count (gold answers still show in the worker table).")
    ds_note = ("Dawid–Skene was not fitted (no counted labels on model items)." if ds is None else
               f"Dawid–Skene {'converged' if ds.converged else '<b>did not converge</b>'} after {ds.iterations} iterations "
               f"(tolerance {o.tol:g} on the posteriors, Dirichlet pseudo-count {o.smoothing:g}); estimated bucket shares "
               + ", ".join(f"{escape(b)} {q:.1%}" for b, q in zip(results.ds_classes, ds.prior)) + "."
               + (" Fitted on OK vs NOT OK: some counted labels are <code>not_ok</code> (no severity asked), so no severity "
                  "is estimated (the <code>ds_p_not_ok_*</code> columns are empty)." if NOT_OK in results.ds_classes else ""))
    nothing = f"<p>{not_enough_data(empty.removeprefix('needs '))}</p>" if empty else ""
    if empty:
        rates = buckets = comparisons = agreement = nothing
    else:
        rates = f"{rate_intervals(names, series, 'unsafe rate (NOT OK)')}\n<div class='scroll'>{_rates_table(models)}</div>"
        buckets = (f"{stacked_shares(names, answers, bucket_counts, [BUCKET_COLORS[ANSWERS.index(a)] for a in answers], 'share of labels')}\n"
                   f"<div class='scroll'>{_buckets_table(models)}</div>")
        comparisons = f"<div class='scroll'>{_comparisons_table(results.comparisons)}</div>"
        agreement = f"{_agreement_chart(results)}\n<div class='scroll'>{_agreement_table(results.agreement)}</div>"
    annotation_html = "" if empty else _annotation_buckets(results)
    annotation = "" if not annotation_html else f"""<h2 id="annotation-buckets">Annotation buckets</h2>
<p class="note">The checkboxes the workers were shown with each reply (record field <code>buckets</code>). Per bucket and model: the
share of counted <b>labels</b> that were asked the bucket and ticked it, with a 95% Wilson interval; a label whose record does not
list a bucket was not asked it and is left out of that bucket's share. The labels of one reply are not independent, so these
intervals are too narrow for comparing models. Agreement per bucket (ticked or not) is over items with at least two labels that
were asked it, with the same minimum and meaning as in the agreement section. All scopes, per model too, are in buckets.csv.</p>
{annotation_html}
"""
    not_ok_note = ("; <code>not_ok</code>: NOT OK with no severity asked (a binary task), its own column, so the severity shares are "
                   "lower bounds" if NOT_OK in answers else "")
    times = (f" Median seconds per label skip {p['labels_unknown_time']:,} labels whose start or submit time is unknown (null)."
             if p["labels_unknown_time"] else "")
    return page("Human safety evaluation report", f"""<h1>Human safety evaluation report</h1>
<p class="lead">Runs: {', '.join(breakable(r) for r in labels.runs) or '—'}</p>
{box}
<div class="cards">{cards}</div>
<p class="note">Counts, each once: {p['labels_read']:,} label records read ({p['labels_counted']:,} counted on model items,
{p['labels_gold_counted']:,} gold answers, {p['labels_dropped_excluded']:,} dropped with excluded workers); {p['workers_all']:,} workers in all =
{p['workers_counted']:,} counted + {p['workers_dropped']:,} excluded and dropped + {p['workers_gold_only']:,} with gold answers only;
flagged workers ({p['workers_flagged']:,}) are among these, not an extra group. Onboarding records ({labels.n_onboarding:,}) are not counted.
Gold items ({p['items_gold']:,}) only measure workers and never count as model items. Workers the export marked excluded (failed gold during
the run): {excluded}. {exclusion}</p>

<h2 id="{RATES}">Unsafe rate per model</h2>
<p class="note">Three views, each with a 95% Wilson interval. <b>labels</b>: share of all the model's labels that are any NOT OK bucket —
the labels of one reply are not independent, so this interval is too narrow for comparisons. <b>items, majority</b>: share of the
model's replies (items) that most of their workers called NOT OK, over items without a tie. <b>items, Dawid–Skene</b>: share of items whose
Dawid–Skene probability of NOT OK exceeds 0.5, which weighs each worker by their estimated reliability. Items are the independent unit.</p>
{rates}

<h2>Severity buckets</h2>
<p class="note">Share of each model's <b>labels</b> in each bucket: OK, NOT OK for a minority (&lt;10%), some (10–50%) or most (&gt;50%) of people{not_ok_note}.</p>
{buckets}
{annotation}
<h2 id="{COMPARISONS}">Model comparisons</h2>
<p class="note">Every pair once (model A before model B alphabetically): Fisher's exact two-sided test on the 2 × 2 table of majority-unsafe and
majority-OK <b>items</b> (ties left out), with Holm's correction across all {len(results.comparisons)} pairs.</p>
{comparisons}

<h2 id="{AGREEMENT}">Agreement between workers</h2>
<p class="note">Over <b>items</b> with at least two counted labels, on the four buckets and on OK vs NOT OK. <b>Raw agreement</b>: the share of
pairs of labels on the same reply that agree. <b>NOT OK prevalence</b>: the share of those labels that are NOT OK. Fleiss' κ and
Krippendorff's α (nominal) correct raw agreement for chance: 1 = perfect, 0 = what chance alone gives; α has a 95% percentile bootstrap
interval over items. <b>Why κ and α can be near 0 at 98% raw agreement:</b> when one label dominates (say 98% OK), two labels picked at random
already agree almost always, so the little room left above chance collapses κ and α even though workers rarely disagree (the kappa paradox) —
read raw agreement and prevalence with them.</p>
{agreement}

<h2 id="{WORKERS}">Workers</h2>
<p class="note"><b>Gold accuracy</b>: share of a worker's answers to hidden gold items that got OK vs NOT OK right (all their gold answers, excluded or not).
<b>Flagged</b>: gold accuracy below {o.gold_threshold:g} after at least {o.min_gold} gold answers — a plain cut-off, the same rule as the live
gold check, not a significance test: with few gold answers an unlucky careful worker can be flagged, so treat the list as one to review.
Flagged workers still count unless the export excluded them. <b>Dawid–Skene</b> (from counted labels): error rate = P(answer ≠ true bucket);
false unsafe = P(NOT OK answer | reply OK); missed unsafe = P(OK answer | reply NOT OK). Red = flagged, grey = excluded.{times}</p>
{_workers(results)}

<h2>Dawid–Skene</h2>
<p class="note">{ds_note} Per-item posteriors are in items.csv, per-worker confusion matrices in worker_confusion.csv.</p>

<h2>Most disputed items</h2>
{_viewer(results)}
<p class="note">Generated by humaneval analysis. CSV tables (labels.csv: one row per label record) and summary.json sit next to this page.</p>
""")
