"""`python -m analysis import SOURCE IN... --out OUT.jsonl`: other tools' results → our export records.

The source table names a module with `build_parser(parser)` (its own options) and
`convert(paths, args) -> Imported`; this frame adds the inputs, `--out` and `-v`, refuses an `--out` that
is an input, a folder or a device before anything is read, writes the records atomically (all or
nothing), and prints what could not be carried over and the analysis command that reads the result.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.jsonl import write_jsonl
from humaneval.outputs import check_outputs

from analysis.importers.source import Imported

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
NEXT_COMMAND = {"acute": "acute --judgements", "safety": "safety --labels", "bad": "bad --labels"}


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
    count = write_jsonl(args.out, imported.records)
    print(f"wrote {count:,} {imported.task} records to {args.out}")
    for note in imported.not_carried:
        print(f"  not carried over: {note}")
    print(f"next: python -m analysis {NEXT_COMMAND[imported.task]} {args.out} --out report/")
    return 0
