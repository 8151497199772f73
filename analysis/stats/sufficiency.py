"""When there is not enough data for a number: the data-sufficiency rules of all reports, in one place.

A report that computes a statistic on too little data prints a number that looks meaningful and is
not (a bootstrap over 2 workers, an agreement over 0 pairs, an interval of zero width). Every such
place asks `check(RULE, have)` first; on `Insufficient` it shows and stores the plain message
instead of the number ("not enough data: needs at least 10 workers (have 3)"). Pure: no HTML.

Each rule has a threshold and the reason for it; docs/analysis.md ("Not enough data") lists them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """A named minimum: `what` counts the units ("workers"), `reason` says why below it fails."""

    name: str
    minimum: int
    what: str
    reason: str


@dataclass(frozen=True)
class Insufficient:
    """The verdict of a failed check; `message` is what a report prints instead of the number."""

    rule: Rule
    have: int

    @property
    def needs(self) -> str:
        """'needs at least 10 workers (have 3)'."""
        return f"needs at least {self.rule.minimum} {self.rule.what} (have {self.have})"

    @property
    def requirement(self) -> str:
        """'at least 10 workers (have 3)': what follows "needs" (for `html_parts.not_enough_data`)."""
        return f"at least {self.rule.minimum} {self.rule.what} (have {self.have})"

    @property
    def message(self) -> str:
        """'not enough data: needs at least 10 workers (have 3)'."""
        return f"not enough data: {self.needs}"

    def as_json(self) -> dict:
        """What summary.json stores in place of the number: {"not_enough_data": "needs ..."}."""
        return {"not_enough_data": self.needs}

    def __str__(self) -> str:
        return self.message


MIN_WORKERS_FOR_WORKER_BOOTSTRAP = Rule(
    "MIN_WORKERS_FOR_WORKER_BOOTSTRAP",
    10,
    "workers",
    "a cluster (worker) bootstrap resamples workers; with fewer than 10 there are too few distinct "
    "resamples and the interval's coverage falls well below its nominal 95% (with 1 worker it has zero width)",
)

MIN_ITEMS_FOR_AGREEMENT = Rule(
    "MIN_ITEMS_FOR_AGREEMENT",
    10,
    "items with at least 2 annotations",
    "agreement (majority share, Fleiss' kappa, Krippendorff's alpha) is computed over items judged at "
    "least twice; over fewer than 10 such items a single item moves kappa by more than 0.1 and it can be "
    "undefined (0/0) when all answers agree",
)

MIN_ANNOTATIONS_PER_ITEM_FOR_AGREEMENT = Rule(
    "MIN_ANNOTATIONS_PER_ITEM_FOR_AGREEMENT",
    2,
    "annotations per item",
    "agreement compares annotations of the same item: an item annotated once agrees with nobody",
)

MIN_CONVERSATIONS_FOR_CLUSTER_BOOTSTRAP = Rule(
    "MIN_CONVERSATIONS_FOR_CLUSTER_BOOTSTRAP",
    10,
    "conversations",
    "a bootstrap that resamples whole conversations needs at least 10 of them for the same reason as the "
    "worker bootstrap: too few distinct resamples, interval too narrow",
)

MIN_RECORDS_AFTER_EXCLUSION = Rule(
    "MIN_RECORDS_AFTER_EXCLUSION",
    1,
    "records after excluding workers",
    "an analysis 'without flagged (or excluded) workers' over no records has no numbers at all; "
    "printing every model at rank 1 with strength 0 would read as a result",
)

MIN_WORKERS_AFTER_EXCLUSION = Rule(
    "MIN_WORKERS_AFTER_EXCLUSION",
    1,
    "workers left after excluding flagged workers",
    "when every worker is flagged there is nothing left to compare with",
)

MIN_DISTINCT_WORKER_IDS = Rule(
    "MIN_DISTINCT_WORKER_IDS",
    2,
    "distinct worker ids",
    "when every record carries the same worker id (an export that lost the ids), per-worker statistics "
    "and worker intervals are degenerate: the interval has zero width and ranks look certain",
)

MIN_KNOWN_TIMES = Rule(
    "MIN_KNOWN_TIMES",
    1,
    "judgements with known times",
    "time-based flags and plots need at least one judgement whose start and submit times are known "
    "(a missing time or a duration of exactly 0 seconds is unknown)",
)

MIN_JUDGEMENTS_FOR_SIDE_TEST = Rule(
    "MIN_JUDGEMENTS_FOR_SIDE_TEST",
    6,
    "judgements",
    "an exact two-sided binomial test against 0.5 cannot reach p < .05 with 5 or fewer judgements "
    "(the smallest p is 2·0.5^5 = 0.0625), so a test on fewer can never flag anything",
)

MIN_PAIRS_SHOWN_BOTH_WAYS = Rule(
    "MIN_PAIRS_SHOWN_BOTH_WAYS",
    1,
    "model pairs shown in both left/right orders",
    "side bias is tested within each model pair (which model was on the left × which was chosen); a pair "
    "always shown in one order cannot separate the side from the model, so it carries no information",
)

MIN_DECISIVE_FOR_RANKING = Rule(
    "MIN_DECISIVE_FOR_RANKING",
    1,
    "decisive judgements (a model chosen, not a tie)",
    "a ranking rests on who was chosen: when every judgement is a tie, every strength is 0 in every "
    "resample, so the intervals have zero width and the ranks look settled although nothing was compared",
)

MIN_DISTINCT_RESAMPLED_STRENGTHS = Rule(
    "MIN_DISTINCT_RESAMPLED_STRENGTHS",
    2,
    "distinct resampled strengths per model",
    "a bootstrap interval describes how an estimate varies across resamples; when a model's strength takes one "
    "value in every resample (every worker's judgements balanced, so each resampled set of workers is balanced "
    "too) or the interval is narrower than 1e-9, the resamples cannot vary and an interval [s, s] would look "
    "certain while the data only cannot show the variation",
)

MIN_TURNS_JUDGED_BY_SAFETY_CHECK = Rule(
    "MIN_TURNS_JUDGED_BY_SAFETY_CHECK",
    1,
    "bot turns judged by a safety check",
    "the safety layer's numbers (verified fooled = NOT OK and let through, layer recall and precision, turns the "
    "layer flagged) compare the workers' labels with what a check said; when no safety check ran on these turns "
    "(e.g. every imported record has \"safety\": {}), every NOT OK turn would read as \"layer missed\" and the "
    "recall as 0%, a layer invented by the report",
)

RULES: tuple[Rule, ...] = (
    MIN_WORKERS_FOR_WORKER_BOOTSTRAP,
    MIN_ITEMS_FOR_AGREEMENT,
    MIN_ANNOTATIONS_PER_ITEM_FOR_AGREEMENT,
    MIN_CONVERSATIONS_FOR_CLUSTER_BOOTSTRAP,
    MIN_RECORDS_AFTER_EXCLUSION,
    MIN_WORKERS_AFTER_EXCLUSION,
    MIN_DISTINCT_WORKER_IDS,
    MIN_KNOWN_TIMES,
    MIN_JUDGEMENTS_FOR_SIDE_TEST,
    MIN_PAIRS_SHOWN_BOTH_WAYS,
    MIN_DECISIVE_FOR_RANKING,
    MIN_DISTINCT_RESAMPLED_STRENGTHS,
    MIN_TURNS_JUDGED_BY_SAFETY_CHECK,
)


def check(rule: Rule, have: int) -> Insufficient | None:
    """None when `have` meets the rule's minimum, else the `Insufficient` to show instead of the number."""
    if have < 0:
        raise ValueError(f"{rule.name}: a count cannot be negative (got {have})")
    return None if have >= rule.minimum else Insufficient(rule, int(have))


def first_failure(*checks: tuple[Rule, int]) -> Insufficient | None:
    """The first failed check of several (rule, have) pairs, or None when all pass."""
    for rule, have in checks:
        found = check(rule, have)
        if found is not None:
            return found
    return None
