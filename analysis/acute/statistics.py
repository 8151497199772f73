"""The whole ACUTE analysis of one set of judgements, as one result object (no files written here).

Which judgements count: onboarding records never count toward win rates, and every judgement of a
worker whose onboarding failed (`onboarding_passed: false` on any record) is excluded. The analysis
is then repeated without the workers the quality checks flag, so a reader can see whether any
conclusion depends on them.

A tie ("tie" or "both_bad") is a counted judgement: it is in every n, counts as half a win in the win
rates and the default ranking, and is left out only where a statistic needs a choice (the sign test, the
left-choice rate of position bias and of the worker side-bias flag).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from humaneval.input_errors import InputError

from analysis.acute.agreement import Agreement, agreement
from analysis.acute.grids import tie_matrix, win_matrix
from analysis.acute.pairwise import PairTest, pair_tests
from analysis.acute.position_bias import PositionBias, position_bias
from analysis.acute.ranking import Ranking, rank_models
from analysis.acute.records import AcuteJudgements
from analysis.acute.timing import seconds_per_comparison, unknown_time_counts
from analysis.acute.workers import FlagThresholds, ratings_per_worker, worker_table
from analysis.stats.bradley_terry import DEFAULT_RIDGE
from analysis.stats.sufficiency import (
    MIN_DECISIVE_FOR_RANKING,
    MIN_DISTINCT_RESAMPLED_STRENGTHS,
    MIN_DISTINCT_WORKER_IDS,
    MIN_KNOWN_TIMES,
    MIN_RECORDS_AFTER_EXCLUSION,
    MIN_WORKERS_FOR_WORKER_BOOTSTRAP,
    Insufficient,
    check,
    first_failure,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcuteOptions:
    bootstrap_rounds: int = 1000
    seed: int = 0
    ridge: float = DEFAULT_RIDGE
    tie_model: str = "half"  # ranking.TIE_MODELS
    thresholds: FlagThresholds = field(default_factory=FlagThresholds)


@dataclass
class Comparison:
    """Pairwise tests and ranking of one subset of judgements."""

    n_judgements: int
    n_workers: int
    wins: np.ndarray
    pairs: list[PairTest]
    ranking: Ranking
    #: why the worker-bootstrap intervals (and the rank sets built on them) are left out, or None
    worker_bootstrap: Insufficient | None = None
    #: not None when no judgement is left (e.g. every worker flagged): nothing of this comparison is shown
    empty: Insufficient | None = None
    #: symmetric K×K counts of ties (both kinds), and of the "both_bad" ones among them
    ties: np.ndarray | None = None
    both_bad: np.ndarray | None = None
    #: why the plain (vote) bootstrap intervals are left out although there were rounds, or None
    plain_bootstrap: Insufficient | None = None

    @property
    def order_not_given(self) -> bool:
        """True when the data cannot place every model against every other: groups never compared with each
        other, or perfect separation (`analysis.acute.connectivity`); intervals and possible ranks are left out."""
        return len(self.ranking.groups) > 1 or bool(self.ranking.separations)


@dataclass
class AcuteResults:
    judgements: AcuteJudgements  # every record read
    counted: np.ndarray  # mask: the judgements behind the main statistics
    excluded_workers: list[str]  # failed onboarding
    flagged_workers: list[str]
    main: Comparison
    without_flagged: Comparison
    workers: pd.DataFrame
    ratings_per_worker: pd.DataFrame
    agreement: Agreement
    position: PositionBias
    seconds: np.ndarray  # per record; NaN = unknown (null time or a 0-second placeholder)
    options: AcuteOptions
    #: among the counted judgements: {"known", "null_time", "zero_seconds"}
    times: dict[str, int] = field(default_factory=dict)
    #: not None when no counted judgement has a known time (time flags and the histogram are left out)
    times_insufficient: Insufficient | None = None
    #: median of the known seconds among the counted judgements (None when none is known)
    median_seconds: float | None = None


def compare(judgements: AcuteJudgements, options: AcuteOptions) -> Comparison:
    """Pairwise tests and Bradley–Terry ranking of these judgements."""
    wins, ties, both_bad = win_matrix(judgements), tie_matrix(judgements), tie_matrix(judgements, both_bad_only=True)
    n_workers = int(np.unique(judgements.worker).size)
    ranking = rank_models(judgements, wins, options.bootstrap_rounds, options.seed, options.ridge, options.tie_model)
    empty = check(MIN_RECORDS_AFTER_EXCLUSION, len(judgements))
    # one worker id for every record gives zero-width worker intervals and definite ranks; fewer than
    # the minimum gives intervals far too narrow: both are left out rather than shown
    # only ties: every strength is 0 in every resample, so both intervals would be [0, 0]
    no_choice = check(MIN_DECISIVE_FOR_RANKING, int(judgements.decisive.sum()))
    rounds = options.bootstrap_rounds > 0
    # resamples that cannot vary (every worker's judgements balanced) give [s, s]: no interval either
    thin = no_choice or first_failure((MIN_DISTINCT_WORKER_IDS, n_workers), (MIN_WORKERS_FOR_WORKER_BOOTSTRAP, n_workers),
                                      *([(MIN_DISTINCT_RESAMPLED_STRENGTHS, ranking.distinct_workers)] if rounds else []))
    plain = check(MIN_DISTINCT_RESAMPLED_STRENGTHS, ranking.distinct_plain) if rounds and no_choice is None else None
    not_given = len(ranking.groups) > 1 or bool(ranking.separations)
    if thin is not None or not rounds or not_given or plain is not None:
        for m in ranking.models:
            if thin is not None or not rounds or not_given:
                m.ci_workers = None
                m.rank_set = None
            if not rounds or no_choice is not None or plain is not None or not_given:  # never show [s, s]
                m.ci_plain = None
        ranking.variance_ratio = float("nan")
    return Comparison(
        n_judgements=len(judgements),
        n_workers=n_workers,
        wins=wins,
        pairs=pair_tests(judgements.models, wins, ties, both_bad) if empty is None else [],
        ranking=ranking,
        worker_bootstrap=thin,
        empty=empty,
        ties=ties,
        both_bad=both_bad,
        plain_bootstrap=plain,
    )


def _median(values: np.ndarray) -> float | None:
    """The median of `values`, a copy it may reorder (None when empty); worked out once here, as the summary
    and the page both show it (a copy of a million seconds is 8 MB)."""
    return float(np.median(values, overwrite_input=True)) if values.size else None


def analyse_acute(judgements: AcuteJudgements, options: AcuteOptions | None = None) -> AcuteResults:
    """Run every ACUTE statistic; see the module docstring for which judgements count."""
    options = options or AcuteOptions()
    failed = np.bincount(judgements.worker[judgements.onboarding_passed == 0], minlength=len(judgements.workers)) > 0
    passed_workers = ~failed[judgements.worker]
    counted = passed_workers & ~judgements.is_onboarding
    if not counted.any():
        raise InputError(
            f"no comparisons to analyse ({len(judgements)} records: onboarding only, or every worker failed onboarding)"
        )
    seconds = seconds_per_comparison(judgements)
    workers = worker_table(judgements, seconds, passed_workers, options.thresholds)
    flagged = workers.loc[workers["flags"] != "", "worker_id"].tolist()
    flagged_codes = np.zeros(len(judgements.workers), dtype=bool)
    index = {w: i for i, w in enumerate(judgements.workers)}
    flagged_codes[[index[w] for w in flagged]] = True
    times = unknown_time_counts(judgements, seconds, counted)
    log.info("analysing %d judgements (%d flagged workers)", int(counted.sum()), len(flagged))
    # one copy of the choices at a time: every statistic of the counted judgements first, then the copy without
    # the flagged workers
    main_set = judgements.choices(counted)
    main, per_worker, agreed, position = (compare(main_set, options), ratings_per_worker(main_set),
                                          agreement(main_set), position_bias(main_set))
    del main_set
    without_flagged = compare(judgements.choices(counted & ~flagged_codes[judgements.worker]), options)
    return AcuteResults(
        judgements=judgements,
        counted=counted,
        excluded_workers=sorted(judgements.workers[i] for i in np.flatnonzero(failed)),
        flagged_workers=sorted(flagged),
        main=main,
        without_flagged=without_flagged,
        workers=workers,
        ratings_per_worker=per_worker,
        agreement=agreed,
        position=position,
        seconds=seconds,
        options=options,
        times=times,
        times_insufficient=check(MIN_KNOWN_TIMES, times["known"]),
        median_seconds=_median(seconds[counted & np.isfinite(seconds)]),
    )
