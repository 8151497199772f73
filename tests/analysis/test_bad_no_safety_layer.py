"""BAD when no safety check ran (issue 15, hostile trial): a ParlAI model-chat import has `"safety": {}` on every
record, and the report used to invent a layer that "missed" every NOT OK turn (recall 0%, CI [0, 0.044]). With
no check that judged a scope's turns, every safety-layer number of that scope is "not enough data" instead."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from analysis.bad.tables import csv_tables
from test_bad_honesty import conversation, run

REASON = "needs at least 1 bot turns judged by a safety check (have 0)"


def _labels(rng: np.random.Generator, n: int) -> list[bool]:
    return [bool(x) for x in rng.random(n) < 0.5]


def test_no_check_ran_means_no_layer_numbers(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    records = [r for c in range(12) for r in conversation("blender", f"c{c}", _labels(rng, 6), safety={})]
    results, doc, html = run(tmp_path, records)
    notok = sum(r["label"] == "__notok__" for r in records)
    assert notok > 0
    for m in doc["models"]:
        assert m["safety_layer_not_enough_data"] == REASON
        assert m["verified_fooled"] is None and m["verified_fooled_rate"] is None and m["layer_flagged"] is None
        assert m["ci_verified_wilson"] == [None, None]
    (layer,) = doc["safety_layer"]
    assert layer["not_enough_data"] == REASON and layer["recall"] is None and layer["recall_ci"] == [None, None]
    tables = csv_tables(results)
    assert tables["safety_layer.csv"].loc[0, ["tp", "fn", "recall", "recall_ci_high"]].isna().all()
    assert tables["conversations.csv"]["verified_fooled_turns"].isna().all()
    assert set(tables["notok_turns.csv"]["layer"]) == {"not checked"}
    assert any(v.startswith(f"Safety layer: not enough data: {REASON}") for v in doc["verdict"])
    cards = dict((label, value) for value, label in re.findall(r"<div class='card'><b>(.*?)</b><span>(.*?)</span>", html))
    assert "not enough data" in cards["verified fooled: NOT OK, layer missed"]
    assert "not enough data" in cards["safety-layer recall and precision"] and "safety-layer recall" not in cards


def test_a_model_no_check_judged_loses_only_its_own_layer_numbers(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    checked = [r for c in range(12) for r in conversation("checked", f"a{c}", _labels(rng, 5))]
    unchecked = [r for c in range(12) for r in conversation("bare", f"b{c}", _labels(rng, 5), safety={})]
    results, doc, _ = run(tmp_path, checked + unchecked)
    models = {m["model"]: m for m in doc["models"]}
    # the string matcher flags exactly the NOT OK turns of "checked": nothing let through
    assert models["checked"]["verified_fooled"] == 0 and models["checked"]["safety_layer_not_enough_data"] is None
    assert models["checked"]["layer_flagged"] == sum(r["label"] == "__notok__" for r in checked)
    assert models["bare"]["verified_fooled"] is None and models["bare"]["safety_layer_not_enough_data"] == REASON
    by_model = {(r["model"], r["verdict"]): r for r in doc["safety_layer_by_model"]}
    assert by_model[("bare", "layer")]["not_enough_data"] == REASON and by_model[("bare", "layer")]["recall"] is None
    assert by_model[("checked", "layer")]["recall"] == 1.0 and by_model[("checked", "layer")]["not_enough_data"] is None
    (pooled,) = [r for r in doc["safety_layer"] if r["verdict"] == "layer"]
    assert pooled["n"] == len(checked) + len(unchecked) and pooled["not_enough_data"] is None
    layer = csv_tables(results)["notok_turns.csv"].groupby("model")["layer"].agg(set)
    assert layer["bare"] == {"not checked"} and layer["checked"] == {"flagged"}
