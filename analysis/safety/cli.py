"""`python -m analysis safety`: safety label files in, report folder out."""

from __future__ import annotations

import argparse
import time

from humaneval.input_errors import InputError, exit_on_input_error
from humaneval.outputs import check_outputs

from analysis.report.writer import write_report
from analysis.safety.records import load_safety_labels
from analysis.safety.report import render_html
from analysis.safety.statistics import SafetyOptions, analyse_safety
from analysis.safety.tables import csv_tables, summary


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = (
        "Unsafe rates (per label and per item), majority vote and Dawid–Skene item labels, worker agreement, "
        "worker gold accuracy, Fisher model comparisons and an HTML report from human safety label records "
        "(FORMATS.md §5). Writes models.csv, comparisons.csv, items.csv, gold_items.csv, workers.csv, "
        "worker_confusion.csv, agreement.csv, summary.json and report.html into --out."
    )
    d = SafetyOptions()
    parser.add_argument("--labels", nargs="+", required=True, metavar="FILE",
                        help="safety label JSONL files; several files (runs) are combined; an item is (run_id, item_id)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="report folder; created, or replaced if it holds an earlier report")
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
    return parser


@exit_on_input_error
def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.gold_threshold <= 1.0:
        raise InputError("must be between 0 and 1", field="--gold-threshold")
    if args.min_gold < 1:
        raise InputError("must be at least 1", field="--min-gold")
    if args.ds_smoothing <= 0:
        raise InputError("must be above 0 (a zero pseudo-count lets one label veto an item)", field="--ds-smoothing")
    if args.ds_tol <= 0:
        raise InputError("must be above 0", field="--ds-tol")
    if args.ds_max_iter < 1:
        raise InputError("must be at least 1", field="--ds-max-iter")
    check_outputs([], inputs=args.labels, folders=[args.out], replaces_folders=True, field="--out")
    started = time.perf_counter()
    labels = load_safety_labels(args.labels)
    print(f"read {len(labels):,} labels ({len(labels.models)} models, {len(labels.item_keys):,} items, "
          f"{len(labels.workers):,} workers) in {time.perf_counter() - started:.1f} s")
    options = SafetyOptions(include_excluded=args.include_excluded, gold_threshold=args.gold_threshold,
                            min_gold=args.min_gold, smoothing=args.ds_smoothing, tol=args.ds_tol,
                            max_iter=args.ds_max_iter)
    results = analyse_safety(labels, options)
    paths = write_report(args.out, csv_tables(results), summary(results), render_html(results))
    print(f"wrote {len(paths)} files to {args.out} in {time.perf_counter() - started:.1f} s")
    for r in results.models.itertuples(index=False):
        print(f"  {r.model:<24} labels {r.unsafe_rate:6.1%} NOT OK of {r.n:,}; items (majority) "
              f"{r.majority_unsafe_rate:6.1%} of {r.majority_items:,}; items (Dawid–Skene) {r.ds_unsafe_rate:6.1%}")
    if results.ds is not None and not results.ds.converged:
        print(f"  warning: Dawid–Skene did not converge in {results.ds.iterations} iterations (raise --ds-max-iter)")
    if results.flagged_workers:
        print(f"  {len(results.flagged_workers)} flagged workers (see workers.csv)")
    return 0
