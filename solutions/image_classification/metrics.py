"""Image-classification metrics: top-k accuracy.

Pure functions of labels and scores, like solutions.core.metrics (which holds
what several domains share: accuracy, macro F1, calibration, bootstrap intervals).
"""

from __future__ import annotations

import numpy as np


def top_k_accuracy(y_true: np.ndarray, probabilities: np.ndarray, k: int) -> float:
    """Fraction of examples whose true class is among the k highest scores.

    >>> top_k_accuracy(np.array([2, 0]), np.array([[.1, .5, .4], [.2, .3, .5]]), 2)
    0.5
    """
    probabilities = np.asarray(probabilities)
    k = min(k, probabilities.shape[1])
    top = np.argsort(-probabilities, axis=1)[:, :k]
    return float(np.mean(np.any(top == np.asarray(y_true)[:, None], axis=1)))
