"""One self-contained HTML page for an ACUTE report: charts first, tables and conversations after.

No scripts, no external files (the page must open from an e-mail attachment, offline). Every string
that came from the input — model names, worker ids, reasons, dialogue text, questions — passes
through `html.escape`, because workers type whatever they like (ids and names in tables through
`analysis.report.html_parts.breakable`, so an over-long one cannot widen the page). Large studies are capped (worker
table, conversation viewer) and the page says where.
"""

from __future__ import annotations

import math
from analysis.report.escaping import escape

import numpy as np
import pandas as pd

from analysis.acute.grids import win_rate_grid
from analysis.acute.pairwise import PairTest
from analysis.acute.records import TIE_CODE, AcuteJudgements
from analysis.acute.statistics import AcuteResults, Comparison
from analysis.acute.verdict import order_limits, verdict
from analysis.report.charts import heatmap, histogram, scatter, strength_bars
from analysis.report.html_parts import (
    breakable,
    capped_names,
    card,
    fmt,
    not_enough_data,
    p_value,
    page,
    table,
    verdict_box,
    wide,
)
from analysis.acute.agreement import Agreement
from analysis.acute.ranking import BCA_BELOW_WORKERS
from analysis.stats.corrections import STAR_CORRECTION
from analysis.stats.intervals import wilson

MAX_WORKER_ROWS = 300
MAX_VIEWER_PAIRS = 150
MAX_JUDGEMENTS_PER_PAIR = 40
MAX_CHART_WORKERS = 3000


def _interval(ci: tuple[float, float]) -> str:
    """"[lo, hi]" to 3 decimals, or "—" for an interval that does not exist (a pair judged only as ties)."""
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if all(math.isfinite(x) for x in ci) else "—"


def _num(value: float, spec: str) -> str:
    """`value` in format `spec`, or "—" when it does not exist (NaN: a pair judged only as ties)."""
    return format(value, spec) if math.isfinite(value) else "—"


def _has_ties(comparison: Comparison) -> bool:
    return any(t.ties for t in comparison.pairs)


def _significance_html(comparison: Comparison) -> str:
    """The pairwise table; with ties it gains the tie count, the half-win rate with its interval, and says
    that the test and the two classic intervals are of the decisive judgements."""
    ties = _has_ties(comparison)
    rows = []
    for t in comparison.pairs:
        tie_count = f"<td>{t.ties:,}{f' <small>({t.both_bad:,} both bad)</small>' if t.both_bad else ''}</td>" if ties else ""
        half = f"<td>{t.win_rate_a:.1%}</td><td>{_interval(t.ci_win_rate)}</td>" if ties else ""
        rate = t.win_rate_a_decisive if ties else t.win_rate_a
        rows.append(
            "<tr>"
            f"<td class='t'>{breakable(t.model_a)}</td><td class='t'>{breakable(t.model_b)}</td>"
            f"<td>{t.wins_a:,}</td><td>{t.wins_b:,}</td>{tie_count}<td>{t.n:,}</td>{half}"
            f"<td>{_num(rate, '.1%')} <span class='stars'>{escape(t.stars)}</span></td>"
            f"<td>{_interval(t.ci_wilson)}</td><td>{_interval(t.ci_cp)}</td>"
            f"<td>{p_value(t.p_value)}</td><td>{p_value(t.p_holm)}</td><td>{p_value(t.p_bh)}</td>"
            f"<td>{_num(t.cohens_h, '+.3f')}</td><td>{fmt(t.n_for_80_power)}</td></tr>"
        )
    tie_head = "<th>ties</th>" if ties else ""
    half_head = "<th>A win rate (tie = ½)</th><th>95% CI (tie-aware)</th>" if ties else ""
    decisive = " (decisive)" if ties else ""
    head = (
        f"<tr><th class='t'>model A</th><th class='t'>model B</th><th>A wins</th><th>B wins</th>{tie_head}<th>n</th>{half_head}"
        f"<th>A win rate{decisive}</th><th>95% Wilson{decisive}</th><th>95% Clopper–Pearson{decisive}</th>"
        f"<th>p ({'sign test' if ties else 'exact'})</th><th>p Holm</th>"
        "<th>p BH</th><th>Cohen's h</th><th>n for 80% power</th></tr>"
    )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _ci_workers(comparison: Comparison, ci: tuple[float, float] | None) -> str:
    """A worker-bootstrap interval cell, or "not enough data: needs ..." when there were too few workers."""
    if ci is None:
        return str(not_enough_data(comparison.worker_bootstrap.requirement)) if comparison.worker_bootstrap else "—"
    return f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def _ci_plain(comparison: Comparison, ci: tuple[float, float] | None) -> str:
    """A vote-bootstrap interval cell, or "not enough data: ..." when its resamples cannot vary."""
    if ci is None:
        return str(not_enough_data(comparison.plain_bootstrap.requirement)) if comparison.plain_bootstrap else "—"
    return f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def _order_note(comparison: Comparison) -> str:
    """Why the ranking shows no intervals or possible ranks when the data give no full order; empty otherwise."""
    return "".join(f"<p class='note flag'>{escape(text)}</p>" for text in order_limits(comparison))


def _rank_set(rank_set: tuple[int, int] | None) -> str:
    return "—" if rank_set is None else _ranks(*rank_set)


def _ranking_html(comparison: Comparison) -> str:
    """The ranking table; with groups never compared with each other a "group" column says which group each rank
    is within."""
    ties = _has_ties(comparison)
    groups = comparison.ranking.groups
    group = {m: g + 1 for g, members in enumerate(groups) for m in members} if len(groups) > 1 else {}
    rows = "".join(
        f"<tr>{f'<td>{group[m.model]}</td>' if group else ''}<td>{m.rank}</td><td class='t'>{breakable(m.model)}</td>"
        f"<td>{m.strength:+.3f}</td><td>{m.elo:.0f}</td>"
        f"<td>{_ci_workers(comparison, m.ci_workers)}</td><td>{_ci_plain(comparison, m.ci_plain)}</td>"
        f"<td>{_rank_set(m.rank_set)}</td><td>{m.n:,}</td>{f'<td>{m.ties:,}</td>' if ties else ''}</tr>"
        for m in comparison.ranking.models
    )
    head = (f"<tr>{'<th>group</th><th>rank in group</th>' if group else '<th>rank</th>'}<th class='t'>model</th><th>strength</th>"
            "<th>Elo</th><th>95% CI (workers)</th><th>95% CI (plain)</th>"
            f"<th>possible ranks</th><th>judgements</th>{'<th>of them ties</th>' if ties else ''}</tr>")
    return wide(f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>")


def _ranks(r0: int, r1: int) -> str:
    return str(r0) if r0 == r1 else f"{r0}–{r1}"


def _score(t: PairTest) -> str:
    """"A : B", with the ties in brackets when there are any."""
    return f"{t.wins_a:,} : {t.wins_b:,}" + (f" ({t.ties:,})" if t.ties else "")


def _side_by_side(main: Comparison, alt: Comparison) -> str:
    """Ranking and pairwise tests with and without flagged workers, in one table each."""
    if alt.empty is not None:
        return (f"<p class='note'>Without the flagged workers: {not_enough_data(alt.empty.requirement)}. Every worker is "
                "flagged, so whether a conclusion rests on them cannot be checked here.</p>")
    other = {m.model: m for m in alt.ranking.models}
    rows = []
    for m in main.ranking.models:
        o = other.get(m.model)
        right = (f"<td>{o.rank}</td><td>{o.strength:+.3f}</td><td>{_ci_workers(alt, o.ci_workers)}</td>"
                 f"<td>{_rank_set(o.rank_set)}</td>") if o else "<td colspan='4'>—</td>"
        rows.append(f"<tr><td class='t'>{breakable(m.model)}</td><td>{m.rank}</td><td>{m.strength:+.3f}</td>"
                    f"<td>{_ci_workers(main, m.ci_workers)}</td><td>{_rank_set(m.rank_set)}</td>{right}</tr>")
    ranking = wide(
        "<table><thead><tr><th></th><th colspan='4'>all workers "
        f"({main.n_judgements:,} judgements, {main.n_workers:,} workers)</th><th colspan='4'>without flagged workers "
        f"({alt.n_judgements:,} judgements, {alt.n_workers:,} workers)</th></tr>"
        "<tr><th class='t'>model</th><th>rank</th><th>strength</th><th>95% CI (workers)</th><th>possible ranks</th>"
        "<th>rank</th><th>strength</th><th>95% CI (workers)</th><th>possible ranks</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    other_pairs = {(t.model_a, t.model_b): t for t in alt.pairs}
    prow = []
    for t in main.pairs:
        o = other_pairs.get((t.model_a, t.model_b))
        right = (f"<td>{_score(o)}</td><td>{o.win_rate_a:.1%} <span class='stars'>{escape(o.stars)}</span></td>"
                 f"<td>{p_value(o.p_holm)}</td>") if o else "<td colspan='3'>—</td>"
        prow.append(f"<tr><td class='t'>{breakable(t.model_a)}</td><td class='t'>{breakable(t.model_b)}</td>"
                    f"<td>{_score(t)}</td><td>{t.win_rate_a:.1%} <span class='stars'>{escape(t.stars)}</span></td>"
                    f"<td>{p_value(t.p_holm)}</td>{right}</tr>")
    score = "A : B (ties)" if _has_ties(main) else "A : B"
    rate = "A win rate (tie = ½)" if _has_ties(main) else "A win rate"
    pairs = (
        "<table><thead><tr><th colspan='2'></th><th colspan='3'>all workers</th><th colspan='3'>without flagged workers</th></tr>"
        f"<tr><th class='t'>model A</th><th class='t'>model B</th><th>{score}</th><th>{rate}</th><th>p Holm</th>"
        f"<th>{score}</th><th>{rate}</th><th>p Holm</th></tr></thead>"
        f"<tbody>{''.join(prow)}</tbody></table>"
    )
    return f"<h3>Ranking</h3>{ranking}<h3>Pairwise tests</h3><div class='scroll'>{pairs}</div>"


def _heatmap(results: AcuteResults) -> str:
    models = results.judgements.models
    wins, ties = results.main.wins, results.main.ties
    k = len(models)
    rate = win_rate_grid(models, wins, ties).to_numpy()
    ci = np.full((k, k, 2), np.nan)
    stars: dict[tuple[int, int], str] = {}
    index = {m: i for i, m in enumerate(models)}
    for t in results.main.pairs:
        i, j = index[t.model_a], index[t.model_b]
        # the cell shows the half-win rate, so its interval; without ties that is Wilson's
        lo, hi = t.ci_win_rate if t.ties else t.ci_wilson
        ci[i, j] = (lo, hi)
        ci[j, i] = (1 - hi, 1 - lo)
        if t.stars:
            stars[(i, j) if t.win_rate_a_decisive > 0.5 else (j, i)] = t.stars
    return heatmap(models, rate, wins + wins.T + ties, ci, stars)


def _viewer(results: AcuteResults) -> str:
    """Every judged pair (capped): the two conversations side by side, then each choice and reason."""
    j = results.judgements
    if not results.counted.any():
        return "<p class='note'>No judgements to show.</p>"
    # judgements per pair by counting codes, and the rows of the shown pairs only: sorting every counted row by
    # its pair took ~40 MB at a million judgements
    per_pair = np.bincount(j.pair[results.counted], minlength=len(j.pair_keys))
    unique = np.flatnonzero(per_pair)
    counts = per_pair[unique]
    has_dialogue = np.array([int(p) in j.dialogues for p in unique])
    shown = np.lexsort((-counts, ~has_dialogue))[:MAX_VIEWER_PAIRS]
    is_shown = np.zeros(len(j.pair_keys), dtype=bool)
    is_shown[unique[shown]] = True
    counted = np.flatnonzero(results.counted & is_shown[j.pair])  # in file order
    order = np.argsort(j.pair[counted], kind="stable")
    starts = np.zeros(len(j.pair_keys), dtype=np.int64)  # of each shown pair's rows in `order`, by pair code
    starts[is_shown] = np.cumsum(per_pair[is_shown]) - per_pair[is_shown]
    parts = []
    if unique.size > MAX_VIEWER_PAIRS:
        parts.append(f"<p class='note'>Showing {MAX_VIEWER_PAIRS} of {unique.size:,} judged pairs (those with conversations first, then the most judged). Every judgement is in the input files.</p>")
    if not has_dialogue.any():
        parts.append("<p class='note'>The records carry no conversations: pass <code>--pairings FILE</code> (or records with <code>dialogue_dicts</code>) to see them here.</p>")
    for u in shown.tolist():
        p = int(unique[u])
        rows = counted[order[starts[p] : starts[p] + counts[u]]]
        first = rows[0]
        ma, mb = j.models[j.model_a[first]], j.models[j.model_b[first]]
        wins_a = int((j.winner[rows] == j.model_a[first]).sum())
        ties = int(j.tie[rows].sum())
        run, pid = j.pair_keys[p]
        tie_note = f" <span class='note'>({ties} tie{'s' if ties != 1 else ''})</span>" if ties else ""
        head = (f"pair {breakable(pid)} <span class='note'>(run {breakable(run)})</span> — {breakable(ma)} "
                f"<span class='win'>{wins_a} : {len(rows) - wins_a - ties}</span> {breakable(mb)}{tie_note}")
        body = []
        dialogues = j.dialogues.get(p)
        if dialogues:
            body.append("<div class='dialogues'>")
            for d in dialogues:
                speakers = [s for s in d.get("speakers", []) if isinstance(s, str)]
                body.append(f"<div class='dialogue'><div class='note'>{' / '.join(breakable(s) for s in speakers)}</div>")
                for ctx in d.get("context", []) or []:
                    text = ctx.get("text", "") if isinstance(ctx, dict) else str(ctx)
                    body.append(f"<div class='turn note'>{breakable(text)}</div>")
                for turn in d["dialogue"]:
                    who = str(turn.get("id", ""))
                    cls = "turn bot" if who in (ma, mb) else "turn"
                    body.append(f"<div class='{cls}'><b>{breakable(who)}:</b> {breakable(turn.get('text', ''))}</div>")
                body.append("</div>")
            body.append("</div>")
        choices = "".join(
            f"<tr><td class='t'>{breakable(j.workers[j.worker[r]])}</td><td class='t'>{breakable(j.models[j.left[r]]) if j.left[r] >= 0 else '—'}</td>"
            f"<td class='t{' win' if j.winner[r] >= 0 else ''}'>{_chosen(j, r)}</td><td class='t wrap'>{breakable(j.reason_of(r))}</td></tr>"
            for r in rows[:MAX_JUDGEMENTS_PER_PAIR].tolist()
        )
        body.append(wide("<table><thead><tr><th class='t'>worker</th><th class='t'>left</th><th class='t'>chosen</th>"
                         f"<th class='t'>reason</th></tr></thead><tbody>{choices}</tbody></table>"))
        if len(rows) > MAX_JUDGEMENTS_PER_PAIR:
            body.append(f"<p class='note'>… and {len(rows) - MAX_JUDGEMENTS_PER_PAIR:,} more judgements of this pair.</p>")
        parts.append(f"<details class='pair'><summary>{head}</summary>{''.join(body)}</details>")
    return "".join(parts)


def _chosen(j: AcuteJudgements, r: int) -> str:
    """The viewer's "chosen" cell: the model, or "tie" / "both bad" in italics (they are not names)."""
    if j.winner[r] >= 0:
        return breakable(j.models[j.winner[r]])
    return "<i>tie</i>" if j.winner[r] == TIE_CODE else "<i>both bad</i>"


def _worker_chart(workers: pd.DataFrame) -> str:
    """Each worker: left-choice rate (x) against agreement with the others' majority (y); flagged in red.
    Above `MAX_CHART_WORKERS` every flagged worker is kept and the rest sampled."""
    x = workers["left_rate"].to_numpy(float)
    y = workers["agreement"].to_numpy(float)
    flagged = (workers["flags"] != "").to_numpy()
    names = workers["worker_id"].tolist()
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if ok.size > MAX_CHART_WORKERS:
        fl = ok[flagged[ok]][:MAX_CHART_WORKERS]
        rest = ok[~flagged[ok]]
        ok = np.concatenate([fl, np.random.default_rng(0).choice(rest, max(MAX_CHART_WORKERS - fl.size, 0), replace=False)])
    if ok.size == 0:  # no worker has an agreement (e.g. one judgement per pair): no empty frame
        return ""
    shown = sorted(ok.tolist(), key=lambda i: bool(flagged[i]))
    return scatter(x[shown], y[shown], ["#cb181d" if flagged[i] else "#3182bd" for i in shown], [names[i] for i in shown],
                   "share of choices on the left (0.5 = no side bias)", "agreement with the others",
                   radius=3.5, opacity=0.6, mid_lines=True)


def _workers(results: AcuteResults) -> str:
    w = results.workers
    shown = w.head(MAX_WORKER_ROWS)
    cols = ["worker_id", "judgements", "onboarding", "shared_judgements", "agreement", "agreement_p_holm",
            "left_rate", "left_p_holm", "median_seconds", "flags"]
    rows = table(shown[cols], {"worker_id", "onboarding", "flags"}, ["flag" if f else "" for f in shown["flags"]])
    note = (f"<p class='note'>Showing {MAX_WORKER_ROWS} of {len(w):,} workers (flagged first, then by judgements); all are in workers.csv.</p>"
            if len(w) > MAX_WORKER_ROWS else "")
    return f"<div>{_worker_chart(w)}</div>{note}<div class='scroll'>{rows}</div>"


def _width_sentence(main: Comparison) -> str:
    """"Worker intervals are on average X× as wide", or why there are no worker intervals."""
    if main.order_not_given:
        return ""
    if main.worker_bootstrap is not None:
        return f"Worker intervals and possible ranks: {not_enough_data(main.worker_bootstrap.requirement)}."
    ratio = main.ranking.variance_ratio
    if not math.isfinite(ratio):
        return ""
    return f"Worker intervals are on average {math.sqrt(ratio):.2f}× as wide."


def _worker_warning(main: Comparison) -> str:
    """A warning when every record carries one worker id: per-worker numbers then mean nothing."""
    if main.worker_bootstrap is not None and main.worker_bootstrap.rule.name == "MIN_DISTINCT_WORKER_IDS":
        return ("<p class='note flag'><b>Warning:</b> every judgement carries the same worker id. Did the export lose "
                "the worker ids? Worker intervals would have zero width and ranks would look certain; they are left "
                "out, and the worker checks below describe one id, not one person.</p>")
    return ""


def _strength_chart(main: Comparison) -> str:
    """The strength chart; left out without worker intervals (a zero-width bar would look certain)."""
    ranked = main.ranking.models
    if not ranked or any(m.ci_workers is None or m.rank_set is None for m in ranked):
        return ""
    return strength_bars([m.model for m in ranked], [m.strength for m in ranked], [m.ci_workers for m in ranked],
                         [m.ci_plain for m in ranked], [m.rank_set for m in ranked])


def _times_html(results: AcuteResults) -> str:
    th = results.options.thresholds
    t = results.times
    unknown = t.get("null_time", 0) + t.get("zero_seconds", 0)
    note = ""
    if unknown:
        note = (f" Time unknown for {unknown:,} of {int(results.counted.sum()):,} judgements ({t.get('null_time', 0):,} with a null time, "
                f"{t.get('zero_seconds', 0):,} lasting exactly 0 s, a placeholder); they are left out of this chart and of "
                "the \"too fast\" flag.")
    if results.times_insufficient is not None:
        return f"<p class='note'>Seconds per comparison: {not_enough_data(results.times_insufficient.requirement)}.{escape(note)}</p>"
    return (f"<p class='note'>Seconds per comparison (a unit's time split over its comparisons), median "
            f"{results.median_seconds:.1f} s; orange bars fall below the \"too fast\" threshold.{escape(note)}</p>"
            f"{histogram(results.seconds, th.min_seconds, 'seconds per comparison (log scale)', rows=results.counted)}")


def _agreement_html(results: AcuteResults) -> str:
    a = results.agreement
    if a.insufficient is not None:
        return f"<p class='note'>Agreement between workers: {not_enough_data(a.insufficient.requirement)}.</p>"
    return (f"<p class='note'>Over the {a.n_pairs_multi:,} conversation pairs judged by at least two workers: mean majority share "
            f"{fmt(a.mean_majority_share)} (1 = unanimous, 0.5 = split), Fleiss' κ {fmt(a.fleiss_kappa)}, Krippendorff's α "
            f"(nominal) {fmt(a.krippendorff_alpha)}{_alpha_interval(a)}. Low values are normal when models are close: workers can only agree on a "
            "difference that exists.</p>")


def _alpha_interval(a: Agreement) -> str:
    """" [lo, hi]" (95% bootstrap over pairs) when it exists."""
    low, high = a.alpha_ci
    return f" [{fmt(low)}, {fmt(high)}]" if math.isfinite(low) and math.isfinite(high) else ""


def _left_chosen_card(results: AcuteResults) -> str:
    pos = results.position
    if not pos.n:
        return "—"
    low, high = wilson(pos.left_chosen, pos.n)
    return f"{pos.left_rate:.1%} <small>[{float(low):.0%}, {float(high):.0%}]</small>"


def _position_html(results: AcuteResults) -> str:
    pos = results.position
    if pos.n == 0:
        return "<p class='note'>No judgements.</p>"
    left_out = (f" ({pos.ties_left_out:,} ties are left out here: they chose no side)" if pos.ties_left_out else "")
    raw = (f"<p class='note'>The left conversation was chosen in {pos.left_chosen:,} of {pos.n:,} decisive judgements{left_out} ({pos.left_rate:.1%}, "
           f"95% CI [{pos.ci_wilson[0]:.3f}, {pos.ci_wilson[1]:.3f}], exact binomial p = {p_value(pos.p_value)} against 0.5). "
           "This raw rate mixes side and model when a model was shown more often on one side, so the test of side bias is "
           "made <b>within model pairs</b>: per pair a 2×2 table (which model was on the left × which was chosen), "
           "Fisher's exact test per pair and the Cochran–Mantel–Haenszel test pooled over pairs (odds ratio &gt; 1 = the "
           "left model is favoured).</p>")
    if pos.stratified is not None:
        strat = f"<p class='note'>Side bias within model pairs: {not_enough_data(pos.stratified.requirement)} (a pair always shown in one order cannot separate side from model).</p>"
    else:
        strat = (f"<p class='note'>Within model pairs ({pos.pairs_both_ways} shown both ways): Mantel–Haenszel odds ratio "
                 f"{fmt(pos.mh_odds_ratio)}, Cochran–Mantel–Haenszel χ² = {fmt(pos.cmh_statistic)}, p = {p_value(pos.cmh_p)}.</p>")
    shown = pos.by_pair.rename(columns={"p_value": "p raw (exact)", "p_fisher": "p within pair (Fisher)"})
    return raw + strat + table(shown, {"model_a", "model_b"})


def _tie_share(main: Comparison) -> str:
    """"12.3% <small>(370, 120 both bad)</small>": the share of judgements that were ties."""
    ties = sum(t.ties for t in main.pairs)
    both_bad = sum(t.both_bad for t in main.pairs)
    detail = f"{ties:,}" + (f", {both_bad:,} both bad" if both_bad else "")
    return f"{ties / main.n_judgements:.1%} <small>({detail})</small>"


def _ties_note(main: Comparison) -> str:
    """How ties are counted on this page; empty without ties (nothing changes then)."""
    if not _has_ties(main):
        return ""
    return ("<p class='note'><b>Ties.</b> A tie (“tie” or “both bad”) counts as half a win for each model in every "
            "win rate and in the heatmap (Chatbot Arena's convention); its interval is a tie-aware score interval. "
            "The p-values are of the <b>sign test</b>: the exact binomial test of the decisive judgements alone (a tie "
            "shows no preference), so the Wilson and Clopper–Pearson intervals, Cohen's h and the power are of the "
            "decisive win rate, shown in its own column.</p>")


def _tie_model_note(main: Comparison) -> str:
    """How the ranking used ties: half wins, or Davidson's model with its ν."""
    r = main.ranking
    if r.tie_model == "davidson":
        nu = fmt(r.tie_parameter) if math.isfinite(r.tie_parameter) else "—"
        return (f" Ties enter through Davidson's tie model: P(tie) = ν√(π<sub>i</sub>π<sub>j</sub>) / (π<sub>i</sub> + π<sub>j</sub> + "
                f"ν√(π<sub>i</sub>π<sub>j</sub>)), fitted ν = {nu}.")
    return " A tie counts as half a win for each model." if _has_ties(main) else ""


def render_html(results: AcuteResults) -> str:
    """The report page as one string."""
    j = results.judgements
    main, alt = results.main, results.without_flagged
    th = results.options.thresholds
    a = results.agreement
    question = " | ".join(j.questions) or "(no judgements)"
    excluded = capped_names(results.excluded_workers, 100, "summary.json")
    flagged = capped_names(results.flagged_workers, 60, "workers.csv")
    cards = "".join([
        card(f"{main.n_judgements:,}", "judgements counted"),
        card(f"{main.n_workers:,}", "workers"),
        card(f"{len(j.models)}", "models"),
        *([card(f"{_tie_share(main)}", "ties (tie = ½ win)")] if _has_ties(main) else []),
        card(f"{len(results.excluded_workers):,}", "excluded (failed onboarding)"),
        card(f"{len(results.flagged_workers):,}", "flagged workers"),
        card(f"{fmt(a.krippendorff_alpha)} <small>{_alpha_interval(a).strip()}</small>" if a.insufficient is None else "—",
             "Krippendorff's α (95% bootstrap)"),
        card(_left_chosen_card(results), "left chosen, decisive only (95% Wilson)" if results.position.ties_left_out
             else "left chosen (95% Wilson)"),
    ])
    side_by_side = _side_by_side(main, alt)
    return page("ACUTE-Eval report", f"""<h1>ACUTE-Eval report</h1>
<p class="lead">Question: <b>{escape(question)}</b><br>Runs: {', '.join(breakable(r) for r in j.runs)}</p>
{verdict_box(verdict(results))}
<div class="cards">{cards}</div>
<p class="note">Onboarding comparisons ({int(j.is_onboarding.sum()):,}) are not counted. Workers who failed onboarding are excluded from every statistic: {excluded}.</p>

<h2 id="ranking">Ranking</h2>
<p class="note">Bradley–Terry strengths (log-odds, centred at 0; ridge {main.ranking.ridge:g}); Elo = 1000 + 400·strength / ln 10,
Chatbot Arena's scale (400 points = 10 : 1 odds).{_tie_model_note(main)} Dot = estimate; wide light bar = 95% interval from
resampling <b>workers</b> with all their votes ({main.ranking.rounds} rounds; BCa below {BCA_BELOW_WORKERS} workers, where the percentile interval under-covers); thin dark bar = 95% interval from resampling single votes, which
wrongly treats one worker's votes as independent. {_width_sentence(main)}
"Possible ranks" come from interval overlap: a model is placed below only those whose worker interval lies wholly above its own.</p>
{_worker_warning(main)}
{_order_note(main)}
{_strength_chart(main)}
{_ranking_html(main)}

<h2 id="significance">Who beats whom</h2>
<p class="note">Each cell: how often the <b>row</b> model was chosen over the <b>column</b> model{' (a tie counting half)' if _has_ties(main) else ''}, its 95%
{'tie-aware score' if _has_ties(main) else 'Wilson'} interval and the number of judgements. Stars use <b>{STAR_CORRECTION.capitalize()}</b>-adjusted p-values across all {len(main.pairs)} pairs (* &lt; .05, ** &lt; .01, *** &lt; .001); Benjamini–Hochberg
is in the table for reference. "n for 80% power" is the exact-binomial sample size that would detect the observed win rate.</p>
{_ties_note(main)}
{_heatmap(results)}
<div class="scroll">{_significance_html(main)}</div>

<h2 id="without-flagged">Without flagged workers</h2>
<p class="note">The same analysis without the {len(results.flagged_workers):,} flagged workers: {flagged}.
If a conclusion changes here, it rests on those workers.</p>
{side_by_side}

<h2 id="workers">Workers</h2>
<p class="note">Flags (Holm-adjusted across workers, so at most a {th.agreement_alpha:g} / {th.position_alpha:g} chance that any careful worker is flagged):
<b>low agreement</b> = agrees with the most given answer among the other judgements of the same pairs (a tie is an answer of its own) significantly less than the other workers do
(tested with ≥ {th.min_shared} shared judgements); <b>side bias</b> = left-choice rate differs from 0.5{' (ties left out: they chose no side)' if _has_ties(main) else ''}; <b>too fast</b> = median below {th.min_seconds:g} s
per comparison; <b>failed onboarding</b>. The chart places each worker by side bias (x) and agreement (y); red = flagged.</p>
{_workers(results)}

<h2 id="times">Time per comparison</h2>
{_times_html(results)}

<h2 id="agreement">Agreement between workers</h2>
{_agreement_html(results)}

<h2 id="position-bias">Position bias</h2>
{_position_html(results)}

<h2>Conversations and choices</h2>
{_viewer(results)}
<p class="note">Generated by humaneval analysis. CSV tables and summary.json sit next to this page.</p>
""")
