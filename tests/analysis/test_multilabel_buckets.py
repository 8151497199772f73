"""Multi-label buckets (issue 15) and the binary `not_ok` safety label, against independent computations.

Rates and Wilson intervals are recounted from the raw records and checked with statsmodels' `proportion_confint`,
Fleiss' κ with statsmodels' `fleiss_kappa`, Krippendorff's α with the `krippendorff` package on reliability data
built from the records (worker × item), and the CLIs are run on files with buckets.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from analysis.bad.records import load_bad_labels
from analysis.bad.report import render_html as bad_render_html
from analysis.bad.statistics import BadOptions, analyse_bad
from analysis.bad.tables import csv_tables as bad_csv_tables
from analysis.bad.tables import summary as bad_summary
from analysis.safety.records import load_safety_labels
from analysis.safety.statistics import SafetyOptions, analyse_safety
from analysis.safety.tables import csv_tables as safety_csv_tables
from analysis.safety.tables import summary as safety_summary
from analysis.stats.multilabel import ALL, COLUMNS
from analysis.synthetic.bad import BadDesign, simulate_bad
from analysis.synthetic.safety import SafetyStudy, careful_confusion, simulate
from cli_in_process import run_analysis
from test_bad_records import bad_turn
from test_safety_records import safety_label, write

REPO = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=alert(1)>"
BUCKETS = {"contradiction": (0.05, 0.3), "off_topic": (0.1, 0.4), "none_all_good": (0.85, 0.05)}


def study(**extra: Any) -> SafetyStudy:
    return SafetyStudy(bucket_shares={"calm": [0.8, 0.1, 0.05, 0.05], "edgy": [0.4, 0.2, 0.2, 0.2]},
                       confusions=[careful_confusion(a) for a in (0.95, 0.9, 0.85, 0.8)], items_per_model=120,
                       labels_per_item=(3, 3), seed=4, **extra)


# ------------------------------------------------------------------------------------------ the readers
@pytest.mark.parametrize("value, says", [
    ([True], "must be an object"), ({"rude": "yes"}, "'rude' must be true or false"), ({"": True}, "non-empty"), ({" ": True}, "not only spaces"),
    ({"rude": 1}, "'rude' must be true or false"), ({"x" * 5000: [0] * 5000}, "'xxxxxxxxxxxx"),
])
@pytest.mark.parametrize("task", ["safety", "bad"])
def test_bad_buckets_exit_2_naming_file_line_and_field(tmp_path: Path, task: str, value: Any, says: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    make = safety_label if task == "safety" else bad_turn
    path = write(tmp_path / "labels.jsonl", [make(), make(**({"worker_id": "w2"} if task == "safety" else {"turn_index": 3}),
                                                        buckets=value)])
    out = tmp_path / "report"
    done = run_analysis(capsys, task, "--labels", path, "--out", out)
    assert done.returncode == 2 and not out.exists()
    assert f"{path}:2" in done.stderr and "buckets" in done.stderr and says in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr) < 400  # short, even for a huge name or value


def test_null_empty_and_absent_buckets_are_not_asked(tmp_path: Path) -> None:
    labels = load_safety_labels([write(tmp_path / "l.jsonl", [
        safety_label(worker_id="w1", buckets=None), safety_label(worker_id="w2", buckets={}),
        safety_label(worker_id="w3", buckets={"rude": True}), safety_label(worker_id="w4")])])
    assert labels.buckets.names == ["rude"]
    assert labels.buckets.asked[:, 0].tolist() == [False, False, True, False]
    assert labels.buckets.as_dicts() == [None, None, {"rude": True}, None]


# ------------------------------------------------------------------------------------ safety statistics
def test_safety_bucket_rates_and_agreement_match_independent_computations(tmp_path: Path) -> None:
    records = simulate(study(buckets=BUCKETS, bucket_shown=0.8)).records
    results = analyse_safety(load_safety_labels([write(tmp_path / "l.jsonl", records)]))
    table = results.buckets
    assert list(table.columns) == list(COLUMNS)
    assert sorted(set(table["bucket"])) == sorted(BUCKETS) and set(table["scope"]) == {ALL, "calm", "edgy"}
    for bucket in BUCKETS:
        for scope in (ALL, "calm", "edgy"):
            mine = [r for r in records if (scope == ALL or r["model"] == scope) and bucket in r["buckets"]]
            ticked = sum(r["buckets"][bucket] for r in mine)
            row = table[(table["scope"] == scope) & (table["bucket"] == bucket)].iloc[0]
            assert (row["asked"], row["ticked"]) == (len(mine), ticked)
            assert row["rate"] == pytest.approx(ticked / len(mine))
            assert (row["ci_low"], row["ci_high"]) == pytest.approx(proportion_confint(ticked, len(mine), method="wilson"),
                                                                    abs=1e-12)
            # agreement: every shown bucket is shown to the item's 3 workers, so statsmodels' equal-raters κ applies
            by_item: dict[str, list[bool]] = defaultdict(list)
            for r in mine:
                by_item[r["item_id"]].append(r["buckets"][bucket])
            counts = np.array([[v.count(False), v.count(True)] for v in by_item.values()])
            assert set(counts.sum(axis=1)) == {3} and row["items_with_2_labels"] == len(by_item)
            assert row["fleiss_kappa"] == pytest.approx(fleiss_kappa(counts, method="fleiss"), abs=1e-12)
            items = sorted(by_item)
            workers = sorted({r["worker_id"] for r in mine})
            data = np.full((len(workers), len(items)), np.nan)
            for r in mine:
                data[workers.index(r["worker_id"]), items.index(r["item_id"])] = float(r["buckets"][bucket])
            alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
            assert row["krippendorff_alpha"] == pytest.approx(alpha, abs=1e-12)
            pairs_agree = np.mean([(c[0] * (c[0] - 1) + c[1] * (c[1] - 1)) / 6 for c in counts])
            assert row["raw_agreement"] == pytest.approx(pairs_agree)
            assert row["not_enough_data"] == "" and row["undefined"] == ""


def test_a_bucket_not_asked_is_out_of_the_denominator(tmp_path: Path) -> None:
    """Three labels asked `rude` (one ticked); the fourth record never lists it: 1 of 3, not 1 of 4."""
    recs = [safety_label(worker_id=f"w{i}", buckets=b) for i, b in enumerate(
        [{"rude": True, "dull": False}, {"rude": False}, {"rude": False, "dull": True}, {"dull": True}])]
    table = analyse_safety(load_safety_labels([write(tmp_path / "l.jsonl", recs)])).buckets
    rude = table[(table["scope"] == ALL) & (table["bucket"] == "rude")].iloc[0]
    dull = table[(table["scope"] == ALL) & (table["bucket"] == "dull")].iloc[0]
    assert (rude["asked"], rude["ticked"], dull["asked"], dull["ticked"]) == (3, 1, 3, 2)
    # one item with 3 labels is below the agreement minimum: the reason, never a number
    assert rude["not_enough_data"].startswith("needs at least 10") and np.isnan(rude["fleiss_kappa"])


def test_agreement_minimum_and_undefined(tmp_path: Path) -> None:
    recs = [safety_label(item_id=str(i), worker_id=f"w{w}", buckets={"rude": i < 2, "dull": False})
            for i in range(4) for w in range(2)]
    results = analyse_safety(load_safety_labels([write(tmp_path / "l.jsonl", recs)]), SafetyOptions(min_agreement_items=4))
    table = results.buckets.set_index(["scope", "bucket"])
    assert table.loc[(ALL, "rude"), "fleiss_kappa"] == pytest.approx(1.0)
    assert table.loc[(ALL, "rude"), "krippendorff_alpha"] == pytest.approx(1.0)
    dull = table.loc[(ALL, "dull")]
    assert dull["undefined"].startswith("no label is ticked") and np.isnan(dull["krippendorff_alpha"])
    assert dull["raw_agreement"] == 1.0


def test_buckets_change_no_other_number(tmp_path: Path) -> None:
    """The same labels with and without buckets give the same tables apart from the bucket ones."""
    plain = simulate(study()).records
    with_buckets = simulate(study(buckets=BUCKETS)).records
    assert [{k: v for k, v in r.items() if k != "buckets"} for r in with_buckets] == plain
    a = safety_csv_tables(analyse_safety(load_safety_labels([write(tmp_path / "a.jsonl", plain)])))
    b = safety_csv_tables(analyse_safety(load_safety_labels([write(tmp_path / "b.jsonl", with_buckets)])))
    assert set(b) - set(a) == {"buckets.csv"}
    for name in a:
        pd.testing.assert_frame_equal(a[name].drop(columns="buckets", errors="ignore"),
                                      b[name].drop(columns="buckets", errors="ignore"))


# ------------------------------------------------------------------------------------------ not_ok labels
def test_not_ok_is_unsafe_and_keeps_the_severity_figures_honest(tmp_path: Path) -> None:
    recs = ([safety_label(item_id="1", worker_id=f"w{i}", label=a) for i, a in enumerate(["not_ok", "not_ok", "ok"])]
            + [safety_label(item_id="2", worker_id=f"w{i}", label=a) for i, a in enumerate(["not_ok_most", "not_ok", "ok"])]
            + [safety_label(item_id="3", worker_id=f"w{i}", label=a) for i, a in enumerate(["ok", "ok", "not_ok_some"])])
    results = analyse_safety(load_safety_labels([write(tmp_path / "l.jsonl", recs)]), SafetyOptions(min_agreement_items=2))
    m = results.models.iloc[0]
    assert (m["n"], m["unsafe"], m["not_ok"], m["not_ok_most"], m["ok"]) == (9, 5, 3, 1, 4)
    assert m["not_ok_rate"] == pytest.approx(3 / 9) and m["unsafe_rate"] == pytest.approx(5 / 9)
    items = results.items.set_index("item_id")
    assert items.loc["1", "majority"] == "unsafe" and items.loc["1", "majority_bucket"] == "not_ok"
    assert items.loc["2", "majority"] == "unsafe" and items.loc["2", "majority_bucket"] == "tie"
    # Dawid–Skene on OK / NOT OK: no severity is estimated
    assert results.ds_classes == ("ok", "not_ok") and results.ds is not None and results.ds.prior.size == 2
    assert items[["ds_p_not_ok_minority", "ds_p_not_ok_some", "ds_p_not_ok_most"]].isna().all().all()
    assert (items["ds_p_ok"] + items["ds_p_unsafe"]).to_numpy() == pytest.approx(1.0)
    assert set(results.confusion["answer"]) == {"ok", "not_ok"}
    # agreement: binary over every label; 4-way over labels with a severity only (item 1 has one, item 2 two)
    agreement = results.agreement.set_index("scale").loc[lambda f: f["scope"] == "all models"]
    assert agreement.loc["binary", "items_with_2_labels"] == 3 and agreement.loc["binary", "labels_on_them"] == 9
    assert agreement.loc["4-way", "items_with_2_labels"] == 2 and agreement.loc["4-way", "labels_on_them"] == 5
    s = safety_summary(results)
    assert s["dawid_skene"]["classes"] == ["ok", "not_ok"] and s["models"][0]["buckets"]["not_ok"]["n"] == 3


def test_not_ok_gold_label_is_accepted_and_graded_binary(tmp_path: Path) -> None:
    recs = [safety_label(item_id="g", worker_id="w1", model="gold", is_gold=True, gold_label="not_ok", label="not_ok_some"),
            safety_label(item_id="1", worker_id="w1", label="ok")]
    results = analyse_safety(load_safety_labels([write(tmp_path / "l.jsonl", recs)]))
    gold = results.gold_items.iloc[0]
    assert (gold["gold_label"], gold["correct"]) == ("not_ok", 1)


# ---------------------------------------------------------------------------------------------------- BAD
def test_bad_bucket_rates_and_no_agreement(tmp_path: Path) -> None:
    records = simulate_bad(BadDesign(buckets=BUCKETS, bucket_shown=0.7))
    plain = simulate_bad(BadDesign())
    assert [{k: v for k, v in r.items() if k != "buckets"} for r in records] == plain
    results = analyse_bad(load_bad_labels([write(tmp_path / "b.jsonl", records)]), BadOptions(bootstrap_rounds=50))
    table = results.buckets
    complete = [r for r in records if r["conversation_status"] == "complete"]
    for bucket in BUCKETS:
        for scope in (ALL, *sorted({r["model"] for r in complete})):
            mine = [r for r in complete if (scope == ALL or r["model"] == scope) and bucket in r["buckets"]]
            ticked = sum(r["buckets"][bucket] for r in mine)
            row = table[(table["scope"] == scope) & (table["bucket"] == bucket)].iloc[0]
            assert (row["asked"], row["ticked"]) == (len(mine), ticked)
            assert (row["ci_low"], row["ci_high"]) == pytest.approx(proportion_confint(ticked, len(mine), method="wilson"),
                                                                    abs=1e-12)
    # one label per turn: agreement is never a number
    assert (table["items_with_2_labels"] == 0).all() and table["not_enough_data"].str.startswith("needs at least").all()
    assert table[["raw_agreement", "fleiss_kappa", "krippendorff_alpha"]].isna().all().all()
    s = bad_summary(results)
    assert len(s["buckets"]) == len(table) and all(r["fleiss_kappa"] is None for r in s["buckets"])
    labels_csv = bad_csv_tables(results)["labels.csv"]
    assert json.loads(labels_csv["buckets"].iloc[0]) == next(
        r["buckets"] for r in complete if f"conversation {labels_csv['conversation_id'].iloc[0][1:]}" in r["text"]
        and r["turn_index"] == labels_csv["turn_index"].iloc[0])


def test_bad_buckets_follow_the_turn_order(tmp_path: Path) -> None:
    """Records in reverse order: the matrix rows still match the sorted turns."""
    recs = [bad_turn(turn_index=t, bot_turn_number=t // 2 + 1, buckets={"rude": t == 5}) for t in (5, 3, 1)]
    labels = load_bad_labels([write(tmp_path / "b.jsonl", recs)])
    assert labels.turns["turn_index"].tolist() == [1, 3, 5]
    assert labels.buckets.ticked[:, 0].tolist() == [False, False, True]


# ------------------------------------------------------------------------------------------- the CLIs
def _documented(heading: str) -> str:
    text = (REPO / "docs" / "formats.md").read_text(encoding="utf-8")
    start = text.index(f"### {heading}")
    end = re.compile(r"^#{2,3} ", re.M).search(text, start + 1)
    return text[start:end.start() if end else len(text)]


@pytest.mark.parametrize("task", ["safety", "bad"])
def test_cli_with_and_without_buckets(tmp_path: Path, task: str, capsys: pytest.CaptureFixture[str]) -> None:
    if task == "safety":
        records = simulate(study(buckets={**BUCKETS, XSS: (0.1, 0.5)})).records
        plain = simulate(study()).records
        heading = "Safety report (`analysis safety`)"
    else:
        records = simulate_bad(BadDesign(buckets={**BUCKETS, XSS: (0.1, 0.5)}))
        plain = simulate_bad(BadDesign())
        heading = "BAD report (`analysis bad`)"
    extra = ["--bootstrap-rounds", "50"] if task == "bad" else []
    done = run_analysis(capsys, task, "--labels", write(tmp_path / "with.jsonl", records), "--out", tmp_path / "with",
                        *extra)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "with" / "buckets.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    where = _documented(heading) + _documented("Safety report (`analysis safety`)")
    assert header == list(COLUMNS) and all(f"`{c}`" in where for c in header)
    summary = json.loads((tmp_path / "with" / "summary.json").read_text(encoding="utf-8"))
    assert {r["bucket"] for r in summary["buckets"]} == {*BUCKETS, XSS}
    html = (tmp_path / "with" / "report.html").read_text(encoding="utf-8")
    assert "id='annotation-buckets'" in html or 'id="annotation-buckets"' in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    # without buckets: no file, no section, an empty list
    done = run_analysis(capsys, task, "--labels", write(tmp_path / "plain.jsonl", plain), "--out", tmp_path / "plain",
                        *extra)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "plain" / "buckets.csv").exists()
    assert json.loads((tmp_path / "plain" / "summary.json").read_text(encoding="utf-8"))["buckets"] == []
    assert not re.search("annotation-buckets", (tmp_path / "plain" / "report.html").read_text(encoding="utf-8"))


@pytest.mark.browser
@pytest.mark.parametrize("task", ["safety", "bad"])
def test_bucket_section_in_the_browser(page, tmp_path: Path, task: str, capsys: pytest.CaptureFixture[str]) -> None:
    if task == "safety":
        records = simulate(study(buckets={**BUCKETS, XSS: (0.1, 0.5)}, binary_share=0.3)).records
    else:
        records = simulate_bad(BadDesign(buckets={**BUCKETS, XSS: (0.1, 0.5)}))
    extra = ["--bootstrap-rounds", "50"] if task == "bad" else []
    done = run_analysis(capsys, task, "--labels", write(tmp_path / "l.jsonl", records), "--out", tmp_path / "r", *extra)
    assert done.returncode == 0, done.stderr
    for width in (1280, 420):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto((tmp_path / "r" / "report.html").as_uri())
        page.wait_for_load_state("load")
        section = page.locator("#annotation-buckets")
        assert section.is_visible()
        assert page.get_by_text(XSS, exact=True).count() >= 3  # chart label, table rows: shown as text
        assert page.locator("img").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # the page never scrolls sideways
    assert page.errors == []


def test_bad_bucket_interval_needs_ten_conversations(tmp_path: Path) -> None:
    """Hostile trial (issue 15): 3 conversations of 8 turns got a Wilson interval while the NOT OK rate said "needs 10
    conversations". The rate stays; the interval is "not enough data" below 10 conversations asked the bucket."""
    def turns(model: str, conversations: int) -> list[dict[str, Any]]:
        return [bad_turn(model=model, conversation_id=f"{model}{c}", unit_id=f"u{model}{c}", turn_index=2 * t + 1,
                         bot_turn_number=t + 1, buckets={"rude": (c + t) % 3 == 0}) for c in range(conversations) for t in range(8)]

    results = analyse_bad(load_bad_labels([write(tmp_path / "b.jsonl", turns("few", 3) + turns("many", 12))]),
                          BadOptions(bootstrap_rounds=50))
    rows = results.buckets.set_index("scope")
    few, many, pooled = rows.loc["few"], rows.loc["many"], rows.loc[ALL]
    assert few["rate"] == pytest.approx(few["ticked"] / few["asked"]) and few["asked"] == 24
    assert math.isnan(few["ci_low"]) and few["ci_not_enough_data"] == "needs at least 10 conversations (have 3)"
    assert many["ci_not_enough_data"] == "" and (many["ci_low"], many["ci_high"]) == pytest.approx(
        proportion_confint(many["ticked"], many["asked"], method="wilson"), abs=1e-12)
    assert pooled["ci_not_enough_data"] == ""  # 15 conversations together
    s = bad_summary(results)
    (few_json,) = [r for r in s["buckets"] if r["scope"] == "few"]
    assert few_json["ci_wilson"] == [None, None] and few_json["ci_not_enough_data"].startswith("needs at least 10")
    html = bad_render_html(results)
    assert "not enough data: needs at least 10 conversations (have 3)" in html
