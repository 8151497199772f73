"""The pay floor at launch (humaneval/crowd/pay_floor.py): Prolific refuses below its floor, MTurk warns, mock
is silent; the time per unit is configured or the median of a sandbox pilot in a real Mephisto database.

Rates are checked against hand-computed values and against exact rational arithmetic (`Fraction`), and the
pilot's median against hand-computed durations written through Mephisto's own data model.
"""

from __future__ import annotations

import importlib
import json
import math
import time
from fractions import Fraction
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from humaneval.crowd.data_dir import open_database, open_existing_database
from humaneval.crowd.launcher import LocalLaunch
from humaneval.crowd.pay_floor import PayCheck, check_pay, pilot_estimate
from humaneval.crowd.prolific.study import study_payload
from humaneval.crowd.simulated_worker import SimulatedWorker
from humaneval.crowd.task_config import compose_task_config
from humaneval.input_errors import InputError
from humaneval.studies import STUDIES
from mephisto.abstractions.databases.local_database import LocalMephistoDB
from mephisto.data_model.agent import Agent
from mephisto.utils.testing import get_mock_requester
from tests.crowd.conftest import completed_units, wait_for

REWARD = "mephisto.task.task_reward"
MINUTES = "humaneval.pay.estimated_minutes"
PILOT = "humaneval.pay.estimate_from_task"


def config(provider: str, reward: str, minutes: str | None = None, *, currency: str | None = None,
           task: str = "acute", overrides: tuple[str, ...] = ()) -> DictConfig:
    """A task's composed config (its real YAML, `humaneval.pay` included) with this reward and estimate.
    For `prolific` the composed values are given Prolific's provider type and account currency (the
    provider's config group is not needed to check the pay)."""
    importlib.import_module(STUDIES[task].task_module)  # registers the task's blueprint with Hydra
    chosen = [] if provider in ("mock", "prolific") else [f"provider={provider}"]
    cfg = compose_task_config(task, [*chosen, f"{REWARD}={reward}", f"{MINUTES}={minutes or 'null'}", *overrides])
    if provider != "prolific":
        return cfg
    plain = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    plain.mephisto.provider = {"_provider_type": "prolific", "requester_name": "lab"}
    if currency is not None:
        plain.mephisto.provider.currency = currency
    return plain


def refusal(cfg: DictConfig, db: LocalMephistoDB | None = None) -> InputError:
    with pytest.raises(InputError) as caught:
        check_pay(cfg, db)
    return caught.value


# --- Prolific: refused below the floor, with the numbers ------------------------------------------


def test_prolific_refuses_a_rate_below_the_usd_floor_with_the_rate_and_the_reward_that_would_do() -> None:
    # $0.50 per 4 minutes = 0.50 * 60 / 4 = $7.50 per hour < $8.00; $8.00 * 4 / 60 = $0.5333 -> $0.54
    err = refusal(config("prolific", "0.5", "4", currency="USD"))
    assert err.field == REWARD and err.path is None
    assert err.problem == (
        "this Prolific study would pay $7.50/h ($0.50 per unit, 4.00 min per unit: estimated_minutes), below "
        "Prolific's minimum of $8.00/h; raise mephisto.task.task_reward to at least $0.54 (or give each unit less work)")


def test_the_same_study_in_gbp_passes_its_lower_floor_and_fails_at_six_minutes() -> None:
    check = check_pay(config("prolific", "0.5", "4", currency="GBP"), None)
    assert (check.hourly_rate, check.currency, check.minutes, check.source) == (7.5, "GBP", 4, "estimated_minutes")
    assert check.warnings == []
    # £0.50 per 6 minutes = £5.00 per hour < £6.00; £6.00 * 6 / 60 = £0.60
    err = refusal(config("prolific", "0.5", "6", currency="GBP"))
    assert "would pay £5.00/h (£0.50 per unit, 6.00 min per unit" in err.problem
    assert "below Prolific's minimum of £6.00/h; raise mephisto.task.task_reward to at least £0.60" in err.problem


@pytest.mark.parametrize(("currency", "reward", "minutes"), [
    ("USD", "0.4", "3"),      # 0.40 * 60 / 3 = 8.00
    ("GBP", "0.6", "6"),      # 0.60 * 60 / 6 = 6.00
    ("USD", "0.54", "4"),     # the reward the refusal above asks for: 8.10
])
def test_a_rate_exactly_at_or_just_above_the_floor_is_accepted(currency: str, reward: str, minutes: str) -> None:
    check = check_pay(config("prolific", reward, minutes, currency=currency), None)
    assert check.hourly_rate == Fraction(reward) * 60 / Fraction(minutes)


REWARDS = ["0.01", "0.1", "0.25", "0.3", "0.37", "0.5", "0.53", "0.54", "0.8", "1", "1.33", "2.5"]
ESTIMATES = ["0.5", "1", "2.5", "3", "3.7", "4", "7", "10", "12.5", "20"]


@pytest.mark.parametrize(("provider", "currency", "floor"), [
    ("prolific", "GBP", Fraction(6)), ("prolific", "USD", Fraction(8)), ("mturk", None, Fraction(12))])
def test_every_decision_matches_exact_rational_arithmetic(provider: str, currency: str | None, floor: Fraction) -> None:
    """120 reward/estimate pairs: the rate equals reward * 60 / minutes computed in `Fraction` (on Prolific
    at the whole minutes it declares), and the launch is refused (Prolific) or warned about (MTurk) exactly
    when that is below the floor."""
    decisions = {"below": 0, "at or above": 0}
    cfg = config(provider, "1", "1", currency=currency)
    for reward in REWARDS:
        for minutes in ESTIMATES:
            declared = math.ceil(Fraction(minutes)) if provider == "prolific" else Fraction(minutes)
            exact = Fraction(reward) * 60 / declared
            cfg.mephisto.task.task_reward, cfg.humaneval.pay.estimated_minutes = float(reward), float(minutes)  # as Hydra reads them
            if provider == "prolific" and exact < floor:
                assert refusal(cfg).field == REWARD, (reward, minutes)
            else:
                check = check_pay(cfg, None)
                rate = check.hourly_rate
                assert rate is not None and abs(Fraction(rate) - exact) < Fraction(1, 10**20), (reward, minutes)
                assert len(check.warnings) == (exact < floor), (reward, minutes)
            decisions["below" if exact < floor else "at or above"] += 1
    assert min(decisions.values()) >= 20, decisions  # the grid straddles the floor


def test_prolific_checks_the_whole_minutes_its_study_declares() -> None:
    # 3.5 minutes are declared as 4: $0.50 per 4 minutes = $7.50/h < $8.00 (at 3.5 minutes it would be $8.57)
    err = refusal(config("prolific", "0.5", "3.5", currency="USD"))
    assert ("would pay $7.50/h ($0.50 per unit, 4.00 min per unit: estimated_minutes, 3.50 rounded up to whole "
            "minutes as Prolific's study declares them)") in err.problem
    check = check_pay(config("prolific", "0.6", "3.5", currency="USD"), None)  # 0.60 * 60 / 4 = $9.00/h
    assert (check.minutes, check.hourly_rate) == (4, 9)
    assert check_pay(config("mturk", "0.5", "3.5"), None).minutes == Fraction(7, 2)  # MTurk declares no minutes


def test_a_reward_prolific_would_round_is_refused_not_checked_as_typed() -> None:
    """The hostile trial's case: 0.134 per 1 minute reads $8.04/h, but Prolific is sent 13 cents, $7.80/h."""
    err = refusal(config("prolific", "0.134", "1", currency="USD"))
    assert err.field == REWARD
    assert err.problem == ("0.134 is not a whole number of cents: Prolific takes the reward as a whole number of cents "
                           "(minor units) and would be sent 13 ($0.13), not 0.134; set 0.13 or 0.14")
    assert "pence" in refusal(config("prolific", "0.605", "6", currency="GBP")).problem  # above £6.00/h either way


@pytest.mark.parametrize("provider", ["mturk", "mturk_sandbox"])
def test_mturk_refuses_a_fraction_of_a_cent_too(provider: str) -> None:
    """Mephisto sends MTurk Reward=str(task_reward), and MTurk's CurrencyAmount allows two decimals at most."""
    err = refusal(config(provider, "0.505", "1"))  # $30.30/h: no rate warning would have said anything
    assert err.field == REWARD and "MTurk takes a Reward of whole cents" in err.problem
    assert err.problem.endswith("set 0.50 or 0.51")
    assert check_pay(config("mock", "0.505", "1"), None).hourly_rate is None  # mock pays nothing, checks nothing


SUB_CENT_REWARDS = ["0.134", "0.135", "0.1349", "0.2", "0.20", "0.535", "0.54", "0.5401", "1.005", "1.01", "2.999", "3"]


@pytest.mark.parametrize("currency", ["GBP", "USD"])
def test_the_rate_checked_is_the_rate_of_the_reward_prolific_is_sent(currency: str) -> None:
    """For each reward x estimate: refused unless the reward is whole minor units (decided in `Fraction`); when
    accepted, the rate equals the one computed from the body of the study Prolific would get (its integer
    `reward` and `estimated_completion_time`), and it is refused exactly when that rate is below the floor."""
    floor = {"GBP": Fraction(6), "USD": Fraction(8)}[currency]
    seen = {"not whole": 0, "below": 0, "at or above": 0}
    for reward in SUB_CENT_REWARDS:
        for minutes in ["1", "3.5", "4", "10"]:
            cfg = config("prolific", reward, minutes, currency=currency)
            cfg.mephisto.task.task_reward = float(reward)  # as Hydra reads it
            if (Fraction(reward) * 100).denominator != 1:
                assert refusal(cfg).field == REWARD, reward
                seen["not whole"] += 1
                continue
            cfg.mephisto.provider.merge_with({"filters": [], "device_compatibility": ["desktop"],
                                              "estimated_minutes": math.ceil(Fraction(minutes))})
            body = study_payload(cfg.mephisto, "https://eval.example.org", "CODE", project_id=None, block_group_ids=[])
            sent_rate = Fraction(body["reward"], 100) * 60 / body["estimated_completion_time"]
            if sent_rate < floor:
                assert refusal(cfg).field == REWARD, (reward, minutes)
                seen["below"] += 1
            else:
                assert Fraction(check_pay(cfg, None).hourly_rate) == sent_rate, (reward, minutes)
                seen["at or above"] += 1
    assert min(seen.values()) >= 4, seen  # every branch is exercised


def test_a_configured_floor_above_prolifics_replaces_it() -> None:
    higher = ("humaneval.pay.min_hourly_rate=9",)
    err = refusal(config("prolific", "0.5", "4", currency="GBP", overrides=higher))  # £7.50/h: fine for Prolific
    assert "would pay £7.50/h" in err.problem
    assert "below the minimum of £9.00/h set in humaneval.pay.min_hourly_rate" in err.problem
    assert "at least £0.60" in err.problem  # 9 * 4 / 60
    assert check_pay(config("prolific", "0.6", "4", currency="GBP", overrides=higher), None).hourly_rate == 9


def test_a_configured_floor_below_prolifics_is_refused_itself() -> None:
    err = refusal(config("prolific", "5", "4", currency="USD", overrides=("humaneval.pay.min_hourly_rate=7.5",)))
    assert err.field == "humaneval.pay.min_hourly_rate"
    assert err.problem.startswith("$7.50/h is below Prolific's own minimum of $8.00/h")


def test_prolific_needs_an_estimate_and_says_which_key_to_set() -> None:
    err = refusal(config("prolific", "0.5", None, currency="GBP"))
    assert err.field == MINUTES
    assert "humaneval.pay.estimated_minutes=MINUTES" in err.problem and PILOT in err.problem


@pytest.mark.parametrize(("key", "value", "field"), [
    (MINUTES, "0", MINUTES), (MINUTES, "-3", MINUTES), (MINUTES, "soon", MINUTES), (MINUTES, "nan", MINUTES),
    (REWARD, "-0.5", REWARD), ("humaneval.pay.min_hourly_rate", "0", "humaneval.pay.min_hourly_rate"),
])
def test_a_value_that_is_no_amount_is_refused_by_its_key(key: str, value: str, field: str) -> None:
    cfg = config("prolific", "0.5", "4", currency="GBP", overrides=(f"{key}={value}",))
    err = refusal(cfg)
    assert err.field == field and repr(OmegaConf.select(cfg, key)) in err.problem


@pytest.mark.parametrize("currency", [None, "EUR", "gbp"])
def test_the_account_currency_must_be_one_prolific_has(currency: str | None) -> None:
    err = refusal(config("prolific", "0.5", "4", currency=currency))
    assert err.field == "mephisto.provider.currency" and "GBP, USD" in err.problem


def test_both_a_configured_and_a_measured_estimate_is_ambiguous() -> None:
    err = refusal(config("prolific", "0.5", "4", currency="GBP", overrides=(f"{PILOT}=pilot",)))
    assert err.field == PILOT and "not both" in err.problem


# --- MTurk: a warning, never a refusal; mock: nothing -------------------------------------------------


@pytest.mark.parametrize("provider", ["mturk", "mturk_sandbox"])
def test_mturk_below_the_warning_rate_warns_and_launches(provider: str) -> None:
    check = check_pay(config(provider, "0.5", "4"), None)  # $7.50/h < $12.00; 12 * 4 / 60 = $0.80
    assert check.hourly_rate == Fraction(15, 2) and check.currency == "USD"
    assert check.warnings == [
        "this MTurk task pays $7.50/h ($0.50 per unit, 4.00 min per unit: estimated_minutes), below $12.00/h "
        "(humaneval.pay.mturk_warn_hourly_rate); raise mephisto.task.task_reward to at least $0.80 "
        "(or give each unit less work)"]
    far_below = check_pay(config(provider, "0.01", "60"), None)  # $0.01/h: still only a warning
    assert far_below.hourly_rate == Fraction(1, 100) and len(far_below.warnings) == 1


def test_mturk_at_the_warning_rate_or_with_it_off_is_silent() -> None:
    assert check_pay(config("mturk", "0.8", "4"), None).warnings == []  # exactly $12.00/h
    assert check_pay(config("mturk", "0.79", "4"), None).warnings != []  # $11.85/h
    assert check_pay(config("mturk", "0.74", "3.7"), None).warnings == []  # $12.00/h; in floats 11.999999999999998
    off = config("mturk", "0.01", "60", overrides=("humaneval.pay.mturk_warn_hourly_rate=null",))
    assert check_pay(off, None).warnings == []
    lower = config("mturk", "0.5", "4", overrides=("humaneval.pay.mturk_warn_hourly_rate=7.25",))
    assert check_pay(lower, None).warnings == []  # $7.50/h >= $7.25


def test_mturk_without_an_estimate_warns_that_the_rate_was_not_checked() -> None:
    check = check_pay(config("mturk", "0.5"), None)
    assert check.hourly_rate is None
    assert check.warnings == [
        "hourly rate not checked: set humaneval.pay.estimated_minutes (or humaneval.pay.estimate_from_task) to have "
        "the reward of $0.50 per unit compared with humaneval.pay.mturk_warn_hourly_rate"]


def test_mock_checks_nothing_and_says_nothing() -> None:
    """A sandbox (and a pilot) pays nothing: not even an unusable estimate or a missing pilot is read."""
    cfg = config("mock", "0.01", "60", overrides=(f"{PILOT}=no-such-task",))
    assert check_pay(cfg, None) == PayCheck("mock", None, None, None, [])


@pytest.mark.parametrize("task", ["acute", "safety", "bad", "smoke"])
def test_every_task_yaml_has_the_pay_section_with_its_defaults(task: str) -> None:
    """Each task's own YAML drives the check: Prolific needs its estimate, MTurk warns below $12.00/h."""
    assert refusal(config("prolific", "0.5", None, currency="GBP", task=task)).field == MINUTES
    assert "below $12.00/h" in check_pay(config("mturk", "0.5", "4", task=task), None).warnings[0]
    assert refusal(config("prolific", "0.5", "4", currency="USD", task=task)).field == REWARD


# --- the pilot's median, from a real Mephisto database --------------------------------------------


def add_unit(db: LocalMephistoDB, task_name: str, worker: str, seconds: float | None, *,
             submitted: bool = True, start: float = 1_700_000_000.0) -> None:
    """One unit of `task_name` (a static_react_task, like the smoke pilot) taken by `worker`, through
    Mephisto's own data model: the agent's state gets its inputs and (if `submitted`) its submission, which
    stamps task_start / task_end in agent_meta.json; the stamps are then set to `start` and `start +
    seconds` (None: a unit whose times were never recorded)."""
    task_type = "static_react_task"
    requester = get_mock_requester(db)
    found = db.find_tasks(task_name=task_name)
    task_id = found[0].db_id if found else db.new_task(task_name, task_type)
    runs = db.find_task_runs(task_id=task_id)
    run_id = runs[0].db_id if runs else db.new_task_run(
        task_id, requester.db_id, json.dumps(OmegaConf.to_yaml({"blueprint": {}})), "mock", task_type, True)
    assignment = db.new_assignment(task_id, run_id, requester.db_id, task_type, "mock", True)
    unit_id = db.new_unit(task_id, run_id, requester.db_id, assignment, 0, 0.5, "mock", task_type, True)
    workers = db.find_workers(worker_name=worker)
    worker_id = workers[0].db_id if workers else db.new_worker(worker, "mock")
    agent_id = db.new_agent(worker_id, unit_id, task_id, run_id, assignment, task_type, "mock")
    agent = Agent.get(db, agent_id)
    agent.state.set_init_state({"prompt": "What is your favourite colour?"})
    status = "completed" if submitted else "in task"
    if submitted:
        agent.state.update_submit({"answer": "blue"})
    agent.state.metadata.task_start = start if seconds is not None else None
    agent.state.metadata.task_end = start + seconds if seconds is not None and submitted else None
    agent.state.save_metadata()
    db.update_agent(agent_id, status=status)
    db.update_unit(unit_id, agent_id=agent_id, status=status if submitted else "assigned")


PILOT_SECONDS = [240.0, 180.0, 600.0, 300.0, 420.0]  # sorted: 180 240 [300] 420 600 -> median 300 s = 5 min


@pytest.fixture()
def pilot_db(tmp_path: Path) -> LocalMephistoDB:
    """A data folder with a finished 5-unit pilot, plus what must not count: a unit still in progress, a
    submitted unit without times, and a far slower unit of another task."""
    db = open_database(tmp_path / "mephisto")
    for i, seconds in enumerate(PILOT_SECONDS):
        add_unit(db, "pilot", f"worker_{i % 3}", seconds)
    add_unit(db, "pilot", "worker_late", 5000.0, submitted=False)
    add_unit(db, "pilot", "worker_old", None)
    add_unit(db, "other-task", "worker_0", 3600.0)
    return open_existing_database(tmp_path / "mephisto")  # as the launcher would: a fresh reader


def test_the_pilot_median_is_the_middle_submitted_working_time(pilot_db: LocalMephistoDB) -> None:
    estimate = pilot_estimate(pilot_db, "pilot", 5)
    assert estimate.minutes == 5 and estimate.source == "median of 5 units of task pilot"
    add_unit(pilot_db, "pilot", "worker_3", 330.0)  # six units: (300 + 330) / 2 = 315 s = 5.25 min
    assert pilot_estimate(pilot_db, "pilot", 5).minutes == Fraction(21, 4)


def test_a_prolific_launch_is_measured_against_the_pilot(pilot_db: LocalMephistoDB) -> None:
    measured = (f"{PILOT}=pilot",)
    # $0.50 per 5 minutes (the pilot's median) = $6.00/h < $8.00; 8 * 5 / 60 = $0.6667 -> $0.67
    err = refusal(config("prolific", "0.5", currency="USD", overrides=measured), pilot_db)
    assert err.field == REWARD
    assert ("would pay $6.00/h ($0.50 per unit, 5.00 min per unit: median of 5 units of task pilot), below "
            "Prolific's minimum of $8.00/h; raise mephisto.task.task_reward to at least $0.67") in err.problem
    check = check_pay(config("prolific", "0.5", currency="GBP", overrides=measured), pilot_db)
    assert (check.hourly_rate, check.minutes, check.source) == (6, 5, "median of 5 units of task pilot")
    add_unit(pilot_db, "pilot", "worker_3", 330.0)  # median 5.25 min, declared as 6: £0.55 * 60 / 6 = £5.50/h
    err = refusal(config("prolific", "0.55", currency="GBP", overrides=measured), pilot_db)
    assert ("would pay £5.50/h (£0.55 per unit, 6.00 min per unit: median of 6 units of task pilot, 5.25 rounded up "
            "to whole minutes as Prolific's study declares them), below Prolific's minimum of £6.00/h") in err.problem


def test_too_few_pilot_units_are_not_an_estimate(pilot_db: LocalMephistoDB) -> None:
    cfg = config("prolific", "5", currency="GBP", overrides=(f"{PILOT}=pilot", "humaneval.pay.min_pilot_units=6"))
    err = refusal(cfg, pilot_db)
    assert err.field == PILOT
    assert err.problem.startswith("not enough data: the pilot's median working time needs at least 6 submitted "
                                  "units of task 'pilot' (have 5)")
    add_unit(pilot_db, "pilot", "worker_3", 330.0)  # the sixth unit makes it an estimate
    assert check_pay(cfg, pilot_db).source.startswith("median of 6 units of task pilot, 5.25 rounded up")


def test_the_default_asks_five_pilot_units(tmp_path: Path) -> None:
    db = open_database(tmp_path)
    for i, seconds in enumerate(PILOT_SECONDS[:4]):
        add_unit(db, "small-pilot", f"worker_{i}", seconds)
    err = refusal(config("mturk", "5", overrides=(f"{PILOT}=small-pilot",)), db)
    assert err.field == PILOT and "at least 5 submitted units of task 'small-pilot' (have 4)" in err.problem


def test_a_pilot_that_is_not_there_is_named(pilot_db: LocalMephistoDB) -> None:
    cfg = config("prolific", "5", currency="GBP", overrides=(f"{PILOT}=pilott",))
    err = refusal(cfg, pilot_db)
    assert err.field == PILOT and "no task named 'pilott'" in err.problem and "pilot" in err.problem
    err = refusal(cfg, None)  # a data folder without a database
    assert err.field == PILOT and "no Mephisto database" in err.problem


@pytest.mark.integration
def test_a_real_sandbox_pilot_stamps_the_working_time_the_median_reads(smoke_run_in_background: LocalLaunch) -> None:
    """The times come from a live run, not only from a database written by hand: two simulated workers on
    the smoke task take their unit (the page's request, which sets the agent's initial state) and submit
    it 1.0 and 2.0 seconds later; the median is at least (1.0 + 2.0) / 2 and at most the wall-clock median
    of request-to-submitted seen by the test."""
    run = smoke_run_in_background
    walls = []
    for i, pause in enumerate((1.0, 2.0)):
        worker = SimulatedWorker(run.base_url, f"pilot_{i}")
        started = time.monotonic()
        session = worker.request_agent()
        assert session.agent_id is not None, session.failure_reason
        time.sleep(pause)
        worker.submit_task(session.agent_id, {"answer": "blue"})
        assert wait_for(lambda: completed_units(run) == i + 1, timeout=30), run.task_run.get_assignment_statuses()
        walls.append(time.monotonic() - started)
    estimate = pilot_estimate(open_existing_database(run.settings.data_dir), "humaneval-smoke", 2)
    assert estimate.source == "median of 2 units of task humaneval-smoke"
    assert Fraction(3, 2) <= Fraction(estimate.seconds) <= Fraction(sum(walls) / 2), (estimate, walls)
