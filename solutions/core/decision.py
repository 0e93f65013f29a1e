"""Decision: what a solution decides after training, from validation scores, and how --threshold overrides it.

A solution whose predictions end in a decision (flag or not, approve or refuse,
positive or negative at an operating point, keep a detection or not) returns a
`Decision` from its `choose_decision` hook. The base workflow saves it as
decision.json beside the model, loads it with the model, and hands it to the
hooks that evaluate and predict. `ksol predict --threshold T` replaces every
threshold with T the same way in every solution that has one.

>>> d = Decision(rule="the least cost on validation", thresholds={"positive": 0.3}, score_range=(0.0, 1.0))
>>> d.threshold
0.3
>>> d.with_threshold(0.5).thresholds, d.with_threshold(0.5).rule
({'positive': 0.5}, '--threshold 0.5')
>>> Decision.from_dict(d.to_dict()) == d
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from solutions.core.errors import UsageError

@dataclass(frozen=True)
class Decision:
    """A decision rule chosen after training.

    rule: how the thresholds were chosen, in words (shown in reports).
    thresholds: a score threshold per decided output (a class name, or "score"); empty when the
      decision has no threshold (a multi-class argmax, say).
    score_range: the closed range a threshold may take (the scores' range), or None when unbounded.
    details: what else was fitted or measured with it (validation figures, a calibration map,
      score bands): JSON values only.
    """

    rule: str
    thresholds: dict[str, float] = field(default_factory=dict)
    score_range: tuple[float, float] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def threshold(self) -> float | None:
        """The one threshold, when every decided output shares it; None when there is none."""
        values = set(self.thresholds.values())
        return float(values.pop()) if len(values) == 1 else None

    def with_threshold(self, threshold: float) -> "Decision":
        """The same decision with every threshold set to `threshold` (checked against score_range)."""
        if not self.thresholds:
            raise UsageError(f"--threshold does not apply to this run: its decision ({self.rule}) has no score threshold. "
                             f"Received: --threshold {threshold}. Leave it out.")
        value = float(threshold)
        low, high = self.score_range or (-math.inf, math.inf)
        if not (math.isfinite(value) and low <= value <= high):
            raise UsageError(f"--threshold must be a score in [{low:g}, {high:g}]. Received: --threshold {threshold}.")
        return replace(self, rule=f"--threshold {threshold:g}", thresholds={k: value for k in self.thresholds})

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "thresholds": dict(self.thresholds),
                "score_range": None if self.score_range is None else list(self.score_range), "details": self.details}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Decision":
        score_range = values.get("score_range")
        return cls(rule=str(values["rule"]), thresholds={str(k): float(v) for k, v in values.get("thresholds", {}).items()},
                   score_range=None if score_range is None else (float(score_range[0]), float(score_range[1])),
                   details=dict(values.get("details", {})))


def threshold_refused(solution_name: str, threshold: float) -> UsageError:
    """The one message of every solution without a threshold when --threshold is given."""
    return UsageError(f"--threshold is not used by {solution_name}: its predictions have no score threshold. "
                      f"Received: --threshold {threshold}. Leave it out.")
