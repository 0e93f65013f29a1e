"""Operating thresholds, sensitivity and specificity, macro ROC-AUC and binary calibration (medical_imaging.metrics)."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.medical_imaging.metrics import (
    binary_calibration_error, macro_roc_auc, operating_threshold, per_label_roc_auc, sensitivity, specificity,
)


def test_macro_auc_skips_columns_where_auc_is_undefined():
    y = np.array([[1, 1], [0, 1], [1, 1]])
    scores = np.array([[0.9, 0.1], [0.2, 0.5], [0.8, 0.3]])
    assert np.isnan(per_label_roc_auc(y, scores)[1])
    assert macro_roc_auc(y, scores) == 1.0


def test_youden_threshold_separates_and_target_sensitivity_lowers_it():
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    youden = operating_threshold(y, scores)
    assert youden == 0.6
    decided = scores >= youden
    assert (sensitivity(y, decided), specificity(y, decided)) == (0.75, 1.0)
    strict = operating_threshold(y, scores, target_sensitivity=1.0)
    assert strict == 0.35 and sensitivity(y, scores >= strict) == 1.0
    assert np.isnan(operating_threshold(np.ones(4), scores[:4]))


@pytest.mark.parametrize("seed", range(4))
def test_sensitivity_and_specificity_equal_scikit_learns_recall(seed):
    from sklearn.metrics import recall_score

    rng = np.random.default_rng(seed)
    y, decided = rng.random(300) < 0.2, rng.random(300) < 0.3
    assert sensitivity(y, decided) == pytest.approx(recall_score(y, decided, pos_label=True), abs=1e-12)
    assert specificity(y, decided) == pytest.approx(recall_score(y, decided, pos_label=False), abs=1e-12)
    assert np.isnan(sensitivity(np.zeros(3), np.ones(3))) and np.isnan(specificity(np.ones(3), np.ones(3)))


def test_binary_calibration_error():
    y = np.array([0, 0, 1, 1, 1, 1])
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.55, 0.55])
    assert round(binary_calibration_error(y, p, n_bins=10), 4) == round((2 * 0.05 + 2 * 0.45 + 2 * 0.05) / 6, 4)
    assert np.isnan(binary_calibration_error(np.zeros(0), np.zeros(0)))
