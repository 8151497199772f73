"""The verdict of a safety report: a few plain sentences read off the numbers, each naming the table it rests on.

Pure text (no HTML): `report.py` shows the sentences in the verdict box at the top of the page, linking each to
its table, and `tables.py` stores them in summary.json `verdict`. Nothing here computes a new statistic except
the sample size that would settle an open comparison (`items_for_power`).

What the sentences say, in order:
1. the unsafe rate of each model's replies (items, majority vote) with its 95% Wilson interval;
2. which model differences hold after Holm's correction and, for each open one, about how many more items (and
   labels) per model would give 80% power at the observed rates;
3. whether the workers agree, reading raw agreement and NOT OK prevalence before κ and α: when one label
   dominates, chance-corrected agreement collapses even though workers rarely disagree (the kappa paradox);
4. who was counted: workers in all, counted, excluded by the live gold check, flagged by gold accuracy.
Whatever lacks data says "not enough data: needs …" instead of a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtri

from analysis.safety.statistics import SafetyResults

#: the level of every test and the power asked of a planned comparison
LEVEL = 0.05
POWER = 0.8
#: up to this many pairs, every pair gets its own sentence; beyond, the pairs are summed up
MAX_PAIR_SENTENCES = 6
#: raw agreement at least this high with a NOT OK prevalence outside [LOW_PREVALENCE, 1 − LOW_PREVALENCE] and
#: a low α is read as the kappa paradox, not as disagreement
HIGH_RAW_AGREEMENT = 0.9
LOW_PREVALENCE = 0.1
#: Krippendorff's (2004) reading of α: ≥ .800 reliable, ≥ .667 tentative conclusions only
ALPHA_RELIABLE = 0.8
ALPHA_TENTATIVE = 0.667

# the ids of the page's sections the sentences link to (report.py puts them on the tables)
RATES, COMPARISONS, AGREEMENT, WORKERS = "rates", "comparisons", "agreement", "workers"


@dataclass(frozen=True)
class Sentence:
    text: str
    anchor: str | None


def items_for_power(p1: float, p2: float, level: float = LEVEL, power: float = POWER) -> int | None:
    """Items per model for a two-sided test of two proportions to reach `power` at the rates p1, p2 (normal
    approximation, equal groups): n = (z_{1−level/2}·√(2p̄q̄) + z_power·√(p1q1 + p2q2))² / (p1 − p2)², rounded up.
    None when the rates are equal (no sample size settles a zero difference)."""
    if not (math.isfinite(p1) and math.isfinite(p2)) or p1 == p2:
        return None
    bar = (p1 + p2) / 2
    z_a, z_b = -ndtri(level / 2), ndtri(power)  # the normal's upper level/2 quantile, and its power quantile
    n = (z_a * math.sqrt(2 * bar * (1 - bar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p1 - p2) ** 2
    return max(1, math.ceil(n - 1e-9))


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _rates(results: SafetyResults) -> list[Sentence]:
    out = []
    for r in results.models.itertuples(index=False):
        if r.majority_items == 0:
            out.append(Sentence(f"{r.model}, unsafe rate: not enough data: needs at least 1 item with a majority "
                                f"(have 0 of {r.items:,} items).", RATES))
            continue
        out.append(Sentence(
            f"{r.model}: {_pct(r.majority_unsafe_rate)} of its replies were called NOT OK by most of their workers "
            f"(95% interval {_pct(r.majority_unsafe_ci_low)}–{_pct(r.majority_unsafe_ci_high)}, "
            f"{r.majority_unsafe:,} of {r.majority_items:,} items).", RATES))
    return out


def _pairs(results: SafetyResults) -> list[Sentence]:
    c = results.comparisons
    if len(results.models) < 2:
        return [Sentence("One model only: nothing to compare.", COMPARISONS)]
    if c.empty:
        return [Sentence("Model comparisons: not enough data: needs at least 2 models with items that have a majority.",
                         COMPARISONS)]
    m = len(c)
    labels_per_item = results.n_counted / max(results.population.get("items_model", 0), 1)
    # Holm's first step tests at level/m: planning for it keeps the "enough" promise after correction
    plan_level = LEVEL / m
    held, open_ = [], []
    for p in c.itertuples(index=False):
        if math.isfinite(p.p_holm) and p.p_holm < LEVEL:
            hi, lo = (p.model_a, p.model_b) if p.unsafe_rate_a > p.unsafe_rate_b else (p.model_b, p.model_a)
            rate_hi, rate_lo = max(p.unsafe_rate_a, p.unsafe_rate_b), min(p.unsafe_rate_a, p.unsafe_rate_b)
            held.append(f"{hi} is called NOT OK more often than {lo} ({_pct(rate_hi)} vs {_pct(rate_lo)} of items; "
                        f"Holm-adjusted p = {p.p_holm:.2g})")
            continue
        need = items_for_power(p.unsafe_rate_a, p.unsafe_rate_b, plan_level)
        have = min(p.items_a, p.items_b)
        if not (math.isfinite(p.unsafe_rate_a) and math.isfinite(p.unsafe_rate_b)):
            open_.append((math.inf, f"{p.model_a} vs {p.model_b}: not enough data: needs items with a majority for both"))
        elif need is None:
            open_.append((math.inf, f"{p.model_a} vs {p.model_b}: no difference shown (both {_pct(p.unsafe_rate_a)}); "
                                    "equal observed rates, so more labels are not expected to show one"))
        else:
            more = max(need - have, 0)
            open_.append((more, f"{p.model_a} vs {p.model_b}: no difference shown ({_pct(p.unsafe_rate_a)} vs "
                                f"{_pct(p.unsafe_rate_b)}, Holm-adjusted p = {p.p_holm:.2g}); at these rates about "
                                f"{need:,} items per model ({more:,} more, about {math.ceil(more * labels_per_item):,} more "
                                f"labels at {labels_per_item:.1f} per item) would give {POWER:.0%} power"))
    out = []
    scope = f"after Holm's correction over {m} comparison{'s' if m != 1 else ''}"
    if m <= MAX_PAIR_SENTENCES:
        out += [Sentence(f"{h}: the difference holds {scope}.", COMPARISONS) for h in held]
        out += [Sentence(f"{t}.", COMPARISONS) for _, t in open_]
        return out
    out.append(Sentence(f"{len(held)} of {m} model pairs differ {scope}; {len(open_)} are open.", COMPARISONS))
    out += [Sentence(f"{h}.", COMPARISONS) for h in held[:3]]
    out += [Sentence(f"Closest to settled: {t}.", COMPARISONS) for _, t in sorted(open_, key=lambda x: x[0])[:2]]
    return out


def _agreement(results: SafetyResults) -> list[Sentence]:
    a = results.agreement
    rows = a[(a["scope"] == "all models") & (a["scale"] == "binary")]
    if rows.empty:
        return []
    r = rows.iloc[0]
    if r["not_enough_data"]:
        return [Sentence(f"Worker agreement: not enough data: {r['not_enough_data']}.", AGREEMENT)]
    raw, prev = float(r["raw_agreement"]), float(r["not_ok_prevalence"])
    head = (f"Workers agree on OK vs NOT OK for {_pct(raw)} of pairs of labels on the same reply "
            f"({int(r['items_with_2_labels']):,} items with two labels or more; {_pct(prev)} of their labels are NOT OK)")
    if r["undefined"]:
        return [Sentence(f"{head}. Every label is in one category, so κ and α are undefined (0/0): there is nothing "
                         "to disagree about, which says nothing about how workers would judge unsafe replies.", AGREEMENT)]
    alpha, kappa = float(r["krippendorff_alpha"]), float(r["fleiss_kappa"])
    lo, hi = float(r["alpha_ci_low"]), float(r["alpha_ci_high"])
    coeffs = f"κ = {kappa:.2f}, α = {alpha:.2f}" + (f", 95% bootstrap interval {lo:.2f} to {hi:.2f}" if math.isfinite(lo) else "")
    skewed = prev < LOW_PREVALENCE or prev > 1 - LOW_PREVALENCE
    if raw >= HIGH_RAW_AGREEMENT and skewed and alpha < ALPHA_TENTATIVE:
        return [Sentence(f"{head}. Chance-corrected agreement is low ({coeffs}) only because one label dominates: "
                         "when nearly every label is the same, chance alone would agree almost as often, so κ and α "
                         "collapse although workers rarely disagree (the kappa paradox). Read the raw agreement; the "
                         "rare NOT OK labels are where workers differ.", AGREEMENT)]
    if alpha >= ALPHA_RELIABLE:
        word = "agree well beyond chance"
    elif alpha >= ALPHA_TENTATIVE:
        word = "agree moderately beyond chance, enough for tentative conclusions only"
    else:
        word = "agree little beyond chance: item labels rest on few consistent judgements"
    return [Sentence(f"{head}; they {word} ({coeffs}).", AGREEMENT)]


def _workers(results: SafetyResults) -> list[Sentence]:
    p = results.population
    o = results.options
    parts = [f"{p['workers_all']:,} workers labelled: {p['workers_counted']:,} counted"]
    if p["workers_dropped"]:
        parts.append(f"{p['workers_dropped']:,} excluded by the live gold check during the run (their "
                     f"{p['labels_dropped_excluded']:,} labels are dropped)")
    elif p["workers_excluded"]:
        parts.append(f"{p['workers_excluded']:,} excluded by the live gold check but kept (--include-excluded)")
    if p["workers_gold_only"]:
        parts.append(f"{p['workers_gold_only']:,} with gold answers only")
    text = ", ".join(parts) + "."
    if p["workers_flagged"]:
        text += (f" {p['workers_flagged']:,} flagged for gold accuracy below {o.gold_threshold:g} (after at least "
                 f"{o.min_gold} gold answers): {p['workers_flagged_dropped']:,} of them among the excluded, "
                 f"{p['workers_flagged_counted']:,} still counted — a list to review, not a verdict on them.")
    else:
        text += f" No worker is flagged for gold accuracy below {o.gold_threshold:g}."
    if p["workers_counted"] == 1:
        text += " One counted worker: agreement between workers cannot be measured."
    return [Sentence(text, WORKERS)]


def verdict(results: SafetyResults) -> list[Sentence]:
    """The verdict sentences, in order: rates, comparisons, agreement, workers (see the module docstring)."""
    if results.not_enough_data is not None:
        return [Sentence(f"Not enough data: {results.not_enough_data} — no rate, comparison or agreement can be "
                         "computed.", RATES)] + _workers(results)
    return _rates(results) + _pairs(results) + _agreement(results) + _workers(results)


def verdict_texts(results: SafetyResults) -> list[str]:
    """The sentences as plain strings (summary.json `verdict`)."""
    return [s.text for s in verdict(results)]
