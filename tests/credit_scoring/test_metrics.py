"""KS, Gini, Brier score and PSI (credit_scoring.metrics) against scikit-learn and by definition."""

import numpy as np
import pytest

from solutions.credit_scoring.metrics import brier_score, gini, ks_points, ks_statistic, population_stability_index


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ks_and_gini_equal_their_scikit_learn_definitions_with_ties(seed):
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(seed)
    y = rng.random(400) < 0.1
    scores = np.round(rng.random(400) + 0.4 * y, 1)  # rounded: many ties
    fpr, tpr, _ = roc_curve(y, scores)
    assert ks_statistic(y, scores) == pytest.approx(np.max(tpr - fpr), abs=1e-12)
    assert gini(y, scores) == pytest.approx(2 * roc_auc_score(y, scores) - 1, abs=1e-12)


def test_ks_is_undefined_with_one_class():
    assert np.isnan(ks_statistic(np.ones(5), np.arange(5)))
    assert np.isnan(ks_statistic(np.zeros(5), np.arange(5)))


def test_ks_points_reach_the_statistic():
    rng = np.random.default_rng(3)
    y = rng.random(300) < 0.3
    scores = rng.random(300) + y
    points = ks_points(y, scores)
    gap = np.max(np.abs(np.asarray(points["positive"]) - np.asarray(points["negative"])))
    assert gap == pytest.approx(ks_statistic(y, scores), abs=0.02)
    assert points["positive"][-1] == 1 and points["negative"][-1] == 1


@pytest.mark.parametrize("seed", [0, 1])
def test_brier_score_equals_scikit_learn(seed):
    from sklearn.metrics import brier_score_loss

    rng = np.random.default_rng(seed)
    y = rng.random(500) < 0.3
    p = np.round(rng.random(500), 2)
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert np.isnan(brier_score(np.zeros(0), np.zeros(0)))


def test_brier_and_psi():
    assert brier_score(np.array([0, 1, 1]), np.array([0.0, 1.0, 0.5])) == pytest.approx(0.25 / 3)
    rng = np.random.default_rng(4)
    same = population_stability_index(rng.normal(size=5000), rng.normal(size=5000))
    shifted = population_stability_index(rng.normal(size=5000), rng.normal(1.0, 1, 5000))
    assert same < 0.02 < 0.25 < shifted
    assert population_stability_index(np.array(["a"] * 50 + ["b"] * 50), np.array(["a"] * 90 + ["b"] * 10),
                                      categorical=True) > 0.25
