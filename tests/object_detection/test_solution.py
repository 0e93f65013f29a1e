"""The object-detection solution end to end on the bundled sample: it learns, reports, saves and predicts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solutions.object_detection import ObjectDetectionSolution


@pytest.fixture(scope="module")
def trained():
    solution = ObjectDetectionSolution(recipe="quick").fit("shape_scenes", progress=False)
    return solution, solution.evaluate()


def test_quick_recipe_learns_to_find_the_shapes(trained):
    solution, report = trained
    assert report.primary_metric == "mAP50-95"
    assert report.metrics["mAP50"]["value"] > 0.3
    assert report.metrics["mAP50"]["value"] > 5 * report.metrics["baseline/class-mean box/mAP50"]["value"]
    assert report.metrics["mAP50-95"]["low"] <= report.metrics["mAP50-95"]["value"] <= report.metrics["mAP50-95"]["high"]
    verdict = report.verdict  # images resampled: the same images for the detector and the baseline
    assert report.sections[0].title == "Verdict against class-mean box" and verdict.baseline == "class-mean box"
    assert verdict.value == pytest.approx(report.metrics["mAP50-95"]["value"], abs=1e-9)
    assert verdict.baseline_value == pytest.approx(report.metrics["baseline/class-mean box/mAP50-95"]["value"], abs=1e-9)
    assert verdict.low <= verdict.difference <= verdict.high


def test_report_has_per_class_ap_pr_curves_sizes_drawn_images_and_the_backbone(trained):
    _, report = trained
    titles = {s.title: s for s in report.sections}
    per_class = titles["Per-class AP"]
    assert [row[0] for row in per_class.data["rows"]] == ["circle", "square", "triangle"]
    assert len(titles["Precision-recall curves per class (IoU 0.5)"].data["series"]) == 3
    assert [row[0] for row in titles["AP by object size"].data["rows"]] == ["small", "medium", "large"]
    assert len(titles["Test images: predicted and true boxes"].data["images"]) == 4
    data = titles["Data"]
    assert "Class counts are objects" in data.note
    assert titles["Training notes"].data["rows"] == [["backbone", "cnn (trained from scratch)"]]


def test_report_files_include_the_coco_json_the_metrics_came_from(trained, tmp_path):
    from pycocotools.coco import COCO

    solution, report = trained
    solution.write_report(tmp_path, report)
    truth = json.loads((tmp_path / "ground_truth_coco.json").read_text())
    results = json.loads((tmp_path / "predictions_coco.json").read_text())
    assert len(truth["images"]) == len(solution.splits_.test)
    assert results and {"image_id", "category_id", "bbox", "score"} <= set(results[0])
    loaded = COCO(str(tmp_path / "ground_truth_coco.json")).loadRes(str(tmp_path / "predictions_coco.json"))
    assert len(loaded.getAnnIds()) == len(results)
    predictions = (tmp_path / "predictions.csv").read_text().splitlines()
    assert predictions[0] == "image,class,score,x1,y1,x2,y2" and len(predictions) == len(results) + 1


def test_predict_maps_boxes_back_to_each_images_own_size(trained):
    from solutions.object_detection.data import make_shape_scenes

    solution, _ = trained
    images, boxes, _ = make_shape_scenes(n_images=3, size=128, seed=0)
    big = np.stack([np.kron(img, np.ones((2, 2, 1), np.uint8)) for img in images])  # 256x256, boxes doubled
    small_frame = solution.predict(images, threshold=0.3)
    big_frame = solution.predict(big, threshold=0.3)
    assert list(small_frame.columns) == ["file", "class", "score", "x1", "y1", "x2", "y2"]
    assert len(small_frame) and big_frame[["x1", "y1", "x2", "y2"]].to_numpy().max() > 128
    first_small = small_frame[small_frame.file == "array[0]"].iloc[0]
    first_big = big_frame[big_frame.file == "array[0]"].sort_values("score", ascending=False).iloc[0]
    assert np.allclose(first_big[["x1", "y1", "x2", "y2"]].astype(float), 2 * first_small[["x1", "y1", "x2", "y2"]].astype(float), atol=6)


def test_evaluate_on_other_labelled_data_in_voc(trained, tmp_path):
    from tests.object_detection.conftest import write_voc

    solution, _ = trained
    folder = write_voc(tmp_path / "voc", n_images=12, size=128, seed=11, splits=(4, 4, 4))
    report = solution.evaluate(str(folder))
    assert report.metrics["mAP50"]["value"] > 0.2
    assert not any(key.startswith("baseline/") for key in report.metrics)
