"""Probability calibration fitted on validation applicants, stored as JSON-ready parameters.

"platt": p' = sigmoid(a * logit(p) + b), a logistic regression of the
outcomes on the model's logit. "isotonic": a monotone step function of p
(the fitted breakpoints, interpolated linearly). "none": p unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EPSILON = 1e-6


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), EPSILON, 1 - EPSILON)
    return np.log(p / (1 - p))


def fit_calibration(method: str, probability: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Calibration parameters of `method` from validation probabilities and outcomes (1 = bad).

    >>> params = fit_calibration("platt", np.array([0.2, 0.4, 0.6, 0.8]), np.array([0, 0, 1, 1]))
    >>> params["method"], params["a"] > 0
    ('platt', True)
    """
    y = np.asarray(y, dtype=int)
    if method == "none":
        return {"method": "none"}
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=100.0, max_iter=1000).fit(logit(probability).reshape(-1, 1), y)
        return {"method": "platt", "a": float(model.coef_[0, 0]), "b": float(model.intercept_[0])}
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        model = IsotonicRegression(out_of_bounds="clip", y_min=EPSILON, y_max=1 - EPSILON).fit(probability, y)
        return {"method": "isotonic", "x": model.X_thresholds_.tolist(), "y": model.y_thresholds_.tolist()}
    raise ValueError(f"method must be one of platt, isotonic, none. Received: {method!r}.")


def apply_calibration(params: dict[str, Any], probability: np.ndarray) -> np.ndarray:
    """Calibrated probabilities.

    >>> apply_calibration({"method": "platt", "a": 1.0, "b": 0.0}, np.array([0.25])).round(2).tolist()
    [0.25]
    """
    probability = np.asarray(probability, dtype=float)
    method = params.get("method", "none")
    if method == "none":
        return probability
    if method == "platt":
        return 1 / (1 + np.exp(-(params["a"] * logit(probability) + params["b"])))
    return np.interp(probability, params["x"], params["y"])
