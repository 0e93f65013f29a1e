"""The alert threshold: chosen on validation scores by the recipe's rule, and the table that justifies it.

Rules (recipe key `threshold_rule`):

- "cost": the threshold with the least expected cost, where each missed fraud
  costs `missed_fraud_cost` (or, with `amount_column`, that row's amount) and
  each alert costs `review_cost` to review;
- "budget": flag the top `alert_budget` share of rows (the team can review so many);
- "recall": the highest threshold that still catches `target_recall` of the frauds.

A row is flagged when its score is >= the threshold. The savings of a
threshold are the cost of having no model (every fraud missed, nothing
reviewed) minus its cost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

RULES = ("cost", "budget", "recall")


@dataclass(frozen=True)
class ThresholdRow:
    """What flagging every row with score >= `threshold` does on one set of labelled rows."""

    threshold: float
    alerts: int
    alert_rate: float
    caught: int
    precision: float
    recall: float
    cost: float
    savings: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def missed_costs(y: np.ndarray, amounts: np.ndarray | None, missed_fraud_cost: float) -> np.ndarray:
    """What missing each row would cost: its amount (when given) or the flat cost, for frauds only."""
    y = np.asarray(y).astype(bool)
    per_row = np.full(len(y), float(missed_fraud_cost)) if amounts is None else np.nan_to_num(np.asarray(amounts, float))
    return np.where(y, per_row, 0.0)


def evaluate_threshold(threshold: float, y: np.ndarray, scores: np.ndarray, miss_cost: np.ndarray,
                       review_cost: float) -> ThresholdRow:
    """Alerts, precision, recall, cost and savings of one threshold.

    >>> row = evaluate_threshold(0.5, np.array([0, 1, 1]), np.array([0.6, 0.7, 0.2]), np.array([0, 10, 10.0]), 1.0)
    >>> (row.alerts, row.caught, row.cost, row.savings)
    (2, 1, 12.0, 8.0)
    """
    y = np.asarray(y).astype(bool)
    flagged = np.asarray(scores) >= threshold
    alerts, caught = int(flagged.sum()), int((flagged & y).sum())
    cost = float(miss_cost[~flagged].sum() + review_cost * alerts)
    no_model = float(miss_cost.sum())
    return ThresholdRow(
        threshold=float(threshold), alerts=alerts, alert_rate=alerts / max(1, len(y)), caught=caught,
        precision=caught / alerts if alerts else float("nan"), recall=float(caught / y.sum()) if y.any() else float("nan"),
        cost=cost, savings=no_model - cost,
    )


def candidate_thresholds(scores: np.ndarray, n: int = 200) -> np.ndarray:
    """Distinct thresholds to try: the scores' quantiles (and every score when there are few)."""
    scores = np.unique(np.asarray(scores, dtype=float))
    if len(scores) > n:
        scores = np.unique(np.quantile(scores, np.linspace(0, 1, n)))
    return np.concatenate([scores, [np.inf]])


def choose_threshold(rule: str, y: np.ndarray, scores: np.ndarray, *, miss_cost: np.ndarray, review_cost: float,
                     alert_budget: float, target_recall: float) -> ThresholdRow:
    """The threshold the rule picks on (validation) data, with what it does there.

    >>> y, s = np.array([0, 0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    >>> choose_threshold("cost", y, s, miss_cost=np.where(y, 10.0, 0), review_cost=1, alert_budget=0.2, target_recall=0.5).threshold
    0.8
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}. Received: {rule!r}.")
    y, scores = np.asarray(y).astype(bool), np.asarray(scores, dtype=float)
    if rule == "budget":
        k = max(1, int(round(alert_budget * len(scores))))
        threshold = float(np.sort(scores)[::-1][k - 1])
        return evaluate_threshold(threshold, y, scores, miss_cost, review_cost)
    rows = [evaluate_threshold(t, y, scores, miss_cost, review_cost) for t in candidate_thresholds(scores, 400)]
    if rule == "recall":
        reaching = [r for r in rows if r.recall >= target_recall]
        return max(reaching, key=lambda r: r.threshold) if reaching else rows[0]
    best = min(r.cost for r in rows)
    return max((r for r in rows if r.cost <= best), key=lambda r: r.threshold)  # the fewest alerts among the cheapest


def threshold_table(y: np.ndarray, scores: np.ndarray, chosen: float, *, miss_cost: np.ndarray, review_cost: float,
                    alert_rates: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)) -> list[dict[str, Any]]:
    """Rows for the report: the chosen threshold and the thresholds flagging fixed shares of rows."""
    y, scores = np.asarray(y).astype(bool), np.asarray(scores, dtype=float)
    ordered = np.sort(scores)[::-1]
    table = []
    for rate in alert_rates:
        k = max(1, int(round(rate * len(scores))))
        row = evaluate_threshold(float(ordered[min(k, len(ordered)) - 1]), y, scores, miss_cost, review_cost).to_dict()
        table.append({"which": f"top {rate:.1%}", **row})
    table.append({"which": "chosen", **evaluate_threshold(chosen, y, scores, miss_cost, review_cost).to_dict()})
    return sorted(table, key=lambda r: -r["threshold"])
