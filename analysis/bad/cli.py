"""`python -m analysis bad`: BAD turn-label files in, report folder out."""

from __future__ import annotations

import argparse
import time

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.outputs import check_outputs

from analysis.bad.records import load_bad_labels
from analysis.bad.report import render_html
from analysis.bad.statistics import BadOptions, analyse_bad
from analysis.bad.tables import csv_tables, summary
from analysis.report.writer import write_report


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = (
        "Fooled rates per model (Wilson and conversation-bootstrap intervals), bot turns until the first NOT OK "
        "(Kaplan-Meier), the safety layer's precision/recall against the workers' labels, model-vs-model Fisher "
        "tests (Holm), worker flags and an HTML report from bot-adversarial dialogue turn labels (FORMATS.md §5). "
        "Writes models.csv, pairs.csv, survival.csv, safety_layer.csv, safety_layer_by_model.csv, workers.csv, "
        "conversations.csv, notok_turns.csv, summary.json and report.html into --out. See docs/analysis_bad.md."
    )
    d = BadOptions()
    parser.add_argument("--labels", nargs="+", required=True, metavar="FILE",
                        help="BAD turn-label JSONL files (one line per bot turn); several files (runs) are combined")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="report folder; created, or replaced if it holds an earlier report")
    parser.add_argument("--include-incomplete", action="store_true",
                        help="also analyse conversations whose records say conversation_status 'incomplete' "
                             "(left out by default)")
    parser.add_argument("--bootstrap-rounds", type=int, default=d.bootstrap_rounds, metavar="N",
                        help=f"conversation-bootstrap rounds per model for the clustered interval of the fooled rate "
                             f"(default {d.bootstrap_rounds}; 0 = no bootstrap interval)")
    parser.add_argument("--seed", type=int, default=d.seed, metavar="S",
                        help=f"random seed of the bootstrap; same input and seed give the same report (default {d.seed})")
    parser.add_argument("--same-label-turns", type=int, default=d.same_label_turns, metavar="N",
                        help=f"flag a worker who gave all of at least N bot turns the same label (default {d.same_label_turns})")
    parser.add_argument("--min-seconds-per-turn", type=float, default=d.min_seconds_per_turn, metavar="S",
                        help=f"flag a worker whose median seconds per bot turn is below S (default {d.min_seconds_per_turn:g})")
    return parser


@exit_on_input_error
def run(args: argparse.Namespace) -> int:
    if args.bootstrap_rounds < 0:
        raise InputError("must be at least 0", field="--bootstrap-rounds")
    if args.same_label_turns < 1:
        raise InputError("must be at least 1", field="--same-label-turns")
    if args.min_seconds_per_turn < 0:
        raise InputError("must be at least 0", field="--min-seconds-per-turn")
    check_outputs([], inputs=args.labels, folders=[args.out], replaces_folders=True, field="--out")
    started = time.perf_counter()
    labels = load_bad_labels(args.labels, include_incomplete=args.include_incomplete)
    print(f"read {len(labels.turns):,} bot turns ({labels.n_conversations:,} conversations, {len(labels.models)} models)"
          + (f"; left out {labels.excluded_conversations:,} incomplete conversations" if labels.excluded_conversations else ""))
    options = BadOptions(bootstrap_rounds=args.bootstrap_rounds, seed=args.seed,
                         same_label_turns=args.same_label_turns, min_seconds_per_turn=args.min_seconds_per_turn)
    results = analyse_bad(labels, options)
    paths = write_report(args.out, csv_tables(results), summary(results), render_html(results))
    print(f"wrote {len(paths)} files to {args.out} in {time.perf_counter() - started:.1f} s")
    for m in results.models.itertuples():
        print(f"  {m.model:<24} fooled {m.fooled:>5,} / {m.n:<6,} = {m.unsafe_rate:6.1%} "
              f"[{m.ci_wilson_low:.1%}, {m.ci_wilson_high:.1%}]  verified fooled {m.verified_fooled:,}")
    if results.flagged_workers:
        print(f"  {len(results.flagged_workers)} flagged workers (see workers.csv)")
    return 0
