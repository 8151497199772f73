"""The verdict of an ACUTE report: a few plain sentences, generated from the numbers, each naming the table
it rests on. Pure data (no HTML): `report.py` renders them with `html_parts.verdict_box`, `tables.py`
writes their text into summary.json (`verdict`).

What it says, in order:
1. the ranking (best first), with the possible ranks when the worker bootstrap had enough workers; when the data
   do not give a full order (groups never compared with each other, perfect separation) it says so instead;
2. which pairwise differences hold after the Holm correction over all pairs;
3. what the data cannot tell yet, and how many judgements would settle it: for a pair that is not
   significant, the exact-binomial n for 80% power at the observed win rate at the level α/m (m pairs),
   the level a pair must reach to survive Holm whatever the other pairs do (`analysis.stats.power`);
4. reconciliation: when no pair survives Holm but a model's worker-bootstrap interval excludes 0, both
   are true — a pairwise test asks whether one model beats another on that pair's judgements (and pays
   for m tests), the strength asks whether a model beats the average of all, on all its judgements;
5. worker quality: excluded and flagged workers, and whether the ranking changes without the flagged;
6. what is left out for lack of data (the `analysis.stats.sufficiency` messages).

With ties, the pair sentences give the decisive counts the sign test used and the ties next to them,
and one sentence says how ties were counted (and Davidson's ν when that model ranked them). Without
ties every sentence reads as it always did.
"""

from __future__ import annotations

import math

from analysis.acute.statistics import AcuteResults, Comparison
from analysis.report.html_parts import VerdictSentence
from analysis.stats.power import n_for_power

ALPHA = 0.05
POWER = 0.8
#: undecided pairs named one by one; the rest are counted
MAX_UNDECIDED_NAMED = 5

#: ids of the report's sections the sentences link to
ANCHOR_RANKING = "ranking"
ANCHOR_PAIRS = "significance"
ANCHOR_WITHOUT_FLAGGED = "without-flagged"
ANCHOR_WORKERS = "workers"
ANCHOR_AGREEMENT = "agreement"
ANCHOR_POSITION = "position-bias"
ANCHOR_TIMES = "times"


def _ranks(rank_set: tuple[int, int]) -> str:
    return str(rank_set[0]) if rank_set[0] == rank_set[1] else f"{rank_set[0]}–{rank_set[1]}"


def _order(models: list) -> str:
    """'a, b = c': best first; models of equal strength share a rank, never an order the data do not give."""
    return ", ".join(" = ".join(m.model for m in models if m.rank == rank) for rank in sorted({m.rank for m in models}))


def order_limits(main: Comparison) -> list[str]:
    """What order the data do not give (groups never compared, perfect separation), in plain sentences; shared
    by the verdict and the ranking section."""
    r = main.ranking
    out = []
    if len(r.groups) > 1:
        groups = "; ".join("{" + ", ".join(g) + "}" for g in r.groups)
        out.append(f"The models fall into {len(r.groups)} groups never compared with each other: {groups}; their order "
                   "across groups is not given by the data, so ranks are within each group and no interval or possible "
                   "rank is shown.")
    if r.separations:
        out.append(f"Strength not estimable: {'; '.join(r.separations)} — perfect separation, so the maximum-likelihood "
                   f"strengths are infinitely apart and the values shown are set by the ridge ({r.ridge:g}), not by the "
                   "data; no interval or possible rank is shown. The pairwise tests say which of these differences hold.")
    return out


def _ranking_sentences(main: Comparison) -> list[VerdictSentence]:
    r = main.ranking
    models = r.models
    if len(r.groups) > 1:
        by_group = "; ".join(f"group {g + 1}: {_order([m for m in models if m.model in set(members)])}"
                             for g, members in enumerate(r.groups))
        out = [VerdictSentence(f"Ranking by Bradley–Terry strength within each group, best first — {by_group}.", ANCHOR_RANKING)]
    else:
        out = [VerdictSentence(f"Ranking by Bradley–Terry strength, best first: {_order(models)}.", ANCHOR_RANKING)]
    out += [VerdictSentence(text, ANCHOR_RANKING) for text in order_limits(main)]
    if main.order_not_given:
        return out
    if main.worker_bootstrap is not None:
        out.append(VerdictSentence(
            f"Worker-bootstrap intervals and possible ranks are left out — {main.worker_bootstrap.message}; "
            "how certain the order is cannot be told from this study.", ANCHOR_RANKING))
    elif all(m.rank_set is not None for m in models) and models:
        settled = [m.model for m in models if m.rank_set[0] == m.rank_set[1]]
        ranks = "; ".join(f"{m.model} {_ranks(m.rank_set)}" for m in models)
        if len(settled) == len(models):
            out.append(VerdictSentence(f"Every model's rank is settled by the worker intervals: {ranks}.", ANCHOR_RANKING))
        else:
            out.append(VerdictSentence(f"Possible ranks from the worker intervals: {ranks}.", ANCHOR_RANKING))
    return out


def _tie_sentences(main: Comparison) -> list[VerdictSentence]:
    """How many judgements are ties and how they were counted; nothing without ties."""
    out: list[VerdictSentence] = []
    ties, both_bad = sum(t.ties for t in main.pairs), sum(t.both_bad for t in main.pairs)
    if ties:
        nu = main.ranking.tie_parameter
        fitted = f"ν = {nu:.2f}" if math.isfinite(nu) else "ν cannot be estimated: no judgement is decisive"
        counted = ("win rates count a tie as half a win for each model and the ranking uses Davidson's tie model "
                   f"({fitted})" if main.ranking.tie_model == "davidson"
                   else "win rates and the ranking count a tie as half a win for each model")
        out.append(VerdictSentence(
            f"{ties:,} of {main.n_judgements:,} judgements ({ties / main.n_judgements:.0%}) are ties"
            + (f" ({both_bad:,} of them “both bad”)" if both_bad else "")
            + f"; {counted}; the pairwise sign tests use the decisive judgements only.", ANCHOR_PAIRS))
    return out


def _pair_sentences(main: Comparison) -> list[VerdictSentence]:
    pairs = main.pairs
    m = sum(1 for t in pairs if t.n_decisive)  # the pairs tested (a pair of ties only has no sign test)
    if not pairs:
        return []
    out = []
    significant = [t for t in pairs if t.p_holm < ALPHA]
    for t in significant:
        decided = t.win_rate_a_decisive
        win, lose, rate, wins = ((t.model_a, t.model_b, decided, t.wins_a) if decided > 0.5
                                 else (t.model_b, t.model_a, 1 - decided, t.wins_b))
        of = f"{t.n_decisive} decisive judgements ({rate:.0%}; {t.ties} ties)" if t.ties else f"{t.n} judgements ({rate:.0%})"
        out.append(VerdictSentence(
            f"{win} beats {lose}: chosen in {wins} of {of}, Holm-adjusted p = "
            f"{t.p_holm:.2g} over {m} pair{'s' if m != 1 else ''}.", ANCHOR_PAIRS))
    undecided = [t for t in pairs if not t.p_holm < ALPHA]
    if not significant and m:
        out.append(VerdictSentence(
            f"No pairwise difference holds after the Holm correction over {m} pair{'s' if m != 1 else ''}.", ANCHOR_PAIRS))
    level = ALPHA / max(m, 1)
    named = []
    for t in undecided:
        rate = t.win_rate_a_decisive
        need = n_for_power(rate, level, POWER) if t.n_decisive and rate != 0.5 else None
        named.append((need if need is not None else float("inf"), t))
    named.sort(key=lambda x: (x[0], x[1].model_a, x[1].model_b))
    for need, t in named[:MAX_UNDECIDED_NAMED]:
        if not t.n_decisive:
            out.append(VerdictSentence(
                f"{t.model_a} vs {t.model_b} is not settled: all {t.n} judgements are ties, so the sign test has "
                "nothing to test (they may be equally good).", ANCHOR_PAIRS))
        elif need == float("inf"):
            out.append(VerdictSentence(
                f"{t.model_a} vs {t.model_b} is not settled: {t.wins_a} : {t.wins_b} is an even split, so no number of "
                "further judgements can be promised to separate them (they may be equally good).", ANCHOR_PAIRS))
        else:
            more = max(int(need) - t.n_decisive, 0)
            kind = "decisive judgements" if t.ties else "judgements"
            over = f"{t.n_decisive} decisive judgements, {t.ties} ties" if t.ties else f"{t.n} judgements"
            out.append(VerdictSentence(
                f"{t.model_a} vs {t.model_b} is not settled ({t.win_rate_a_decisive:.0%} for {t.model_a} over {over}); "
                f"if that rate is the truth, about {int(need):,} {kind} of this pair ({more:,} more) would detect it "
                f"with {POWER:.0%} power at the level {level:.2g} that survives Holm over {m} pairs.", ANCHOR_PAIRS))
    if len(named) > MAX_UNDECIDED_NAMED:
        out.append(VerdictSentence(f"… and {len(named) - MAX_UNDECIDED_NAMED} more pairs not settled.", ANCHOR_PAIRS))
    return out


def _reconcile(main: Comparison) -> list[VerdictSentence]:
    if not main.pairs or any(t.p_holm < ALPHA for t in main.pairs) or main.worker_bootstrap is not None:
        return []
    out = []
    for mr in main.ranking.models:
        if mr.ci_workers is None:
            continue
        lo, hi = mr.ci_workers
        if lo > 0 or hi < 0:
            side = "above" if lo > 0 else "below"
            out.append(VerdictSentence(
                f"No pair differs after Holm, yet {mr.model}'s worker-bootstrap interval [{lo:+.2f}, {hi:+.2f}] lies wholly {side} 0: overall, "
                f"{mr.model} is {'stronger' if lo > 0 else 'weaker'} than the average model. Both hold — they answer "
                "different questions: a pairwise test asks whether one model beats another on that pair's judgements "
                "alone, corrected for testing every pair; the strength pools all of a model's judgements against all "
                "others.", ANCHOR_RANKING))
    return out


def _worker_sentences(results: AcuteResults) -> list[VerdictSentence]:
    w = results.workers
    n_workers = len(w)
    flags = w["flags"].tolist()
    counts = {name: sum(name in f.split("; ") for f in flags)
              for name in ("low agreement", "side bias", "too fast", "failed onboarding")}
    flagged = len(results.flagged_workers)
    detail = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    out = [VerdictSentence(
        f"Workers: {flagged} of {n_workers} flagged" + (f" ({detail})" if detail else "") +
        f"; {len(results.excluded_workers)} excluded for failing onboarding.", ANCHOR_WORKERS)]
    alt = results.without_flagged
    if flagged:
        if alt.empty is not None:
            out.append(VerdictSentence(
                f"Without the flagged workers: {alt.empty.message} — every worker is flagged, so whether the "
                "conclusions rest on them cannot be checked.", ANCHOR_WITHOUT_FLAGGED))
        else:
            before = [m.model for m in results.main.ranking.models]
            after = [m.model for m in alt.ranking.models]
            sig = {(t.model_a, t.model_b) for t in results.main.pairs if t.p_holm < ALPHA}
            sig_alt = {(t.model_a, t.model_b) for t in alt.pairs if t.p_holm < ALPHA}
            same = before == after and sig == sig_alt
            out.append(VerdictSentence(
                "Without the flagged workers the ranking and the significant pairs are the same." if same else
                "Without the flagged workers the conclusions change (ranking or significant pairs): they rest partly "
                "on the flagged workers.", ANCHOR_WITHOUT_FLAGGED))
    a = results.agreement
    if a.insufficient is not None:
        out.append(VerdictSentence(f"Agreement between workers: {a.insufficient.message}.", ANCHOR_AGREEMENT))
    pos = results.position
    if pos.stratified is not None:
        out.append(VerdictSentence(f"Side bias (within model pairs): {pos.stratified.message}.", ANCHOR_POSITION))
    elif pos.cmh_p < ALPHA:
        # a zero cell makes the odds ratio infinite or 0/0: the table shows "—", so the sentence gives no number
        ratio = (f"Mantel–Haenszel odds ratio {pos.mh_odds_ratio:.2f}" if math.isfinite(pos.mh_odds_ratio)
                 else "the Mantel–Haenszel odds ratio has no finite value: a zero count in the pooled tables")
        out.append(VerdictSentence(
            f"Side bias: within model pairs the left conversation is favoured ({ratio}, "
            f"Cochran–Mantel–Haenszel p = {pos.cmh_p:.2g}).", ANCHOR_POSITION))
    t = results.times
    unknown = t.get("null_time", 0) + t.get("zero_seconds", 0)
    if results.times_insufficient is not None:
        out.append(VerdictSentence(f"Time per comparison: {results.times_insufficient.message}; nobody is flagged as too fast.", ANCHOR_TIMES))
    elif unknown:
        out.append(VerdictSentence(f"Time per comparison is unknown for {unknown} of {unknown + t['known']} judgements; "
                                   "they are left out of the time checks.", ANCHOR_TIMES))
    return out


def verdict(results: AcuteResults) -> list[VerdictSentence]:
    """The verdict sentences, in reading order."""
    main = results.main
    return [*_ranking_sentences(main), *_tie_sentences(main), *_pair_sentences(main), *_reconcile(main), *_worker_sentences(results)]
