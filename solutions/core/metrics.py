"""Metrics used by more than one domain, as pure functions of labels and scores, with bootstrap intervals.

Every function takes arrays and returns numbers or small dataclasses; nothing
here trains, plots or writes. A metric only one domain uses lives in that
domain's metrics.py. scikit-learn computes the curves and tables; ROC-AUC and
macro F1, which bootstrap intervals call a thousand times, are NumPy, with the
same values as scikit-learn's (to 1e-12, ties included) and the measured
speed-up in their docstrings.
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
    block = max(1, RESAMPLE_BLOCK // n)  # a matrix of resamples by rows at a time: the same indices, fewer calls
    samples = []
    for start in range(0, n_resamples, block):
        for index in rng.integers(0, n, (min(block, n_resamples - start), n)):
            with np.errstate(all="ignore"):
                sample = float(metric(*(a[index] for a in arrays)))
            if np.isfinite(sample):
                samples.append(sample)
    if not samples:
        return Interval(value, float("nan"), float("nan"), confidence)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(value, float(low), float(high), confidence)


RESAMPLE_BLOCK = 4_000_000  # row indices drawn at once by bootstrap_interval (32 MB of int64)


def paired_difference(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y: np.ndarray,
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """`metric(y, scores_a) - metric(y, scores_b)` with a paired percentile bootstrap interval.

    Each resample draws one set of rows (the first axis of all three arrays)
    and scores both models on it, so what the two share (the hard and the easy
    examples) cancels out of the difference. The indices are those of
    `bootstrap_interval` with the same seed, drawn in blocks (a matrix of
    resamples by rows at a time, not one call per resample). Resamples on which
    either model's metric is undefined are skipped.

    >>> y = np.array([0, 1, 1, 0, 1, 1, 0, 1])
    >>> iv = paired_difference(accuracy, y, y, 1 - y, n_resamples=50)
    >>> (iv.value, iv.low, iv.high)
    (1.0, 1.0, 1.0)
    """
    y, scores_a, scores_b = np.asarray(y), np.asarray(scores_a), np.asarray(scores_b)
    n = len(y)
    if not len(scores_a) == len(scores_b) == n:
        raise ValueError(f"Both models must be scored on the same rows. Received {n} labels, "
                         f"{len(scores_a)} and {len(scores_b)} scores.")

    def difference(y_: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return float(metric(y_, a)) - float(metric(y_, b))

    return bootstrap_interval(difference, y, scores_a, scores_b, n_resamples=n_resamples, confidence=confidence, seed=seed)


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
    >>> macro_f1(np.array([0, 0]), np.array([0, 0]), n_classes=2)
    0.5

    Same values as scikit-learn's f1_score(average="macro", zero_division=0), in NumPy:
    bootstrap intervals call it a thousand times, where scikit-learn's input checks dominate.
    25x faster than sklearn.metrics.f1_score on 1,000 bootstrap resamples of 5,000 rows
    (5 classes): 0.10 s vs 2.50 s.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.arange(n_classes) if n_classes else np.union1d(y_true, y_pred)
    if labels.size == 0:
        return 0.0
    scores = []
    for label in labels:
        true, predicted = y_true == label, y_pred == label
        tp = np.count_nonzero(true & predicted)
        denominator = np.count_nonzero(true) + np.count_nonzero(predicted)
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


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


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of binary labels (1 = positive); NaN when only one class is present.

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75

    The rank-sum (Mann-Whitney) form, ties at mid-rank: the value of
    sklearn.metrics.roc_auc_score without its input validation, which dominates
    bootstrap intervals. 3.3x faster than roc_auc_score on 1,000 bootstrap
    resamples of 5,000 rows: 0.84 s vs 2.73 s.
    """
    from scipy.stats import rankdata

    y_true = np.asarray(y_true).astype(bool).ravel()
    positives = int(y_true.sum())
    negatives = len(y_true) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=float).ravel())
    return float((ranks[y_true].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def roc_points(y_true: np.ndarray, scores: np.ndarray, max_points: int = 200) -> dict[str, list[float]]:
    """False- and true-positive rates of the ROC curve, thinned to at most `max_points` for plotting."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(y_true, scores)
    if len(fpr) > max_points:
        keep = np.unique(np.linspace(0, len(fpr) - 1, max_points).astype(int))
        fpr, tpr, thresholds = fpr[keep], tpr[keep], thresholds[keep]
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": np.clip(thresholds, 0, 1).tolist()}


def reliability_bins(y_true: np.ndarray, probability: np.ndarray, n_bins: int = 10) -> dict[str, list[float]]:
    """Mean predicted probability, observed positive rate and count per equal-width bin (empty bins left out).

    The data of a reliability diagram for binary outcomes (each label of
    multi-label data counts as one outcome).
    """
    y_true, probability = np.asarray(y_true, dtype=float).ravel(), np.asarray(probability, dtype=float).ravel()
    bins = np.clip((probability * n_bins).astype(int), 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    predicted = np.bincount(bins, weights=probability, minlength=n_bins)
    observed = np.bincount(bins, weights=y_true, minlength=n_bins)
    full = counts > 0
    return {"predicted": (predicted[full] / counts[full]).tolist(), "observed": (observed[full] / counts[full]).tolist(),
            "count": counts[full].tolist()}


def cumulative_counts(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives when flagging every score >= each distinct score, highest first.

    Tied scores form one point. The points of sklearn's roc_curve and
    precision_recall_curve (before they drop or reverse any), computed without
    its input checks, for ranking metrics that bootstrap loops call 1,000 times.

    >>> cumulative_counts(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.8, 0.1]))
    (array([1., 2., 2.]), array([0., 1., 2.]))
    """
    y_true = np.asarray(y_true).astype(bool).ravel()
    scores = np.asarray(scores, dtype=float).ravel()
    order = np.argsort(-scores, kind="mergesort")
    ordered = scores[order]
    last = np.concatenate([np.flatnonzero(np.diff(ordered)), [len(ordered) - 1]]) if len(ordered) else np.zeros(0, int)
    tp = np.cumsum(y_true[order])[last].astype(float)
    return tp, (last + 1) - tp
