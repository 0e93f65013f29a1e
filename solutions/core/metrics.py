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
    >>> macro_f1(np.array([0, 0]), np.array([0, 0]), n_classes=2)
    0.5

    Same values as scikit-learn's f1_score(average="macro", zero_division=0), in NumPy:
    bootstrap intervals call it a thousand times, where scikit-learn's input checks dominate.
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


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of binary labels (1 = positive); NaN when only one class is present.

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    # The rank-sum (Mann-Whitney) form: the same value as sklearn's roc_auc_score, without its input
    # validation, which dominated bootstrap intervals (1,000 calls) on small test sets.
    from scipy.stats import rankdata

    y_true = np.asarray(y_true).astype(bool).ravel()
    positives = int(y_true.sum())
    negatives = len(y_true) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=float).ravel())
    return float((ranks[y_true].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def per_label_roc_auc(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC-AUC of each column of an (N, K) 0/1 label matrix against its score column (NaN where undefined)."""
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    return np.asarray([roc_auc(y_true[:, k], scores[:, k]) for k in range(y_true.shape[1])])


def macro_roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Unweighted mean ROC-AUC over the columns of a label matrix where it is defined (one-vs-rest).

    For single-label data pass one-hot labels and the class probabilities.

    >>> macro_roc_auc(np.array([[1, 0], [0, 1], [1, 1]]), np.array([[.9, .2], [.1, .8], [.7, .6]]))
    1.0
    """
    values = per_label_roc_auc(y_true, scores)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")


def roc_points(y_true: np.ndarray, scores: np.ndarray, max_points: int = 200) -> dict[str, list[float]]:
    """False- and true-positive rates of the ROC curve, thinned to at most `max_points` for plotting."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(y_true, scores)
    if len(fpr) > max_points:
        keep = np.unique(np.linspace(0, len(fpr) - 1, max_points).astype(int))
        fpr, tpr, thresholds = fpr[keep], tpr[keep], thresholds[keep]
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": np.clip(thresholds, 0, 1).tolist()}


def operating_threshold(y_true: np.ndarray, scores: np.ndarray, target_sensitivity: float | None = None) -> float:
    """A decision threshold chosen on (validation) data: predict positive when score >= threshold.

    Without `target_sensitivity`, the threshold maximising Youden's J
    (sensitivity + specificity - 1); with it, the highest threshold whose
    sensitivity reaches the target. NaN when the labels hold one class only.

    >>> operating_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.6, 0.9]))
    0.6
    """
    from sklearn.metrics import roc_curve

    y_true = np.asarray(y_true)
    if len(np.unique(y_true)) < 2:
        return float("nan")
    fpr, tpr, thresholds = roc_curve(y_true, scores)
    thresholds = np.clip(thresholds, 0, 1)  # sklearn's first threshold is +inf: "predict nothing"
    if target_sensitivity is None:
        best = int(np.argmax(tpr - fpr))
    else:
        best = int(np.flatnonzero(tpr >= target_sensitivity)[0])
    return float(thresholds[best])


def sensitivity(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Recall of the positive class (1): true positives / positives; NaN without positives."""
    y_true, y_pred = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    return float((y_pred & y_true).sum() / y_true.sum()) if y_true.any() else float("nan")


def specificity(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Recall of the negative class (0): true negatives / negatives; NaN without negatives."""
    y_true, y_pred = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    return float((~y_pred & ~y_true).sum() / (~y_true).sum()) if (~y_true).any() else float("nan")


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


def binary_calibration_error(y_true: np.ndarray, probability: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of predicted probabilities of binary outcomes (equal-width bins).

    The count-weighted mean gap between mean predicted probability and observed
    rate per bin: the reliability diagram's distance from the diagonal.

    >>> binary_calibration_error(np.array([0, 1, 1, 0]), np.array([0.0, 1.0, 1.0, 0.0]))
    0.0
    """
    bins = reliability_bins(y_true, probability, n_bins)
    total = sum(bins["count"])
    if not total:
        return float("nan")
    return float(sum(c * abs(p - o) for p, o, c in zip(bins["predicted"], bins["observed"], bins["count"])) / total)


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the precision-recall curve (average precision) of binary labels; NaN without positives.

    Its floor is the positive rate (a random ranking), not 0.5.

    >>> round(average_precision(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])), 4)
    0.8333
    """
    tp, fp = _cumulative_counts(y_true, scores)
    if len(tp) == 0 or tp[-1] == 0:
        return float("nan")
    precision = tp / (tp + fp)
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))


def _cumulative_counts(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives when flagging every score >= each distinct score, highest first.

    The same points as sklearn's curves, computed without its input checks (bootstrap loops call this 1,000 times).
    """
    y_true = np.asarray(y_true).astype(bool).ravel()
    scores = np.asarray(scores, dtype=float).ravel()
    order = np.argsort(-scores, kind="mergesort")
    ordered = scores[order]
    last = np.concatenate([np.flatnonzero(np.diff(ordered)), [len(ordered) - 1]]) if len(ordered) else np.zeros(0, int)
    tp = np.cumsum(y_true[order])[last].astype(float)
    return tp, (last + 1) - tp


def precision_recall_points(y_true: np.ndarray, scores: np.ndarray, max_points: int = 200) -> dict[str, list[float]]:
    """Recall and precision along the precision-recall curve, thinned to at most `max_points`."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(y_true, scores)
    if len(recall) > max_points:
        keep = np.unique(np.linspace(0, len(recall) - 1, max_points).astype(int))
        precision, recall = precision[keep], recall[keep]
    return {"recall": recall.tolist(), "precision": precision.tolist()}


def recall_at_fpr(y_true: np.ndarray, scores: np.ndarray, max_fpr: float = 0.01) -> float:
    """The highest recall (true-positive rate) reachable with a false-positive rate of at most `max_fpr`.

    >>> y, s = np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.2, 0.9, 0.8, 0.3])
    >>> recall_at_fpr(y, s, 0.0), recall_at_fpr(y, s, 0.34)
    (0.0, 1.0)
    """
    from sklearn.metrics import roc_curve

    y_true = np.asarray(y_true)
    if len(np.unique(y_true)) < 2:
        return float("nan")
    fpr, tpr, _ = roc_curve(y_true, scores)
    return float(tpr[fpr <= max_fpr + 1e-12].max())


def alert_rate_metrics(y_true: np.ndarray, scores: np.ndarray, rate: float) -> dict[str, float]:
    """Precision and recall when the top `rate` share of rows (by score) are flagged.

    Ties at the cut are broken by order, so exactly round(rate * n) rows are flagged.

    >>> alert_rate_metrics(np.array([0, 1, 0, 1, 0, 0, 0, 0, 0, 0]), np.arange(10) / 10, 0.2)
    {'alerts': 2, 'precision': 0.0, 'recall': 0.0}
    """
    y_true, scores = np.asarray(y_true).astype(bool), np.asarray(scores)
    k = max(1, int(round(rate * len(scores))))
    flagged = np.argsort(-scores, kind="stable")[:k]
    hits = int(y_true[flagged].sum())
    return {"alerts": k, "precision": hits / k, "recall": float(hits / y_true.sum()) if y_true.any() else float("nan")}


def ks_statistic(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the score distributions of the two classes.

    >>> ks_statistic(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4]))
    1.0
    """
    tp, fp = _cumulative_counts(y_true, scores)
    if len(tp) == 0 or tp[-1] == 0 or fp[-1] == 0:
        return float("nan")
    return float(max(0.0, np.max(tp / tp[-1] - fp / fp[-1])))


def ks_points(y_true: np.ndarray, scores: np.ndarray, max_points: int = 200) -> dict[str, list[float]]:
    """The KS plot's data: cumulative shares of positives and negatives below each score, on a score grid."""
    y_true, scores = np.asarray(y_true).astype(bool), np.asarray(scores, dtype=float)
    grid = np.unique(np.quantile(scores, np.linspace(0, 1, max_points)))
    positives = np.sort(scores[y_true])
    negatives = np.sort(scores[~y_true])
    below_positive = np.searchsorted(positives, grid, side="right") / max(1, len(positives))
    below_negative = np.searchsorted(negatives, grid, side="right") / max(1, len(negatives))
    return {"score": grid.tolist(), "positive": below_positive.tolist(), "negative": below_negative.tolist()}


def gini(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Gini coefficient (accuracy ratio) of a ranking: 2 * ROC-AUC - 1.

    >>> gini(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.5
    """
    return 2 * roc_auc(y_true, scores) - 1


def brier_score(y_true: np.ndarray, probability: np.ndarray) -> float:
    """Mean squared difference between predicted probabilities and binary outcomes.

    >>> round(brier_score(np.array([0, 1]), np.array([0.2, 0.6])), 6)
    0.1
    """
    y_true, probability = np.asarray(y_true, dtype=float), np.asarray(probability, dtype=float)
    return float(np.mean((probability - y_true) ** 2)) if len(y_true) else float("nan")


def population_stability_index(expected: np.ndarray, actual: np.ndarray, n_bins: int = 10,
                               categorical: bool = False) -> float:
    """PSI between a reference sample (`expected`, e.g. training) and a new one (`actual`).

    Numbers are binned at the reference's deciles, categories by value;
    sum over bins of (a - e) * ln(a / e) with shares floored at 1e-4. Under
    0.1 is usually read as stable, above 0.25 as a shift.

    >>> population_stability_index(np.arange(100), np.arange(100))
    0.0
    """
    expected, actual = np.asarray(expected), np.asarray(actual)
    if len(expected) == 0 or len(actual) == 0:
        return float("nan")
    if categorical:
        values = np.unique(np.concatenate([expected.astype(str), actual.astype(str)]))
        e = np.array([(expected.astype(str) == v).mean() for v in values])
        a = np.array([(actual.astype(str) == v).mean() for v in values])
    else:
        expected, actual = expected.astype(float), actual.astype(float)
        expected, actual = expected[np.isfinite(expected)], actual[np.isfinite(actual)]
        edges = np.unique(np.quantile(expected, np.linspace(0, 1, n_bins + 1)[1:-1]))
        e = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1) / len(expected)
        a = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1) / max(1, len(actual))
    e, a = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))
