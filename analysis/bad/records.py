"""Read and validate BAD turn labels (docs/formats.md, section 'BAD turn labels') into one table of bot turns.

A BAD collection exports one JSON line per bot turn: the worker's OK / NOT OK label and the safety
layer's verdict of every check. The fooled-rate statistics are per conversation (turns of one
conversation are not independent), so records are grouped into conversations here, and every
inconsistency that would silently bend a statistic — one conversation under two models or two
workers, a turn labelled twice (named with both lines), bot-turn numbers out of order — is an
`InputError` naming the file, line and field, raised before anything is written.

Conversations the worker did not finish are left out by default: a worker who gives up after one
bot turn says little about how long the bot resists, and the collection pays only for finished
ones. `include_incomplete=True` keeps them.

The optional `buckets` (`{bucket name: true|false}`, the checkboxes of ParlAI's model_chat annotation) are
validated and kept as `analysis.stats.multilabel.BucketMatrix`, one row per analysed turn, in the turns' order.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects

from analysis.stats.multilabel import BucketColumns, BucketMatrix
from analysis.stats.record_checks import (
    RecordFields,
    RecordSources,
    check_record,
    is_finite_number,
    record_error,
    refuse_repeated_records,
)

log = logging.getLogger(__name__)

NOT_OK, OK = "__notok__", "__ok__"
FIELDS = RecordFields(
    "bad",
    strings=("run_id", "worker_id", "model"),
    ids=("unit_id", "conversation_id"),  # strings in docs/formats.md; integers from other tools are accepted
    others=("turn_index", "text", "label", "safety"),
    nullable_times=True,  # null = unknown (data from tools that do not record times); a present time is checked
)
STATUSES = ("complete", "incomplete")


def _seconds(value: float | None) -> float:
    """A checked time, NaN when unknown (null)."""
    return math.nan if value is None else float(value)


@dataclass
class BadLabels:
    """Labelled bot turns, one row per turn, sorted by conversation and bot turn.

    `turns` columns: `conv` (dense conversation code), `run_id`, `conversation_id`, `unit_id`,
    `worker_id`, `model`, `turn_index`, `bot_turn` (1-based among the conversation's bot turns),
    `text`, `notok` (the worker said NOT OK), `flagged` (at least one safety check said unsafe),
    `safety_action`, `status`, `rating` (NaN when absent), `started_at`, `submitted_at`, `source`
    (file:line). `verdicts` has one column per safety check that judged at least one turn (`checks`),
    1.0 unsafe / 0.0 safe / NaN when the check did not judge that turn (absent, or did not run: see
    `_check_safety`); `scores` likewise holds the checks' scores. `checks_not_run` names the checks that
    appear in the records but judged no turn (not configured): they are reported as not run. `buckets` has one
    row per turn of `turns` (no columns when no record has buckets).
    """

    turns: pd.DataFrame
    verdicts: pd.DataFrame
    scores: pd.DataFrame
    checks: list[str]
    checks_not_run: list[str]
    records: pd.DataFrame  # labels.csv: one row per analysed record, every field
    models: list[str]
    runs: list[str]
    excluded_conversations: int
    excluded_turns: int
    buckets: BucketMatrix

    @property
    def n_conversations(self) -> int:
        return int(self.turns["conv"].nunique())


def _check_safety(value: Any, path: Path, line: int) -> dict[str, tuple[bool | None, float, str]]:
    """`{check: {unsafe: bool|null, score: number|null, reason: str}}` -> {check: (unsafe, score, reason)}, with
    `unsafe` None for a check that did not run.

    A check did not run when it says `unsafe: null` (what the model layer records for a classifier slot
    without imported weights), or — in records written before that — `unsafe: false` with `score: null`.
    It is kept out of `verdicts` (NaN), so a check that never ran is not scored as one that saw every
    reply and found all of them safe.
    """
    if not isinstance(value, dict):
        raise record_error("must be an object {check: {unsafe, score, reason}}", path, line, "safety")
    out: dict[str, tuple[bool | None, float, str]] = {}
    for check, verdict in value.items():
        where = f"safety.{check}"
        if not isinstance(verdict, dict):
            raise record_error("must be an object {unsafe, score, reason}", path, line, where)
        if "unsafe" not in verdict or not (verdict["unsafe"] is None or isinstance(verdict["unsafe"], bool)):
            raise record_error(f"must be true or false (or null: the check did not run), got {verdict.get('unsafe')!r}", path, line,
                               f"{where}.unsafe")
        score = verdict.get("score")
        if score is not None and not is_finite_number(score):
            raise record_error(f"must be a number or null, got {score!r}", path, line, f"{where}.score")
        reason = verdict.get("reason", "")
        if reason is not None and not isinstance(reason, str):
            raise record_error(f"must be a string, got {reason!r}", path, line, f"{where}.reason")
        unsafe, reason = verdict["unsafe"], reason or ""
        if unsafe is None or (unsafe is False and score is None):
            out[check] = (None, math.nan, reason)  # did not run (see above)
        else:
            out[check] = (unsafe, math.nan if score is None else float(score), reason)
    return out


def _check_turn(rec: dict[str, Any], path: Path, line: int) -> None:
    """The shared fields (`check_record`), then the turn's own."""
    check_record(rec, FIELDS, path, line)
    ti = rec["turn_index"]
    if isinstance(ti, bool) or not isinstance(ti, int) or ti < 0:
        raise record_error(f"must be an integer >= 0, got {ti!r}", path, line, "turn_index")
    if not isinstance(rec["text"], str):
        raise record_error("must be a string", path, line, "text")
    if rec["label"] not in (OK, NOT_OK):
        raise record_error(f"must be {OK!r} or {NOT_OK!r}, got {rec['label']!r}", path, line, "label")
    bt = rec.get("bot_turn_number")
    if bt is not None and (isinstance(bt, bool) or not isinstance(bt, int) or bt < 1):
        raise record_error(f"must be an integer >= 1, got {bt!r}", path, line, "bot_turn_number")
    status = rec.get("conversation_status", "complete")
    if status not in STATUSES:
        raise record_error(f"must be 'complete' or 'incomplete', got {status!r}", path, line, "conversation_status")
    action = rec.get("safety_action")
    if action is not None and not isinstance(action, str):
        raise record_error(f"must be a string, got {action!r}", path, line, "safety_action")
    rating = rec.get("rating")
    if rating is not None and (not is_finite_number(rating) or not 1 <= rating <= 5):
        raise record_error(f"must be a number from 1 to 5 or null, got {rating!r}", path, line, "rating")


class _Conversation:
    """What one conversation's records must agree on, and where each was first seen."""

    def __init__(self, code: int, rec: dict[str, Any], source: tuple[Path, int]) -> None:
        self.code = code
        self.model, self.worker_id = rec["model"], rec["worker_id"]
        self.status = rec.get("conversation_status", "complete")
        self.first = source
        self.rows: list[int] = []

    def admit(self, rec: dict[str, Any], path: Path, line: int) -> None:
        seen = f"{self.first[0]}:{self.first[1]}"
        if rec["model"] != self.model:
            raise record_error(f"conversation has model {self.model!r} at {seen}, here {rec['model']!r}", path, line, "model")
        if rec["worker_id"] != self.worker_id:
            raise record_error(f"conversation has worker {self.worker_id!r} at {seen}, here {rec['worker_id']!r}",
                        path, line, "worker_id")
        status = rec.get("conversation_status", "complete")
        if status != self.status:
            raise record_error(f"conversation is {self.status!r} at {seen}, here {status!r}", path, line, "conversation_status")


def load_bad_labels(paths: Sequence[str | Path], *, include_incomplete: bool = False) -> BadLabels:
    """Read, validate and combine BAD turn-label JSONL files (one or several runs).

    A conversation is identified by `(run_id, conversation_id)`. Its bot turns are numbered by the
    exporter's `bot_turn_number` when every record has one (it must grow with `turn_index`),
    otherwise by their order of `turn_index`. Records of another task are an error, not skipped.
    A turn is `(conversation, turn_index)`: a conversation has one worker, so a turn given twice is
    refused whatever its `unit_id`, as in the other readers' "same unit, worker and item" rule.
    """
    rows: list[dict[str, Any]] = []
    verdict_rows: list[dict[str, float]] = []
    score_rows: list[dict[str, float]] = []
    given: list[dict[str, Any]] = []  # fields kept only for labels.csv
    buckets = BucketColumns()
    conversations: dict[tuple[str, str], _Conversation] = {}
    sources = RecordSources()
    for raw_path in paths:
        path = Path(raw_path)
        for line, rec in iter_jsonl_objects(path):
            _check_turn(rec, path, line)
            safety = _check_safety(rec["safety"], path, line)
            ticks = buckets.add(rec.get("buckets"), path, line)
            key = (rec["run_id"], str(rec["conversation_id"]))
            conv = conversations.get(key)
            if conv is None:
                conv = conversations[key] = _Conversation(len(conversations), rec, (path, line))
            conv.admit(rec, path, line)
            conv.rows.append(len(rows))
            sources.add(path, line)
            rows.append({
                "conv": conv.code,
                "run_id": rec["run_id"], "conversation_id": key[1], "unit_id": str(rec["unit_id"]),
                "worker_id": rec["worker_id"], "model": rec["model"], "turn_index": rec["turn_index"],
                "bot_turn_number": rec.get("bot_turn_number"), "text": rec["text"],
                "notok": rec["label"] == NOT_OK, "flagged": any(v[0] is True for v in safety.values()),
                "safety_action": rec.get("safety_action") or "",
                "status": rec.get("conversation_status", "complete"),
                "rating": float("nan") if rec.get("rating") is None else float(rec["rating"]),
                "started_at": _seconds(rec["started_at"]), "submitted_at": _seconds(rec["submitted_at"]),
                "source": f"{path}:{line}",
            })
            verdict_rows.append({c: math.nan if unsafe is None else float(unsafe) for c, (unsafe, _s, _r) in safety.items()})
            score_rows.append({c: score for c, (_u, score, _r) in safety.items()})
            given_safety = {c: {"unsafe": u, "score": None if math.isnan(sc) else sc, "reason": r}
                            for c, (u, sc, r) in safety.items()}
            given.append({"task_run_id": rec.get("task_run_id"), "generated": rec.get("generated"),
                          "label": rec["label"],
                          "flagged_by": ", ".join(c for c, (u, _s, _r) in safety.items() if u is True),
                          "not_run": ", ".join(c for c, (u, _s, _r) in safety.items() if u is None),
                          "safety": json.dumps(given_safety, ensure_ascii=False, allow_nan=False),
                          "buckets": json.dumps(ticks, ensure_ascii=False) if ticks else ""})
    if not rows:
        raise InputError("holds no BAD turn records", path=", ".join(str(p) for p in paths))
    refuse_repeated_records([[r["conv"] for r in rows], [r["turn_index"] for r in rows]], sources,
                            "conversation and turn_index", "turn_index")
    for conv in conversations.values():
        _number_bot_turns(conv, rows, sources)
    turns = pd.DataFrame(rows)
    named = sorted({c for r in verdict_rows for c in r})
    verdicts = pd.DataFrame(verdict_rows, columns=named, dtype=float)
    scores = pd.DataFrame(score_rows, columns=named, dtype=float)
    extra = pd.DataFrame(given)
    incomplete = turns["status"].eq("incomplete")
    excluded_conversations = 0 if include_incomplete else int(turns.loc[incomplete, "conv"].nunique())
    keep = ~incomplete if not include_incomplete else pd.Series(True, index=turns.index)
    excluded_turns = int((~keep).sum())
    if not keep.any():
        raise InputError(f"all {excluded_conversations} conversations are incomplete; pass --include-incomplete to "
                         "analyse them anyway", path=", ".join(str(p) for p in paths), field="conversation_status")
    order = turns.loc[keep].sort_values(["conv", "bot_turn"]).index
    verdicts_all = verdicts
    turns, verdicts_all, scores, extra = (
        f.loc[order].reset_index(drop=True) for f in (turns, verdicts_all, scores, extra))
    turns["conv"] = pd.factorize(turns["conv"])[0]  # dense again after dropping incomplete ones
    # A check that judged no analysed turn did not run: it is named as such, never scored.
    ran = verdicts_all.notna().any()
    checks, not_run = [c for c in named if ran[c]], [c for c in named if not ran[c]]
    record = turns.join(extra).rename(columns={"status": "conversation_status", "flagged": "layer_flagged"})
    record = record[["run_id", "task_run_id", "unit_id", "worker_id", "conversation_id", "conversation_status", "model",
                     "turn_index", "bot_turn_number", "bot_turn", "text", "generated", "label", "safety_action",
                     "rating", "started_at", "submitted_at", "layer_flagged", "flagged_by", "not_run", "safety",
                     "buckets"]].copy()
    record["source"] = turns["source"]
    result = BadLabels(
        turns=turns.drop(columns=["bot_turn_number"]), verdicts=verdicts_all[checks], scores=scores[checks],
        checks=checks, checks_not_run=not_run, records=record,
        models=sorted(turns["model"].unique()), runs=sorted(turns["run_id"].unique()),
        excluded_conversations=excluded_conversations, excluded_turns=excluded_turns,
        buckets=buckets.build().take(order.to_numpy()),
    )
    log.info("read %d bot turns of %d conversations (%d models); left out %d incomplete conversations",
             len(turns), result.n_conversations, len(result.models), excluded_conversations)
    return result


def _number_bot_turns(conv: _Conversation, rows: list[dict[str, Any]], sources: RecordSources) -> None:
    """Set `bot_turn` on one conversation's rows (see `load_bad_labels`)."""
    ordered = sorted(conv.rows, key=lambda r: rows[r]["turn_index"])
    given = [rows[r]["bot_turn_number"] for r in ordered]
    use_given = all(g is not None for g in given)
    previous = 0
    for rank, r in enumerate(ordered, start=1):
        if use_given:
            if given[rank - 1] <= previous:
                path, line = sources[r]
                raise record_error(f"must grow with turn_index within a conversation (previous bot turn is {previous})",
                            path, line, "bot_turn_number")
            previous = given[rank - 1]
        rows[r]["bot_turn"] = given[rank - 1] if use_given else rank
