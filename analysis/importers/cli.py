"""`python -m analysis import SOURCE IN... --out OUT.jsonl`: other tools' results → our export records.

The source table names a module with `build_parser(parser)` (its own options) and
`convert(paths, args) -> Imported`; this frame adds the inputs, `--out` and `-v`, refuses an `--out` that
is an input, a folder or a device before anything is read, writes the records atomically (all or
nothing), and prints what could not be carried over and the analysis command that reads the result.

Before the output is renamed into place, the staged file is read back with the study's own reader (the
single truth of what `python -m analysis acute|safety|bad` accepts): an import never exits 0 with a file the
analysis then refuses. A refusal is reported on the imported record and, where the importer knows it, the
input it came from.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.jsonl import MAX_LINE_BYTES, write_jsonl_to
from humaneval.outputs import check_outputs, staged_outputs
from humaneval.visible_text import visible

from analysis.acute.records import load_acute_judgements
from analysis.bad.records import load_bad_labels
from analysis.importers.source import Imported
from analysis.safety.records import load_safety_labels

#: source name -> (module, help)
SOURCES: dict[str, tuple[str, str]] = {
    "parlai-acute": ("analysis.importers.parlai_acute",
                     "ParlAI ACUTE-Eval unit data (agent_data.json / folders of them) or results CSV -> ACUTE judgements"),
    "parlai-model-chat": ("analysis.importers.parlai_model_chat",
                          "ParlAI model_chat *_live.json conversations -> BAD turn labels with every bucket kept"),
    "parlai-turn-annotations": ("analysis.importers.parlai_turn_annotations",
                                "ParlAI turn_annotations_static results -> safety labels with every bucket kept"),
    "pairwise-csv": ("analysis.importers.pairwise_csv",
                     "any pairwise CSV or JSONL, or folders of them (model_a, model_b, winner with ties) -> ACUTE judgements"),
}
#: records' task -> the analysis verb and its input option
NEXT_COMMAND = {"acute": ("acute", "--judgements"), "safety": ("safety", "--labels"), "bad": ("bad", "--labels")}
#: records' task -> the reader of that analysis, with the options its verb can switch on (mixed questions and
#: incomplete conversations are the researcher's choice there, not a reason to refuse the import)
READERS: dict[str, Callable[[list[Path]], Any]] = {
    "acute": lambda paths: load_acute_judgements(paths, allow_mixed_questions=True),
    "safety": load_safety_labels,
    "bad": lambda paths: load_bad_labels(paths, include_incomplete=True),
}


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = ("Convert results of other tools into humaneval's export records (docs/formats.md, "
                          "section 'Exports'), which `python -m analysis acute|safety|bad` read. "
                          "See docs/migrating_from_parlai.md.")
    sub = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)
    for name, (module_name, help_text) in SOURCES.items():
        source_parser = sub.add_parser(name, help=help_text, description=help_text)
        source_parser.add_argument("inputs", nargs="+", metavar="IN", help="input files (or folders, where the source says so)")
        source_parser.add_argument("--out", required=True, metavar="OUT.jsonl", help="the JSONL file to write")
        importlib.import_module(module_name).build_parser(source_parser)
        source_parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return parser


@exit_on_input_error
def run(args: argparse.Namespace) -> int:
    check_outputs([args.out], inputs=args.inputs, field="--out")
    paths = [Path(p) for p in args.inputs]
    for path in paths:
        if not path.exists():
            raise InputError("does not exist", path=path)
    imported: Imported = importlib.import_module(SOURCES[args.source][0]).convert(paths, args)
    if not imported.records:
        raise InputError(f"no {args.source} results found in the input", path=", ".join(args.inputs))
    with staged_outputs([args.out]) as staged:
        with staged[args.out].open("w", encoding="utf-8") as handle:
            count = write_jsonl_to(handle, imported.records)
        _read_back(imported, staged[args.out], args.inputs)
    print(f"wrote {count:,} {imported.task} records to {visible(args.out)}")
    for note in imported.not_carried:
        print(f"  not carried over: {visible(note)}")
    verb, option = NEXT_COMMAND[imported.task]
    print(f"next: python -m analysis {verb} {option} {shlex.quote(args.out)} --out report/")
    return 0


def _where(imported: Imported, number: int) -> str:
    """"imported record N (from FILE:LINE)", the source part when the importer tracked it."""
    origin = imported.origins[number - 1] if len(imported.origins) == len(imported.records) else None
    return f"imported record {number:,}" + (f" (from {origin})" if origin else "")


def _check_size(imported: Imported, number: int, record: dict[str, Any], inputs: list[str]) -> None:
    """A record longer than the line limit every reader keeps is refused naming its longest field, which the
    reader's "line longer than 4 MiB" cannot say. Called only for the line the read-back refused, so the happy
    path serialises each record once (when writing)."""
    size = len(json.dumps(record, ensure_ascii=False).encode("utf-8"))
    if size <= MAX_LINE_BYTES:
        return
    longest = max(record, key=lambda key: len(json.dumps(record[key], ensure_ascii=False).encode("utf-8")))
    raise InputError(f"{_where(imported, number)} is {size / 1024 / 1024:.1f} MiB as a JSON line, over the "
                     f"{MAX_LINE_BYTES // (1024 * 1024)} MiB the analysis reads; its longest field is '{longest}'",
                     path=", ".join(inputs))


def _read_back(imported: Imported, staged: Path, inputs: list[str]) -> None:
    """Read the staged output with the study's own reader; its refusal, located on the imported record (the
    staged file's name, which means nothing to the researcher, replaced), stops the import before anything
    is renamed into place."""
    try:
        READERS[imported.task]([staged])
    except InputError as err:
        if err.line is not None and err.line <= len(imported.records):  # a line over the limit: say which field
            _check_size(imported, err.line, imported.records[err.line - 1], inputs)
        where = _where(imported, err.line) if err.line is not None else "the imported records"
        field = f"field '{err.field}': " if err.field else ""
        problem = re.sub(re.escape(str(staged)) + r":(\d+)", lambda m: _where(imported, int(m.group(1))), err.problem)
        raise InputError(f"{where} would be refused by `python -m analysis {NEXT_COMMAND[imported.task][0]}`: "
                         f"{field}{problem}", path=", ".join(inputs)) from None
