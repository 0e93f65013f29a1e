"""ROC-AUC, ROC points and reliability bins of binary outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core import metrics as M


def test_auc_is_undefined_with_one_class():
    assert np.isnan(M.roc_auc(np.array([1, 1]), np.array([0.2, 0.9])))
    assert np.isnan(M.roc_auc(np.array([0, 0]), np.array([0.2, 0.9])))


def test_reliability_bins():
    y = np.array([0, 0, 1, 1, 1, 1])
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.55, 0.55])
    bins = M.reliability_bins(y, p, n_bins=10)
    assert bins["count"] == [2, 2, 2] and bins["observed"] == [0.0, 1.0, 1.0]
    assert bins["predicted"] == pytest.approx([0.05, 0.55, 0.95])


def test_roc_points_are_thinned_for_plotting():
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 2000), rng.random(2000)
    points = M.roc_points(y, s, max_points=50)
    assert len(points["fpr"]) <= 50 and points["fpr"][0] == 0.0 and points["tpr"][-1] == 1.0
