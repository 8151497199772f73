"""ParlAI ACUTE-Eval results (its `acute_eval` and `fast_acute` tasks) → ACUTE judgement records.

Two inputs, found in files or folders:

- **Unit data**: the `agent_data.json` Mephisto keeps per unit under `<data dir>/data/runs/<project>/<task run>/
  <assignment>/<agent>/` (ParlAI's `AcuteEvalAgentState`): `inputs` is the unit's list of comparisons
  (`pair_id`, `pairing_dict` with `speakers_to_eval`, `task_specs` with `model_left` and the `question`),
  `outputs.final_data` the answers in the same order (`speakerChoice`, `textReason`). Everything our
  format has is there except who the worker was: only Mephisto's database knows which worker an agent
  folder belongs to, so it is read (`--mephisto-db`, found by itself beside the `data/runs` tree).
  ParlAI puts its onboarding comparisons inside units (`is_onboarding`, `correct_answer`): they become
  onboarding records with their outcome, so the analysis drops a failing worker's judgements as ParlAI does.
- **Results CSV**: the `<run>.full.csv` ParlAI's `acute_eval/analysis.py` writes. It lacks the left side and
  its onboarding answers (ParlAI removed them, with every judgement of a worker who failed), which are
  left unknown or said to be missing; it is read as a pairwise CSV with ParlAI's column names.

The analysis reads the records like our own exports (docs/migrating_from_parlai.md).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError

from analysis.importers import pairwise_csv
from analysis.importers.rows import files_in, iter_csv_rows, read_document
from analysis.importers.source import Imported
from analysis.stats.record_checks import is_finite_number

log = logging.getLogger(__name__)

UNIT_FILE = "agent_data.json"
#: Mephisto writes an agent's start and end times here (older Mephisto: `times` inside agent_data.json)
META_FILE = "agent_meta.json"
#: the blueprint types ParlAI registered for ACUTE (acute_eval_blueprint.py, fast_acute_blueprint.py)
ACUTE_TYPES = ("acute_eval", "fast_acute")
#: agent statuses of submitted work, the ones ParlAI's analysis reads (Mephisto's completed states)
SUBMITTED = ("completed", "accepted", "rejected", "soft_rejected")
#: ParlAI's full CSV columns for our fields (analysis.py `_extract_response_by_index`)
CSV_COLUMNS = {**{f: f for f in pairwise_csv.FIELDS}, "model_a": "eval_choice_0", "model_b": "eval_choice_1",
               "worker_id": "worker_name", "pair_id": "pairing_id", "started_at": "task_start",
               "seconds": "time_taken"}
CSV_SIGNATURE = ("eval_choice_0", "eval_choice_1", "winner", "pairing_id", "matchup")


def build_parser(parser: argparse.ArgumentParser) -> None:
    """`--mephisto-db` for unit data outside Mephisto's tree, and the options of every ACUTE importer."""
    parser.add_argument("--mephisto-db", type=Path, default=None, metavar="database.db",
                        help="Mephisto's database, which knows each unit's worker (default: the database.db beside "
                             "the data/runs tree the agent_data.json files are in)")
    pairwise_csv.add_common_options(parser)


def convert(paths: list[Path], args: argparse.Namespace) -> Imported:
    notes: Counter[str] = Counter()
    records: list[dict[str, Any]] = []
    origins: list[str] = []
    agents = AgentTable(args.mephisto_db)
    files = files_in(paths, (UNIT_FILE, "*.full.csv"), exclude=Path(args.out), named_by_folder=(UNIT_FILE,))
    kinds = {path.suffix.lower() == ".csv" for path in files}
    if len(kinds) > 1:
        units = next(p for p in files if p.suffix.lower() != ".csv")
        results = next(p for p in files if p.suffix.lower() == ".csv")
        raise InputError(f"holds both unit data ({units}) and a results CSV ({results}): ParlAI's results CSV is "
                         "made from the unit data, so together every judgement would count twice; import one of "
                         "them (the unit data keeps the left side and onboarding), or each run on its own",
                         path=", ".join(str(p) for p in paths))
    for path in files:
        log.info("reading %s", path)
        if path.suffix.lower() == ".csv":
            for line, record in csv_judgements(path, args, notes):
                records.append(record)
                origins.append(f"{path}:{line}")
        else:
            for record in unit_judgements(path, agents.find(path), args, notes):
                records.append(record)
                origins.append(str(path))
    return Imported("acute", records, pairwise_csv.not_carried_sentences(notes) + sentences(notes), origins=origins)


# ---------------------------------------------------------------- the results CSV


def csv_judgements(path: Path, args: argparse.Namespace, notes: Counter[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """ParlAI's `*.full.csv`: (line, judgement) per row, onboarding rows (never written by ParlAI) kept as such."""
    rows = iter_csv_rows(path)
    first = next(rows, None)
    if first is None:
        return
    missing = [c for c in CSV_SIGNATURE if c not in first[1]]
    if missing:
        raise InputError(f"not ParlAI's ACUTE results CSV (no {missing[0]!r} column; ParlAI's analysis.py writes "
                         "<run>.full.csv); for another pairwise CSV use `python -m analysis import pairwise-csv`",
                         path=path, line=1, field=missing[0])
    columns = dict(CSV_COLUMNS)
    if "worker_name" not in first[1]:
        columns["worker_id"] = "worker"  # Mephisto's worker id: unique per worker too
    notes["csv"] += 1
    notes["checkboxes"] += any(c.startswith("checkbox: ") for c in first[1])
    for line, row in ((first[0], first[1]), *rows):
        _check_winner_and_loser(row, path, line)
        record = pairwise_csv.judgement_from_row(path, line, row, columns, args, notes)
        onboarding = _csv_bool(row.get("is_onboarding", "False"), path, line, "is_onboarding")
        if onboarding:
            record.update(is_onboarding=True,
                          onboarding_passed=_csv_bool(row.get("correct", ""), path, line, "correct"))
        yield line, record


def _check_winner_and_loser(row: dict[str, str], path: Path, line: int) -> None:
    """ParlAI writes the chosen model's name as `winner` and the other's as `loser`: a side or tie spelling,
    which a pairwise CSV may use, is not ParlAI's and would hide a damaged file."""
    choices = [row.get("eval_choice_0", "").strip(), row.get("eval_choice_1", "").strip()]
    winner = row.get("winner", "").strip()
    if winner not in choices:
        raise InputError(f"must be eval_choice_0 or eval_choice_1 ({choices[0]!r} or {choices[1]!r}), got {winner!r}",
                         path=path, line=line, field="winner")
    if "loser" in row and row["loser"].strip() != choices[1 - choices.index(winner)]:
        raise InputError(f"must be the model not chosen, {choices[1 - choices.index(winner)]!r}, got {row['loser']!r}",
                         path=path, line=line, field="loser")


def _csv_bool(value: str, path: Path, line: int, column: str) -> bool:
    """pandas writes booleans as True/False."""
    if value.strip() in ("True", "False"):
        return value.strip() == "True"
    raise InputError(f"must be True or False, got {value!r}", path=path, line=line, field=column)


# ---------------------------------------------------------------- unit data and Mephisto's database


@dataclass(frozen=True)
class Agent:
    """What Mephisto's database says about one agent folder."""

    agent_id: str
    worker_name: str
    unit_id: str
    task_run_id: str
    task_name: str
    task_type: str
    status: str


class AgentTable:
    """Agents of the Mephisto database beside an `agent_data.json` (or the one given), read once per database.

    Read-only, with plain SQL over Mephisto's tables: the analysis never imports Mephisto."""

    def __init__(self, given: Path | None) -> None:
        self.given = given
        self.tables: dict[Path, dict[str, Agent]] = {}

    def find(self, unit_file: Path) -> Agent:
        db = self.given or _database_beside(unit_file)
        if db is None:
            raise InputError("agent_data.json does not say who the worker was, and no Mephisto database.db was found "
                             "beside the data/runs tree it is in; give --mephisto-db <data dir>/database.db",
                             path=unit_file, field="--mephisto-db")
        if db not in self.tables:
            self.tables[db] = _read_agents(db)
        agent = self.tables[db].get(unit_file.parent.name)
        if agent is None:
            raise InputError(f"the folder name {unit_file.parent.name!r} is not an agent in {db}: unit data must stay "
                             "in the agent folder Mephisto wrote it to", path=unit_file)
        return agent


def _database_beside(unit_file: Path) -> Path | None:
    """`<db root>/database.db` for `<db root>/data/runs/<project>/<run>/<assignment>/<agent>/agent_data.json`."""
    for folder in unit_file.resolve().parents:
        if folder.name == "runs" and folder.parent.name == "data" and (folder.parent.parent / "database.db").is_file():
            return folder.parent.parent / "database.db"
    return None


def _read_agents(db: Path) -> dict[str, Agent]:
    query = ("SELECT a.agent_id, w.worker_name, a.unit_id, a.task_run_id, t.task_name, a.task_type, a.status "
             "FROM agents a JOIN workers w ON w.worker_id = a.worker_id JOIN tasks t ON t.task_id = a.task_id")
    if not db.is_file():
        raise InputError("no such file", path=db, field="--mephisto-db")
    try:
        with tempfile.TemporaryDirectory(prefix="humaneval-mephisto-db.") as folder:
            copy = _copy_database(db, Path(folder))
            with contextlib.closing(sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)) as connection:
                rows = connection.execute(query).fetchall()
    except sqlite3.Error as err:
        raise InputError(f"not a readable Mephisto database ({err})", path=db, field="--mephisto-db") from None
    except OSError as err:
        raise InputError(f"cannot read this database ({err.strerror})", path=db, field="--mephisto-db") from None
    return {str(r[0]): Agent(*(str(v) for v in r)) for r in rows}


def _copy_database(db: Path, folder: Path) -> Path:
    """A copy of the database and its write-ahead log, if any, in `folder`: SQLite opens a WAL database, even
    read-only, by creating `-shm` and `-wal` files beside it, and an import never changes its input folder.
    (`immutable=1` would not, but it ignores committed transactions still in the log.)"""
    copy = folder / "database.db"
    shutil.copyfile(db, copy)
    wal = db.with_name(db.name + "-wal")
    if wal.is_file():
        shutil.copyfile(wal, folder / "database.db-wal")
    return copy


def unit_judgements(path: Path, agent: Agent, args: argparse.Namespace, notes: Counter[str]) -> Iterator[dict[str, Any]]:
    """The judgements of one submitted unit; a unit never submitted gives none (and is counted)."""
    if agent.task_type not in ACUTE_TYPES:
        raise InputError(f"agent {agent.agent_id} belongs to task '{agent.task_name}' of blueprint type "
                         f"'{agent.task_type}', not ParlAI's ACUTE ({', '.join(ACUTE_TYPES)})", path=path)
    if agent.status not in SUBMITTED:
        notes["unsubmitted"] += 1
        return
    state = _require_dict(read_document(path), path, "")
    if isinstance(state.get("inputs"), dict) and "comparisons" in state["inputs"]:
        raise InputError("this is humaneval's own ACUTE unit, not ParlAI's: export it with python -m humaneval.crowd "
                         "export", path=path, field="inputs")
    inputs = _get(state, "inputs", list, path)
    if state.get("outputs") is None:
        notes["unsubmitted"] += 1
        return
    answers = _get(_get(state, "outputs", dict, path), "final_data", list, path, "outputs.")
    if len(answers) < len(inputs):
        raise InputError(f"{len(answers)} answers for {len(inputs)} comparisons", path=path, field="outputs.final_data")
    notes["extra_answers"] += len(answers) - len(inputs)
    started, submitted = _unit_times(state, path, notes)
    for index, (spec, answer) in enumerate(zip(inputs, answers)):
        where = f"inputs[{index}]."
        pairing = _get(_require_dict(spec, path, where[:-1]), "pairing_dict", dict, path, where)
        specs = _get(spec, "task_specs", dict, path, where)
        speakers = _get(pairing, "speakers_to_eval", list, path, where + "pairing_dict.")
        if len(speakers) != 2 or not all(isinstance(s, str) and s for s in speakers) or speakers[0] == speakers[1]:
            raise InputError(f"must be two different model names, got {speakers!r}", path=path,
                             field=where + "pairing_dict.speakers_to_eval")
        reserved = [s for s in speakers if s in pairwise_csv.RESERVED_MODELS]
        if reserved:
            raise InputError(f"a model may not be named {reserved[0]!r}: our records write a tie as `winner` "
                             f"{reserved[0]!r}, so its wins would read as ties", path=path,
                             field=where + "pairing_dict.speakers_to_eval")
        answer = _require_dict(answer, path, f"outputs.final_data[{index}]")
        choice = answer.get("speakerChoice")
        if choice in (None, ""):
            notes["no_choice"] += 1  # ParlAI's analysis skips these too
            continue
        if choice not in speakers:
            raise InputError(f"must be one of {speakers!r}, got {choice!r}", path=path,
                             field=f"outputs.final_data[{index}].speakerChoice")
        left = _get(_get(specs, "model_left", dict, path, where + "task_specs."), "name", str, path,
                    where + "task_specs.model_left.")
        if left not in speakers:
            raise InputError(f"must be one of {speakers!r}, got {left!r}", path=path,
                             field=where + "task_specs.model_left.name")
        onboarding = specs.get("is_onboarding", False) is True
        passed = (choice == _get(pairing, "correct_answer", str, path, where + "pairing_dict.")) if onboarding else None
        question = specs.get("question", args.question)
        if not isinstance(question, str) or not question:
            raise InputError("no question: ParlAI's task_specs has none; give --question TEXT", path=path,
                             field=where + "task_specs.question")
        reason = answer.get("textReason")
        record = pairwise_csv.judgement(
            run_id=args.run_id or agent.task_name, unit_id=agent.unit_id, worker_id=agent.worker_name,
            pair_id=_pair_id(spec.get("pair_id"), path, where), model_a=speakers[0], model_b=speakers[1], left=left,
            winner=choice, reason=reason if isinstance(reason, str) else None, question=question,
            started_at=started, submitted_at=submitted, is_onboarding=onboarding, onboarding_passed=passed,
            dialogue_ids=pairing.get("dialogue_ids") if isinstance(pairing.get("dialogue_ids"), list) else None,
        )
        record["task_run_id"] = agent.task_run_id
        dialogues = pairing.get("dialogue_dicts")
        if isinstance(dialogues, list) and len(dialogues) == 2:
            record["dialogue_dicts"] = dialogues  # the report shows the conversations (the reader checks them)
        yield record


def _unit_times(state: dict[str, Any], path: Path, notes: Counter[str]) -> tuple[float | None, float | None]:
    """The unit's start and submission, from `times` in the state (old Mephisto) or agent_meta.json beside it."""
    times = state.get("times")
    where = "times."
    if not isinstance(times, dict) and (path.parent / META_FILE).is_file():
        times, path, where = read_document(path.parent / META_FILE), path.parent / META_FILE, ""
    if not isinstance(times, dict) or times.get("task_start") is None or times.get("task_end") is None:
        notes["times"] += 1
        return None, None
    for key in ("task_start", "task_end"):
        if not is_finite_number(times[key]):
            raise InputError(f"must be a number of Unix seconds, got {times[key]!r}", path=path, field=where + key)
    if times["task_end"] < times["task_start"]:
        raise InputError("is earlier than task_start", path=path, field=where + "task_end")
    return float(times["task_start"]), float(times["task_end"])


def _pair_id(value: Any, path: Path, where: str) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"must be a string or integer id, got {value!r}", path=path, field=where + "pair_id")
    return value


def _require_dict(value: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"must be an object, got {type(value).__name__}", path=path, field=where or None)
    return value


def _get(obj: Any, key: str, kind: type, path: Path, where: str = "") -> Any:
    """obj[key], which must be of `kind`; an `InputError` naming the dotted field otherwise."""
    if not isinstance(obj, dict):
        raise InputError(f"must be an object, got {type(obj).__name__}", path=path, field=where.rstrip(".") or None)
    if key not in obj:
        raise InputError("is missing (not ParlAI's ACUTE unit data?)", path=path, field=where + key)
    if not isinstance(obj[key], kind):
        raise InputError(f"must be {kind.__name__}, got {type(obj[key]).__name__}", path=path, field=where + key)
    return obj[key]


SENTENCES = {
    "csv": "ParlAI's results CSV holds no onboarding answers: ParlAI's analysis removed them and every judgement of a "
           "worker who failed onboarding before writing it, so onboarding cannot be reported; the conversations "
           "(pairs_to_eval, Python text we never evaluate) are not read: pass ParlAI's pairings file to "
           "`python -m analysis acute --pairings` (its pair ids are that file's line indices)",
    "checkboxes": "the reason checkboxes ParlAI's page may ask for ('checkbox: ...' columns) have no place in our "
                  "records",
    "unsubmitted": "{n} unit(s) were never submitted (or their agent is not in a submitted state): no judgements",
    "no_choice": "{n} comparison(s) have no speakerChoice: skipped, as ParlAI's analysis skips them",
    "extra_answers": "{n} answer(s) beyond their unit's comparisons were dropped, as ParlAI's analysis drops them",
}


def sentences(notes: Counter[str]) -> list[str]:
    """The ParlAI-specific 'not carried over' sentences."""
    return [SENTENCES[k].format(n=f"{n:,}") for k, n in notes.items() if n and k in SENTENCES]
