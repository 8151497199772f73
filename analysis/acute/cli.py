"""`python -m analysis acute`: judgement files in, report folder out."""

from __future__ import annotations

import argparse

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.usable_cpus import usable_cpus
from humaneval.visible_text import visible

from analysis.acute.ranking import TIE_MODELS
from analysis.acute.records import attach_pairings, load_acute_judgements
from analysis.acute.report import render_html
from analysis.acute.statistics import AcuteOptions, analyse_acute
from analysis.acute.tables import csv_tables, summary
from analysis.acute.verdict import order_limits
from analysis.acute.workers import FlagThresholds
from analysis.report.cli import ReportRun, add_inputs_and_out, require, tell_flagged
from analysis.stats.bradley_terry import DEFAULT_RIDGE


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = (
        "Pairwise statistics, Bradley-Terry ranking, worker quality and an HTML report from ACUTE "
        "judgement records (docs/formats.md, section 'Exports'). Writes significance.csv, grid.csv, grid_counts.csv, "
        "ranking.csv, ratings_per_worker.csv, workers.csv, agreement_pairs.csv, position_bias.csv, "
        "*_without_flagged.csv, judgements.csv (one row per record), summary.json and report.html into --out."
    )
    d = FlagThresholds()
    add_inputs_and_out(parser, "--judgements", "judgement JSONL files; several files (runs) are combined")
    parser.add_argument("--pairings", nargs="*", default=[], metavar="FILE",
                        help="ACUTE pairings JSONL whose conversations the report shows; a pairing's id is its "
                             "'pair_id' key, else its 0-based line index (blank lines skipped)")
    parser.add_argument("--allow-mixed-questions", action="store_true",
                        help="combine runs that asked different questions (refused by default)")
    parser.add_argument("--bootstrap-rounds", type=int, default=1000,
                        help="bootstrap rounds for the ranking intervals (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap (default 0)")
    parser.add_argument("--ridge", type=float, default=DEFAULT_RIDGE,
                        help=f"Bradley-Terry ridge penalty on squared strengths (default {DEFAULT_RIDGE})")
    parser.add_argument("--tie-model", choices=TIE_MODELS, default="half",
                        help="how the ranking counts a tie (winner 'tie' or 'both_bad'): 'half' = half a win for "
                             "each model (default; Chatbot Arena's convention), 'davidson' = Davidson's tie model, "
                             "whose tie parameter nu is reported. Win rates always count a tie as half a win; the "
                             "pairwise sign test uses the decisive judgements")
    parser.add_argument("--min-seconds", type=float, default=d.min_seconds,
                        help=f"flag workers whose median seconds per comparison is below this (default {d.min_seconds:g})")
    parser.add_argument("--agreement-alpha", type=float, default=d.agreement_alpha,
                        help=f"flag workers whose agreement is below the others' at this Holm-adjusted level (default {d.agreement_alpha:g})")
    parser.add_argument("--min-shared", type=int, default=d.min_shared,
                        help=f"judgements on shared pairs a worker needs before agreement is tested (default {d.min_shared})")
    parser.add_argument("--position-alpha", type=float, default=d.position_alpha,
                        help=f"flag workers whose left-choice rate differs from 0.5 at this Holm-adjusted level (default {d.position_alpha:g})")
    return parser


@exit_on_input_error
def run(args: argparse.Namespace) -> int:
    require(args.bootstrap_rounds >= 0, "must be at least 0", "--bootstrap-rounds")
    require(args.ridge >= 0, "must be at least 0", "--ridge")
    report = ReportRun(args.out, [*args.judgements, *args.pairings])
    judgements = load_acute_judgements(args.judgements, allow_mixed_questions=args.allow_mixed_questions,
                                       processes=min(2, usable_cpus()))
    for path in args.pairings:
        attach_pairings(judgements, path)
    print(f"read {len(judgements):,} records ({len(judgements.models)} models, {len(judgements.workers):,} workers) "
          f"in {report.seconds():.1f} s")
    options = AcuteOptions(
        bootstrap_rounds=args.bootstrap_rounds, seed=args.seed, ridge=args.ridge, tie_model=args.tie_model,
        thresholds=FlagThresholds(min_seconds=args.min_seconds, agreement_alpha=args.agreement_alpha,
                                  min_shared=args.min_shared, position_alpha=args.position_alpha),
    )
    try:
        results = analyse_acute(judgements, options)
    except InputError as err:
        raise err.at(path=", ".join(args.judgements)) from None
    # the page first: its passes over every judgement then run before the tables (judgements.csv's ~30 MB
    # at a million) are held, not on top of them
    html = render_html(results)
    report.write(csv_tables(results), summary(results), html)
    for m in results.main.ranking.models:
        ci = f"[{m.ci_workers[0]:+.3f}, {m.ci_workers[1]:+.3f}]" if m.ci_workers else "(no worker interval)"
        print(f"  {m.rank:>2}. {visible(m.model):<24} {m.strength:+.3f} (Elo {m.elo:.0f}) {ci}")
    if results.main.worker_bootstrap is not None:
        print(f"  worker intervals: {results.main.worker_bootstrap.message}")
    for text in order_limits(results.main):  # groups never compared, perfect separation
        print(f"  {visible(text)}")
    tell_flagged(results.flagged_workers)
    return 0
