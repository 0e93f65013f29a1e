"""Evaluation: what a domain's `evaluate_split` hook returns to the base workflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solutions.core.report import Section


@dataclass
class Evaluation:
    """What a domain's evaluation returns: metrics (first is headline unless named), sections,
    baselines of the same split, per-example predictions (a DataFrame) and extra JSON files."""

    metrics: dict[str, dict[str, float]]
    sections: list[Section]
    primary_metric: str
    baselines: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    predictions: Any = None
    artifacts: dict[str, Any] = field(default_factory=dict)
