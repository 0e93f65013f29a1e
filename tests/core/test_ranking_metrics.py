"""ROC-AUC, operating thresholds, sensitivity and specificity, and calibration of binary outcomes."""

from __future__ import annotations

import numpy as np

from solutions.core import metrics as M


def test_auc_is_undefined_with_one_class_and_macro_skips_such_columns():
    assert np.isnan(M.roc_auc(np.array([1, 1]), np.array([0.2, 0.9])))
    y = np.array([[1, 1], [0, 1], [1, 1]])
    assert M.macro_roc_auc(y, np.array([[0.9, 0.1], [0.2, 0.5], [0.8, 0.3]])) == 1.0


def test_youden_threshold_separates_and_target_sensitivity_lowers_it():
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    youden = M.operating_threshold(y, scores)
    assert youden == 0.6
    decided = scores >= youden
    assert (M.sensitivity(y, decided), M.specificity(y, decided)) == (0.75, 1.0)
    strict = M.operating_threshold(y, scores, target_sensitivity=1.0)
    assert strict == 0.35 and M.sensitivity(y, scores >= strict) == 1.0


def test_reliability_bins_and_calibration_error():
    y = np.array([0, 0, 1, 1, 1, 1])
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.55, 0.55])
    bins = M.reliability_bins(y, p, n_bins=10)
    assert bins["count"] == [2, 2, 2] and bins["observed"] == [0.0, 1.0, 1.0]
    assert round(M.binary_calibration_error(y, p, n_bins=10), 4) == round((2 * 0.05 + 2 * 0.45 + 2 * 0.05) / 6, 4)


def test_roc_points_are_thinned_for_plotting():
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 2000), rng.random(2000)
    points = M.roc_points(y, s, max_points=50)
    assert len(points["fpr"]) <= 50 and points["fpr"][0] == 0.0 and points["tpr"][-1] == 1.0
