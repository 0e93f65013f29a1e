import numpy as np
import pytest

from solutions.core import metrics as M


def test_bootstrap_interval_brackets_the_value_and_narrows_with_more_data():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 2, 50)
    large = rng.integers(0, 2, 2000)
    noisy_small = np.where(rng.random(50) < 0.8, small, 1 - small)
    noisy_large = np.where(rng.random(2000) < 0.8, large, 1 - large)
    a = M.bootstrap_interval(M.accuracy, small, noisy_small, n_resamples=300)
    b = M.bootstrap_interval(M.accuracy, large, noisy_large, n_resamples=300)
    assert a.low <= a.value <= a.high
    assert (b.high - b.low) < (a.high - a.low) / 3
    assert 0.75 < b.value < 0.85


def test_bootstrap_skips_resamples_where_the_metric_is_undefined():
    from sklearn.metrics import roc_auc_score

    def auc(y, s):
        return roc_auc_score(y, s) if len(set(y)) == 2 else float("nan")

    y = np.array([0] * 9 + [1])
    interval = M.bootstrap_interval(auc, y, np.linspace(0, 1, 10), n_resamples=200)
    assert interval.value == 1.0 and np.isfinite(interval.low)


def test_macro_f1_counts_absent_classes():
    assert M.macro_f1(np.array([0, 0]), np.array([0, 0]), n_classes=2) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_macro_f1_equals_scikit_learn(seed):
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, 300)
    predicted = np.where(rng.random(300) < 0.6, y, rng.integers(0, 4, 300))
    expected = f1_score(y, predicted, average="macro", zero_division=0)
    assert M.macro_f1(y, predicted) == pytest.approx(expected, abs=1e-12)
    assert M.macro_f1(y, predicted, 7) == pytest.approx(
        f1_score(y, predicted, labels=np.arange(7), average="macro", zero_division=0), abs=1e-12)


def test_expected_calibration_error():
    probabilities = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1]])
    assert M.expected_calibration_error(np.array([1, 2, 2]), probabilities) > 0.2


def test_per_class_scores_and_confusion():
    y, p = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    rows = M.per_class_scores(y, p, ("a", "b"))
    assert rows[0] == {"class": "a", "precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert M.confusion(y, p, 2).tolist() == [[1, 1], [0, 2]]
