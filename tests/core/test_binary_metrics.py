"""Binary ranking metrics (core.metrics) against scikit-learn, ties included."""

import numpy as np
import pytest

from solutions.core import metrics as M


def _tied_scores(seed: int, n: int = 400):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.1
    return y, np.round(rng.random(n) + 0.4 * y, 1)  # rounded: many ties


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_equals_scikit_learn_with_ties(seed):
    from sklearn.metrics import roc_auc_score

    y, scores = _tied_scores(seed)
    assert M.roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cumulative_counts_are_the_points_of_scikit_learns_roc_curve(seed):
    from sklearn.metrics import roc_curve

    y, scores = _tied_scores(seed)
    tp, fp = M.cumulative_counts(y, scores)
    fpr, tpr, _ = roc_curve(y, scores, drop_intermediate=False)
    np.testing.assert_allclose(tp, tpr[1:] * y.sum(), atol=1e-9)
    np.testing.assert_allclose(fp, fpr[1:] * (~y).sum(), atol=1e-9)


def test_cumulative_counts_of_nothing():
    tp, fp = M.cumulative_counts(np.zeros(0), np.zeros(0))
    assert len(tp) == len(fp) == 0
