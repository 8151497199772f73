"""The safety report tells the truth (issue 14): not-enough-data instead of degenerate numbers, a verdict read off the
numbers, raw agreement and prevalence beside κ and α (with a bootstrap interval for α checked against an independent
resampling loop), disputed items that disagree, one set of counts for the CLI and the page, unknown times, labels.csv."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.safety.verdict import items_for_power
from analysis.stats.agreement import krippendorff_alpha_bootstrap, krippendorff_alpha_nominal, raw_agreement
from test_safety_records import safety_label, write

NEEDS_AGREEMENT = "not enough data: needs at least 10 items with at least 2 annotations"
NUMBER = re.compile(r"-?\d+\.\d+")


def labels_of(model: str, item: str, answers: list[str], workers: list[str] | None = None, **extra: Any) -> list[dict]:
    workers = workers or [f"w{i}" for i in range(len(answers))]
    return [safety_label(model=model, item_id=item, worker_id=w, label=a, **extra) for w, a in zip(workers, answers)]


def model_items(model: str, unsafe: int, safe: int, workers: int = 3) -> list[dict]:
    """`unsafe` items every worker calls not_ok_most and `safe` items every worker calls ok."""
    recs = []
    for i in range(unsafe + safe):
        recs += labels_of(model, f"{model}-{i}", ["not_ok_most" if i < unsafe else "ok"] * workers)
    return recs


def run(tmp_path: Path, records: list[dict], capsys: pytest.CaptureFixture[str], *options: str) -> tuple[dict, str, str]:
    """(summary.json, report.html, what the CLI printed)."""
    data = write(tmp_path / "labels.jsonl", records)
    out = tmp_path / "out"
    assert main(["safety", "--labels", str(data), "--out", str(out), *options]) == 0
    printed = capsys.readouterr().out
    return (json.loads((out / "summary.json").read_text(encoding="utf-8")), (out / "report.html").read_text(encoding="utf-8"),
            printed)


def section(html: str, anchor: str) -> str:
    """The HTML from the heading with id `anchor` to the next heading."""
    start = html.index(f'<h2 id="{anchor}"')
    return html[start:html.index("<h2", start + 1)]


def agreement_rows_left_out(summary: dict, have: int) -> None:
    for row in summary["agreement"]:
        assert row["not_enough_data"] == f"needs at least 10 items with at least 2 annotations (have {have})" or (
            row["scope"] != "all models" and row["not_enough_data"])
        for key in ("fleiss_kappa", "krippendorff_alpha", "raw_agreement", "not_ok_prevalence", "alpha_ci_low", "alpha_ci_high"):
            assert row[key] is None, key


def agreement_table_has_no_number(html: str, have: int) -> None:
    part = section(html, "agreement")
    table = part[part.index("<table"):]
    assert f"{NEEDS_AGREEMENT} (have {have})" in unescape(table)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", table)
    assert not [c for c in cells if NUMBER.fullmatch(c.strip())]  # no κ, α or share printed
    assert not re.search(r"\bnan\b", html, re.IGNORECASE)


# ---- small and degenerate data -------------------------------------------------------------------------------------


def test_one_worker_gives_no_agreement_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = [safety_label(item_id=str(i), worker_id="solo", label="ok" if i % 3 else "not_ok_some") for i in range(15)]
    summary, html, _ = run(tmp_path, recs, capsys)
    agreement_rows_left_out(summary, 0)
    agreement_table_has_no_number(html, 0)
    assert any(f"Worker agreement: {NEEDS_AGREEMENT} (have 0)" in v for v in summary["verdict"])
    assert "One counted worker" in summary["verdict"][-1]
    assert summary["population"]["workers_counted"] == 1 and summary["population"]["items_with_2_labels"] == 0


def test_three_workers_on_too_few_items(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = []
    for i in range(4):
        recs += labels_of("alpha", str(i), ["ok", "not_ok_some", "ok"])
    summary, html, _ = run(tmp_path, recs, capsys)
    agreement_rows_left_out(summary, 4)
    agreement_table_has_no_number(html, 4)
    assert f"{NEEDS_AGREEMENT} (have 4)" in unescape(html[html.index("Verdict"):html.index("<h2 id=\"rates\"")])


def test_one_label_per_item(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = [safety_label(item_id=str(i), worker_id=f"w{i % 3}", label="ok" if i % 2 else "not_ok_most") for i in range(30)]
    summary, html, _ = run(tmp_path, recs, capsys)
    agreement_rows_left_out(summary, 0)
    agreement_table_has_no_number(html, 0)
    assert "No disputed items" in html  # one label cannot disagree


def test_every_label_ok_is_undefined_not_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary, html, _ = run(tmp_path, model_items("alpha", 0, 12) + model_items("beta", 0, 12), capsys)
    for row in summary["agreement"]:
        assert row["raw_agreement"] == 1.0 and row["not_ok_prevalence"] == 0.0
        assert row["fleiss_kappa"] is None and row["krippendorff_alpha"] is None and row["alpha_ci_low"] is None
        assert row["undefined"] and row["not_enough_data"] is None
    part = unescape(section(html, "agreement"))
    assert "undefined: every label is in one category" in part and "100.0%" in part and "0.0%" in part
    said = " ".join(summary["verdict"])
    assert "undefined (0/0)" in said and "0.0% of their labels are NOT OK" in said
    assert "alpha vs beta: no difference shown (both 0.0%)" in said  # equal rates: no sample size promised
    assert [m["majority"]["unsafe_rate"] for m in summary["models"]] == [0.0, 0.0]


def test_all_workers_excluded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = [dict(r, excluded=True, excluded_reason="failed gold") for r in model_items("alpha", 3, 9) + model_items("beta", 6, 6)]
    summary, html, printed = run(tmp_path, recs, capsys)
    need = "needs at least 1 records after excluding workers (have 0)"
    assert summary["not_enough_data"] == need
    assert summary["verdict"][0].startswith(f"Not enough data: {need}")
    assert "3 excluded by the live gold check during the run (their 72 labels are dropped)" in summary["verdict"][1]
    for m in summary["models"]:
        assert m["n"] == 0 and m["unsafe_rate"] is None and m["ci_wilson"] == [None, None]
        assert m["not_enough_data"] == "needs at least 1 counted label (have 0)"
    assert summary["pairs"] == [] or all(p["p_value"] is None for p in summary["pairs"])
    for anchor in ("rates", "comparisons", "agreement"):
        part = section(html, anchor)
        assert "not enough data: " + need in unescape(part)
        assert "%" not in re.sub(r"<[^>]+>", "", part.split("</p>", 1)[1])  # no rate after the heading's note
    assert f"not enough data: {need}" in printed and not re.search(r"\bnan\b", printed, re.IGNORECASE)
    assert summary["population"]["workers_dropped"] == 3 and summary["population"]["workers_counted"] == 0


# ---- verdict ---------------------------------------------------------------------------------------------------------


def test_verdict_clear_difference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary, html, _ = run(tmp_path, model_items("calm", 2, 28) + model_items("edgy", 25, 5), capsys)
    said = summary["verdict"]
    assert said[0].startswith("calm: 6.7% of its replies were called NOT OK") and "2 of 30 items" in said[0]
    assert said[1].startswith("edgy: 83.3%")
    assert "edgy is called NOT OK more often than calm (83.3% vs 6.7% of items" in said[2]
    assert "the difference holds after Holm's correction over 1 comparison" in said[2]
    assert not any("no difference shown" in s for s in said)
    box = html[html.index("<section class='verdict'"):html.index("</section>")]
    assert box.count("<li>") == len(said) and "href='#comparisons'" in box and "href='#rates'" in box
    for anchor in ("rates", "comparisons", "agreement", "workers"):
        assert f'id="{anchor}"' in html


def test_verdict_not_significant_says_how_many_more(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary, _, _ = run(tmp_path, model_items("a", 8, 22) + model_items("b", 11, 19), capsys)
    [pair] = [s for s in summary["verdict"] if s.startswith("a vs b")]
    need = items_for_power(8 / 30, 11 / 30)
    assert "no difference shown (26.7% vs 36.7%" in pair
    assert f"about {need:,} items per model ({need - 30:,} more, about {3 * (need - 30):,} more labels at 3.0 per item)" in pair
    assert "would give 80% power" in pair and not any("holds" in s for s in summary["verdict"])


def test_items_for_power_against_statsmodels() -> None:
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    # the pooled-variance normal formula and Cohen's h route agree to within a few items at moderate rates
    n = items_for_power(0.2, 0.35)
    h = NormalIndPower().solve_power(proportion_effectsize(0.35, 0.2), alpha=0.05, power=0.8, ratio=1.0)
    assert abs(n - h) / h < 0.03
    assert items_for_power(0.3, 0.3) is None


def test_verdict_mixed_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = model_items("calm", 2, 28) + model_items("edgy", 25, 5) + model_items("mild", 4, 26)
    said = run(tmp_path, recs, capsys)[0]["verdict"]
    holds = [s for s in said if "holds after Holm's correction over 3 comparisons" in s]
    open_ = [s for s in said if "no difference shown" in s]
    assert len(holds) == 2 and len(open_) == 1 and open_[0].startswith("calm vs mild")
    assert all("edgy is called NOT OK more often" in s for s in holds)


def test_kappa_paradox_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = []
    for i in range(60):  # 58 unanimous OK items, 2 items where one worker of three says NOT OK
        recs += labels_of("alpha", str(i), ["ok", "ok", "not_ok_minority" if i < 2 else "ok"])
    summary, html, _ = run(tmp_path, recs, capsys)
    row = next(r for r in summary["agreement"] if r["scope"] == "all models" and r["scale"] == "binary")
    assert row["raw_agreement"] == pytest.approx(1 - 2 * (2 / 3) / 60) and row["not_ok_prevalence"] == pytest.approx(2 / 180)
    assert row["krippendorff_alpha"] < 0.05 and row["fleiss_kappa"] < 0.05
    said = " ".join(summary["verdict"])
    assert "the kappa paradox" in said and "97.8% of pairs" in said and "1.1% of their labels are NOT OK" in said
    part = unescape(section(html, "agreement"))
    assert "raw agreement" in part and "97.8%" in part and "kappa paradox" in part


# ---- agreement interval ------------------------------------------------------------------------------------------------


def independent_alpha_bootstrap(table: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Resample items with the same generator calls and let the krippendorff package compute each replicate."""
    t = table[table.sum(axis=1) >= 2].astype(float)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_boot):
        draw = t[rng.integers(0, len(t), size=len(t))]
        if np.count_nonzero(draw.sum(axis=0)) >= 2:
            out.append(krippendorff.alpha(value_counts=draw, level_of_measurement="nominal"))
    return np.asarray(out)


@pytest.mark.parametrize("seed", [0, 7])
def test_alpha_bootstrap_matches_an_independent_loop(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    table = np.vstack([rng.multinomial(rng.integers(1, 5), [0.6, 0.2, 0.1, 0.1]) for _ in range(40)])
    lo, hi, reps = krippendorff_alpha_bootstrap(table, n_boot=300, seed=seed)
    alphas = independent_alpha_bootstrap(table, 300, seed)
    assert reps == alphas.size
    assert (lo, hi) == pytest.approx(tuple(np.percentile(alphas, [2.5, 97.5])), abs=1e-12)
    assert lo <= krippendorff_alpha_nominal(table) <= hi


def test_raw_agreement_by_hand() -> None:
    # [3,0]: 1; [2,1]: 1/3; [1,1]: 0; [1,0] has one label and is dropped
    assert raw_agreement(np.array([[3, 0], [2, 1], [1, 1], [1, 0]])) == pytest.approx((1 + 1 / 3 + 0) / 3)


# ---- disputed items, counts, times, labels.csv -------------------------------------------------------------------------


def test_disputed_items_are_those_whose_labels_disagree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = model_items("alpha", 4, 12)  # unanimous
    recs += labels_of("alpha", "split", ["ok", "not_ok_most", "ok"])
    recs += labels_of("alpha", "buckets", ["not_ok_some", "not_ok_most", "not_ok_most"])  # all NOT OK, two buckets
    recs += labels_of("alpha", "even", ["ok", "not_ok_most", "not_ok_some", "ok"])
    _, html, _ = run(tmp_path, recs, capsys)
    items = pd.read_csv(tmp_path / "out" / "items.csv", dtype={"item_id": str})
    assert set(items.loc[items["disputed"], "item_id"]) == {"split", "buckets", "even"}
    assert items["item_id"].head(3).tolist() == ["even", "split", "buckets"]  # ranked by disagreement
    viewer = html[html.index("<h2>Most disputed items</h2>"):]
    shown = re.findall(r"<summary>item (\S+) ", viewer)
    assert shown == ["even", "split", "buckets"]
    assert "0 of 3 NOT OK" not in viewer and "3 of 3 NOT OK" in viewer  # 'buckets': unanimous NOT OK, split buckets


def test_cli_counts_equal_page_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = model_items("alpha", 5, 10, workers=3) + model_items("beta", 9, 6, workers=3)
    recs += [dict(r, worker_id="bad", excluded=True, excluded_reason="failed gold") for r in model_items("alpha", 2, 3, workers=1)]
    gold = [safety_label(item_id=f"g{i}", model="gold_bot", is_gold=True, gold_label="not_ok_most", worker_id=w,
                         label="not_ok_some" if w == "gold_only" else "ok")
            for i in range(3) for w in ("bad", "w0", "gold_only")]  # w0 misses all 3 gold: flagged, still counted
    recs += [dict(r, excluded=True) if r["worker_id"] == "bad" else r for r in gold]
    summary, html, printed = run(tmp_path, recs, capsys)
    line = next(x for x in printed.splitlines() if x.strip().startswith("labels counted"))
    said = {k.strip(): int(v.replace(",", "")) for k, v in (part.rsplit(" ", 1) for part in line.strip().split("; "))}
    cards = {unescape(label): int(value.replace(",", ""))
             for value, label in re.findall(r"<div class='card'><b>([\d,]+)</b><span>([^<]+)</span>", html)}
    assert said == cards
    p = summary["population"]
    assert said == {"labels counted": p["labels_counted"], "model items": p["items_model"], "models": p["models"],
                    "workers in all": p["workers_all"], "workers counted": p["workers_counted"],
                    "workers excluded": p["workers_excluded"], "workers flagged (of all)": p["workers_flagged"]}
    # counted once: 5 workers = 3 counted + 1 excluded and dropped + 1 with gold answers only; flagged are among them
    assert (p["workers_all"], p["workers_counted"], p["workers_dropped"], p["workers_gold_only"]) == (5, 3, 1, 1)
    assert p["workers_all"] == p["workers_counted"] + p["workers_dropped"] + p["workers_gold_only"]
    assert (p["workers_flagged"], p["workers_flagged_dropped"], p["workers_flagged_counted"]) == (2, 1, 1)
    assert summary["n_workers"] == p["workers_counted"] and summary["n_items"] == p["items_model"] == 30
    assert summary["n_labels"] == p["labels_counted"] == 90 and p["labels_dropped_excluded"] == 5 + 3
    assert "2 flagged for gold accuracy below 0.75" in summary["verdict"][-1]
    assert "1 of them among the excluded, 1 still counted" in summary["verdict"][-1]


def test_unknown_times_are_skipped_and_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = model_items("alpha", 3, 9)
    recs[0]["started_at"] = None
    recs[1]["submitted_at"] = None
    recs[2].update(started_at=None, submitted_at=None)
    summary, html, _ = run(tmp_path, recs, capsys)
    assert summary["population"]["labels_unknown_time"] == 3
    assert "skip 3 labels whose start or submit time is unknown" in html
    workers = pd.read_csv(tmp_path / "out" / "workers.csv").set_index("worker_id")
    assert workers["median_seconds"].notna().all() and (workers["median_seconds"] == 12.0).all()
    labels = pd.read_csv(tmp_path / "out" / "labels.csv")
    assert labels["seconds"].isna().sum() == 3


@pytest.mark.parametrize(("times", "field"), [((None, "soon"), "submitted_at"), (("x", None), "started_at"),
                                              ((None, True), "submitted_at"), ((None, [1]), "submitted_at")])
def test_bad_time_beside_a_null_one_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            times: tuple[Any, Any], field: str) -> None:
    rec = safety_label(started_at=times[0], submitted_at=times[1])
    data = write(tmp_path / "labels.jsonl", [rec])
    with pytest.raises(SystemExit) as exit_info:
        main(["safety", "--labels", str(data), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2 and f"field '{field}'" in capsys.readouterr().err


def test_labels_csv_has_one_row_per_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recs = model_items("alpha", 2, 3) + [safety_label(item_id="g", model="gold_bot", is_gold=True, gold_label="ok", worker_id="w0")]
    recs += [dict(r, worker_id="x", excluded=True, excluded_reason="failed gold") for r in model_items("alpha", 1, 0, workers=1)]
    recs.append({"task": "safety", "is_onboarding": True, "worker_id": "w0"})
    run(tmp_path, recs, capsys)
    table = pd.read_csv(tmp_path / "out" / "labels.csv", dtype={"item_id": str, "unit_id": str}, keep_default_na=False)
    assert len(table) == len(recs) - 1  # onboarding records are skipped unread
    assert {"run_id", "unit_id", "worker_id", "item_id", "model", "is_gold", "gold_label", "label", "reason", "started_at",
            "submitted_at", "excluded", "excluded_reason", "counted"} <= set(table.columns)
    assert table["counted"].sum() == 15
    assert set(table.loc[~table["counted"], "not_counted_because"]) == {"gold item", "excluded worker"}
