"""`python -m analysis safety`: safety label files in, report folder out."""

from __future__ import annotations

import argparse

from humaneval.input_errors import exit_on_input_error
from humaneval.visible_text import visible

from analysis.report.cli import ReportRun, add_inputs_and_out, require, tell_flagged
from analysis.safety.records import load_safety_labels
from analysis.safety.report import population_cards, render_html
from analysis.safety.statistics import SafetyOptions, analyse_safety
from analysis.safety.tables import csv_tables, summary


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = (
        "Unsafe rates (per label and per item), majority vote and Dawid–Skene item labels, worker agreement, "
        "worker gold accuracy, Fisher model comparisons and an HTML report from human safety label records "
        "(docs/formats.md, section 'Exports'). Writes models.csv, comparisons.csv, items.csv, gold_items.csv, workers.csv, "
        "worker_confusion.csv, agreement.csv, labels.csv (one row per label record), summary.json and report.html into "
        "--out, and buckets.csv (per-bucket rates and agreement of the records' optional checkbox 'buckets') when some "
        "record has buckets; the page opens with a verdict in plain words."
    )
    d = SafetyOptions()
    add_inputs_and_out(parser, "--labels",
                       "safety label JSONL files; several files (runs) are combined; an item is (run_id, item_id)")
    parser.add_argument("--include-excluded", action="store_true",
                        help="keep the labels of workers the export marked 'excluded' (dropped by default)")
    parser.add_argument("--gold-threshold", type=float, default=d.gold_threshold,
                        help=f"flag workers whose OK/NOT OK accuracy on gold items is below this (default {d.gold_threshold:g})")
    parser.add_argument("--min-gold", type=int, default=d.min_gold,
                        help=f"gold answers a worker needs before they can be flagged (default {d.min_gold})")
    parser.add_argument("--ds-smoothing", type=float, default=d.smoothing,
                        help=f"Dawid–Skene Dirichlet pseudo-count on every prior and confusion cell (default {d.smoothing:g})")
    parser.add_argument("--ds-tol", type=float, default=d.tol,
                        help=f"Dawid–Skene stops when no item posterior moves more than this (default {d.tol:g})")
    parser.add_argument("--ds-max-iter", type=int, default=d.max_iter,
                        help=f"Dawid–Skene iteration limit (default {d.max_iter})")
    parser.add_argument("--min-agreement-items", type=int, default=d.min_agreement_items,
                        help="items with at least 2 counted labels that agreement (raw, κ, α) needs; below it the report "
                             f"says 'not enough data' (default {d.min_agreement_items}, the shared rule MIN_ITEMS_FOR_AGREEMENT)")
    return parser


@exit_on_input_error
def run(args: argparse.Namespace) -> int:
    require(0.0 <= args.gold_threshold <= 1.0, "must be between 0 and 1", "--gold-threshold")
    require(args.min_gold >= 1, "must be at least 1", "--min-gold")
    require(args.ds_smoothing > 0, "must be above 0 (a zero pseudo-count lets one label veto an item)", "--ds-smoothing")
    require(args.ds_tol > 0, "must be above 0", "--ds-tol")
    require(args.ds_max_iter >= 1, "must be at least 1", "--ds-max-iter")
    require(args.min_agreement_items >= 2, "must be at least 2 (one item tells nothing about agreement)", "--min-agreement-items")
    report = ReportRun(args.out, args.labels)
    labels = load_safety_labels(args.labels)
    print(f"read {len(labels):,} label records in {report.seconds():.1f} s")
    options = SafetyOptions(include_excluded=args.include_excluded, gold_threshold=args.gold_threshold,
                            min_gold=args.min_gold, smoothing=args.ds_smoothing, tol=args.ds_tol,
                            max_iter=args.ds_max_iter, min_agreement_items=args.min_agreement_items)
    results = analyse_safety(labels, options)
    report.write(csv_tables(results), summary(results), render_html(results))
    # the page's headline counts, from the same object: what the CLI says and what the page says are equal
    print("  " + "; ".join(f"{what} {value}" for value, what in population_cards(results)))
    if results.not_enough_data:
        print(f"  not enough data: {results.not_enough_data}")
    for r in results.models.itertuples(index=False):
        if r.n == 0:
            print(f"  {visible(r.model):<24} not enough data: needs at least 1 counted label (have 0)")
            continue
        majority = f"{r.majority_unsafe_rate:6.1%}" if r.majority_items else "  (all ties)"
        print(f"  {visible(r.model):<24} labels {r.unsafe_rate:6.1%} NOT OK of {r.n:,}; items (majority) "
              f"{majority} of {r.majority_items:,}; items (Dawid–Skene) {r.ds_unsafe_rate:6.1%}")
    if results.ds is not None and not results.ds.converged:
        print(f"  warning: Dawid–Skene did not converge in {results.ds.iterations} iterations (raise --ds-max-iter)")
    tell_flagged(results.flagged_workers)
    return 0
