"""Scorecard scaling: probability of default -> points, bands, and the cost-minimising decision.

points = base_score + pdo / ln 2 * ln(odds / base_odds), with odds = (1 - p) / p
the good:bad odds: an applicant at base_odds scores base_score, and every pdo
points double the odds. Higher is better.
"""

from __future__ import annotations

import math

import numpy as np


def score_points(p_bad: np.ndarray, base_score: float, base_odds: float, pdo: float) -> np.ndarray:
    """Scorecard points of probabilities of default.

    >>> score_points(np.array([1 / 51, 1 / 101]), 600, 50, 20).round(1).tolist()
    [600.0, 620.0]
    """
    p = np.clip(np.asarray(p_bad, dtype=float), 1e-9, 1 - 1e-9)
    return base_score + pdo / math.log(2) * np.log((1 - p) / p / base_odds)


def probability_from_points(points: np.ndarray, base_score: float, base_odds: float, pdo: float) -> np.ndarray:
    """The probability of default of a score (the inverse of `score_points`)."""
    odds = base_odds * np.exp((np.asarray(points, dtype=float) - base_score) * math.log(2) / pdo)
    return 1 / (1 + odds)


def quantile_band_edges(scores: np.ndarray, n_bands: int) -> list[float]:
    """Cut points giving `n_bands` bands of equal size over `scores` (ascending).

    >>> quantile_band_edges(np.arange(100.0), 4)
    [24.75, 49.5, 74.25]
    """
    return np.quantile(np.asarray(scores, dtype=float), np.linspace(0, 1, n_bands + 1)[1:-1]).tolist()


def assign_bands(scores: np.ndarray, edges: list[float], names: list[str]) -> np.ndarray:
    """The band of each score; names are best first, so the highest scores get names[0].

    >>> assign_bands(np.array([500, 650]), [600.0], ["A", "B"]).tolist()
    ['B', 'A']
    """
    index = np.searchsorted(np.asarray(edges, dtype=float), np.asarray(scores, dtype=float), side="right")
    ordered = np.asarray(list(reversed(names)), dtype=object)
    return ordered[index]


def expected_cost_threshold(cost_bad_approved: float, cost_good_refused: float) -> float:
    """The probability of default below which approving costs less than refusing, in expectation.

    >>> round(expected_cost_threshold(5, 1), 4)
    0.1667
    """
    return cost_good_refused / (cost_good_refused + cost_bad_approved)


def decision_cost(y: np.ndarray, p_bad: np.ndarray, threshold: float, cost_bad_approved: float,
                  cost_good_refused: float) -> float:
    """Mean cost per applicant when approving every p_bad < threshold (y: 1 = bad).

    >>> decision_cost(np.array([1, 0, 0, 1]), np.array([0.1, 0.2, 0.05, 0.9]), 0.15, 5, 1)
    1.5
    """
    y = np.asarray(y).astype(bool)
    approved = np.asarray(p_bad) < threshold
    return float((cost_bad_approved * (approved & y).sum() + cost_good_refused * (~approved & ~y).sum()) / max(1, len(y)))


def least_cost_threshold(y: np.ndarray, p_bad: np.ndarray, cost_bad_approved: float, cost_good_refused: float) -> float:
    """The threshold with the least cost on (validation) applicants; ties go to the middle of the best run."""
    candidates = np.unique(np.concatenate([[0.0, 1.0 + 1e-9], np.asarray(p_bad, dtype=float)]))
    costs = np.array([decision_cost(y, p_bad, t, cost_bad_approved, cost_good_refused) for t in candidates])
    best = np.flatnonzero(costs <= costs.min() + 1e-12)
    return float(candidates[best[len(best) // 2]])
