"""ParlAI `turn_annotations_static` results (Mephisto `agent_data.json`, one per unit) → safety labels with buckets.

In ParlAI's `turn_annotations_static` task a worker reads a few fixed conversations (`outputs.final_data`, one
subtask each) and ticks, for the bot utterances asked about, any of the problem buckets or the "none" one.
Each annotated utterance (its buckets true/false rather than null) becomes one safety label (docs/formats.md,
section 'Safety labels') with `buckets` and `label` `ok` / `not_ok` (`parlai_buckets`; the task asks no severity).

Identity follows ParlAI's own analysis (`compile_results.py`): Mephisto keeps a unit's data in
`<task run>/<assignment>/<agent>/agent_data.json`; the item is `<assignment>_<subtask>_<utterance>` (ParlAI's
`utterance_id`: the workers of one assignment annotate the same conversations), and the agent folder stands
for the worker, as in ParlAI (agent_data.json names no worker).

ParlAI's filters are options, applied in ParlAI's order so its numbers can be reproduced:
`--drop-none-with-problem`, then `--annotations-per-item K` (keep items with exactly K annotations), then
`--in-flight-qa FILE` / `--in-flight-threshold`: the last subtask of every unit is the in-flight check (not a
label); a unit whose score is below the threshold keeps its labels, marked `excluded` with the reason, which the
safety analysis leaves out.
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError
from humaneval.jsonl import iter_jsonl_objects

from analysis.importers.rows import files_in, read_document
from analysis.importers.parlai_buckets import BucketTally, add_bucket_options, check_bucket_name, is_not_ok
from analysis.importers.source import Imported

log = logging.getLogger(__name__)

#: keys of an utterance that are not checkboxes
NOT_BUCKETS = ("turn_idx", "text", "agent_idx", "input_reason", "id", "episode_done", "fake_start", "message_id")
#: ParlAI's default in-flight check threshold (compile_results.py's LIVE_ONBOARDING_THRESHOLD)
PARLAI_THRESHOLD = 0.5
SPEAKERS = {0: "YOU", 1: "THEM"}


def build_parser(parser: argparse.ArgumentParser) -> None:
    parser.epilog = ("IN: agent_data.json files, or folders searched for them (a Mephisto task run folder). "
                     "See docs/migrating_from_parlai.md, section 'turn_annotations_static'.")
    parser.add_argument("--model", required=True, metavar="NAME",
                        help="the model whose utterances were annotated (agent_data.json does not name it)")
    parser.add_argument("--run-id", default="parlai-turn-annotations", help="the records' run_id (default: %(default)s)")
    parser.add_argument("--in-flight-qa", metavar="FILE", type=Path,
                        help="the in-flight check conversations the task used (ParlAI's onboarding_in_flight.jsonl): "
                             "the last subtask of every unit is then the check, scored and not imported")
    parser.add_argument("--in-flight-threshold", type=float, default=PARLAI_THRESHOLD, metavar="SHARE",
                        help="units whose in-flight score (share of the expected buckets ticked) is below this have "
                             "their labels marked excluded (default: ParlAI's %(default)s)")
    parser.add_argument("--annotations-per-item", type=int, metavar="K",
                        help="keep only items with exactly K annotations, as ParlAI's analysis does (its NUM_ANNOTATIONS)")
    add_bucket_options(parser)


def _in_flight_answers(path: Path) -> dict[str, list[str]]:
    """The check conversations' last utterance text → the buckets a worker should tick on it."""
    answers: dict[str, list[str]] = {}
    for line, rec in iter_jsonl_objects(path):
        dialog, expected = rec.get("dialog"), rec.get("answers")
        if not (isinstance(dialog, list) and dialog and isinstance(dialog[-1], list) and dialog[-1]
                and isinstance(dialog[-1][-1], dict) and isinstance(dialog[-1][-1].get("text"), str)):
            raise InputError("must be a list of turns whose last message has a text", path=path, line=line, field="dialog")
        if not (isinstance(expected, list) and expected and all(isinstance(a, str) for a in expected)):
            raise InputError("must be a non-empty list of bucket names", path=path, line=line, field="answers")
        answers[dialog[-1][-1]["text"]] = expected
    if not answers:
        raise InputError("holds no in-flight check", path=path)
    return answers


def _bucket_names(utterances: list[dict[str, Any]]) -> list[str]:
    """The subtask's checkboxes: every key that is true, false or null in one of its utterances (the page writes
    each bucket on every utterance, null where it did not ask)."""
    names: dict[str, None] = {}
    for utt in utterances:
        names.update((k, None) for k, v in utt.items() if k not in NOT_BUCKETS and (v is None or isinstance(v, bool)))
    return list(names)


def _utterance_buckets(utt: dict[str, Any], names: list[str], path: Path, field: str) -> dict[str, bool] | None:
    """The utterance's checkboxes, or None when it was not asked about (every bucket null)."""
    for name in names:
        if not (utt.get(name) is None or isinstance(utt[name], bool)):
            raise InputError(f"must be true, false or null (a checkbox), got {utt[name]!r}", path=path,
                             field=f"{field}.{name}")
    for name in names:
        if name in utt:  # where the name is written
            check_bucket_name(name, path, f"{field}.{name}")
    answered = {k: utt[k] for k in names if utt.get(k) is not None}
    if not answered:
        return None
    if len(answered) != len(names):
        missing = ", ".join(k for k in names if utt.get(k) is None)
        raise InputError(f"some buckets are answered and {missing} not: an annotation answers every bucket",
                         path=path, field=field)
    return answered


class _Unit:
    """One agent_data.json: its annotated utterances, times and in-flight check."""

    def __init__(self, path: Path, check_answers: dict[str, list[str]] | None) -> None:
        data = read_document(path)
        if not isinstance(data, dict):
            raise InputError("must be one JSON object (Mephisto unit data)", path=path)
        self.path = path
        self.agent, self.assignment = path.parent.name, path.parent.parent.name
        outputs = data.get("outputs")
        self.subtasks: list[Any] = []
        self.score: float | None = None
        self.annotations: list[dict[str, Any]] = []
        self.started_at: float | None = None
        self.submitted_at: float | None = None
        if outputs is None:  # returned or abandoned: Mephisto writes the file without outputs
            return
        if not isinstance(outputs, dict) or not isinstance(outputs.get("final_data"), list):
            raise InputError("must be an object with a final_data list of subtasks", path=path, field="outputs")
        self.subtasks = outputs["final_data"]
        self.started_at, self.submitted_at = self._times(data)
        labelled = self.subtasks
        if check_answers is not None and self.subtasks:
            labelled = self.subtasks[:-1]
            self.score = self._check_score(check_answers)
        for index in range(len(labelled)):
            self._read_subtask(index)

    def _utterances(self, index: int) -> list[dict[str, Any]]:
        subtask, where = self.subtasks[index], f"outputs.final_data[{index}]"
        if not isinstance(subtask, dict) or not isinstance(subtask.get("data"), list):
            raise InputError("must be an object with a data list of utterances", path=self.path, field=where)
        for turn, utt in enumerate(subtask["data"]):
            if (not isinstance(utt, dict) or not isinstance(utt.get("text"), str) or utt.get("agent_idx") not in (0, 1)
                    or isinstance(utt["agent_idx"], bool)):
                raise InputError("must be an utterance with a text and agent_idx 0 or 1", path=self.path,
                                 field=f"{where}.data[{turn}]")
        return subtask["data"]

    def _times(self, data: dict[str, Any]) -> tuple[float | None, float | None]:
        """`times.task_start/task_end`, else Mephisto's agent_meta.json beside the file (Mephisto >= 1.0.2), else unknown."""
        times, source = data.get("times"), self.path
        if times is None and (self.path.parent / "agent_meta.json").is_file():
            source = self.path.parent / "agent_meta.json"
            times = read_document(source)
        if not isinstance(times, dict):
            return None, None
        start, end = times.get("task_start"), times.get("task_end")
        for name, value in (("task_start", start), ("task_end", end)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise InputError(f"must be a number (Unix seconds), got {value!r}", path=source, field=name)
        if start is not None and end is not None and end < start:
            raise InputError("is earlier than task_start", path=source, field="task_end")
        return start, end

    def _check_score(self, answers: dict[str, list[str]]) -> float:
        """ParlAI's score: the share of the expected buckets the worker ticked (extra ticks are not counted)."""
        last = len(self.subtasks) - 1
        utterances = self._utterances(last)
        if not utterances:
            raise InputError("the in-flight check subtask is empty", path=self.path, field=f"outputs.final_data[{last}]")
        final = utterances[-1]
        expected = answers.get(final["text"])
        if expected is None:
            raise InputError("the last subtask is none of the --in-flight-qa checks (its last utterance's text matches "
                             "none of theirs); was the task run with this file?", path=self.path,
                             field=f"outputs.final_data[{last}]")
        buckets = _utterance_buckets(final, _bucket_names(utterances), self.path,
                                     f"outputs.final_data[{last}].data[{len(utterances) - 1}]") or {}
        return sum(buckets.get(name) is True for name in expected) / len(expected)

    def _read_subtask(self, index: int) -> None:
        utterances = self._utterances(index)
        names = _bucket_names(utterances)
        for turn, utt in enumerate(utterances):
            where = f"outputs.final_data[{index}].data[{turn}]"
            buckets = _utterance_buckets(utt, names, self.path, where)
            if buckets is None:
                continue
            reason = utt.get("input_reason", "")
            if reason is not None and not isinstance(reason, str):
                raise InputError(f"must be a string, got {reason!r}", path=self.path, field=f"{where}.input_reason")
            self.annotations.append({
                "item_id": f"{self.assignment}_{index}_{turn}", "conversation_id": f"{self.assignment}_{index}",
                "annotation_index": turn, "position": index, "text": utt["text"], "buckets": buckets,
                "reason": reason or "",
                "context": [f"{SPEAKERS[u['agent_idx']]}: {u['text']}" for u in utterances[:turn]],
            })

    def record(self, annotation: dict[str, Any], args: argparse.Namespace, ok_bucket: str) -> dict[str, Any]:
        failed = self.score is not None and self.score < args.in_flight_threshold
        return {
            "task": "safety", "run_id": args.run_id, "unit_id": self.agent, "worker_id": self.agent,
            "started_at": self.started_at, "submitted_at": self.submitted_at,
            "is_onboarding": False, "onboarding_passed": None, "excluded": failed,
            "excluded_reason": f"in-flight check score {self.score:.2f} below the threshold {args.in_flight_threshold}"
            if failed else None,
            "model": args.model, "label": "not_ok" if is_not_ok(annotation["buckets"], ok_bucket) else "ok",
            "is_gold": False, "gold_label": None, "gold_correct": None, **annotation,
        }


def convert(paths: list[Path], args: argparse.Namespace) -> Imported:
    """Every agent_data.json given or under the folders given → safety labels, plus what was not carried over."""
    if args.annotations_per_item is not None and args.annotations_per_item < 1:
        raise InputError("must be at least 1", field="--annotations-per-item")
    if not 0 <= args.in_flight_threshold <= 1:
        raise InputError("must be a share from 0 to 1", field="--in-flight-threshold")
    check_answers = _in_flight_answers(args.in_flight_qa) if args.in_flight_qa is not None else None
    files = files_in(paths, ("agent_data.json",), exclude=Path(args.out), named_by_folder=("agent_data.json",))
    units = [_Unit(path, check_answers) for path in files]
    tally = BucketTally(args.ok_bucket, args.drop_none_with_problem)
    kept = [(unit, a) for unit in units for a in unit.annotations if tally.keep(a["buckets"])]
    tally.check_names()
    notes = tally.sentences("annotations")
    if args.annotations_per_item is not None:
        counts = Counter(a["item_id"] for _unit, a in kept)
        before = len(kept)
        kept = [(unit, a) for unit, a in kept if counts[a["item_id"]] == args.annotations_per_item]
        if before > len(kept):
            notes.append(f"{before - len(kept)} annotations of items without exactly {args.annotations_per_item} "
                         "annotations: left out (--annotations-per-item)")
    records = [unit.record(a, args, tally.ok_bucket) for unit, a in kept]
    log.info("read %d units: %d annotations, %d imported", len(units), sum(len(u.annotations) for u in units), len(records))
    empty = sum(not unit.subtasks for unit in units)
    if empty:
        notes.append(f"{empty} units have no outputs (returned or abandoned): nothing to import from them")
    if check_answers is None:
        notes.append("no --in-flight-qa: every subtask is imported as labels; if the task ran in-flight checks "
                     "(ParlAI's default puts one last in every unit), pass their file")
    else:
        failed = {unit.agent for unit in units if unit.score is not None and unit.score < args.in_flight_threshold}
        if failed:
            notes.append(f"{len(failed)} units scored below {args.in_flight_threshold} on the in-flight check: their "
                         "labels are marked excluded")
    notes.append("agent_data.json names no worker: worker_id is Mephisto's agent folder (one per unit), so one "
                 "worker's several units count as several workers")
    if any(unit.subtasks and unit.started_at is None for unit in units):
        notes.append("some units record no times: their started_at and submitted_at are null")
    return Imported(task="safety", records=records, not_carried=notes, origins=[str(unit.path) for unit, _a in kept])
