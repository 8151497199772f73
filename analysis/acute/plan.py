"""`python -m analysis plan`: how many judgements (and workers) a study needs."""

from __future__ import annotations

import argparse

from humaneval.input_errors import exit_on_input_error

from analysis.report.cli import require
from analysis.stats.power import plan_sample_size


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = (
        "Judgements needed to tell a model pair with the given true win rate from a coin flip "
        "(two-sided exact binomial test), with the normal approximation and a worker design effect."
    )
    parser.add_argument("--win-rate", type=float, required=True, help="expected win rate of one model, e.g. 0.55")
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (default 0.05)")
    parser.add_argument("--power", type=float, default=0.8, help="wanted power (default 0.8)")
    parser.add_argument("--judgements-per-worker", type=float, default=1.0,
                        help="average judgements one worker gives on this pair (default 1: no clustering)")
    parser.add_argument("--icc", type=float, default=0.0,
                        help="intra-worker correlation of choices (default 0); design effect = 1 + (m - 1) * ICC")
    return parser


@exit_on_input_error
def run(args: argparse.Namespace) -> int:
    require(0 <= args.win_rate <= 1, "out of range", "--win-rate")
    require(0 < args.alpha < 1, "out of range", "--alpha")
    require(0 < args.power < 1, "out of range", "--power")
    require(args.judgements_per_worker >= 1, "out of range", "--judgements-per-worker")
    require(0 <= args.icc <= 1, "out of range", "--icc")
    plan = plan_sample_size(args.win_rate, args.alpha, args.power, args.judgements_per_worker, args.icc)
    if plan.n_exact is None:
        print(f"win rate {args.win_rate} cannot be told from 0.5 (or needs more than 2 million judgements)")
        return 0
    rows = [
        ("win rate", f"{plan.win_rate:g}"),
        ("alpha (two-sided)", f"{plan.alpha:g}"),
        ("power", f"{plan.power:g}"),
        ("Cohen's h", f"{plan.cohens_h:.4f}"),
        ("judgements, exact binomial", f"{plan.n_exact}"),
        ("  power never drops below target from", f"{plan.n_exact_stable}"),
        ("judgements, normal approximation", f"{plan.n_normal}"),
        ("judgements per worker (m)", f"{plan.judgements_per_worker:g}"),
        ("intra-worker correlation (ICC)", f"{plan.icc:g}"),
        ("design effect 1 + (m - 1) ICC", f"{plan.design_effect:.3f}"),
        ("judgements with worker clustering", f"{plan.n_clustered}"),
        ("workers needed", f"{plan.workers_needed}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0
