"""Reading safety labels (docs/formats.md, section 'Exports'): what counts, and bad input → exit 2 naming file, line, field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analysis.__main__ import main
from analysis.safety.records import load_safety_labels


def safety_label(**overrides: Any) -> dict[str, Any]:
    """One valid safety label record (docs/formats.md, section 'Exports'), with fields replaced by `overrides`."""
    rec: dict[str, Any] = {
        "task": "safety", "run_id": "run1", "unit_id": "u1", "worker_id": "w1", "item_id": "0",
        "model": "alpha", "label": "ok", "is_gold": False, "gold_label": None, "reason": "",
        "started_at": 1795260000.0, "submitted_at": 1795260012.0,
    }
    rec.update(overrides)
    return rec


def write(path: Path, records: list[dict[str, Any] | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_items_models_gold_and_onboarding(tmp_path: Path) -> None:
    recs = [
        safety_label(worker_id="w1", item_id="1", model="beta", label="not_ok_most"),
        safety_label(worker_id="w2", item_id="1", model="beta", label="ok"),
        safety_label(worker_id="w2", item_id=1, run_id="run2", model="alpha"),  # same id, other run: other item
        safety_label(worker_id="w1", item_id="g", model="gold_bot", is_gold=True, gold_label="not_ok_some", label="not_ok_some"),
        {"task": "safety", "is_onboarding": True, "worker_id": "w3", "answer": "whatever"},
        safety_label(worker_id="w4", item_id="1", model="beta", excluded=True, excluded_reason="failed gold",
                     text="the reply", context="hi\nhello"),
    ]
    labels = load_safety_labels([write(tmp_path / "a.jsonl", recs)])
    assert labels.models == ["alpha", "beta"] and labels.gold_models == ["gold_bot"]
    assert labels.item_keys == [("run1", "1"), ("run2", "1"), ("run1", "g")]
    assert labels.item_is_gold.tolist() == [False, False, True] and labels.item_gold.tolist() == [-1, -1, 2]
    assert [labels.models[m] for m in labels.item_model[:2]] == ["beta", "alpha"]
    assert len(labels) == 5 and labels.n_onboarding == 1
    assert labels.label.tolist() == [3, 0, 0, 2, 0]
    assert labels.excluded.tolist() == [False, False, False, False, True]
    assert labels.excluded_reasons == {labels.workers.index("w4"): "failed gold"}
    assert labels.texts[0].reply == "the reply" and labels.texts[0].context == ["hi", "hello"]


BAD_LINES = [
    (safety_label(label="unsafe"), "label"),
    (safety_label(task="acute"), "task"),
    ({k: v for k, v in safety_label().items() if k != "model"}, "model"),
    (safety_label(worker_id=""), "worker_id"),
    (safety_label(item_id=None), "item_id"),
    (safety_label(is_gold="yes"), "is_gold"),
    (safety_label(is_gold=True, gold_label=None), "gold_label"),
    (safety_label(gold_label="ok"), "gold_label"),
    (safety_label(excluded="no"), "excluded"),
    (safety_label(submitted_at=1.0), "submitted_at"),
    (safety_label(reason=3), "reason"),
    (safety_label(text=["a"]), "text"),
    (safety_label(text="a", context=[1]), "context"),
    (safety_label(model="beta"), "model"),  # item 0 was alpha on line 1
    (safety_label(is_gold=True, gold_label="ok"), "is_gold"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_LINES)
def test_bad_record_exits_2_naming_file_line_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   bad: dict[str, Any], field: str) -> None:
    path = write(tmp_path / "labels.jsonl", [safety_label(), "", bad])
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as exit_info:
        main(["safety", "--labels", str(path), "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"{path}:3: field '{field}'" in err
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_broken_json_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "labels.jsonl", [safety_label(), "{not json"])
    for files, expected in (([str(path)], f"{path}:2: invalid JSON"), ([str(tmp_path / "nope.jsonl")], "file not found")):
        with pytest.raises(SystemExit) as exit_info:
            main(["safety", "--labels", *files, "--out", str(tmp_path / "out")])
        assert exit_info.value.code == 2 and expected in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("option", "value"), [("--gold-threshold", "1.5"), ("--min-gold", "0"), ("--ds-smoothing", "0")])
def test_bad_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    path = write(tmp_path / "labels.jsonl", [safety_label()])
    with pytest.raises(SystemExit) as exit_info:
        main(["safety", "--labels", str(path), "--out", str(tmp_path / "out"), option, value])
    assert exit_info.value.code == 2 and f"field '{option}'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
