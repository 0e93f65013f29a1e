"""Metrics as pure functions of labels and scores, with bootstrap confidence intervals.

Every function takes arrays and returns numbers or small dataclasses; nothing
here trains, plots or writes. scikit-learn computes the metrics themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Interval:
    """A metric value with its bootstrap confidence interval."""

    value: float
    low: float
    high: float
    confidence: float = 0.95

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def bootstrap_interval(
    metric: Callable[..., float],
    *arrays: np.ndarray,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of `metric(*arrays)`, resampling rows jointly.

    Resamples on which the metric is undefined (NaN, say a one-class resample
    for ROC-AUC) are skipped. scipy.stats.bootstrap is not used because it
    rejects such resamples instead of skipping them.

    >>> y = np.array([0, 1, 1, 0, 1, 1, 0, 1])
    >>> iv = bootstrap_interval(accuracy, y, y, n_resamples=50)
    >>> (iv.value, iv.low, iv.high)
    (1.0, 1.0, 1.0)
    """
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    value = float(metric(*arrays))
    if n == 0:
        return Interval(float("nan"), float("nan"), float("nan"), confidence)
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n_resamples):
        index = rng.integers(0, n, n)
        with np.errstate(all="ignore"):
            sample = float(metric(*(a[index] for a in arrays)))
        if np.isfinite(sample):
            samples.append(sample)
    if not samples:
        return Interval(value, float("nan"), float("nan"), confidence)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(value, float(low), float(high), confidence)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of exact matches.

    >>> accuracy(np.array([0, 1, 1]), np.array([0, 1, 0]))
    0.6666666666666666
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None) -> float:
    """Unweighted mean of per-class F1 over all classes (absent classes count as 0).

    >>> round(macro_f1(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])), 4)
    0.7333
    """
    from sklearn.metrics import f1_score

    labels = np.arange(n_classes) if n_classes else None
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def top_k_accuracy(y_true: np.ndarray, probabilities: np.ndarray, k: int) -> float:
    """Fraction of examples whose true class is among the k highest scores.

    >>> top_k_accuracy(np.array([2, 0]), np.array([[.1, .5, .4], [.2, .3, .5]]), 2)
    0.5
    """
    probabilities = np.asarray(probabilities)
    k = min(k, probabilities.shape[1])
    top = np.argsort(-probabilities, axis=1)[:, :k]
    return float(np.mean(np.any(top == np.asarray(y_true)[:, None], axis=1)))


def per_class_scores(y_true: np.ndarray, y_pred: np.ndarray, class_names: tuple[str, ...]) -> list[dict]:
    """Precision, recall, F1 and support of each class."""
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(len(class_names)), zero_division=0
    )
    return [
        {"class": name, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for name, p, r, f, s in zip(class_names, precision, recall, f1, support)
    ]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix: rows are true classes, columns predicted classes."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))


def expected_calibration_error(y_true: np.ndarray, probabilities: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of the top-class confidence, equal-width bins.

    >>> expected_calibration_error(np.array([0, 1]), np.array([[1.0, 0.0], [0.0, 1.0]]))
    0.0
    """
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1]), 0, n_bins - 1)
    error = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            error += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(error)


def majority_class_predictions(y_train: np.ndarray, n: int) -> np.ndarray:
    """Predict the most frequent training class for `n` examples (the trivial baseline)."""
    return np.full(n, np.bincount(y_train).argmax(), dtype=np.int64)
