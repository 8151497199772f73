"""Reading judgement files: validation errors name file, line and field; runs combine; pairings attach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.acute.records import attach_pairings, load_acute_judgements
from humaneval.input_errors import InputError

from analysis_record_factory import judgement
from cli_in_process import run_analysis


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"winner": "gamma"}, "winner"),
        ({"left": "gamma"}, "left"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"is_onboarding": "no"}, "is_onboarding"),
        ({"worker_id": 7.5}, "worker_id"),
        ({"task": "safety"}, "task"),
        ({"model_b": "alpha"}, "model_b"),
        ({"submitted_at": 1.0}, "submitted_at"),
        ({"onboarding_passed": "yes"}, "onboarding_passed"),
        ({"dialogue_dicts": [{"dialogue": "x"}]}, "dialogue_dicts"),
    ],
)
def test_bad_field_is_located(write_records, overrides: dict, field: str) -> None:
    path = write_records([judgement(), judgement(worker_id="w2"), judgement(**overrides)])
    with pytest.raises(InputError) as err:
        load_acute_judgements([path])
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 3, field)


def test_missing_field_and_bad_json(write_records) -> None:
    rec = judgement()
    del rec["pair_id"]
    path = write_records([judgement(), rec])
    with pytest.raises(InputError) as err:
        load_acute_judgements([path])
    assert (err.value.line, err.value.field) == (2, "pair_id")
    broken = write_records([judgement(), "{not json"])
    with pytest.raises(InputError) as err:
        load_acute_judgements([broken])
    assert err.value.line == 2 and "JSON" in str(err.value)


def test_cli_exits_2_and_writes_nothing(write_records, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_records([judgement(), judgement(winner="nobody")])
    out = tmp_path / "report"
    proc = run_analysis(capsys, "acute", "--judgements", path, "--out", out)
    assert proc.returncode == 2
    assert f"{path}:2: field 'winner'" in proc.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_runs_combine_and_mixed_questions_are_refused(write_records) -> None:
    one = write_records([judgement(run_id="r1"), judgement(run_id="r1", worker_id="w2", winner="beta")])
    two = write_records([judgement(run_id="r2", pair_id="0", winner="beta")])
    both = load_acute_judgements([one, two])
    assert len(both) == 3 and both.runs == ["r1", "r2"]
    assert len(both.pair_keys) == 2  # pair "0" of r1 and of r2 are different pairs
    other = write_records([judgement(run_id="r3", question="Which one is more human?")])
    with pytest.raises(InputError) as err:
        load_acute_judgements([one, other])
    assert (err.value.path, err.value.line, err.value.field) == (str(other), 1, "question")
    assert len(load_acute_judgements([one, other], allow_mixed_questions=True).questions) == 2


def test_models_sorted_and_onboarding_models_kept_apart(write_records) -> None:
    recs = [
        judgement(model_a="zeta", model_b="alpha", left="zeta", winner="zeta"),
        judgement(is_onboarding=True, model_a="human", model_b="weak_bot", left="human", winner="human", pair_id="onb"),
    ]
    j = load_acute_judgements([write_records(recs)])
    assert j.models == ["alpha", "zeta"]
    assert j.onboarding_models == ["human", "weak_bot"]
    assert j.models[j.winner[0]] == "zeta"


def test_pairings_attach_by_line_index_or_explicit_id(write_records, tmp_path: Path) -> None:
    def pairing(text: str, **extra) -> dict:
        d = [{"speakers": [m, "human_evaluator"], "dialogue": [{"id": m, "text": f"{text} {m}"}]} for m in ("alpha", "beta")]
        return {"is_onboarding": False, "speakers_to_eval": ["alpha", "beta"], "dialogue_ids": [0, 1],
                "dialogue_dicts": d, **extra}

    pairings = tmp_path / "pairings.jsonl"
    pairings.write_text("\n".join(json.dumps(p) for p in [pairing("first"), pairing("second"), pairing("named", pair_id="x9")]) + "\n")
    j = load_acute_judgements([write_records([judgement(pair_id="1"), judgement(pair_id="x9", worker_id="w2")])])
    assert attach_pairings(j, pairings) == 2
    texts = {j.pair_keys[p][1]: d[0]["dialogue"][0]["text"] for p, d in j.dialogues.items()}
    assert texts == {"1": "second alpha", "x9": "named alpha"}


def test_nothing_to_analyse_exits_2(write_records, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only_onboarding = write_records([judgement(is_onboarding=True)])
    proc = run_analysis(capsys, "acute", "--judgements", only_onboarding, "--out", tmp_path / "r")
    assert proc.returncode == 2 and "no comparisons" in proc.stderr and str(only_onboarding) in proc.stderr
    assert not (tmp_path / "r").exists()
