"""The industry-standard baseline: a weight-of-evidence logistic-regression scorecard.

Each column is binned (numbers at training quantiles, categories by value,
rare ones pooled as "other"); each bin's weight of evidence is
ln(share of goods in the bin / share of bads in the bin), smoothed by half an
applicant; a logistic regression on the WOE values gives the probability of
default. No installed library does this (scikit-learn has no WOE encoder),
and it is small.
"""

from __future__ import annotations

from typing import Any

import numpy as np

OTHER = "(other)"


class WOEScorecard:
    """fit(frame, y, schema) then predict_proba(frame) -> P(bad); `information_value_` per column.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x": np.arange(200.0), "c": ["a", "b"] * 100})
    >>> y = (np.arange(200) > 120).astype(int)
    >>> model = WOEScorecard().fit(frame, y, {"numeric": [{"name": "x"}], "categorical": [{"name": "c"}]})
    >>> model.information_value_["x"] > model.information_value_["c"]
    True
    """

    def __init__(self, n_bins: int = 5, min_share: float = 0.05, smoothing: float = 0.5, C: float = 1.0, seed: int = 0):
        self.n_bins, self.min_share, self.smoothing, self.C, self.seed = n_bins, min_share, smoothing, C, seed

    def fit(self, frame, y: np.ndarray, schema: dict[str, Any]) -> "WOEScorecard":
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y).astype(int)
        self.bins_: dict[str, Any] = {}
        self.woe_: dict[str, dict[Any, float]] = {}
        self.information_value_: dict[str, float] = {}
        self.numeric_ = [s["name"] for s in schema["numeric"]]
        self.categorical_ = [s["name"] for s in schema["categorical"]]
        for column in self.numeric_:
            values = frame[column].astype(float).to_numpy()
            present = values[np.isfinite(values)]
            self.bins_[column] = np.unique(np.quantile(present, np.linspace(0, 1, self.n_bins + 1)[1:-1])) if len(present) else np.array([])
        for column in self.categorical_:
            shares = frame[column].astype(str).value_counts(normalize=True)
            self.bins_[column] = set(shares[shares >= self.min_share].index)
        for column in self.numeric_ + self.categorical_:
            groups = self._groups(frame, column)
            goods, bads = (y == 0).sum(), (y == 1).sum()
            table, iv = {}, 0.0
            for group in np.unique(groups):
                g = ((groups == group) & (y == 0)).sum() + self.smoothing
                b = ((groups == group) & (y == 1)).sum() + self.smoothing
                share_good, share_bad = g / (goods + self.smoothing), b / (bads + self.smoothing)
                table[group] = float(np.log(share_good / share_bad))
                iv += (share_good - share_bad) * table[group]
            self.woe_[column], self.information_value_[column] = table, float(iv)
        self.model_ = LogisticRegression(C=self.C, max_iter=2000, random_state=self.seed).fit(self.transform(frame), y)
        return self

    def _groups(self, frame, column: str) -> np.ndarray:
        if column in self.numeric_:
            values = frame[column].astype(float).to_numpy()
            index = np.searchsorted(self.bins_[column], values, side="right").astype(object)
            index[~np.isfinite(values)] = "missing"
            return index.astype(str)
        values = frame[column].astype(str).to_numpy()
        return np.where(np.isin(values, list(self.bins_[column])), values, OTHER)

    def transform(self, frame) -> np.ndarray:
        """The WOE value of each row's bin, per column (unseen bins: 0, no evidence)."""
        columns = []
        for column in self.numeric_ + self.categorical_:
            table = self.woe_[column]
            columns.append([table.get(g, 0.0) for g in self._groups(frame, column)])
        return np.asarray(columns, dtype=float).T

    def predict_proba(self, frame) -> np.ndarray:
        """P(bad) per row."""
        return self.model_.predict_proba(self.transform(frame))[:, 1]
