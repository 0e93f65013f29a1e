"""What an object-detection report shows: COCO mAP with bootstrap intervals, per-class AP, precision-recall
curves per class, AP by object size, test images drawn with predicted and true boxes, and the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from solutions.core.report import images_section, lines_section, metric_entry, table_section
from solutions.core.evaluation import Comparison
from solutions.core.solution import Evaluation
from solutions.core.splits import Split
from solutions.object_detection.baseline import fit_class_mean_boxes, predict_class_mean_boxes
from solutions.object_detection.coco import coco_ground_truth, coco_results
from solutions.object_detection.drawing import draw_boxes
from solutions.object_detection.evaluation import (
    COCOResult, bootstrap_map, coco_evaluate, counts_at_threshold, image_matches, map_over_images,
)

SIZE_LIMITS = (("small", 0, 32 ** 2), ("medium", 32 ** 2, 96 ** 2), ("large", 96 ** 2, float("inf")))
DRAWN_SIDE = 480


@dataclass
class DetectionEvaluation:
    """The report's evaluation plus the COCO files behind it (ground truth and results)."""

    evaluation: Evaluation
    ground_truth: dict[str, Any]
    results: list[dict[str, Any]]


def to_original_pixels(detections: np.ndarray, targets: list, min_score: float = 0.0) -> list[np.ndarray]:
    """Model outputs (N, K, 6) in letterboxed pixels -> per image (n, 6) in original pixels, score > min_score.

    >>> from solutions.object_detection.annotations import ImageBoxes
    >>> out = to_original_pixels(np.array([[[10, 10, 20, 20, 0.9, 1], [0, 0, 0, 0, 0, 0]]]),
    ...                          [ImageBoxes(np.zeros((0, 4)), 100, 100, 0.5)])
    >>> out[0].tolist()
    [[20.0, 20.0, 40.0, 40.0, 0.9, 1.0]]
    """
    result = []
    for image_detections, target in zip(np.asarray(detections, float), targets):
        kept = image_detections[image_detections[:, 4] > min_score].copy()
        kept[:, :4] /= target.scale
        kept[:, [0, 2]] = np.clip(kept[:, [0, 2]], 0, target.width)
        kept[:, [1, 3]] = np.clip(kept[:, [1, 3]], 0, target.height)
        result.append(kept)
    return result


def coco_metrics(result: COCOResult, seed: int | None) -> dict[str, dict[str, float]]:
    """Headline metrics; mAP@[.5:.95] and mAP@.5 with bootstrap intervals when `seed` is given."""
    if seed is not None:
        intervals = bootstrap_map(result, seed=seed)
        metrics = {name: metric_entry(interval) for name, interval in intervals.items()}
    else:
        metrics = {"mAP50-95": metric_entry(result.stats["mAP50-95"]), "mAP50": metric_entry(result.stats["mAP50"])}
    metrics["mAP75"] = metric_entry(result.stats["mAP75"])
    metrics["AR100"] = metric_entry(result.stats["AR100"])
    return metrics


def evaluate_detector(split: Split, detections: np.ndarray, train: Split | None, class_names: list[str],
                      score_threshold: float, min_score: float, n_drawn: int, seed: int) -> DetectionEvaluation:
    """Score the model's detections on `split` with pycocotools and build the report sections."""
    import pandas as pd

    image_ids = list(range(1, len(split) + 1))
    truth = coco_ground_truth(image_ids, [t.boxes for t in split.targets], list(split.y),
                              [(t.width, t.height) for t in split.targets], class_names)
    found = to_original_pixels(detections, split.targets, min_score)
    results = coco_results(image_ids, found)
    result = coco_evaluate(truth, results)
    metrics = coco_metrics(result, seed)
    baselines, baseline_matches = {}, {}
    if train is not None:
        prior = fit_class_mean_boxes(train, len(class_names))
        baseline = coco_evaluate(truth, coco_results(image_ids, predict_class_mean_boxes(prior, split)))
        baselines["class-mean box"] = coco_metrics(baseline, None)
        baseline_matches["class-mean box"] = image_matches(baseline)
    # mAP is computed over images, so the verdict resamples images (as the headline interval does)
    comparison = Comparison(map_over_images(result), np.arange(len(split)), image_matches(result), baseline_matches, seed=seed)
    sections = [
        per_class_section(result, class_names, split, score_threshold),
        pr_curve_section(result, class_names),
        size_section(result, truth),
    ]
    if n_drawn:
        sections.append(drawn_section(split, detections, class_names, score_threshold, n_drawn))
    rows = [{"image": split.ids[i], "class": class_names[int(d[5])], "score": float(d[4]),
             "x1": float(d[0]), "y1": float(d[1]), "x2": float(d[2]), "y2": float(d[3])}
            for i, image_found in enumerate(found) for d in image_found]
    predictions = pd.DataFrame(rows, columns=["image", "class", "score", "x1", "y1", "x2", "y2"])
    evaluation = Evaluation(metrics=metrics, sections=sections, primary_metric="mAP50-95", baselines=baselines,
                            predictions=predictions, comparison=comparison)
    for entry in results:
        entry["file_name"] = str(split.ids[entry["image_id"] - 1])
    for image, image_id in zip(truth["images"], split.ids):
        image["file_name"] = str(image_id)
    return DetectionEvaluation(evaluation, truth, results)


def per_class_section(result: COCOResult, class_names: list[str], split: Split, threshold: float):
    counts = split.class_counts(len(class_names))
    rows = []
    for k, name in enumerate(class_names):
        at = counts_at_threshold(result, k, threshold)
        found = at["tp"] + at["fp"]
        rows.append([name, int(counts[k]), _or_na(result.class_ap(k)), _or_na(result.class_ap(k, 0.5)),
                     _or_na(result.class_ap(k, 0.75)), found,
                     _or_na(at["tp"] / found if found else float("nan")),
                     _or_na(at["tp"] / at["n_truth"] if at["n_truth"] else float("nan"))])
    return table_section(
        "Per-class AP", ["class", "objects", "AP50-95", "AP50", "AP75", f"detections >= {threshold:g}",
                         f"precision >= {threshold:g}", f"recall >= {threshold:g}"], rows,
        f"AP from pycocotools (area all, up to 100 detections per image). Precision and recall count detections "
        f"scoring at least {threshold:g} (the recipe's score_threshold) matched at IoU 0.5.")


def pr_curve_section(result: COCOResult, class_names: list[str]):
    series = []
    for k, name in enumerate(class_names):
        curve = result.pr_curve(k, 0.5)
        if np.all(curve < 0):
            continue
        series.append({"name": f"{name} (AP50 {result.class_ap(k, 0.5):.3f})",
                       "x": result.recall_thresholds.tolist(), "y": np.maximum(curve, 0).tolist()})
    return lines_section("Precision-recall curves per class (IoU 0.5)", series, "recall", "precision",
                         "COCO's interpolated precision at 101 recall levels, from pycocotools.")


def size_section(result: COCOResult, truth: dict[str, Any]):
    areas = np.asarray([a["area"] for a in truth["annotations"]], float)
    rows = []
    for name, low, high in SIZE_LIMITS:
        n = int(np.count_nonzero((areas >= low) & (areas < high)))
        rows.append([name, n, _or_na(result.area_ap(name)), _or_na(result.area_ap(name, 0.5)),
                     _or_na(result.stats[f"AR_{name}"])])
    return table_section("AP by object size", ["size", "objects", "AP50-95", "AP50", "AR100"], rows,
                         "COCO's size classes by box area in original pixels: small < 32^2, medium < 96^2, large above. "
                         "n/a: no objects of that size.")


def drawn_section(split: Split, detections: np.ndarray, class_names: list[str], threshold: float, n: int):
    images = []
    for i in range(min(n, len(split))):
        target = split.targets[i]
        height, width = round(target.height * target.scale), round(target.width * target.scale)
        kept = detections[i][detections[i][:, 4] >= threshold]
        canvas = draw_boxes(split.x[i][:height, :width], kept, class_names, target.boxes * target.scale, DRAWN_SIDE)
        images.append((canvas, f"{split.ids[i]}: {len(split.y[i])} true (green), {len(kept)} predicted >= {threshold:g}"))
    return images_section("Test images: predicted and true boxes", images,
                          "Thin green: true boxes. Coloured with a label: predictions scoring at least the recipe's "
                          "score_threshold, in the model's letterboxed resolution.")


def _or_na(value: float) -> float | str:
    return "n/a" if value is None or not np.isfinite(value) or value < 0 else float(value)
