"""`python -m analysis plan`: how many judgements, workers, units and how much money a study needs.

Per pair: the exact-binomial n at which a pair with true win rate `--win-rate` is told from a coin flip
with the wanted power. A study compares many pairs and its report corrects with Holm, so the per-pair
test runs at α/P (P pairs: `--pairs`, or K(K − 1)/2 for `--models K`): the level the smallest p-value must
reach under Holm, which guarantees the power for every pair whatever the others show (Holm's later steps
are less strict, so this is on the safe side). Judgements of one worker are correlated: with m judgements
of one worker on a pair and intra-worker correlation ICC, the design effect 1 + (m − 1)·ICC multiplies n
(`analysis.stats.power`). A worker gives `--judgements-per-worker` M judgements in the whole study (default
5, one unit), spread over the P pairs, so on one pair m = max(1, M / P).

Whole study: judgements = P × n per pair; workers = ⌈judgements / M⌉; units = ⌈judgements /
--judgements-per-unit⌉ (`subtasks_per_unit`, default 5); cost = units × --reward-per-unit (`task_reward`,
default 0.50).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from humaneval.input_errors import exit_on_input_error

from analysis.report.cli import require
from analysis.stats.power import SampleSizePlan, plan_sample_size

#: task_configs/acute.yaml defaults: comparisons per unit and USD per unit
DEFAULT_JUDGEMENTS_PER_UNIT = 5
DEFAULT_REWARD_PER_UNIT = 0.5


@dataclass
class StudyPlan:
    pairs: int
    alpha: float  # family-wise level over all pairs
    alpha_per_pair: float  # alpha / pairs: the level the first Holm step needs
    judgements_per_worker: float  # in the whole study
    judgements_per_worker_per_pair: float
    judgements_per_unit: int
    reward_per_unit: float
    per_pair: SampleSizePlan
    judgements: int | None  # whole study
    workers: int | None
    units: int | None
    cost: float | None


def plan_study(win_rate: float, *, pairs: int = 1, alpha: float = 0.05, power: float = 0.8,
               judgements_per_worker: float = 5.0, icc: float = 0.0,
               judgements_per_unit: int = DEFAULT_JUDGEMENTS_PER_UNIT,
               reward_per_unit: float = DEFAULT_REWARD_PER_UNIT) -> StudyPlan:
    """Judgements, workers, units and cost for `pairs` pairs, each at level alpha / pairs (see module doc)."""
    level = alpha / pairs
    m_pair = max(1.0, judgements_per_worker / pairs)
    per_pair = plan_sample_size(win_rate, level, power, m_pair, icc)
    total = pairs * per_pair.n_clustered if per_pair.n_clustered is not None else None
    units = math.ceil(total / judgements_per_unit) if total is not None else None
    return StudyPlan(
        pairs=pairs, alpha=alpha, alpha_per_pair=level, judgements_per_worker=judgements_per_worker,
        judgements_per_worker_per_pair=m_pair, judgements_per_unit=judgements_per_unit,
        reward_per_unit=reward_per_unit, per_pair=per_pair, judgements=total,
        workers=math.ceil(total / judgements_per_worker - 1e-9) if total is not None else None,
        units=units, cost=units * reward_per_unit if units is not None else None,
    )


def build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = (
        "Judgements, workers, units and cost of a study that must tell model pairs with the given true win rate "
        "from a coin flip (two-sided exact binomial test per pair, Holm over all pairs: each pair planned at "
        "alpha / pairs), with the normal approximation and a worker design effect."
    )
    parser.add_argument("--win-rate", type=float, required=True, help="expected win rate of one model, e.g. 0.55")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--models", type=int, default=None, help="models compared, every pair: pairs = K(K-1)/2")
    group.add_argument("--pairs", type=int, default=None, help="model pairs compared (default 1)")
    parser.add_argument("--alpha", type=float, default=0.05,
                        help="two-sided family-wise significance level over all pairs (default 0.05; Holm)")
    parser.add_argument("--power", type=float, default=0.8, help="wanted power per pair (default 0.8)")
    parser.add_argument("--judgements-per-worker", type=float, default=5.0,
                        help="judgements one worker gives in the whole study (default 5, one unit); spread over the pairs")
    parser.add_argument("--icc", type=float, default=0.0,
                        help="intra-worker correlation of choices (default 0); design effect = 1 + (m - 1) * ICC")
    parser.add_argument("--judgements-per-unit", type=int, default=DEFAULT_JUDGEMENTS_PER_UNIT,
                        help=f"comparisons per unit (subtasks_per_unit, default {DEFAULT_JUDGEMENTS_PER_UNIT})")
    parser.add_argument("--reward-per-unit", type=float, default=DEFAULT_REWARD_PER_UNIT,
                        help=f"payment per unit (task_reward, default {DEFAULT_REWARD_PER_UNIT:.2f})")
    return parser


@exit_on_input_error
def run(args: argparse.Namespace) -> int:
    require(0 <= args.win_rate <= 1, "out of range", "--win-rate")
    require(0 < args.alpha < 1, "out of range", "--alpha")
    require(0 < args.power < 1, "out of range", "--power")
    require(args.judgements_per_worker >= 1, "out of range", "--judgements-per-worker")
    require(0 <= args.icc <= 1, "out of range", "--icc")
    require(args.models is None or args.models >= 2, "must be at least 2", "--models")
    require(args.pairs is None or args.pairs >= 1, "must be at least 1", "--pairs")
    require(args.judgements_per_unit >= 1, "must be at least 1", "--judgements-per-unit")
    require(args.reward_per_unit >= 0, "must be at least 0", "--reward-per-unit")
    pairs = args.models * (args.models - 1) // 2 if args.models is not None else (args.pairs or 1)
    study = plan_study(args.win_rate, pairs=pairs, alpha=args.alpha, power=args.power,
                       judgements_per_worker=args.judgements_per_worker, icc=args.icc,
                       judgements_per_unit=args.judgements_per_unit, reward_per_unit=args.reward_per_unit)
    plan = study.per_pair
    if plan.n_exact is None:
        print(f"win rate {args.win_rate} cannot be told from 0.5 (or needs more than 2 million judgements per pair)")
        return 0
    rows = [
        ("win rate", f"{plan.win_rate:g}"),
        ("model pairs", f"{study.pairs}" + (f" ({args.models} models)" if args.models is not None else "")),
        ("alpha (two-sided, over all pairs)", f"{study.alpha:g}"),
        ("alpha per pair (Holm's first step: alpha / pairs)", f"{study.alpha_per_pair:.4g}"),
        ("power", f"{plan.power:g}"),
        ("Cohen's h", f"{plan.cohens_h:.4f}"),
        ("judgements, exact binomial", f"{plan.n_exact}"),
        ("  power never drops below target from", f"{plan.n_exact_stable}"),
        ("judgements, normal approximation", f"{plan.n_normal}"),
        ("judgements per worker (whole study)", f"{study.judgements_per_worker:g}"),
        ("judgements per worker on one pair (m)", f"{plan.judgements_per_worker:g}"),
        ("intra-worker correlation (ICC)", f"{plan.icc:g}"),
        ("design effect 1 + (m - 1) ICC", f"{plan.design_effect:.3f}"),
        ("judgements with worker clustering", f"{plan.n_clustered}"),
        ("judgements, whole study", f"{study.judgements}"),
        ("workers needed", f"{study.workers}"),
        ("judgements per unit", f"{study.judgements_per_unit}"),
        ("units", f"{study.units}"),
        ("reward per unit", f"{study.reward_per_unit:.2f}"),
        ("cost (units x reward)", f"{study.cost:.2f}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0
