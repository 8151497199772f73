"""Any pairwise CSV or JSONL (`model_a`, `model_b`, `winner`, ties allowed) → ACUTE judgement records.

Most pairwise human data outside ParlAI (Chatbot Arena battles, MT-bench human judgements, a lab's own
three-way MTurk study) is one row per judgement naming two models and the outcome. The outcome comes in a
few spellings; `resolve_winner` maps them (the table is in docs/migrating_from_parlai.md) and refuses
anything else, because guessing an outcome would change every win rate. Columns are found by our field
names unless `--column FIELD=NAME` says otherwise. What a file does not hold is left unknown (`left`,
times) or made unique per row (worker, pair, unit ids), and said so in a "not carried over" sentence.

`judgement` builds one record from values already read; the ParlAI importer (parlai_acute.py) uses it and
`judgement_from_row` too, with ParlAI's own column names.
"""

from __future__ import annotations

import argparse
import logging
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError

from analysis.importers.rows import files_in, iter_table
from analysis.importers.source import Imported
from analysis.stats.record_checks import is_finite_number

log = logging.getLogger(__name__)

#: every field a row may give; `model_a`, `model_b` and `winner` are required
FIELDS = ("model_a", "model_b", "winner", "worker_id", "question", "started_at", "submitted_at", "seconds", "left",
          "reason", "pair_id", "unit_id", "run_id")
REQUIRED = ("model_a", "model_b", "winner")
#: outcome spellings (compared lower-cased, spaces trimmed) that name a side rather than a model
SIDES = {"model_a": "a", "a": "a", "model_b": "b", "b": "b"}
#: outcome spellings for no winner: Chatbot Arena writes "tie" and "tie (bothbad)"
TIES = {"tie": "tie", "draw": "tie", "tie (bothbad)": "both_bad", "both_bad": "both_bad", "bothbad": "both_bad",
        "both bad": "both_bad"}
#: model names the format refuses, since `winner` would be ambiguous (docs/formats.md, 'ACUTE judgements')
RESERVED_MODELS = ("tie", "both_bad")


def outcome_key(value: str) -> str:
    """How outcome spellings are compared: lower-cased, runs of whitespace as one space, trimmed."""
    return " ".join(value.lower().split())


#: model names an importer refuses (compared by `outcome_key`): any tie or both-bad spelling would make a
#: `winner` naming that model read as the outcome, or the outcome as the model
OUTCOME_NAMES = frozenset({*TIES, *RESERVED_MODELS})


def build_parser(parser: argparse.ArgumentParser) -> None:
    """`--column`, `--question` and `--run-id`: what a file may lack or call differently."""
    parser.add_argument("--column", action="append", default=[], metavar="FIELD=NAME",
                        help=f"read FIELD from the column (CSV) or key (JSONL) NAME, e.g. --column worker_id=judge; "
                             f"fields: {', '.join(FIELDS)}. Without it each field is read from its own name.")
    add_common_options(parser)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """The options both ACUTE importers share."""
    parser.add_argument("--question", default=None,
                        help="the question the workers answered, for inputs that do not record it")
    parser.add_argument("--run-id", default=None,
                        help="run_id of every record (default: the input's own run id, else its file name without "
                             "extension)")


def column_map(specs: list[str]) -> dict[str, str]:
    """FIELD -> column name, from `--column FIELD=NAME` options over the default (each field its own name)."""
    columns = {f: f for f in FIELDS}
    for spec in specs:
        field, sep, name = spec.partition("=")
        if not sep or field.strip() not in FIELDS or not name.strip():
            raise InputError(f"expected FIELD=NAME with FIELD one of {', '.join(FIELDS)}, got {spec!r}", field="--column")
        columns[field.strip()] = name.strip()
    return columns


def convert(paths: list[Path], args: argparse.Namespace) -> Imported:
    files = files_in(paths, ("*.csv", "*.jsonl"), exclude=Path(args.out))
    notes: Counter[str] = Counter()
    read = [(f"{path}:{line}", rec) for path in files
            for line, rec in rows_to_judgements(path, iter_table(path), column_map(args.column), args, notes)]
    return Imported("acute", [rec for _origin, rec in read], not_carried_sentences(notes),
                    origins=[origin for origin, _rec in read])


def rows_to_judgements(path: Path, rows: Iterator[tuple[int, Mapping[str, Any]]], columns: Mapping[str, str],
                       args: argparse.Namespace, notes: Counter[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, judgement) per row; `notes` counts what rows lacked, for `not_carried_sentences`."""
    log.info("reading %s", path)
    for line, row in rows:
        missing = [columns[f] for f in REQUIRED if columns[f] not in row]
        if missing:
            # ParlAI's results CSV names its models eval_choice_0/1: point at the importer that reads it
            hint = ("; this looks like ParlAI's ACUTE results CSV: use `python -m analysis import parlai-acute`"
                    if {"eval_choice_0", "eval_choice_1", "speakerChoice"} & set(row) else
                    "; name the column that holds it with --column FIELD=NAME")
            raise InputError(f"is missing (a required column or key){hint}", path=path, line=line, field=missing[0])
        yield line, judgement_from_row(path, line, row, columns, args, notes)


def judgement_from_row(path: Path, line: int, row: Mapping[str, Any], columns: Mapping[str, str],
                       args: argparse.Namespace, notes: Counter[str]) -> dict[str, Any]:
    """The record of one row, every value checked where it is read."""

    def cell(field: str) -> Any:
        """The row's value for `field`, None when the column is absent or the cell empty (CSV) or null."""
        value = row.get(columns[field])
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    def text(field: str) -> str:
        value = cell(field)
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InputError(f"must be a non-empty string, got {value!r}", path=path, line=line, field=columns[field])
        return str(value).strip() if isinstance(value, str) else str(value)

    model_a, model_b = text("model_a"), text("model_b")
    for field, model in (("model_a", model_a), ("model_b", model_b)):
        if outcome_key(model) in OUTCOME_NAMES:
            raise InputError(f"a model may not be named {model!r}: it is a spelling of a tie or both-bad outcome, so "
                             "`winner` would be ambiguous", path=path, line=line, field=columns[field])
    if model_a == model_b:
        raise InputError("model_a and model_b must differ", path=path, line=line, field=columns["model_b"])
    winner = resolve_winner(text("winner"), model_a, model_b, path, line, columns["winner"])
    left = None if cell("left") is None else resolve_side(text("left"), model_a, model_b, path, line, columns["left"])
    own_id = f"{path.name}:{line}"
    worker = text("worker_id") if cell("worker_id") is not None else None
    question = text("question") if cell("question") is not None else args.question
    if not question:
        lacks = "an empty" if columns["question"] in row else "no"
        raise InputError(f"no question: the input has {lacks} {columns['question']!r} cell; give --question TEXT",
                         path=path, line=line, field=columns["question"])
    reason = cell("reason")
    if reason is not None and not isinstance(reason, str):
        raise InputError(f"must be a string, got {reason!r}", path=path, line=line, field=columns["reason"])
    started, submitted = times(row, columns, path, line, notes)
    notes.update(f for f, value in (("left", left), ("worker_id", worker), ("pair_id", cell("pair_id")))
                 if value is None)
    return judgement(
        run_id=args.run_id or (text("run_id") if cell("run_id") is not None else path.stem),
        unit_id=text("unit_id") if cell("unit_id") is not None else own_id,
        worker_id=worker or own_id,
        pair_id=text("pair_id") if cell("pair_id") is not None else own_id,
        model_a=model_a, model_b=model_b, left=left, winner=winner, reason=reason, question=question,
        started_at=started, submitted_at=submitted,
    )


def judgement(*, run_id: str, unit_id: str, worker_id: str, pair_id: str | int, model_a: str, model_b: str,
              left: str | None, winner: str, reason: str | None, question: str, started_at: float | None,
              submitted_at: float | None, is_onboarding: bool = False, onboarding_passed: bool | None = None,
              dialogue_ids: list[Any] | None = None) -> dict[str, Any]:
    """An ACUTE judgement record (docs/formats.md, 'ACUTE judgements') with every field the reader needs."""
    return {
        "task": "acute", "run_id": run_id, "unit_id": unit_id, "worker_id": worker_id, "pair_id": pair_id,
        "model_a": model_a, "model_b": model_b, "left": left, "winner": winner, "reason": reason or None,
        "question": question, "is_onboarding": is_onboarding, "onboarding_passed": onboarding_passed,
        "dialogue_ids": dialogue_ids, "started_at": started_at, "submitted_at": submitted_at,
    }


def resolve_winner(value: str, model_a: str, model_b: str, path: Path, line: int, column: str) -> str:
    """`model_a`'s or `model_b`'s name, "tie" or "both_bad", from a model name (exact), a side (`model_a`,
    `a`, `model_b`, `b`) or a tie spelling (`TIES`), side and tie spellings compared by `outcome_key`.

    A value is ambiguous only when it reads two ways that disagree: it is a side spelling and names (exactly,
    or but for case) the model on the other side, e.g. models `b` and `a` with winner `a`. Models `A` and `B`
    in that order, with winners `A`/`a`/`model_a`, read the same either way and are accepted."""
    key = outcome_key(value)
    side = SIDES.get(key)
    if side is not None:
        by_side = model_a if side == "a" else model_b
        other = model_b if side == "a" else model_a
        if outcome_key(other) == key:
            raise InputError(f"{value!r} is ambiguous: it names one model and is the side of the other",
                             path=path, line=line, field=column)
        return by_side
    if value in (model_a, model_b):
        return value
    if key in TIES:
        return TIES[key]
    raise InputError(f"must be {model_a!r}, {model_b!r}, a side (model_a, model_b, a, b) or a tie "
                     f"({', '.join(TIES)}), got {value!r}", path=path, line=line, field=column)


def resolve_side(value: str, model_a: str, model_b: str, path: Path, line: int, column: str) -> str:
    """The model shown on the left, from its name or a side (`model_a`, `a`, `model_b`, `b`)."""
    winner = resolve_winner(value, model_a, model_b, path, line, column)
    if winner not in (model_a, model_b):
        raise InputError(f"must name model_a or model_b, got {value!r}", path=path, line=line, field=column)
    return winner


def times(row: Mapping[str, Any], columns: Mapping[str, str], path: Path, line: int,
          notes: Counter[str]) -> tuple[float | None, float | None]:
    """(started_at, submitted_at): from both times, or one time and `seconds`; else unknown (None, None)."""
    started, submitted, seconds = (timestamp(row.get(columns[f]), path, line, columns[f], duration=f == "seconds")
                                   for f in ("started_at", "submitted_at", "seconds"))
    if started is not None and submitted is not None:
        if seconds is not None and abs(submitted - started - seconds) > 1:
            raise InputError(f"says {seconds:g} s, but submitted_at - started_at is {submitted - started:g} s",
                             path=path, line=line, field=columns["seconds"])
    elif seconds is not None and started is not None:
        submitted = started + seconds
        if not math.isfinite(submitted):
            raise InputError(f"started_at + seconds is {submitted} (not a finite time)", path=path, line=line,
                             field=columns["seconds"])
    elif seconds is not None and submitted is not None:
        started = submitted - seconds
        if not math.isfinite(started):
            raise InputError(f"submitted_at - seconds is {started} (not a finite time)", path=path, line=line,
                             field=columns["seconds"])
    else:
        notes["times"] += 1
        return None, None
    if submitted < started:
        raise InputError("is earlier than started_at", path=path, line=line, field=columns["submitted_at"])
    return started, submitted


def timestamp(value: Any, path: Path, line: int, column: str, *, duration: bool = False) -> float | None:
    """Unix seconds (or, for a duration, seconds ≥ 0) from a number, a numeric string, or an ISO 8601 time
    with its UTC offset (a time without one could be any of 24 hours); None for an empty cell or null."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number: float | None = None
    if is_finite_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            if not duration:
                number = _iso_seconds(value.strip())
        if number is not None and not math.isfinite(number):
            number = None
    if number is None or (duration and number < 0):
        kind = "a number of seconds ≥ 0" if duration else "Unix seconds or an ISO 8601 time with its UTC offset"
        raise InputError(f"must be {kind}, got {value!r}", path=path, line=line, field=column)
    return number


def _iso_seconds(value: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


#: what each count in `notes` means, as a "not carried over" sentence
SENTENCES = {
    "left": "{n} judgement(s) do not say which model was shown on the left: `left` is null (unknown), so position "
            "bias is measured on the others only",
    "times": "{n} judgement(s) have no start and end time (or only one of them, or a duration without either): "
             "`started_at`/`submitted_at` are null (unknown) and time checks skip them",
    "worker_id": "{n} judgement(s) name no worker: each counts as its own worker (its file:line), so intervals "
                 "treat them as independent and worker checks cannot see who judged what",
    "pair_id": "{n} judgement(s) name no pair: each is its own pair (its file:line), so agreement between workers "
               "on the same pair cannot be measured for them",
}


def not_carried_sentences(notes: Counter[str]) -> list[str]:
    """One sentence per kind of value the input lacked, with how many judgements lacked it."""
    return [SENTENCES[key].format(n=f"{n:,}") for key, n in notes.items() if n and key in SENTENCES]
