"""Evaluation: what a domain's `evaluate_split` hook returns to the base workflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from solutions.core.metrics import paired_difference
from solutions.core.report import Section, Verdict


@dataclass
class Comparison:
    """What the verdict needs: the primary metric as a function `metric(truths, scores)`, and the
    scores the network (`scores`) and each baseline (`baselines[name]`) give the same test rows.

    Scores are whatever the metric takes (probabilities, predicted classes, per-image matches),
    their first axis the test rows, so one resample of rows applies to every model. `seed` is
    the seed of the headline intervals, so the verdict resamples the rows they resampled.
    """

    metric: Callable[[Any, Any], float]
    truths: Any
    scores: Any
    baselines: dict[str, Any]
    higher_is_better: bool = True
    seed: int = 0


@dataclass
class Evaluation:
    """What a domain's evaluation returns: metrics (first is headline unless named), sections,
    baselines of the same split, per-example predictions (a DataFrame), extra JSON files, and
    the comparison of the network with its baselines on the primary metric (for the verdict)."""

    metrics: dict[str, dict[str, float]]
    sections: list[Section]
    primary_metric: str
    baselines: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    predictions: Any = None
    artifacts: dict[str, Any] = field(default_factory=dict)
    comparison: Comparison | None = None


def verdict(comparison: Comparison | None, metric_name: str, n_resamples: int = 1000) -> Verdict | None:
    """The network against the baseline with the best primary metric (of those where it is defined),
    with the paired bootstrap interval of the difference; None without a baseline."""
    if comparison is None:
        return None
    c = comparison
    values = {name: float(c.metric(c.truths, scores)) for name, scores in c.baselines.items()}
    values = {name: value for name, value in values.items() if np.isfinite(value)}
    if not values:
        return None
    pick = max if c.higher_is_better else min
    best = pick(values, key=values.__getitem__)  # the first listed among equals
    difference = paired_difference(c.metric, c.truths, c.scores, c.baselines[best], n_resamples=n_resamples, seed=c.seed)
    return Verdict(metric=metric_name, baseline=best, value=float(c.metric(c.truths, c.scores)), baseline_value=values[best],
                   difference=difference.value, low=difference.low, high=difference.high,
                   confidence=difference.confidence, higher_is_better=c.higher_is_better,
                   n_resamples=n_resamples, n_baselines=len(values))
