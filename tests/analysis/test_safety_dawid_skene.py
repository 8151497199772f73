"""Dawid–Skene recovers planted worker confusion matrices and beats majority vote when some workers are bad."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.stats.dawid_skene import dawid_skene
from analysis.synthetic.safety import K, SafetyStudy, careful_confusion, simulate, spammer_confusion

#: Dawid–Skene error rate vs the worker's realised error rate (share of their labels that differ from the
#: true bucket). Over 20 seeds of the recovery design the largest deviation was 0.044.
ERROR_RATE_TOL = 0.05
#: vs the planted (population) rate, which the realised rate itself misses by sampling noise: with ~240
#: labels per worker its standard error is up to 0.03, so 0.1 is about three standard errors.
PLANTED_TOL = 0.1


def planted_study(seed: int, items_per_model: int = 100) -> SafetyStudy:
    """3 models × `items_per_model` items, 10 workers: six careful, two sloppy, two clicking at random."""
    confusions = [careful_confusion(a) for a in (0.95, 0.92, 0.9, 0.88, 0.85, 0.85, 0.65, 0.6)]
    confusions += [spammer_confusion(), spammer_confusion()]
    return SafetyStudy(
        bucket_shares={"a": [0.6, 0.15, 0.15, 0.1], "b": [0.4, 0.2, 0.2, 0.2], "c": [0.8, 0.1, 0.05, 0.05]},
        confusions=confusions, items_per_model=items_per_model, labels_per_item=(3, 5), seed=seed,
    )


def columns(study: SafetyStudy) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    sim = simulate(study)
    item_ids = sorted(sim.true_bucket)
    index = {i: n for n, i in enumerate(item_ids)}
    item = np.array([index[r["item_id"]] for r in sim.records])
    worker = np.array([int(r["worker_id"][1:]) for r in sim.records])
    label = np.array([["ok", "not_ok_minority", "not_ok_some", "not_ok_most"].index(r["label"]) for r in sim.records])
    truth = np.array([sim.true_bucket[i] for i in item_ids])
    return item, worker, label, truth, item_ids


def majority_accuracy(item: np.ndarray, label: np.ndarray, truth: np.ndarray) -> float:
    """Expected accuracy of plurality vote with ties broken uniformly at random."""
    votes = np.bincount(item * K + label, minlength=truth.size * K).reshape(-1, K)
    top = votes == votes.max(axis=1, keepdims=True)
    return float((top[np.arange(truth.size), truth] / top.sum(axis=1)).mean())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_planted_error_rates(seed: int) -> None:
    """600 items, 3–5 labels each (~240 per worker); no gold, the truth is never shown to the estimator."""
    study = planted_study(seed, items_per_model=200)
    item, worker, label, truth, _ = columns(study)
    ds = dawid_skene(item, worker, label, truth.size, len(study.confusions), K)
    assert ds.converged
    estimated = ds.error_rate()
    realised = np.bincount(worker, weights=label != truth[item], minlength=10) / np.bincount(worker, minlength=10)
    assert np.abs(estimated - realised).max() < ERROR_RATE_TOL, np.column_stack([realised, estimated])
    true_shares = np.bincount(truth, minlength=K) / truth.size
    planted = np.array([1 - np.diag(c) @ true_shares for c in study.confusions])
    assert np.abs(estimated - planted).max() < PLANTED_TOL, np.column_stack([planted, estimated])
    assert np.abs(ds.prior - true_shares).max() < 0.05
    assert np.allclose(ds.confusion.sum(axis=2), 1.0) and np.allclose(ds.posterior.sum(axis=1), 1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_posterior_beats_majority_vote_with_bad_workers(seed: int) -> None:
    study = planted_study(seed)
    item, worker, label, truth, _ = columns(study)
    ds = dawid_skene(item, worker, label, truth.size, len(study.confusions), K)
    ds_accuracy = float((ds.posterior.argmax(axis=1) == truth).mean())
    mv_accuracy = majority_accuracy(item, label, truth)
    assert ds_accuracy > mv_accuracy + 0.02, (ds_accuracy, mv_accuracy)
    # and the spammers are the two workers it trusts least
    assert set(np.argsort(ds.error_rate())[-2:].tolist()) == {8, 9}


def test_deterministic_and_matches_unanimous_votes() -> None:
    study = planted_study(3)
    item, worker, label, truth, _ = columns(study)
    first = dawid_skene(item, worker, label, truth.size, 10, K)
    again = dawid_skene(item, worker, label, truth.size, 10, K)
    assert np.array_equal(first.posterior, again.posterior) and first.iterations == again.iterations
    votes = np.bincount(item * K + label, minlength=truth.size * K).reshape(-1, K)
    unanimous = votes.max(axis=1) == votes.sum(axis=1)
    # where every worker agrees, the estimate does too (workers are better than chance)
    assert (first.posterior[unanimous].argmax(axis=1) == votes[unanimous].argmax(axis=1)).mean() > 0.97


def test_unlabelled_items_get_the_prior_and_silent_workers_no_error_rate() -> None:
    item = np.array([0, 0, 1, 1])
    worker = np.array([0, 1, 0, 1])
    label = np.array([0, 0, 3, 3])
    ds = dawid_skene(item, worker, label, n_items=3, n_workers=3, n_classes=K)
    assert np.allclose(ds.posterior[2], ds.prior)
    assert ds.posterior[0].argmax() == 0 and ds.posterior[1].argmax() == 3
    assert np.isnan(ds.error_rate()[2]) and np.isfinite(ds.error_rate()[:2]).all()


def test_stops_at_max_iter_without_claiming_convergence() -> None:
    item, worker, label, truth, _ = columns(planted_study(0))
    ds = dawid_skene(item, worker, label, truth.size, 10, K, max_iter=2)
    assert ds.iterations == 2 and not ds.converged
