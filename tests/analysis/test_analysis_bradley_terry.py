"""Our batched Bradley–Terry fit against choix, an independent implementation."""

from __future__ import annotations

import choix
import numpy as np
import pytest

from analysis.acute.ranking import rank_sets
from analysis.stats.bradley_terry import fit_bradley_terry


def choix_strengths(wins: np.ndarray, ridge: float) -> np.ndarray:
    k = wins.shape[0]
    data = [(i, j) for i in range(k) for j in range(k) for _ in range(int(wins[i, j]))]
    theta = choix.opt_pairwise(k, data, alpha=ridge, method="Newton-CG", tol=1e-12)
    return theta - theta.mean()


@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_choix_on_random_tournaments(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 9))
    truth = rng.normal(0, 1, k)
    wins = np.zeros((k, k), dtype=int)
    for _ in range(int(rng.integers(60, 400))):
        i, j = rng.choice(k, 2, replace=False)
        if rng.random() < 1 / (1 + np.exp(truth[j] - truth[i])):
            wins[i, j] += 1
        else:
            wins[j, i] += 1
    ridge = 0.01
    ours = fit_bradley_terry(wins, ridge)
    theirs = choix_strengths(wins, ridge)
    assert np.argsort(-ours).tolist() == np.argsort(-theirs).tolist()
    assert ours == pytest.approx(theirs, abs=1e-4)


def test_never_losing_model_stays_finite_and_on_top() -> None:
    wins = np.array([[0, 20, 15], [0, 0, 9], [0, 6, 0]])
    theta = fit_bradley_terry(wins, 0.01)
    assert np.all(np.isfinite(theta))
    assert theta.argmax() == 0
    assert theta == pytest.approx(choix_strengths(wins, 0.01), abs=1e-4)
    assert abs(theta.sum()) < 1e-9


def test_batch_equals_single_fits() -> None:
    rng = np.random.default_rng(1)
    batch = rng.integers(0, 30, (5, 4, 4))
    together = fit_bradley_terry(batch)
    for b in range(5):
        assert together[b] == pytest.approx(fit_bradley_terry(batch[b]), abs=1e-9)


def test_rank_sets_from_overlap() -> None:
    # a clearly above b and c; b and c overlap; d clearly last
    ci = np.array([[2.0, 3.0], [0.5, 1.5], [0.8, 1.8], [-2.0, -1.0]])
    assert rank_sets(ci) == [(1, 1), (2, 3), (2, 3), (4, 4)]
