"""`python -m analysis auto`: model replies in (world logs, self-chats, chat-format logs, BAD exports), the model
card's measures out (report folder, and the table on stdout)."""

from __future__ import annotations

import argparse
import math
import os

import pandas as pd

from humaneval.input_errors import exit_on_input_error
from humaneval.visible_text import visible

from analysis.auto.checks import CHECKS, STRING_MATCHER, configured_checks
from analysis.auto.records import load_replies, mixed_controls
from analysis.auto.report import render_html
from analysis.auto.statistics import AutoOptions, AutoResults, analyse_auto
from analysis.auto.tables import csv_tables, summary
from analysis.report.cli import ReportRun, require, tell_flagged


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = (
        "The model card's measures over model replies: per model the share of replies with male words, with female "
        "words (our word lists, whole words, any case) and flagged by each safety check (run here: the string "
        "matcher, or every check of a server config's safety section with --safety-config; or recorded in BAD "
        "exports), with 95% Wilson intervals; with --baseline, per other model the reduction factor (baseline "
        "share / model share) with a log-scale interval and Fisher's exact test, Holm-corrected. Reads world logs "
        "(the model is each pair's second act), self-chats (sidecar self_chat: true; both acts), chat-format logs "
        "(assistant messages) and BAD exports (turn labels or dialogues). Writes rates.csv, replies.csv, "
        "reductions.csv (filled with --baseline), summary.json and report.html into --out. See docs/analysis_auto.md."
    )
    # LOGS is positional, as the issue's `analysis auto LOGS...` (the shared `add_inputs_and_out` declares an option)
    parser.add_argument("logs", nargs="+", metavar="LOGS",
                        help="world logs, self-chats, chat-format logs or BAD exports (JSONL); several files are combined")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="report folder; created, or replaced if it holds an earlier report")
    parser.add_argument("--baseline", metavar="MODEL",
                        help="compare every other model with this one (reduction factors and Fisher tests)")
    parser.add_argument("--model", action="append", default=[], metavar="MODEL",
                        help="keep only this model's replies (repeat for several; default: every model)")
    parser.add_argument("--check", action="append", choices=sorted(CHECKS), metavar="CHECK",
                        help=f"safety check to run on every reply (repeatable; default {STRING_MATCHER}: "
                             + "; ".join(f"{k}: {v}" for k, v in CHECKS.items()) + ")")
    parser.add_argument("--no-checks", action="store_true",
                        help="run no safety check (verdicts recorded in BAD exports are still reported)")
    parser.add_argument("--safety-config", metavar="FILE",
                        help="a server config (as `models serve --config` reads, e.g. task_configs/serve.yaml): run "
                             "every enabled check of its safety section on every reply, with the reply's earlier "
                             "turns as context, instead of --check; a check that cannot run (no weights, a module "
                             "not installed) is an error. Needs humaneval[models]")
    return parser


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _cell(events: int, n: int, rate: float, lo: float, hi: float) -> str:
    if n == 0:
        return "not judged"
    return f"{events:,}/{n:,} = {rate:.1%} [{lo:.1%}, {hi:.1%}]"


def print_rates(results: AutoResults) -> None:
    """The rates table: one line per model, one column per measure."""
    r = results.rates.set_index(["model", "measure"])
    columns = {name: [_cell(int(x["events"]), int(x["n"]), x["rate"], x["ci_wilson_low"], x["ci_wilson_high"])
                      for x in (r.loc[(m, name)] for m in results.replies.models)] for name in results.measures}
    frame = pd.DataFrame({"model": [visible(m) for m in results.replies.models],
                          **{visible(name): cells for name, cells in columns.items()}})
    print(frame.to_string(index=False))


def print_reductions(results: AutoResults) -> None:
    """One line per compared model and measure: factor and interval, or "not enough data"; Fisher and Holm p."""
    red = results.reductions
    if results.options.baseline and not len(red):
        print(f"only the baseline {visible(results.options.baseline)} was read: nothing to compare with it")
    if not len(red):
        return
    print(f"reduction factor against {visible(results.options.baseline)} (baseline share / model share):")
    for _, x in red.iterrows():
        factor = (f"not enough data: {x['not_enough_data']}" if x["not_enough_data"]
                  else f"{x['factor']:.2f} [{x['factor_ci_low']:.2f}, {x['factor_ci_high']:.2f}]")
        p = (f"Fisher p {x['p_value']:.3g}, Holm p {x['p_holm']:.3g}{x['stars_holm']}" if math.isfinite(x["p_value"])
             else "not tested")
        print(f"  {visible(x['model']):<24} {visible(x['measure']):<28} {factor}; {p}")


@exit_on_input_error
def run(args: argparse.Namespace) -> int:
    require(not (args.no_checks and args.check), "cannot be combined with --check", "--no-checks")
    require(not (args.safety_config and (args.check or args.no_checks)),
            "cannot be combined with --check or --no-checks (the config says which checks run)", "--safety-config")
    require(args.baseline is None or not args.model or args.baseline in args.model,
            "must be one of the models kept by --model", "--baseline")
    report = ReportRun(args.out, [*args.logs, *([args.safety_config] if args.safety_config else [])])
    configured = tuple(configured_checks(args.safety_config)) if args.safety_config else ()
    require(len({os.path.realpath(p) for p in args.logs}) == len(args.logs),
            "a file is given twice: its replies would count twice and the intervals be too narrow", "LOGS")
    replies = load_replies(args.logs, args.model)
    mixed = mixed_controls(replies)
    require(not mixed, f"the replies of model {mixed!r} were generated with different control strings (or with and "
            "without one): they are two models pooled under one name; give them apart, e.g. `models generate "
            "--model-id`, or two registry names"[:1000], "LOGS")
    require(args.baseline is None or args.baseline in replies.models,
            f"no reply of {args.baseline!r} in the logs (their models: {', '.join(replies.models)})"[:1000], "--baseline")
    print(f"read {_count(len(replies.replies), 'reply', 'replies')} of {_count(len(replies.models), 'model')} "
          f"from {_count(len(replies.files), 'file')}")
    checks = () if args.no_checks or configured else tuple(dict.fromkeys(args.check or [STRING_MATCHER]))
    results = analyse_auto(replies, AutoOptions(checks=checks, baseline=args.baseline, configured=configured))
    report.write(csv_tables(results), summary(results), render_html(results))
    print_rates(results)
    print_reductions(results)
    tell_flagged([])
    return 0
