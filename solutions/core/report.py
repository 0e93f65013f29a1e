"""The report as a value.

A `Report` holds numbers, tables, plot data and small images; it is built by a
solution's evaluation and is the source of truth written to `report.json`.
Rendering (report.md, report.html) and plotting read it and never compute
metrics themselves, so `ksol report RUN` can re-render from the JSON alone.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from solutions.core.metrics import Interval

SECTION_KINDS = ("metrics", "table", "plot", "images", "text", "highlighted_text")
PLOT_KINDS = ("confusion_matrix", "lines", "bars", "histogram")


@dataclass
class Section:
    """One part of a report: `kind` says how `data` is shaped and rendered.

    metrics: {"rows": [{"metric", "value", "low", "high"}]}
    table:   {"columns": [...], "rows": [[...], ...]}
    plot:    {"plot": "confusion_matrix" | "lines" | "bars" | "histogram", ...plot data}
    images:  {"images": [{"png": base64 PNG, "caption": str}]}
    text:    {"text": str}, with "outcome" for a verdict (its sentence is shown first, emphasised)
    highlighted_text: {"items": [{"caption": str, "tokens": [str], "weights": [float in -1..1]}]}
    """

    title: str
    kind: str
    data: dict[str, Any]
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in SECTION_KINDS:
            raise ValueError(f"Section kind must be one of {SECTION_KINDS}. Received: kind={self.kind!r}.")
        if self.kind == "plot" and self.data.get("plot") not in PLOT_KINDS:
            raise ValueError(f"Plot must be one of {PLOT_KINDS}. Received: plot={self.data.get('plot')!r}.")


WIN, UNDECIDED, LOSS = "a clear win", "not yet a clear win", "the baseline is better"


@dataclass(frozen=True)
class Verdict:
    """The network against the best baseline of the same split on the primary metric.

    `difference` is the network's value minus the baseline's, `low` and `high`
    its paired bootstrap interval (the same resamples of the test set for both).
    """

    metric: str
    baseline: str
    value: float
    baseline_value: float
    difference: float
    low: float
    high: float
    confidence: float = 0.95
    higher_is_better: bool = True
    n_resamples: int = 1000
    n_baselines: int = 1

    @property
    def outcome(self) -> str:
        """WIN when the whole interval is on the better side of 0, LOSS when on the worse side, else UNDECIDED.

        >>> Verdict("auc", "b", .9, .8, .1, .05, .15).outcome, Verdict("cost", "b", 1, 2, -1, -1.5, -.5, higher_is_better=False).outcome
        ('a clear win', 'a clear win')
        """
        sign = 1 if self.higher_is_better else -1
        low, high = sorted((sign * self.low, sign * self.high))
        if not (np.isfinite(low) and np.isfinite(high)):
            return UNDECIDED
        return WIN if low > 0 else LOSS if high < 0 else UNDECIDED

    def sentence(self) -> str:
        """The verdict in words, e.g. "0.031 above logistic regression, 95% interval [0.012, 0.050]: a clear win".

        >>> Verdict("cost", "refuse everyone", 10.0, 12.5, -2.5, -3.25, -1.5, higher_is_better=False).sentence()
        '2.500 below refuse everyone (lower cost is better), 95% interval [-3.250, -1.500]: a clear win'
        """
        if not np.isfinite(self.difference):
            return f"{self.metric} is undefined for this model on this split, so it cannot be compared with {self.baseline}"
        decimals = _verdict_decimals(self.difference, self.low, self.high)
        size = f"{abs(self.difference):,.{decimals}f}"
        if float(size.replace(",", "")) == 0:
            where = f"level with {self.baseline}"
        else:
            where = f"{size} {'above' if self.difference > 0 else 'below'} {self.baseline}"
        direction = "" if self.higher_is_better else f" (lower {self.metric} is better)"
        if np.isfinite(self.low) and np.isfinite(self.high):
            interval = (f"{self.confidence:.0%} interval [{_signed(self.low, decimals)}, {_signed(self.high, decimals)}]")
        else:
            interval = "no interval (the metric is undefined on every resample)"
        return f"{where}{direction}, {interval}: {self.outcome}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "outcome": self.outcome, "text": self.sentence()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Verdict":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _verdict_decimals(*values: float) -> int:
    """Three decimals for differences under 10 in size, fewer for larger ones (costs): 2, 1, then 0."""
    size = max((abs(v) for v in values if np.isfinite(v)), default=0.0)
    return 3 if size < 10 else 2 if size < 100 else 1 if size < 1000 else 0


def _signed(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.000"


@dataclass
class Report:
    """An evaluation report: headline metric, all metrics, and ordered sections."""

    solution: str
    title: str
    primary_metric: str
    metrics: dict[str, dict[str, float]]
    sections: list[Section] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    verdict: Verdict | None = None  # the network against the best baseline; None without a baseline
    # Written beside the report, never into report.json: per-example predictions (a DataFrame) and
    # extra JSON files the metrics came from (name -> JSON value).
    predictions: Any = field(default=None, repr=False, compare=False)
    artifacts: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.primary_metric not in self.metrics:
            raise ValueError(
                f"primary_metric {self.primary_metric!r} is not among the metrics: {sorted(self.metrics)}."
            )

    @property
    def primary(self) -> dict[str, float]:
        return self.metrics[self.primary_metric]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({"solution": self.solution, "title": self.title, "primary_metric": self.primary_metric,
                          "metrics": self.metrics, "sections": [asdict(s) for s in self.sections], "info": self.info,
                          "verdict": None if self.verdict is None else self.verdict.to_dict()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Report":
        sections = [Section(**s) for s in data.get("sections", [])]
        return cls(
            solution=data["solution"],
            title=data["title"],
            primary_metric=data["primary_metric"],
            metrics=data["metrics"],
            sections=sections,
            info=data.get("info", {}),
            verdict=Verdict.from_dict(data["verdict"]) if data.get("verdict") else None,  # reports before verdicts have none
        )


def metric_entry(value: float | Interval) -> dict[str, float]:
    """A metric as a JSON-ready dict: {"value"} or {"value", "low", "high", "confidence"}."""
    if isinstance(value, Interval):
        return value.to_dict()
    return {"value": float(value)}


def metrics_section(title: str, metrics: dict[str, dict[str, float]], note: str = "") -> Section:
    rows = [{"metric": name, **entry} for name, entry in metrics.items()]
    return Section(title, "metrics", {"rows": rows}, note)


def table_section(title: str, columns: list[str], rows: list[list[Any]], note: str = "") -> Section:
    return Section(title, "table", {"columns": list(columns), "rows": [list(r) for r in rows]}, note)


def text_section(title: str, text: str) -> Section:
    return Section(title, "text", {"text": text})


def confusion_matrix_section(title: str, matrix: np.ndarray, labels: tuple[str, ...], note: str = "") -> Section:
    return Section(title, "plot", {"plot": "confusion_matrix", "matrix": np.asarray(matrix).tolist(), "labels": list(labels)}, note)


def lines_section(title: str, series: list[dict[str, Any]], x_label: str, y_label: str, note: str = "") -> Section:
    """Line plot data: series are {"name", "x", "y"} dicts, optionally "style" ("-", "--", ":", "none") and "marker" ("o")."""
    return Section(title, "plot", {"plot": "lines", "series": series, "x_label": x_label, "y_label": y_label}, note)


def histogram_section(title: str, values: dict[str, np.ndarray], x_label: str, bins: int = 30,
                      range_: tuple[float, float] | None = None, note: str = "") -> Section:
    """Overlaid histograms (shares per bin, so groups of different sizes compare) of named samples.

    >>> section = histogram_section("Scores", {"a": np.array([0.1, 0.2]), "b": np.array([0.9])}, "score", bins=2, range_=(0, 1))
    >>> section.data["series"][1]["shares"]
    [0.0, 1.0]
    """
    finite = [np.asarray(v, dtype=float)[np.isfinite(v)] for v in values.values()]
    if range_ is None:
        joined = np.concatenate(finite) if finite else np.zeros(1)
        range_ = (float(joined.min()), float(joined.max()) if joined.max() > joined.min() else float(joined.min()) + 1)
    edges = np.linspace(range_[0], range_[1], bins + 1)
    series = []
    for name, sample in zip(values, finite):
        counts, _ = np.histogram(np.clip(sample, edges[0], edges[-1]), bins=edges)
        series.append({"name": name, "count": int(len(sample)),
                       "shares": (counts / max(1, len(sample))).tolist()})
    return Section(title, "plot", {"plot": "histogram", "edges": edges.tolist(), "series": series,
                                   "x_label": x_label, "y_label": "share of rows"}, note)


def highlighted_text_section(title: str, items: list[tuple[str, list[str], list[float]]], note: str = "") -> Section:
    """Texts shown word by word with a weight each (-1: strongly against, +1: strongly for), as
    token attributions are. Items are (caption, tokens, weights); weights are clipped to [-1, 1].

    >>> highlighted_text_section("Why", [("an example", ["good", "value"], [0.9, 0.0])]).data["items"][0]["weights"]
    [0.9, 0.0]
    """
    rows = []
    for caption, tokens, weights in items:
        if len(tokens) != len(weights):
            raise ValueError(f"Each token needs one weight. Received {len(tokens)} tokens and {len(weights)} weights.")
        rows.append({"caption": str(caption), "tokens": [str(t) for t in tokens],
                     "weights": [float(np.clip(w, -1.0, 1.0)) for w in weights]})
    return Section(title, "highlighted_text", {"items": rows}, note)


def images_section(title: str, images: list[tuple[np.ndarray, str]], note: str = "") -> Section:
    """Small RGB uint8 images with captions, stored as base64 PNG."""
    return Section(title, "images", {"images": [{"png": png_base64(img), "caption": cap} for img, cap in images]}, note)


def png_base64(image: np.ndarray) -> str:
    """Encode an RGB or grayscale uint8 image as base64 PNG text."""
    import cv2

    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"Could not encode an image of shape {image.shape} as PNG.")
    return base64.b64encode(buffer.tobytes()).decode("ascii")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value
