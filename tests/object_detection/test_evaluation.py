"""COCO evaluation: pycocotools' numbers, and the bootstrap's re-accumulation reproducing them."""

from __future__ import annotations

import numpy as np

from solutions.object_detection.coco import coco_ground_truth, coco_results
from solutions.object_detection.evaluation import accumulate_ap, bootstrap_map, coco_evaluate


def random_case(seed=0, n_images=12):
    rng = np.random.default_rng(seed)
    truth_boxes, truth_classes, found = [], [], []
    for _ in range(n_images):
        n = int(rng.integers(1, 5))
        xy = rng.uniform(0, 150, (n, 2))
        wh = rng.uniform(10, 80, (n, 2))
        boxes = np.column_stack([xy, xy + wh])
        classes = rng.integers(0, 3, n)
        truth_boxes.append(boxes)
        truth_classes.append(classes)
        noisy = boxes + rng.normal(0, 6, boxes.shape)
        extra = np.column_stack([rng.uniform(0, 150, (2, 2)), rng.uniform(160, 200, (2, 2))])
        detections = np.vstack([np.column_stack([noisy, rng.uniform(0.3, 1, n), classes]),
                                np.column_stack([extra, rng.uniform(0, 0.6, 2), rng.integers(0, 3, 2)])])
        found.append(detections)
    ids = list(range(1, n_images + 1))
    truth = coco_ground_truth(ids, truth_boxes, truth_classes, [(256, 256)] * n_images, ["a", "b", "c"])
    return truth, coco_results(ids, found), truth_boxes, truth_classes


def test_reaccumulation_on_the_full_sample_equals_pycocotools():
    truth, results, _, _ = random_case()
    result = coco_evaluate(truth, results)
    per_iou = accumulate_ap(result, np.arange(12))
    assert np.isclose(per_iou.mean(), result.stats["mAP50-95"], atol=1e-12)
    assert np.isclose(per_iou[0], result.stats["mAP50"], atol=1e-12)
    assert 0 < result.stats["mAP50-95"] < result.stats["mAP50"] < 1


def test_perfect_detections_score_one_and_the_interval_holds_the_value():
    truth, _, boxes, classes = random_case(seed=1)
    perfect = coco_results(list(range(1, 13)), [np.column_stack([b, np.ones(len(b)), c]) for b, c in zip(boxes, classes)])
    result = coco_evaluate(truth, perfect)
    assert result.stats["mAP50-95"] == 1.0
    intervals = bootstrap_map(result, n_resamples=50)
    assert intervals["mAP50-95"].low == intervals["mAP50-95"].high == 1.0
    truth, results, _, _ = random_case(seed=2)
    noisy = bootstrap_map(coco_evaluate(truth, results), n_resamples=200)
    assert noisy["mAP50-95"].low < noisy["mAP50-95"].value < noisy["mAP50-95"].high


def test_no_detections_at_all_scores_zero():
    truth, _, _, _ = random_case(seed=3)
    result = coco_evaluate(truth, [])
    assert result.stats["mAP50-95"] == 0.0 and result.class_ap(0) == 0.0


def test_the_verdict_resamples_images_for_the_detector_and_the_baseline_alike():
    from solutions.core.metrics import paired_difference
    from solutions.object_detection.evaluation import image_matches, map_over_images

    truth, results, boxes, classes = random_case(seed=2, n_images=30)
    noisy = coco_evaluate(truth, results)
    perfect = coco_evaluate(truth, coco_results(list(range(1, 31)), [np.column_stack([b, np.ones(len(b)), c])
                                                                     for b, c in zip(boxes, classes)]))
    metric, images = map_over_images(noisy), np.arange(30)
    assert np.isclose(metric(images, image_matches(noisy)), noisy.stats["mAP50-95"], atol=1e-12)
    assert np.isclose(metric(images, image_matches(perfect)), 1.0)
    same = paired_difference(metric, images, image_matches(noisy), image_matches(noisy), n_resamples=50)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    better = paired_difference(metric, images, image_matches(perfect), image_matches(noisy), n_resamples=200, seed=4)
    assert np.isclose(better.value, 1.0 - noisy.stats["mAP50-95"]) and 0 < better.low <= better.value <= better.high
    alone = bootstrap_map(noisy, n_resamples=200, seed=4)["mAP50-95"]  # the same images drawn: the perfect one scores 1
    assert np.isclose(better.low, 1 - alone.high) and np.isclose(better.high, 1 - alone.low)
