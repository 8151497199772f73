"""The hourly rate a study pays, checked at launch: refused on Prolific below its floor, warned about on MTurk.

A unit's reward means nothing to a worker without the time it takes: £0.50 is fair for 3 minutes and
not for 10. Prolific enforces a minimum of £6.00 / $8.00 per hour (researcher-help.prolific.com,
"Prolific's payment principles"), computed from the reward and the estimated completion time the
study declares, and later from the median time participants really took; a study that turns out to pay
less must pay adjustments. So a Prolific launch is refused here, before anything is created there, with
the computed rate and the reward that would meet the floor; and it needs the time estimate itself.
MTurk has no floor: below `humaneval.pay.mturk_warn_hourly_rate` the launcher prints a warning, nothing
more. The mock provider pays nothing and is not checked (a sandbox pilot runs on it).

The time per unit is `humaneval.pay.estimated_minutes`, or the median working time of a pilot task run
in the same Mephisto database (`humaneval.pay.estimate_from_task`), the statistic Prolific itself uses;
on Prolific rounded up to the whole minutes its study declares. The reward is checked as it is paid: a
reward that is not a whole number of cents / pence is refused on both providers (neither pays fractions).
Money is `Decimal` throughout: a rate compared with a floor must not depend on binary fractions.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, InvalidOperation
from typing import Any

from omegaconf import DictConfig

from humaneval.crowd.data_dir import data_faults_reported
from humaneval.crowd.export import finished_units
from humaneval.crowd.mephisto_api import MephistoDB
from humaneval.crowd.prolific.study import minor_units
from humaneval.input_errors import InputError

PROLIFIC = "prolific"
MTURK_PROVIDERS = ("mturk", "mturk_sandbox")
#: Prolific's minimum hourly reward per account currency ("Prolific's payment principles")
PROLIFIC_FLOOR = {"GBP": Decimal("6.00"), "USD": Decimal("8.00")}
SYMBOLS = {"GBP": "£", "USD": "$"}
CENT = Decimal("0.01")
SECTION = "humaneval.pay"
REWARD_KEY = "mephisto.task.task_reward"
CURRENCY_KEY = "mephisto.provider.currency"


@dataclass(frozen=True)
class Estimate:
    """The time a worker needs per unit, and where the number comes from. Kept in seconds, exactly as
    configured or measured: minutes (seconds / 60) may not be a finite decimal."""

    seconds: Decimal
    source: str  # "estimated_minutes" | "median of N units of task X"

    @property
    def minutes(self) -> Decimal:
        return self.seconds / 60


@dataclass(frozen=True)
class PayCheck:
    """What a launch pays per hour. The rate (and the estimate behind it) is None where nothing was
    computed: on the mock provider, and on MTurk without an estimate (then `warnings` says so)."""

    provider: str
    currency: str | None
    reward: Decimal | None
    estimate: Estimate | None
    warnings: list[str]

    @property
    def minutes(self) -> Decimal | None:
        return self.estimate.minutes if self.estimate else None

    @property
    def source(self) -> str | None:
        return self.estimate.source if self.estimate else None

    @property
    def hourly_rate(self) -> Decimal | None:
        """Reward per hour (to Decimal's 28 digits: for showing; decisions use `pays_less_than`)."""
        if self.estimate is None or self.reward is None:
            return None
        return self.reward * 3600 / self.estimate.seconds

    def pays_less_than(self, hourly: Decimal) -> bool:
        """reward / seconds < hourly / 3600, decided without dividing: exact for every decimal input, so a
        rate exactly at a floor is at it (0.37 per 3.7 minutes is 6.00 per hour, not 5.999...)."""
        assert self.estimate is not None and self.reward is not None
        return self.reward * 3600 < hourly * self.estimate.seconds

    @property
    def summary(self) -> str:
        """'$7.50/h ($0.50 per unit, 4.00 min per unit: estimated_minutes)', or why there is no rate."""
        rate = self.hourly_rate
        if rate is None or self.estimate is None or self.reward is None or self.currency is None:
            return f"pay not checked on provider {self.provider}"
        return (f"{money(rate, self.currency)}/h ({money(self.reward, self.currency)} per unit, "
                f"{self.estimate.minutes.quantize(CENT)} min per unit: {self.estimate.source})")


def money(amount: Decimal, currency: str) -> str:
    """'£6.00', rounded down: a rate just under a floor never reads as the floor."""
    return f"{SYMBOLS[currency]}{amount.quantize(CENT, rounding=ROUND_FLOOR)}"


def check_pay(cfg: DictConfig, db: MephistoDB | None) -> PayCheck:
    """The launch's hourly rate, or an `InputError` (field: the key to change) when it must not launch.

    `db` is the Mephisto database of the launch's data folder (None if there is none yet); it is read
    only for `humaneval.pay.estimate_from_task`.
    """
    provider = str(cfg.mephisto.provider._provider_type)
    if provider != PROLIFIC and provider not in MTURK_PROVIDERS:
        return PayCheck(provider, None, None, None, [])
    pay = cfg.humaneval.get("pay")
    if pay is None:
        raise InputError("missing: the task's YAML needs this section (see task_configs/acute.yaml)", field=SECTION)
    currency = _prolific_currency(cfg) if provider == PROLIFIC else "USD"
    reward = _amount(cfg.mephisto.task.get("task_reward"), REWARD_KEY, positive=False)
    _check_whole_minor_units(reward, provider, currency)
    estimate = _estimate(pay, db)
    if estimate is None:
        if provider == PROLIFIC:
            raise InputError(
                "Prolific needs the minutes a unit takes (its studies declare them, and it checks the hourly "
                f"rate against them): set {SECTION}.estimated_minutes=MINUTES, or {SECTION}.estimate_from_task="
                "PILOT to use the median time of a sandbox pilot's submitted units", field=f"{SECTION}.estimated_minutes")
        return PayCheck(provider, currency, reward, None, [
            f"hourly rate not checked: set {SECTION}.estimated_minutes (or {SECTION}.estimate_from_task) to have "
            f"the reward of {money(reward, currency)} per unit compared with {SECTION}.mturk_warn_hourly_rate"])
    if provider == PROLIFIC:
        estimate = _whole_minutes(estimate)
    check = PayCheck(provider, currency, reward, estimate, [])
    if provider == PROLIFIC:
        floor, floor_name = _prolific_floor(pay, currency)
        if check.pays_less_than(floor):
            raise InputError(f"this Prolific study would pay {check.summary}, below {floor_name}; "
                             f"{_reward_needed(check, floor)}", field=REWARD_KEY)
        return check
    warn_below = _setting(pay, "mturk_warn_hourly_rate")
    if warn_below is None:
        return check
    floor = _amount(warn_below, f"{SECTION}.mturk_warn_hourly_rate", positive=False)
    if not check.pays_less_than(floor):
        return check
    return replace(check, warnings=[f"this MTurk task pays {check.summary}, below {money(floor, currency)}/h "
                                    f"({SECTION}.mturk_warn_hourly_rate); {_reward_needed(check, floor)}"])


def _check_whole_minor_units(reward: Decimal, provider: str, currency: str) -> None:
    """Refuse a reward that is not a whole number of cents / pence: the rate must be checked on the money
    a worker is really paid, and neither provider pays a fraction of a cent.

    Prolific's study takes `reward` as an integer of minor units, which `study.minor_units` rounds to:
    0.134 per minute checked as $8.04/h would be sent as 13, $7.80/h, below the $8.00 floor. Mephisto sends
    MTurk `Reward=str(task_reward)` unrounded, and MTurk's CurrencyAmount takes at most two decimals
    (`^[0-9]+(\\.)?[0-9]{0,2}$` in botocore's mturk model), so the HIT type would be refused only after the
    run's server and units exist. Either way the launch stops here, before anything is created.
    """
    sent = Decimal(minor_units(reward)) / 100
    if sent == reward:
        return
    minor = "pence" if currency == "GBP" else "cents"
    if provider == PROLIFIC:
        why = (f"Prolific takes the reward as a whole number of {minor} (minor units) and would be sent "
               f"{minor_units(reward)} ({money(sent, currency)}), not {reward}")
    else:
        why = ("MTurk takes a Reward of whole cents (at most two decimals) and would refuse the HIT type once the "
               "run had started (Mephisto sends task_reward as it is)")
    raise InputError(f"{reward} is not a whole number of {minor}: {why}; set {reward.quantize(CENT, ROUND_FLOOR)} "
                     f"or {reward.quantize(CENT, ROUND_CEILING)}", field=REWARD_KEY)


def _whole_minutes(estimate: Estimate) -> Estimate:
    """The estimate as a Prolific study declares it: whole minutes (`estimated_completion_time` is an
    integer), rounded up, so the rate checked is the one Prolific computes, never more."""
    whole = Context(rounding=ROUND_CEILING).divide(estimate.seconds, Decimal(60)).to_integral_value(ROUND_CEILING)
    if whole * 60 == estimate.seconds:
        return estimate
    return Estimate(whole * 60, f"{estimate.source}, {estimate.minutes.quantize(CENT)} rounded up to whole minutes "
                                "as Prolific's study declares them")


def _prolific_floor(pay: DictConfig, currency: str) -> tuple[Decimal, str]:
    """The hourly minimum a Prolific launch must meet, and how a refusal names it: Prolific's own floor, or a
    higher one the study sets (a lower one would only be refused by Prolific when the study is created)."""
    prolific_floor = PROLIFIC_FLOOR[currency]
    configured = _setting(pay, "min_hourly_rate")
    if configured is None:
        return prolific_floor, f"Prolific's minimum of {money(prolific_floor, currency)}/h"
    key = f"{SECTION}.min_hourly_rate"
    floor = _amount(configured, key, positive=True)
    if floor < prolific_floor:
        raise InputError(f"{money(floor, currency)}/h is below Prolific's own minimum of "
                         f"{money(prolific_floor, currency)}/h, which Prolific enforces; set at least that, "
                         "or null for exactly that", field=key)
    return floor, f"the minimum of {money(floor, currency)}/h set in {key}"


def _reward_needed(check: PayCheck, floor: Decimal) -> str:
    """What to change: the smallest reward in whole cents that meets `floor` at the same minutes."""
    assert check.estimate is not None and check.currency is not None
    exact_or_more = Context(rounding=ROUND_CEILING).divide(floor * check.estimate.seconds, Decimal(3600))
    needed = exact_or_more.quantize(CENT, rounding=ROUND_CEILING)
    return f"raise {REWARD_KEY} to at least {money(needed, check.currency)} (or give each unit less work)"


def _estimate(pay: DictConfig, db: MephistoDB | None) -> Estimate | None:
    minutes, pilot = _setting(pay, "estimated_minutes"), _setting(pay, "estimate_from_task")
    if minutes is not None and pilot is not None:
        raise InputError(f"set either {SECTION}.estimated_minutes or {SECTION}.estimate_from_task, not both "
                         "(null the other)", field=f"{SECTION}.estimate_from_task")
    if minutes is not None:
        return Estimate(_amount(minutes, f"{SECTION}.estimated_minutes", positive=True) * 60, "estimated_minutes")
    if pilot is None:
        return None
    least = _setting(pay, "min_pilot_units")
    if isinstance(least, bool) or not isinstance(least, int) or least < 1:
        raise InputError(f"must be a whole number of units, at least 1, got {least!r}", field=f"{SECTION}.min_pilot_units")
    return pilot_estimate(db, str(pilot), least)


def pilot_estimate(db: MephistoDB | None, task_name: str, min_units: int) -> Estimate:
    """The median working time of the submitted units of `task_name` (every run of it in `db`).

    A unit's working time is its agent's `AgentState.get_task_start()` to `get_task_end()`: Mephisto
    stamps the start when the agent's initial state is set (the worker's page asked for its work) and
    the end when the submission arrives, and keeps both in the agent's `agent_meta.json` (older runs:
    `times` in agent_data.json). The same times the exports carry as started_at / submitted_at.
    Onboarding is another agent, so its time is not in any unit's. Fewer than `min_units` timed units
    is not an estimate: an `InputError` naming `humaneval.pay.estimate_from_task`.
    """
    key = f"{SECTION}.estimate_from_task"
    if db is None:
        raise InputError(f"no Mephisto database in this data folder to find pilot task '{task_name}' in; run the "
                         "pilot with the same humaneval.data_dir", field=key)
    try:
        with data_faults_reported(db):  # type: ignore[arg-type]  # any MephistoDB has db_path / db_root
            seconds = [unit.submitted_at - unit.started_at for unit in finished_units(db, task_name)
                       if unit.started_at is not None and unit.submitted_at is not None]
    except InputError as err:
        raise InputError(err.problem, path=err.path, field=key) from None
    if len(seconds) < min_units:
        raise InputError(f"not enough data: the pilot's median working time needs at least {min_units} submitted "
                         f"units of task '{task_name}' (have {len(seconds)}); run more of the pilot, lower "
                         f"{SECTION}.min_pilot_units, or set {SECTION}.estimated_minutes instead", field=key)
    median = Decimal(repr(statistics.median(seconds)))
    if median <= 0:
        raise InputError(f"the median working time of task '{task_name}' is {median} seconds: its units carry no "
                         "usable times", field=key)
    return Estimate(median, f"median of {len(seconds)} units of task {task_name}")


def _setting(pay: DictConfig, name: str) -> Any:
    if name not in pay:
        raise InputError("missing from the task's YAML (task_configs/acute.yaml shows it)", field=f"{SECTION}.{name}")
    return pay[name]


def _amount(value: Any, key: str, *, positive: bool) -> Decimal:
    """A config number as an exact Decimal (its decimal text, not the float's binary value)."""
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise InputError(f"must be a {'positive' if positive else 'non-negative'} number, got {value!r}", field=key)
    return amount


def _prolific_currency(cfg: DictConfig) -> str:
    currency = cfg.mephisto.provider.get("currency")
    if currency not in PROLIFIC_FLOOR:
        raise InputError(f"must be your Prolific account's currency, one of {', '.join(PROLIFIC_FLOOR)}, got "
                         f"{currency!r}", field=CURRENCY_KEY)
    return str(currency)
