"""COCO-style evaluation with pycocotools (the field's reference implementation), and a bootstrap over images.

pycocotools computes every reported number from the COCO ground truth and the
COCO results list. The bootstrap interval re-uses pycocotools' per-image matches
(COCOeval.evalImgs) and re-accumulates them over resampled images exactly as
COCOeval.accumulate does, so the resampled statistic is the same statistic
(a test checks that the full sample reproduces pycocotools' mAP).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from solutions.core.metrics import Interval

AREA_NAMES = ("all", "small", "medium", "large")
STAT_NAMES = ("mAP50-95", "mAP50", "mAP75", "mAP_small", "mAP_medium", "mAP_large",
              "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large")


@dataclass
class COCOResult:
    """pycocotools' outputs: the 12 summary stats, precision (T, R, K, A, M), and per-image matches."""

    stats: dict[str, float]
    precision: np.ndarray
    recall_thresholds: np.ndarray
    iou_thresholds: np.ndarray
    per_image: list[list[dict[str, np.ndarray] | None]]  # [class][image] at area "all", max 100 detections

    def class_ap(self, k: int, iou: float | None = None) -> float:
        """AP of class k averaged over IoU thresholds (or at one), NaN when the class has no ground truth."""
        values = self.precision[:, :, k, 0, -1] if iou is None else self.precision[self._t(iou), :, k, 0, -1]
        values = values[values > -1]
        return float(values.mean()) if values.size else float("nan")

    def pr_curve(self, k: int, iou: float = 0.5) -> np.ndarray:
        return self.precision[self._t(iou), :, k, 0, -1]

    def area_ap(self, area: str, iou: float | None = None) -> float:
        a = AREA_NAMES.index(area)
        values = self.precision[:, :, :, a, -1] if iou is None else self.precision[self._t(iou), :, :, a, -1]
        values = values[values > -1]
        return float(values.mean()) if values.size else float("nan")

    def _t(self, iou: float) -> int:
        return int(np.argmin(np.abs(self.iou_thresholds - iou)))


def coco_evaluate(ground_truth: dict[str, Any], results: list[dict[str, Any]]) -> COCOResult:
    """Run pycocotools' COCOeval (bbox) on a ground-truth dict and a results list; quiet."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = ground_truth
        truth.createIndex()
        # pycocotools cannot load an empty results list; one zero-score box far away changes nothing
        detections = truth.loadRes(results or [_placeholder(ground_truth)])
        evaluator = COCOeval(truth, detections, "bbox")
        evaluator.params.imgIds = [image["id"] for image in ground_truth["images"]]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    params = evaluator.params
    n_images, n_areas = len(params.imgIds), len(params.areaRng)
    per_image: list[list[dict[str, np.ndarray] | None]] = []
    for k in range(len(params.catIds)):
        row = []
        for i in range(n_images):
            entry = evaluator.evalImgs[k * n_areas * n_images + i]  # area index 0 = "all"
            if entry is None:
                row.append(None)
                continue
            scores = np.asarray(entry["dtScores"][:params.maxDets[-1]], float)
            matched = np.asarray(entry["dtMatches"][:, :params.maxDets[-1]]) > 0
            ignored = np.asarray(entry["dtIgnore"][:, :params.maxDets[-1]]).astype(bool)
            row.append({"scores": scores, "tp": matched & ~ignored, "fp": ~matched & ~ignored,
                        "n_truth": int(np.count_nonzero(np.asarray(entry["gtIgnore"]) == 0))})
        per_image.append(row)
    return COCOResult(stats=dict(zip(STAT_NAMES, (float(s) for s in evaluator.stats))),
                      precision=np.asarray(evaluator.eval["precision"]), recall_thresholds=np.asarray(params.recThrs),
                      iou_thresholds=np.asarray(params.iouThrs), per_image=per_image)


def _placeholder(ground_truth: dict[str, Any]) -> dict[str, Any]:
    image = ground_truth["images"][0]
    category = ground_truth["categories"][0]["id"]
    return {"image_id": image["id"], "category_id": category, "bbox": [0.0, 0.0, 1e-3, 1e-3], "score": 1e-9}


def accumulate_ap(result: COCOResult, images: np.ndarray) -> np.ndarray:
    """mAP at each IoU threshold over the images at positions `images` (repeats allowed).

    Computed as COCOeval.accumulate does (area "all", 100 detections per image); the
    mean of the returned values is mAP@[.5:.95], the first is mAP@.5. NaN when no
    class has ground truth among the images.
    """
    n_iou = len(result.iou_thresholds)
    aps = []
    thresholds = result.recall_thresholds
    for row in result.per_image:
        parts = [row[i] for i in images if row[i] is not None]
        n_truth = sum(p["n_truth"] for p in parts)
        if n_truth == 0:
            continue
        scores = np.concatenate([p["scores"] for p in parts])
        order = np.argsort(-scores, kind="mergesort")
        tp = np.cumsum(np.concatenate([p["tp"] for p in parts], axis=1)[:, order], axis=1, dtype=float)
        fp = np.cumsum(np.concatenate([p["fp"] for p in parts], axis=1)[:, order], axis=1, dtype=float)
        per_iou = np.zeros(n_iou)
        for t in range(n_iou):
            recall = tp[t] / n_truth
            precision = tp[t] / (fp[t] + tp[t] + np.spacing(1))
            if precision.size:
                precision = np.maximum.accumulate(precision[::-1])[::-1]
            index = np.searchsorted(recall, thresholds, side="left")
            q = np.zeros(len(thresholds))
            inside = index < len(precision)
            q[inside] = precision[index[inside]]
            per_iou[t] = q.mean()
        aps.append(per_iou)
    return np.mean(aps, axis=0) if aps else np.full(n_iou, np.nan)


def image_matches(result: COCOResult) -> np.ndarray:
    """Per test image, its matches of every class (an object array of tuples, one per image): the
    per-example scores of a detector that the paired verdict resamples image by image."""
    n = len(result.per_image[0]) if result.per_image else 0
    matches = np.empty(n, dtype=object)
    for i in range(n):
        matches[i] = tuple(row[i] for row in result.per_image)
    return matches


def map_over_images(result: COCOResult):
    """mAP@[.5:.95] as a function `metric(images, matches)` of per-image matches (`image_matches` of any
    result with `result`'s IoU and recall thresholds), re-accumulated as `accumulate_ap` does; `images`
    (the images' positions) only keeps the metric's (truths, scores) form."""
    def metric(images: np.ndarray, matches: np.ndarray) -> float:
        rows = [list(row) for row in zip(*matches)] if len(matches) else [[] for _ in result.per_image]
        view = COCOResult(stats={}, precision=result.precision, recall_thresholds=result.recall_thresholds,
                          iou_thresholds=result.iou_thresholds, per_image=rows)
        return float(np.mean(accumulate_ap(view, np.arange(len(matches)))))
    return metric


def bootstrap_map(result: COCOResult, n_resamples: int = 1000, confidence: float = 0.95,
                  seed: int = 0) -> dict[str, Interval]:
    """Percentile bootstrap intervals of mAP@[.5:.95] and mAP@.5, resampling test images with replacement.

    The values are pycocotools' own; the resamples re-accumulate its per-image matches.
    """
    values = {"mAP50-95": result.stats["mAP50-95"], "mAP50": result.stats["mAP50"]}
    n = len(result.per_image[0]) if result.per_image else 0
    rng = np.random.default_rng(seed)
    samples = np.asarray([accumulate_ap(result, rng.integers(0, n, n)) for _ in range(n_resamples if n else 0)])
    intervals = {}
    tail = (1 - confidence) / 2 * 100
    for name, column in (("mAP50-95", None), ("mAP50", 0)):
        drawn = samples.reshape(-1, len(result.iou_thresholds))
        drawn = drawn.mean(axis=1) if column is None else drawn[:, column]
        drawn = drawn[np.isfinite(drawn)]
        if drawn.size == 0:
            intervals[name] = Interval(values[name], float("nan"), float("nan"), confidence)
            continue
        low, high = np.percentile(drawn, [tail, 100 - tail])
        intervals[name] = Interval(values[name], float(low), float(high), confidence)
    return intervals


def counts_at_threshold(result: COCOResult, k: int, threshold: float, iou: float = 0.5) -> dict[str, int]:
    """True positives, false positives and ground-truth objects of class k for detections scoring >= threshold."""
    t = result._t(iou)
    tp = fp = n_truth = 0
    for entry in result.per_image[k]:
        if entry is None:
            continue
        kept = entry["scores"] >= threshold
        tp += int(entry["tp"][t][kept].sum())
        fp += int(entry["fp"][t][kept].sum())
        n_truth += entry["n_truth"]
    return {"tp": tp, "fp": fp, "n_truth": n_truth}
