"""A study's bonus rule (`humaneval.bonus` in its YAML): an amount per countable event in an approved unit.

The section names amounts as `per_<event>: AMOUNT` and a `reason` (shown by MTurk), e.g. for safety
`per_gold_correct: 0.05` (per hidden gold item answered correctly). What an event is belongs to the study:
the shared layer never names one. It asks the study's counter (`UnitCounter`, a small function next to the
study's export, reading the unit's stored data as the export does) how many of each event a unit holds,
and multiplies. Only approved units earn a rule bonus: never a bonus on rejected work, and none before a
person has reviewed the unit.

The rule in force is the one the unit's own run was launched with: the launch copies the section into the
run's arguments (`carry_into_run`), which Mephisto stores with the run (`TaskRun.args`); a rule edited
afterwards does not reprice work already done. Each bonus's ledger key is `rule:<task>:<rule>:<unit>`, so
running the rules again pays only units approved since.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from humaneval.crowd.bonuses import BonusRequest, check_reason, parse_amount
from humaneval.crowd.export import FinishedUnit, finished_units
from humaneval.crowd.review import TaskReview
from humaneval.input_errors import InputError
from mephisto.abstractions.blueprint import AgentState
from mephisto.abstractions.database import MephistoDB

RUN_ARGS_KEY = "humaneval_bonus"  # where a run's args keep its `humaneval.bonus` section
SECTION = "humaneval.bonus"
PER = "per_"
COUNT_TOKEN, AMOUNT_TOKEN = "{count}", "{amount}"

UnitCounter = Callable[[FinishedUnit], Mapping[str, int]]
"""A study's counter: how many of each of its events a submitted unit holds (every event, 0 included)."""


@dataclass(frozen=True)
class BonusRule:
    name: str  # the YAML key, `per_<event>`
    event: str
    amount: Decimal  # per event


@dataclass(frozen=True)
class BonusRules:
    rules: tuple[BonusRule, ...]  # only those with an amount above 0
    reason: str  # template: {count} and {amount} are filled in, nothing else is read

    def reason_for(self, count: int, amount: Decimal) -> str:
        return self.reason.replace(COUNT_TOKEN, str(count)).replace(AMOUNT_TOKEN, str(amount))


def parse_rules(section: Mapping[str, Any], max_amount: Decimal, *, where: str = SECTION) -> BonusRules:
    """The rules of a `humaneval.bonus` section; each bad key an `InputError` naming it. An amount of 0
    turns its rule off; a section whose amounts are all 0 pays nothing."""
    rules = []
    for key, value in section.items():
        if key == "reason":
            continue
        if not (isinstance(key, str) and key.startswith(PER) and len(key) > len(PER)):
            raise InputError("unknown key; a rule is per_<event>: AMOUNT, plus `reason`", field=f"{where}.{key}")
        if value is None or str(value).strip() in ("0", "0.0", "0.00"):
            continue
        rules.append(BonusRule(key, key[len(PER):], parse_amount(str(value), max_amount, field=f"{where}.{key}")))
    reason = section.get("reason")
    if rules and not isinstance(reason, str):
        raise InputError("a bonus rule needs a reason (MTurk shows it to the worker)", field=f"{where}.reason")
    return BonusRules(tuple(rules), check_reason(reason, field=f"{where}.reason") if rules else "")


def carry_into_run(cfg: DictConfig) -> None:
    """Copy `humaneval.bonus` into the args Mephisto stores with the run (`cfg.mephisto`), so the rule a
    unit was collected under is the one paid later. Called on the composed config before the launch."""
    section = cfg.get("humaneval", {}).get("bonus")
    if section is not None:
        with open_dict(cfg.mephisto):  # Mephisto's schema node keeps its own struct flag
            cfg.mephisto[RUN_ARGS_KEY] = OmegaConf.to_container(section, resolve=True)


def rules_of_run(args: Any, max_amount: Decimal, run_id: str) -> BonusRules:
    """The rules stored with one run; none for a run launched without a `humaneval.bonus` section."""
    section = args.get(RUN_ARGS_KEY) if args is not None else None
    if not section:
        return BonusRules((), "")
    return parse_rules(dict(section), max_amount, where=f"run {run_id}: {SECTION}")


def runs_without_rules(db: MephistoDB, task_name: str, max_amount: Decimal) -> list[str]:
    """Ids of the task's runs launched with no bonus rule (or all amounts 0): their units earn nothing."""
    return [str(run.db_id) for run in TaskReview(db, task_name).task_runs
            if not rules_of_run(run.args, max_amount, str(run.db_id)).rules]


def rule_requests(db: MephistoDB, task_name: str, count_events: UnitCounter, max_amount: Decimal) -> list[BonusRequest]:
    """Every rule bonus the task's approved units have earned, one per (rule, unit) with a count above 0.

    Everything is checked before anything is returned: a rule naming an event the study does not count, or
    a bonus above `max_amount`, refuses the whole set (no partial payment of a wrong rule)."""
    review = TaskReview(db, task_name)
    approved = {u.unit_id: u for u in review.units(include_reviewed=True)
                if u.agent_status == AgentState.STATUS_APPROVED}
    rules = {str(run.db_id): rules_of_run(run.args, max_amount, str(run.db_id)) for run in review.task_runs}
    requests = []
    for unit in finished_units(db, task_name):
        reviewed = approved.get(unit.unit_id)
        run_rules = rules[unit.task_run_id]
        if reviewed is None or not run_rules.rules:
            continue
        counts = count_events(unit)
        for rule in run_rules.rules:
            if rule.event not in counts:
                raise InputError(f"this study counts no '{rule.event}' (it counts: {', '.join(sorted(counts))})",
                                 field=f"run {unit.task_run_id}: {SECTION}.{rule.name}")
            count = counts[rule.event]
            if count <= 0:
                continue
            total = rule.amount * count
            if total > max_amount:
                raise InputError(f"unit {unit.unit_id} would get {total} ({count} x {rule.amount}), above the ceiling "
                                 f"of {max_amount}; pass --max-amount to raise it", field=f"{SECTION}.{rule.name}")
            requests.append(BonusRequest(
                key=f"rule:{task_name}:{rule.name}:{unit.unit_id}", task_name=task_name,
                provider=reviewed.provider_type, worker=reviewed.worker_name, unit_id=unit.unit_id, amount=total,
                reason=run_rules.reason_for(count, total)))
    return requests
