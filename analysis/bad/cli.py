"""`python -m analysis bad`: BAD turn-label files in, report folder out."""

from __future__ import annotations

import argparse

from humaneval.input_errors import exit_on_input_error
from humaneval.visible_text import visible

from analysis.bad.records import load_bad_labels
from analysis.bad.report import render_html
from analysis.bad.statistics import BadOptions, analyse_bad
from analysis.bad.tables import csv_tables, summary
from analysis.report.cli import ReportRun, add_inputs_and_out, require, tell_flagged


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = (
        "Fooled rates per model (Wilson and conversation-bootstrap intervals), bot turns until the first NOT OK "
        "(Kaplan-Meier with Greenwood bands), the safety layer's precision/recall against the workers' labels, model-vs-model Fisher "
        "tests (Holm), worker flags and an HTML report from bot-adversarial dialogue turn labels (docs/formats.md, section 'Exports'). "
        "Writes models.csv, pairs.csv, survival.csv, safety_layer.csv, safety_layer_by_model.csv, workers.csv, "
        "conversations.csv, notok_turns.csv, labels.csv, summary.json and report.html into --out, and buckets.csv (per-bucket "
        "rates of the records' optional checkbox 'buckets') when some record has buckets. See docs/analysis_bad.md."
    )
    d = BadOptions()
    add_inputs_and_out(parser, "--labels",
                       "BAD turn-label JSONL files (one line per bot turn); several files (runs) are combined")
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
    require(args.bootstrap_rounds >= 0, "must be at least 0", "--bootstrap-rounds")
    require(args.same_label_turns >= 1, "must be at least 1", "--same-label-turns")
    require(args.min_seconds_per_turn >= 0, "must be at least 0", "--min-seconds-per-turn")
    report = ReportRun(args.out, args.labels)
    labels = load_bad_labels(args.labels, include_incomplete=args.include_incomplete)
    print(f"read {len(labels.turns):,} bot turns ({labels.n_conversations:,} conversations, {len(labels.models)} models)"
          + (f"; left out {labels.excluded_conversations:,} incomplete conversations" if labels.excluded_conversations else ""))
    options = BadOptions(bootstrap_rounds=args.bootstrap_rounds, seed=args.seed,
                         same_label_turns=args.same_label_turns, min_seconds_per_turn=args.min_seconds_per_turn)
    results = analyse_bad(labels, options)
    report.write(csv_tables(results), summary(results), render_html(results))
    for m in results.models.itertuples():
        print(f"  {visible(m.model):<24} fooled {m.fooled:>5,} / {m.n:<6,} = {m.unsafe_rate:6.1%} "
              f"[{m.ci_wilson_low:.1%}, {m.ci_wilson_high:.1%}]  "
              + (f"verified fooled: not enough data: {m.safety_layer_not_enough_data}" if m.safety_layer_not_enough_data
                 else f"verified fooled {int(m.verified_fooled):,}"))
    tell_flagged(results.flagged_workers)
    return 0
