"""Binary ranking, calibration and stability metrics (core.metrics) against scikit-learn and by definition."""

import numpy as np
import pytest

from solutions.core import metrics as M


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_ranking_metrics_equal_scikit_learn_with_ties(seed):
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

    rng = np.random.default_rng(seed)
    y = rng.random(400) < 0.1
    scores = np.round(rng.random(400) + 0.4 * y, 1)  # rounded: many ties
    fpr, tpr, _ = roc_curve(y, scores)
    assert M.roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores))
    assert M.average_precision(y, scores) == pytest.approx(average_precision_score(y, scores))
    assert M.ks_statistic(y, scores) == pytest.approx(np.max(tpr - fpr))
    assert M.gini(y, scores) == pytest.approx(2 * roc_auc_score(y, scores) - 1)


def test_undefined_metrics_are_nan():
    assert np.isnan(M.average_precision(np.zeros(5), np.arange(5)))
    assert np.isnan(M.ks_statistic(np.ones(5), np.arange(5)))
    assert np.isnan(M.recall_at_fpr(np.ones(5), np.arange(5)))


def test_alert_rate_and_recall_at_fpr():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    scores = np.linspace(1, 0, 10)
    assert M.alert_rate_metrics(y, scores, 0.2) == {"alerts": 2, "precision": 1.0, "recall": pytest.approx(2 / 3)}
    assert M.recall_at_fpr(y, scores, 0.0) == pytest.approx(2 / 3)


def test_ks_points_reach_the_statistic():
    rng = np.random.default_rng(3)
    y = rng.random(300) < 0.3
    scores = rng.random(300) + y
    points = M.ks_points(y, scores)
    gap = np.max(np.abs(np.asarray(points["positive"]) - np.asarray(points["negative"])))
    assert gap == pytest.approx(M.ks_statistic(y, scores), abs=0.02)
    assert points["positive"][-1] == 1 and points["negative"][-1] == 1


def test_brier_and_psi():
    assert M.brier_score(np.array([0, 1, 1]), np.array([0.0, 1.0, 0.5])) == pytest.approx(0.25 / 3)
    rng = np.random.default_rng(4)
    same = M.population_stability_index(rng.normal(size=5000), rng.normal(size=5000))
    shifted = M.population_stability_index(rng.normal(size=5000), rng.normal(1.0, 1, 5000))
    assert same < 0.02 < 0.25 < shifted
    assert M.population_stability_index(np.array(["a"] * 50 + ["b"] * 50), np.array(["a"] * 90 + ["b"] * 10),
                                        categorical=True) > 0.25
