"""Average precision, recall at a false-positive rate and alert-budget metrics (fraud_detection.metrics)."""

import numpy as np
import pytest

from solutions.fraud_detection.metrics import (
    alert_rate_metrics, average_precision, precision_recall_points, recall_at_fpr,
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_average_precision_equals_scikit_learn_with_ties(seed):
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(seed)
    y = rng.random(400) < 0.1
    scores = np.round(rng.random(400) + 0.4 * y, 1)  # rounded: many ties
    assert average_precision(y, scores) == pytest.approx(average_precision_score(y, scores), abs=1e-12)


def test_undefined_metrics_are_nan():
    assert np.isnan(average_precision(np.zeros(5), np.arange(5)))
    assert np.isnan(recall_at_fpr(np.ones(5), np.arange(5)))


def test_alert_rate_and_recall_at_fpr():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    scores = np.linspace(1, 0, 10)
    assert alert_rate_metrics(y, scores, 0.2) == {"alerts": 2, "precision": 1.0, "recall": pytest.approx(2 / 3)}
    assert recall_at_fpr(y, scores, 0.0) == pytest.approx(2 / 3)


def test_precision_recall_points_are_thinned():
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 2000), rng.random(2000)
    points = precision_recall_points(y, s, max_points=50)
    assert len(points["recall"]) == len(points["precision"]) <= 50
    assert points["recall"][0] == 1.0 and points["recall"][-1] == 0.0
