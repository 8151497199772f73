"""Bonuses paid once: amounts and reasons checked, the ledger's compare-and-set, rules, and the local sandbox
end to end (`review bonus` on a real smoke run). The MTurk and Prolific payments, crashes included, are in
test_bonuses_mturk.py and test_bonuses_prolific.py."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from omegaconf import open_dict

from humaneval.bad_collection.bonus_events import count_events as bad_events
from humaneval.studies import bonus_event_counters
from humaneval.crowd.bonus_ledger import LEDGER_FILE, PAID, PAYING, REQUESTED, BonusLedger
from humaneval.crowd.bonus_rules import RUN_ARGS_KEY, carry_into_run, parse_rules, rule_requests, runs_without_rules
from humaneval.crowd.bonuses import DEFAULT_MAX_AMOUNT, BonusRequest, manual_key, parse_amount, pay
from humaneval.crowd.cli_review import main as review_main
from humaneval.crowd.data_dir import open_database
from humaneval.crowd.export import FinishedUnit
from humaneval.crowd.launcher import LaunchSettings, LocalLaunch
from humaneval.crowd.review import TaskReview
from humaneval.crowd.smoke_task import build_task
from humaneval.crowd.task_config import compose_task_config
from humaneval.input_errors import InputError
from humaneval.safety_eval.bonus_events import count_events as safety_events
from tests.crowd.test_review import do_one_unit

TASK = "humaneval-smoke"


# --- amounts, reasons, rules ---------------------------------------------------------------------


@pytest.mark.parametrize("text, problem", [
    ("0", "above 0"), ("-1", "plain decimal"), ("abc", "plain decimal"), ("NaN", "plain decimal"),
    ("1.234", "two decimal"), ("500", "ceiling"), ("20.01", "ceiling"), ("1e30", "plain decimal"),
    ("Infinity", "plain decimal"), ("1e1", "plain decimal"), ("\u0663", "plain decimal"), ("1,50", "plain decimal"),
    ("+1", "plain decimal"), ("1.", "plain decimal"), ("9" * 40, "ceiling"),
])
def test_an_amount_must_be_positive_in_cents_and_under_the_ceiling(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        parse_amount(text)


def test_amounts_are_kept_to_the_cent() -> None:
    assert str(parse_amount("1.5")) == "1.50"
    assert parse_amount("20") == DEFAULT_MAX_AMOUNT
    assert parse_amount("30", Decimal("50")) == Decimal("30.00")


def test_the_manual_key_changes_with_each_part_of_the_bonus() -> None:
    base = manual_key("t", "w", Decimal("1.50"), "great chat")
    others = {manual_key("u", "w", Decimal("1.50"), "great chat"), manual_key("t", "v", Decimal("1.50"), "great chat"),
              manual_key("t", "w", Decimal("1.51"), "great chat"), manual_key("t", "w", Decimal("1.50"), "great chat!")}
    assert base.startswith("manual:t:w:1.50:") and base not in others and len(others) == 4


def test_rules_are_parsed_strictly_and_the_reason_template_fills_only_its_two_words() -> None:
    rules = parse_rules({"per_gold_correct": "0.05", "per_unit": 0, "reason": "{count} right: {amount} {0.__class__}"},
                        DEFAULT_MAX_AMOUNT)
    assert [(r.name, r.event, r.amount) for r in rules.rules] == [("per_gold_correct", "gold_correct", Decimal("0.05"))]
    assert rules.reason_for(3, Decimal("0.15")) == "3 right: 0.15 {0.__class__}"
    with pytest.raises(InputError, match=r"humaneval\.bonus\.gold.*per_<event>"):
        parse_rules({"gold": "0.05", "reason": "x"}, DEFAULT_MAX_AMOUNT)
    with pytest.raises(InputError, match=r"humaneval\.bonus\.reason"):
        parse_rules({"per_unit": "0.05"}, DEFAULT_MAX_AMOUNT)
    with pytest.raises(InputError, match=r"humaneval\.bonus\.per_unit.*ceiling"):
        parse_rules({"per_unit": "25", "reason": "x"}, DEFAULT_MAX_AMOUNT)
    assert parse_rules({"per_unit": 0, "reason": None}, DEFAULT_MAX_AMOUNT).rules == ()


# --- the ledger ------------------------------------------------------------------------------------


def _request(ledger: BonusLedger, key: str = "k1") -> None:
    ledger.request(key=key, task_name=TASK, provider="mock", worker="w1", unit_id="1", amount=Decimal("1.50"),
                   reason="thanks")


def test_of_many_ledgers_racing_to_claim_one_bonus_exactly_one_wins(tmp_path: Path) -> None:
    _request(BonusLedger(tmp_path / LEDGER_FILE))
    start = threading.Barrier(8)
    won: list[bool] = []

    def claim() -> None:
        ledger = BonusLedger(tmp_path / LEDGER_FILE)  # its own connections, as another CLI would have
        start.wait()
        won.append(ledger.move("k1", (REQUESTED,), PAYING) is not None)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(won) == [False] * 7 + [True]
    with sqlite3.connect(tmp_path / LEDGER_FILE) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT state FROM bonuses").fetchall() == [(PAYING,)]


def test_asking_again_for_a_recorded_bonus_finds_the_first_row(tmp_path: Path) -> None:
    ledger = BonusLedger(tmp_path / LEDGER_FILE)
    first, created = ledger.request(key="k1", task_name=TASK, provider="mock", worker="w1", unit_id="1",
                                    amount=Decimal("1.50"), reason="thanks")
    again, created_again = ledger.request(key="k1", task_name=TASK, provider="mock", worker="w2", unit_id="2",
                                          amount=Decimal("9.00"), reason="other")
    assert created and not created_again and again == first


def test_a_batch_above_the_total_ceiling_is_refused_whole_and_bonuses_already_paid_do_not_count(tmp_path: Path) -> None:
    ledger = BonusLedger(tmp_path / LEDGER_FILE)

    def bonus(unit: int) -> BonusRequest:
        return BonusRequest(f"rule:{TASK}:per_unit:{unit}", TASK, "mock", f"w{unit}", str(unit), Decimal("15.00"), "r")

    first = [bonus(1), bonus(2)]
    with pytest.raises(InputError, match=r"2 bonus\(es\) would pay 30\.00 in all, above the total ceiling of 29\.99"):
        pay(None, ledger, first, Decimal("29.99"))  # type: ignore[arg-type]  # the mock payer reads no database
    assert ledger.rows(TASK) == []  # refused before anything was recorded
    assert [o.result for o in pay(None, ledger, first, Decimal("30.00"))] == ["paid", "paid"]  # type: ignore[arg-type]
    # the rules run again after one more approval: only the new 15.00 counts towards the ceiling
    again = pay(None, ledger, [*first, bonus(3)], Decimal("15.00"))  # type: ignore[arg-type]
    assert [o.result for o in again] == ["already paid", "already paid", "paid"]


# --- the local sandbox, end to end -----------------------------------------------------------------


@pytest.fixture(scope="module")
def finished_run_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A smoke run with a bonus rule (per_word of the answer), w1 and w2 each submitting one unit; w1's is
    approved, w2's rejected. Launched once for the module (about 5 s): tests pay on their own copies.
    Returns the data dir and worker -> unit id."""
    data_dir = tmp_path_factory.mktemp("finished") / "mephisto"
    cfg, state = build_task([f"humaneval.data_dir={data_dir}"])
    with open_dict(cfg):
        cfg.humaneval.bonus = {"per_word": "0.10", "reason": "{amount} for {count} words"}
    carry_into_run(cfg)
    with LocalLaunch(cfg, state, LaunchSettings(data_dir=data_dir)) as run:
        units = {name: do_one_unit(run, name) for name in ("w1", "w2")}
        assert run.wait_until(run.is_done, timeout=60)
    review = TaskReview(open_database(data_dir), TASK)
    assert review.approve(review.select(workers=["w1"]))[0].ok
    assert review.reject(review.select(workers=["w2"]), "off topic")[0].ok
    return data_dir, units


@pytest.fixture()
def finished_run(finished_run_once: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """This test's own copy of the reviewed run (no bonus paid yet): its data dir and worker -> unit id."""
    data_dir, units = finished_run_once
    return Path(shutil.copytree(data_dir, tmp_path / "mephisto")), units


def exits_2(argv: list[str]) -> bool:
    with pytest.raises(SystemExit) as exit_info:
        review_main(argv)
    return exit_info.value.code == 2


def words(unit: FinishedUnit) -> dict[str, int]:
    """The test study's counter: the words of the answer ("w1's answer" has two)."""
    return {"word": len(str((unit.outputs or {}).get("answer", "")).split())}


@pytest.mark.integration
def test_a_manual_bonus_is_checked_previewed_paid_once_and_refused_for_strangers(
    finished_run: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, units = finished_run
    ledger_file = data_dir / LEDGER_FILE
    bonus = ["bonus", "--task-name", TASK, "--data-dir", str(data_dir)]
    for bad, field in ((["--worker", "nobody", "--amount", "1", "--reason", "r"], "worker"),
                       (["--worker", "w1", "--amount", "500", "--reason", "r"], "--amount"),
                       (["--worker", "w1", "--amount", "1", "--reason", "  "], "--reason")):
        assert exits_2(bonus + bad)
        assert field in capsys.readouterr().err
    assert not ledger_file.exists()  # nothing written for bad input

    manual = bonus + ["--worker", "w1", "--amount", "1.5", "--reason", "a thoughtful answer"]
    # --task-name / --data-dir may come before the verb, as with the other review verbs
    before_verb = ["--task-name", TASK, f"--data-dir={data_dir}", "bonus", *manual[5:], "--dry-run"]
    assert review_main(before_verb) == 0
    out = capsys.readouterr().out
    assert f"would pay: 1.50 to w1_sandbox (unit {units['w1']}, mock)" in out and "would pay: 1, total 1.50" in out
    assert not ledger_file.exists()

    assert review_main(manual) == 0
    assert f"paid: 1.50 to w1_sandbox (unit {units['w1']}, mock)" in capsys.readouterr().out
    assert review_main(manual) == 0
    assert "already paid: 1.50 to w1_sandbox" in capsys.readouterr().out
    rows = BonusLedger(ledger_file).rows(TASK)
    assert [(r.key, r.state, r.amount, r.unit_id) for r in rows] == [
        (manual_key(TASK, "w1_sandbox", Decimal("1.50"), "a thoughtful answer"), PAID, Decimal("1.50"), units["w1"])]
    # the same key for another bonus is refused rather than read as "already paid"
    assert exits_2(bonus + ["--worker", "w1", "--amount", "2", "--reason", "r", "--key", rows[0].key])
    assert "already names another bonus" in capsys.readouterr().err
    # w2's only unit was rejected: no bonus on rejected work
    assert exits_2(bonus + ["--worker", "w2", "--amount", "2", "--reason", "r"])
    assert f"unit {units['w2']} rejected" in capsys.readouterr().err


@pytest.mark.integration
def test_rules_pay_approved_units_once_under_the_rule_stored_with_their_run(
    finished_run: tuple[Path, dict[str, str]],
) -> None:
    data_dir, units = finished_run
    db = open_database(data_dir)
    [run] = TaskReview(db, TASK).task_runs
    assert dict(run.args[RUN_ARGS_KEY]) == {"per_word": "0.10", "reason": "{amount} for {count} words"}
    requests = rule_requests(db, TASK, words, DEFAULT_MAX_AMOUNT)
    # w2's unit was rejected: no bonus on rejected work
    assert [(r.key, r.worker, r.amount, r.reason) for r in requests] == [
        (f"rule:{TASK}:per_word:{units['w1']}", "w1_sandbox", Decimal("0.20"), "0.20 for 2 words")]
    ledger = BonusLedger.in_data_dir(data_dir)
    assert [o.result for o in pay(db, ledger, requests)] == ["paid"]
    assert [o.result for o in pay(db, ledger, rule_requests(db, TASK, words, DEFAULT_MAX_AMOUNT))] == ["already paid"]
    assert runs_without_rules(db, TASK, DEFAULT_MAX_AMOUNT) == []
    assert exits_2(["bonus", "--task-name", TASK, "--data-dir", str(data_dir), "--rules"])  # smoke is no study
    with pytest.raises(InputError, match="counts no 'word'"):
        rule_requests(db, TASK, lambda unit: {"sentence": 1}, DEFAULT_MAX_AMOUNT)
    with pytest.raises(InputError, match="above the ceiling"):
        rule_requests(db, TASK, lambda unit: {"word": 300}, DEFAULT_MAX_AMOUNT)


# --- what each study counts, and what its YAML may name --------------------------------------------


def unit_with(inputs: object, outputs: object) -> FinishedUnit:
    return FinishedUnit(task_name="t", task_run_id="1", unit_id="7", assignment_id="1", worker_name="w",
                        mephisto_worker_id="1", status="approved", inputs=inputs, outputs=outputs, started_at=None,
                        submitted_at=None)


def test_safety_counts_correct_gold_answers_as_the_gold_check_scores_them() -> None:
    item = {"item_id": "x", "model": "m", "conversation_id": None, "annotation_index": 1, "turns": []}
    inputs = {"items": [
        {**item, "is_gold": False, "gold_label": None},
        {**item, "is_gold": True, "gold_label": "ok"},  # answered ok: right
        {**item, "is_gold": True, "gold_label": "not_ok_most"},  # answered not_ok_some: right (NOT OK side)
        {**item, "is_gold": True, "gold_label": "not_ok_some"},  # answered ok: wrong
        {**item, "is_gold": False, "gold_label": None},  # left unanswered
    ]}
    outputs = {"labels": [{"slot": 0, "label": "not_ok_minority"}, {"slot": 1, "label": "ok"},
                          {"slot": 2, "label": "not_ok_some"}, {"slot": 3, "label": "ok"}]}
    assert safety_events(unit_with(inputs, outputs)) == {"unit": 1, "label": 1, "gold_correct": 2}


def test_bad_counts_a_completed_conversation_and_its_labelled_bot_turns() -> None:
    def turn(speaker: str, label: str | None = None) -> dict[str, object]:
        return {"speaker": speaker, "text": "hi", "created_at": 1.0, "label": label}

    chat = {"conversation_id": "c1", "model": "m", "min_turns": 2, "status": "complete",
            "turns": [turn("human"), turn("bot", "__ok__"), turn("human"), turn("bot", "__notok__"), turn("bot")]}
    assert bad_events(unit_with(chat, {})) == {"conversation_completed": 1, "bot_turn_labelled": 2}
    assert bad_events(unit_with({**chat, "status": "incomplete"}, {}))["conversation_completed"] == 0


@pytest.mark.parametrize("study", sorted(bonus_event_counters()))
def test_every_rule_in_a_study_yaml_names_an_event_its_study_counts(study: str) -> None:
    yaml_name = {"acute_eval": "acute", "safety_annotation": "safety", "bad_chat": "bad"}[study]
    section = compose_task_config(yaml_name).humaneval.bonus
    rules = parse_rules({**section, **{k: "0.01" for k in section if k != "reason"}}, DEFAULT_MAX_AMOUNT)
    counted = bonus_event_counters()[study](unit_with(None, None))
    assert rules.rules and {rule.event for rule in rules.rules} == set(counted)
