"""Every analysis reader refuses a record given twice, naming both lines, and numbers a float cannot hold.

A repeated record (an export concatenated with itself, one file passed twice) would otherwise count
twice in every rate and test of the ACUTE and safety reports, and nothing on the page would show it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis.__main__ import main
from analysis.acute import records
from analysis.bad import records as bad_records
from analysis.safety import records as safety_records
from analysis.synthetic.acute import StudyDesign, simulate
from analysis.synthetic.bad import BadDesign, simulate_bad
from analysis.synthetic.safety import SafetyStudy, careful_confusion
from analysis.synthetic.safety import simulate as simulate_safety
from humaneval.input_errors import InputError

from analysis_record_factory import judgement
from test_bad_records import bad_turn
from test_safety_records import safety_label

#: valid JSON, but past the largest float: float() of it raises OverflowError
HUGE = 10**400
#: verb, its input option, the reader, a valid record factory, the field a repeat is reported on
READERS: dict[str, tuple[str, Callable[..., Any], Callable[..., dict[str, Any]], str]] = {
    "acute": ("--judgements", records.load_acute_judgements, judgement, "pair_id"),
    "safety": ("--labels", safety_records.load_safety_labels, safety_label, "item_id"),
    "bad": ("--labels", bad_records.load_bad_labels, bad_turn, "turn_index"),
}
#: two records of each study that are NOT repeats of each other (another worker, pair, item or turn)
DISTINCT: dict[str, dict[str, Any]] = {
    "acute": {"worker_id": "w2"},
    "safety": {"worker_id": "w2"},
    "bad": {"turn_index": 3},
}


def _write(path: Path, recs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path


@pytest.mark.parametrize("verb", READERS)
def test_a_record_in_two_files_is_refused_naming_both(tmp_path: Path, verb: str) -> None:
    _option, load, make, field = READERS[verb]
    first = _write(tmp_path / "a.jsonl", [make(), make(**DISTINCT[verb])])
    second = _write(tmp_path / "b.jsonl", [make(**DISTINCT[verb])])
    with pytest.raises(InputError) as err:
        load([first, second])
    assert (err.value.path, err.value.line, err.value.field) == (str(second), 1, field)
    assert f"as the record at {first}:2" in err.value.problem


@pytest.mark.parametrize("verb", READERS)
def test_one_file_passed_twice_exits_2_naming_both_lines(tmp_path: Path, verb: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    option, _load, make, field = READERS[verb]
    path = _write(tmp_path / "records.jsonl", [make(), make(**DISTINCT[verb])])
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as exit_info:
        main([verb, option, str(path), str(path), "--out", str(out)])
    assert exit_info.value.code == 2
    assert f"{path}:1: field '{field}': has the same" in capsys.readouterr().err
    assert not out.exists()


def test_acute_key_is_unit_worker_and_pair(tmp_path: Path) -> None:
    """Another unit, worker, pair or run makes another judgement; the winner and times do not."""
    base = judgement()
    others = [judgement(unit_id="u2"), judgement(worker_id="w2"), judgement(pair_id="1"), judgement(run_id="run2")]
    assert len(records.load_acute_judgements([_write(tmp_path / "ok.jsonl", [base, *others])])) == 5
    changed = judgement(winner="beta", started_at=base["started_at"] + 5, submitted_at=base["submitted_at"] + 5)
    with pytest.raises(InputError, match="same unit, worker and pair"):
        records.load_acute_judgements([_write(tmp_path / "dup.jsonl", [base, *others, changed])])


def test_acute_onboarding_answers_count_as_records_too(tmp_path: Path) -> None:
    onboarding = judgement(is_onboarding=True, unit_id="onb-w1", pair_id="onboarding")
    with pytest.raises(InputError) as err:
        records.load_acute_judgements([_write(tmp_path / "j.jsonl", [judgement(), onboarding, onboarding])])
    assert err.value.line == 3


def test_safety_key_is_unit_worker_and_item(tmp_path: Path) -> None:
    """A gold item may come back to the same worker in a later unit (the task does so once its pool is
    used up); that is a new label. Onboarding answers are skipped unread, repeats included."""
    gold = {"item_id": "g1", "model": "gold", "is_gold": True, "gold_label": "ok"}
    onboarding = {"task": "safety", "is_onboarding": True, "worker_id": "w1"}
    recs = [safety_label(**gold), safety_label(**gold, unit_id="u2"), onboarding, onboarding,
            safety_label(), safety_label(worker_id="w2"), safety_label(item_id="1"), safety_label(run_id="run2")]
    assert len(safety_records.load_safety_labels([_write(tmp_path / "ok.jsonl", recs)])) == 6
    with pytest.raises(InputError, match="same unit, worker and item") as err:
        safety_records.load_safety_labels([_write(tmp_path / "dup.jsonl", [*recs, safety_label(label="not_ok_most")])])
    assert err.value.line == 9 and f"{tmp_path / 'dup.jsonl'}:5" in err.value.problem


def test_bad_turn_given_twice_is_refused_even_under_another_unit(tmp_path: Path) -> None:
    recs = [bad_turn(), bad_turn(turn_index=3), bad_turn(conversation_id="c2"), bad_turn(turn_index=3, unit_id="u9")]
    with pytest.raises(InputError) as err:
        bad_records.load_bad_labels([_write(tmp_path / "t.jsonl", recs)])
    assert (err.value.line, err.value.field) == (4, "turn_index")
    assert f"{tmp_path / 't.jsonl'}:2" in err.value.problem


def _records_from(recs: list[dict[str, Any]]) -> Callable[[Any], Any]:
    """A stand-in for the JSONL parser: the readers' own checks must hold whatever parsed the file."""
    return lambda path: iter(enumerate(recs, start=1))


@pytest.mark.parametrize("verb", READERS)
@pytest.mark.parametrize("field", ["started_at", "submitted_at"])
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), HUGE], ids=["inf", "-inf", "nan", "huge-int"])
def test_timestamps_must_be_finite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                   verb: str, field: str, value: float) -> None:
    _option, load, make, _field = READERS[verb]
    module = {"acute": records, "safety": safety_records, "bad": bad_records}[verb]
    monkeypatch.setattr(module, "iter_jsonl_objects", _records_from([make(), make(**DISTINCT[verb], **{field: value})]))
    with pytest.raises(InputError, match="Unix seconds") as err:
        load([tmp_path / "any.jsonl"])
    assert (err.value.line, err.value.field) == (2, field)


def test_a_huge_integer_timestamp_in_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON allows integers of any size; float() of one past 1e308 raises OverflowError (a traceback)."""
    line = json.dumps(judgement(worker_id="w2")).replace('"started_at": 1795260000.0', f'"started_at": {HUGE}')
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps(judgement()) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["acute", "--judgements", str(path), "--out", str(tmp_path / "report")])
    err = capsys.readouterr().err
    # The reader refuses the literal itself (more digits than a float can hold), before any field check.
    assert exit_info.value.code == 2 and f"{path}:2: invalid JSON (the integer" in err and "Traceback" not in err


@pytest.mark.parametrize(("field", "value"), [("rating", HUGE), ("score", HUGE), ("score", float("inf"))],
                         ids=["rating-huge-int", "score-huge-int", "score-inf"])
def test_bad_scores_and_ratings_must_be_finite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               field: str, value: float) -> None:
    second = (bad_turn(turn_index=3, rating=value) if field == "rating"
              else bad_turn(turn_index=3, safety={"clf": {"unsafe": True, "score": value, "reason": ""}}))
    monkeypatch.setattr(bad_records, "iter_jsonl_objects", _records_from([bad_turn(), second]))
    with pytest.raises(InputError) as err:
        bad_records.load_bad_labels([tmp_path / "any.jsonl"])
    assert err.value.line == 2 and err.value.field == ("rating" if field == "rating" else "safety.clf.score")


def test_synthetic_acute_study_never_shows_a_worker_one_pair_twice(tmp_path: Path) -> None:
    """A crowded design (15 judgements per worker from 20 pairs) where drawing pairs at random repeats many."""
    design = StudyDesign(strengths={"a": 0.0, "b": 0.5, "c": 1.0}, n_judgements=150, n_workers=10, n_pairs=20, seed=3)
    recs = list(simulate(design).records())
    seen = Counter((r["worker_id"], r["pair_id"]) for r in recs)
    assert max(seen.values()) == 1
    assert len(records.load_acute_judgements([_write(tmp_path / "j.jsonl", recs)])) == 150 + 10
    with pytest.raises(ValueError, match="more judgements than there are pairs"):
        list(simulate(StudyDesign(strengths=design.strengths, n_judgements=150, n_workers=5, n_pairs=20)).records())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_safety_and_bad_studies_pass_the_readers(tmp_path: Path, seed: int) -> None:
    study = SafetyStudy(bucket_shares={"m": [0.7, 0.1, 0.1, 0.1]}, confusions=[careful_confusion(0.9)] * 4,
                        items_per_model=30, labels_per_item=(2, 6), gold_items=8, seed=seed)
    labels = simulate_safety(study).records
    assert len(safety_records.load_safety_labels([_write(tmp_path / "s.jsonl", labels)])) == len(labels)
    turns = simulate_bad(BadDesign(seed=seed, incomplete_share=0.0))
    assert len(bad_records.load_bad_labels([_write(tmp_path / "b.jsonl", turns)]).turns) == len(turns)


def test_a_pairing_id_given_twice_is_refused(tmp_path: Path) -> None:
    """Otherwise the viewer shows the later pairing's conversations for judgements of the earlier one."""
    def pairing(pair_id: str, text: str) -> dict[str, Any]:
        return {"pair_id": pair_id, "dialogue_dicts": [{"dialogue": [{"id": m, "text": text}]} for m in ("alpha", "beta")]}

    judged = records.load_acute_judgements([_write(tmp_path / "j.jsonl", [judgement(pair_id="x9")])])
    pairings = _write(tmp_path / "pairings.jsonl", [pairing("x9", "first"), pairing("y", "other"), pairing("x9", "second")])
    with pytest.raises(InputError) as err:
        records.attach_pairings(judged, pairings)
    assert (err.value.line, err.value.field) == (3, "pair_id") and f"{pairings}:1" in err.value.problem
