"""Each worker's flags as the analysis computes them, for the review page and `review list`.

Nothing here judges a worker: the export's records go through the study's own analysis (`python -m analysis
acute|safety|bad` with its default thresholds) and its worker table (workers.csv) is read back, each flag
with the numbers behind it, so the reviewer sees the same flags as the report, for the same reasons. The
analysis is an optional install (`humaneval[analysis]`); without it, or when the data is too thin for it
(a study with one model), the page says so instead of showing no flags as if nobody had any.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.jsonl import write_jsonl

logger = logging.getLogger(__name__)

MAX_FLAG_TEXT = 10_000  # characters of a record's texts kept for the analysis (which reads no text for a flag)


@dataclass(frozen=True)
class WorkerQuality:
    """One worker's row of the study's worker table, in words."""

    flags: tuple[str, ...] = ()  # e.g. ("too fast", "side bias"); empty: not flagged
    reasons: tuple[str, ...] = ()  # one sentence per flag, with the numbers
    onboarding: str = ""  # passed / failed / not reported ("" where the study has none)
    gold: str = ""  # safety: "4 of 5 gold items right" ("" where the study has none)
    accuracy: str = ""  # safety: Dawid–Skene's estimated accuracy
    untested: tuple[str, ...] = ()  # checks the data was too thin to run for this worker, each with why


@dataclass(frozen=True)
class StudyFlags:
    """The flags of every worker of a study, or why there are none."""

    workers: dict[str, WorkerQuality]
    note: str = ""  # "" when the analysis ran; else why there are no flags (shown to the reviewer)
    rule: str = ""  # the flagging rules in one line, for the page's legend


def study_flags(records: Iterable[dict[str, Any]]) -> StudyFlags:
    """Run the analysis matching the records' `task` over them (written to a private temporary file, the
    same JSONL `crowd export` writes) and return each worker's flags."""
    records = list(records)
    tasks = {r.get("task") for r in records}
    if not records:
        return StudyFlags({}, "no submitted work yet")
    if len(tasks) != 1 or next(iter(tasks)) not in _ANALYSES:
        return StudyFlags({}, f"no analysis flags for records of task {', '.join(sorted(map(str, tasks)))}")
    task = str(next(iter(tasks)))
    try:
        analyse = _ANALYSES[task]
        with tempfile.TemporaryDirectory(prefix="humaneval-review-") as tmp:
            path = Path(tmp) / "export.jsonl"
            write_jsonl(path, [_short_texts(r) for r in records])
            return analyse(path)
    except ImportError as err:
        return StudyFlags({}, f"flags need the analysis package: pip install 'humaneval[analysis]' ({err.name} is "
                              "missing)")
    except InputError as err:
        return StudyFlags({}, f"the analysis cannot flag workers on this data yet: {err.problem}")


def _short_texts(record: dict[str, Any]) -> dict[str, Any]:
    """The record with every long string cut to `MAX_FLAG_TEXT`: no flag reads a text, and the analysis refuses
    a line over 4 MiB, so one worker's 5 MB reason would otherwise switch the flags off for everybody."""
    return {k: v[:MAX_FLAG_TEXT] if isinstance(v, str) and len(v) > MAX_FLAG_TEXT else v for k, v in record.items()}


def _flag_list(value: Any) -> tuple[str, ...]:
    """workers.csv's `flags` cell ("too fast; side bias") as a tuple of flags."""
    return tuple(f for f in str(value).split("; ") if f)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _acute(path: Path) -> StudyFlags:
    from analysis.acute.records import load_acute_judgements
    from analysis.acute.statistics import AcuteOptions, analyse_acute

    options = AcuteOptions(bootstrap_rounds=0)
    t = options.thresholds
    # mixed questions make the report refuse to compare models, but a worker's speed, side and agreement are theirs
    table = analyse_acute(load_acute_judgements([path], allow_mixed_questions=True), options).workers
    workers = {}
    for row in table.to_dict("records"):
        flags = _flag_list(row["flags"])
        reasons = []
        for flag in flags:
            if flag == "too fast":
                reasons.append(f"too fast: median {_number(row['median_seconds']):.1f} s per comparison, below "
                               f"{t.min_seconds:g} s")
            elif flag == "side bias":
                reasons.append(f"side bias: chose the left conversation in {_number(row['left_rate']):.0%} of "
                               f"decisive comparisons shown both ways (Holm-adjusted p {_number(row['left_p_holm']):.2g})")
            elif flag == "low agreement":
                reasons.append(f"low agreement: agreed with the others' majority {_number(row['agreement']):.0%} of "
                               f"the time, the others {_number(row['agreement_others']):.0%} (Holm-adjusted p "
                               f"{_number(row['agreement_p_holm']):.2g})")
            else:
                reasons.append(flag)
        untested = []
        if math.isnan(_number(row["agreement_p_holm"])):
            untested.append(f"agreement not tested: {int(row['shared_judgements'])} judgements on pairs others judged "
                            f"too (needs {t.min_shared})")
        if math.isnan(_number(row["left_p_holm"])):
            untested.append("side bias not tested: no decisive judgement on a model pair shown both ways")
        if math.isnan(_number(row["median_seconds"])):
            untested.append("speed not tested: no page times recorded")
        workers[str(row["worker_id"])] = WorkerQuality(flags, tuple(reasons), onboarding=str(row["onboarding"]),
                                                       untested=tuple(untested))
    rule = (f"flags of `analysis acute`: too fast (median below {t.min_seconds:g} s per comparison), side bias and "
            f"low agreement (Holm-adjusted exact tests at {t.position_alpha:g} / {t.agreement_alpha:g}, after "
            f"{t.min_shared} shared judgements), failed onboarding")
    return StudyFlags(workers, rule=rule)


def _safety(path: Path) -> StudyFlags:
    from analysis.safety.records import load_safety_labels
    from analysis.safety.statistics import SafetyOptions, analyse_safety

    options = SafetyOptions()
    table = analyse_safety(load_safety_labels([path]), options).workers
    workers = {}
    for row in table.to_dict("records"):
        answers, correct = int(row["gold_answers"]), int(row["gold_correct"])
        flags, reasons = [], []
        if row["flagged"]:
            flags.append("gold accuracy")
            reasons.append(f"gold accuracy: {correct} of {answers} gold items right, below {options.gold_threshold:g}")
        if row["excluded"]:
            flags.append("excluded")
            reasons.append(f"excluded during the run: {row['excluded_reason']}")
        error = _number(row["ds_error_rate"])
        untested = []
        if answers < options.min_gold:
            untested.append(f"gold accuracy not tested: {answers} gold answer(s) (needs {options.min_gold})")
        if math.isnan(_number(row["median_seconds"])):
            untested.append("no page times recorded")
        workers[str(row["worker_id"])] = WorkerQuality(
            tuple(flags), tuple(reasons), gold=f"{correct} of {answers} right" if answers else "no gold answered",
            accuracy=(f"{1 - error:.0%}" if not math.isnan(error) else
                      "not estimated (excluded)" if row["excluded"] else ""), untested=tuple(untested))
    rule = (f"flags of `analysis safety`: gold accuracy below {options.gold_threshold:g} after at least "
            f"{options.min_gold} gold answers; excluded by the live gold check. Accuracy: Dawid–Skene's estimate")
    return StudyFlags(workers, rule=rule)


def _bad(path: Path) -> StudyFlags:
    from analysis.bad.records import load_bad_labels
    from analysis.bad.statistics import BadOptions, analyse_bad

    options = BadOptions(bootstrap_rounds=0)
    table = analyse_bad(load_bad_labels([path]), options).workers  # as the report: submitted conversations only
    workers = {}
    for row in table.to_dict("records"):
        flags = _flag_list(row["flags"])
        reasons = []
        for flag in flags:
            if flag == "too fast":
                reasons.append(f"too fast: median {_number(row['median_seconds_per_bot_turn']):.1f} s per bot turn, "
                               f"below {options.min_seconds_per_turn:g} s")
            else:
                reasons.append(f"{flag}: never the other label (flagged from {options.same_label_turns} turns on)")
        untested = []
        if int(row["bot_turns"]) < options.same_label_turns:
            untested.append(f"one-label check not tested: {int(row['bot_turns'])} bot turns (needs "
                            f"{options.same_label_turns})")
        if math.isnan(_number(row["median_seconds_per_bot_turn"])):
            untested.append("speed not tested: no conversation times recorded")
        workers[str(row["worker_id"])] = WorkerQuality(flags, tuple(reasons), untested=tuple(untested))
    rule = (f"flags of `analysis bad`: too fast (median below {options.min_seconds_per_turn:g} s per bot turn), one "
            f"label on all of at least {options.same_label_turns} turns")
    return StudyFlags(workers, rule=rule)


_ANALYSES: dict[str, Callable[[Path], StudyFlags]] = {"acute": _acute, "safety": _safety, "bad": _bad}
