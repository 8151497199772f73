"""A simulated study with a known truth: order recovered, bad workers flagged, worker intervals wider."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.acute.records import load_acute_judgements
from analysis.acute.statistics import AcuteOptions, analyse_acute
from analysis.synthetic.acute import StudyDesign, simulate

STRENGTHS = {"blender_90M": 0.0, "blender_400M": 0.6, "blender_2B": 1.1, "demo_bot": -0.8, "kind_bot": 0.3}


@pytest.fixture(scope="module")
def study_results(tmp_path_factory: pytest.TempPathFactory):
    design = StudyDesign(strengths=STRENGTHS, n_judgements=24_000, n_workers=120, n_pairs=600,
                         spammer_share=0.08, left_clicker_share=0.08, failed_onboarding_share=0.05,
                         taste_sd=0.35, seed=11)
    study = simulate(design)
    path = study.write(Path(tmp_path_factory.mktemp("synthetic")) / "judgements.jsonl")
    results = analyse_acute(load_acute_judgements([path]), AcuteOptions(bootstrap_rounds=300, seed=1))
    return study, results


def test_recovers_true_order(study_results) -> None:
    study, results = study_results
    assert [m.model for m in results.without_flagged.ranking.models] == study.true_order
    assert [m.model for m in results.main.ranking.models] == study.true_order


def test_flags_the_bad_workers(study_results) -> None:
    study, results = study_results
    bad = {w for w, kind in study.worker_kind.items() if kind != "careful"} | study.failed_onboarding
    flagged = set(results.flagged_workers)
    assert bad, "the design must contain bad workers"
    assert bad <= flagged
    careful_flagged = {w for w in flagged if study.worker_kind[w] == "careful" and w not in study.failed_onboarding}
    assert len(careful_flagged) <= 2
    left = {w for w, kind in study.worker_kind.items() if kind == "left_clicker"}
    flags = dict(zip(results.workers["worker_id"], results.workers["flags"]))
    assert all("side bias" in flags[w] for w in left)
    assert set(results.excluded_workers) == study.failed_onboarding


def test_worker_bootstrap_is_wider_than_plain(study_results) -> None:
    _, results = study_results
    width_w = np.array([m.ci_workers[1] - m.ci_workers[0] for m in results.main.ranking.models])
    width_p = np.array([m.ci_plain[1] - m.ci_plain[0] for m in results.main.ranking.models])
    assert np.all(width_w > width_p)
    assert results.main.ranking.variance_ratio > 1.5


def test_true_strengths_inside_worker_intervals(study_results) -> None:
    _, results = study_results
    truth = np.array(list(STRENGTHS.values()))
    centred = dict(zip(STRENGTHS, truth - truth.mean()))
    # ridge + tastes shrink strengths a little; the flagged-free fit should still cover most truths
    covered = [m.ci_workers[0] - 0.15 <= centred[m.model] <= m.ci_workers[1] + 0.15 for m in results.without_flagged.ranking.models]
    assert sum(covered) >= 4
