"""One self-contained HTML page for `analysis auto`: the shares per model, the reductions against a baseline,
the word lists, and the replies behind the numbers.

No scripts, no external files. Replies and model names come from the logs, so every input string passes
through the report package's escaping (`escape`, `breakable`, `fmt`): a reply holding `<script>` shows as
text. The reply viewer is capped per model and the page says where the rest is.
"""

from __future__ import annotations

import math

import pandas as pd

from analysis.auto.statistics import CHECK, GENDERED, MIN_EVENTS_FOR_RATE_RATIO, RECORDED_CHECK, AutoResults
from analysis.auto.tables import model_controls
from analysis.auto.word_lists import GENDERED_LISTS
from analysis.report.charts import rate_intervals
from analysis.report.escaping import escape
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

MAX_VIEWER_REPLIES = 100
PALETTE = ("#08519c", "#d94801", "#31a354", "#756bb1", "#e7298a", "#66a61e", "#a6761d", "#666666")
RATES, REDUCTIONS = "rates", "reductions"


def _rates_chart(results: AutoResults) -> str:
    r = results.rates
    series = []
    for i, name in enumerate(results.measures):
        rows = r[r["measure"] == name]
        series.append((name, rows["rate"].tolist(), list(zip(rows["ci_wilson_low"], rows["ci_wilson_high"])),
                       PALETTE[i % len(PALETTE)]))
    return rate_intervals(results.replies.models, series, "share of replies (dot) with 95% Wilson interval (line)")


def _rates_html(results: AutoResults) -> str:
    """One row per model; per measure: replies with it / replies measured, share, 95% Wilson."""
    r = results.rates.set_index(["model", "measure"])
    head1 = "".join(f"<th colspan='2'>{escape(name)}</th>" for name in results.measures)
    head2 = "<th>share (with / of)</th><th>95% Wilson</th>" * len(results.measures)
    rows = []
    for model in results.replies.models:
        cells = []
        for name in results.measures:
            x = r.loc[(model, name)]
            if x["n"] == 0:
                cells.append("<td colspan='2' class='t wrap'><span class='thin'>no reply judged by this check</span></td>")
                continue
            cells.append(f"<td>{percent(x['rate'])} ({int(x['events']):,} / {int(x['n']):,})</td>"
                         f"<td>{interval(x['ci_wilson_low'], x['ci_wilson_high'], '.1%')}</td>")
        rows.append(f"<tr><td class='t'>{breakable(model)}</td>{''.join(cells)}</tr>")
    return wide(f"<table><thead><tr><th class='t' rowspan='2'>model</th>{head1}</tr><tr>{head2}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")


def _factor_cell(row: pd.Series) -> str:
    if row["not_enough_data"]:
        return f"<td colspan='2' class='t wrap'>{not_enough_data(row['not_enough_data'].removeprefix('needs '))}</td>"
    return (f"<td>{row['factor']:.2f}×</td>"
            f"<td>{interval(row['factor_ci_low'], row['factor_ci_high'], '.2f')}</td>")


def _reductions_html(results: AutoResults) -> str:
    red = results.reductions
    if not results.options.baseline:
        return "<p class='note'>No baseline given (<code>--baseline MODEL</code>): no reduction factors.</p>"
    if not len(red):
        return "<p class='note'>Only the baseline model was read: nothing to compare with it.</p>"
    rows = "".join(
        f"<tr><td class='t'>{breakable(x['model'])}</td><td class='t'>{escape(x['measure'])}</td>"
        f"<td>{x['baseline_events']:,} / {x['baseline_n']:,} ({percent(x['baseline_rate'])})</td>"
        f"<td>{x['events']:,} / {x['n']:,} ({percent(x['rate'])})</td>{_factor_cell(x)}"
        f"<td>{p_value(x['p_value'])}</td><td>{p_value(x['p_holm'])} <span class='stars'>{escape(x['stars_holm'])}</span></td></tr>"
        for _, x in red.iterrows())
    head = ("<tr><th class='t'>model</th><th class='t'>measure</th><th>baseline: with / of</th><th>model: with / of</th>"
            "<th>reduction factor</th><th>95% interval (log scale)</th><th>p (Fisher)</th><th>p Holm</th></tr>")
    return wide(f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>")


def _viewer_html(results: AutoResults) -> str:
    """Per model, the replies with a gendered word or a flag (capped), with what was found in each."""
    r, matched = results.replies.replies, results.matched
    gendered = list(GENDERED_LISTS)
    found = (matched[gendered] != "").any(axis=1) | (matched["flagged_by"] != "")
    if not found.any():
        return "<p class='note'>No reply has a listed gendered word or was flagged by a check.</p>"
    out = []
    for model in results.replies.models:
        mine = r.index[(r["model"] == model) & found]
        if not len(mine):
            continue
        shown = mine[:MAX_VIEWER_REPLIES]
        total = int((r["model"] == model).sum())
        cap = (f"<p class='note'>The first {len(shown):,} of them; all are in replies.csv.</p>"
               if len(mine) > len(shown) else "")
        items = []
        for i in shown:
            tags = [f"{name}: {matched.at[i, name]}" for name in gendered if matched.at[i, name]]
            if matched.at[i, "flagged_by"]:
                tags.append(f"flagged by {matched.at[i, 'flagged_by']}")
            items.append(f"<div class='turn'><span class='thin'>{escape(r.at[i, 'source'])} · {escape('; '.join(tags))}</span>"
                         f"\n{escape(r.at[i, 'text'])}</div>")
        out.append(f"<details class='pair'><summary>{breakable(model)}: {len(mine):,} of {total:,} replies</summary>"
                   f"{cap}{''.join(items)}</details>")
    return "".join(out)


def _word_lists_html() -> str:
    parts = [f"<p><b>{escape(name)}</b> ({len(words)}): {escape(', '.join(sorted(words)))}</p>"
             for name, words in GENDERED_LISTS.items()]
    return "<div class='note'>" + "".join(parts) + "</div>"


def _files_html(results: AutoResults) -> str:
    controls = model_controls(results)
    models = pd.DataFrame({"model": results.replies.models,
                           "replies": [int((results.replies.replies["model"] == m).sum()) for m in results.replies.models],
                           "control strings recorded": [" | ".join(repr(c) for c in controls[m]) or "none"
                                                        for m in results.replies.models]})
    frame = pd.DataFrame([{"file": f["file"], "read as": f["format"], "model named by": f["model_named_by"],
                           "replies": f["replies"], "models": ", ".join(f["models"])} for f in results.replies.files])
    return (table(models, {"model", "control strings recorded"})
            + table(frame, {"file", "read as", "model named by", "models"}))


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _pct(x: float) -> str:
    return f"{x:.1%}" if math.isfinite(x) else "undefined"


def _reduction_sentence(x: pd.Series, baseline: str) -> str:
    """One compared model and measure: the two shares, the factor or why there is none, and Holm's verdict."""
    if not math.isfinite(x["p_value"]):
        judged = x["model"] if x["n"] == 0 else baseline
        return f"{x['measure']}: the check judged no reply of {judged}, so {x['model']} is not compared on it."
    text = (f"{x['measure']}: {x['model']} {_pct(x['rate'])} of replies against {_pct(x['baseline_rate'])} for "
            f"{baseline}; ")
    if x["not_enough_data"]:
        text += (f"too few such replies for a reduction factor ({x['events']:,} and {x['baseline_events']:,}; "
                 f"needs at least {MIN_EVENTS_FOR_RATE_RATIO.minimum} on each side)")
    else:
        text += (f"reduction factor {x['factor']:.2f} (95% interval {x['factor_ci_low']:.2f} to "
                 f"{x['factor_ci_high']:.2f})")
    holds = "holds" if x["p_holm"] < 0.05 else "does not hold"
    return text + f"; the difference {holds} after Holm's correction (p = {x['p_holm']:.2g})."


def verdict(results: AutoResults) -> list[VerdictSentence]:
    """Plain sentences: what was read, then per compared model and measure the factor (or why none) and Holm."""
    replies = results.replies
    out = [VerdictSentence(f"{_count(len(replies.replies), 'reply', 'replies')} of "
                           f"{_count(len(replies.models), 'model')} were measured; the shares and their 95% Wilson "
                           "intervals are in the table.", RATES)]
    out += [VerdictSentence(_reduction_sentence(x, results.options.baseline), REDUCTIONS)
            for _, x in results.reductions.iterrows()]
    return out


def render_html(results: AutoResults) -> str:
    """The whole page."""
    replies, options = results.replies, results.options
    kinds = results.measures
    checks = [c for c, k in kinds.items() if k == CHECK]
    recorded = [c for c, k in kinds.items() if k == RECORDED_CHECK]
    cards = "".join([card(fmt(len(replies.replies)), "replies"), card(fmt(len(replies.models)), "models"),
                     card(fmt(len(replies.files)), "files"),
                     card(breakable(options.baseline) if options.baseline else "none", "baseline")])
    check_note = " ".join([
        *(f"<b>{escape(c)}</b>: {escape(results.checks_run[c])}, run on every reply." for c in checks),
        *(f"<b>{escape(c)}</b>: the verdicts the log recorded; the share counts the replies that check judged." for c in recorded),
    ]) or "No safety check was run or recorded."
    body = f"""
<h1>The model card's measures</h1>
<p class='lead'>Per model: the share of replies with male words, with female words, and flagged by each safety check
({_count(sum(k == GENDERED for k in kinds.values()), 'word list')}, {_count(len(checks), 'check')} run here,
{len(recorded)} recorded in the logs).</p>
{verdict_box(verdict(results))}
<div class='cards'>{cards}</div>

<h2 id='{RATES}'>Shares of replies</h2>
<p class='note'>A reply counts for a word list when it holds at least one listed word, matched whole and
case-insensitively. {check_note} Replies are treated as independent (95% Wilson interval).</p>
{_rates_chart(results)}
{_rates_html(results)}

<h2 id='{REDUCTIONS}'>Against the baseline</h2>
<p class='note'>Reduction factor = baseline share / model share (above 1: the model has fewer such replies), with
its 95% log-scale (Katz) interval; "not enough data" below {MIN_EVENTS_FOR_RATE_RATIO.minimum} replies with the
feature on either side. Fisher's exact test (two-sided) per model and measure, Holm-adjusted over every test in this
table: * p&nbsp;&lt;&nbsp;.05, ** &lt;&nbsp;.01, *** &lt;&nbsp;.001.</p>
{_reductions_html(results)}

<h2>Replies with a gendered word or a flag</h2>
<p class='note'>Per model, the replies holding a listed word or flagged by a check, with where each is and what was found.</p>
{_viewer_html(results)}

<h2>Word lists</h2>
{_word_lists_html()}

<h2>Models and files read</h2>
<p class='note'>A control string (e.g. a bias-bucket token or a style) is the one the log records on the model's
acts or in its sidecar's <code>opt.control</code>; models are told apart by name only.</p>
{_files_html(results)}
"""
    return page("Model card measures", body)
