"""The medical report on known scores: operating point, AUC per class, outcomes explained, model card."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.config import make_recipe
from solutions.core.decision import Decision
from solutions.core.evaluation import verdict
from solutions.core.splits import Split
from solutions.medical_imaging.model import build_medical_classifier
from solutions.medical_imaging.recipe import MedicalImagingRecipe
from solutions.medical_imaging.report import Task, choose_operating_points, evaluate_medical_classifier, task_metrics

NAMES = ("normal", "pneumonia")


def binary_case(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    p = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, n), 0.01, 0.99)
    return y, np.stack([1 - p, p], axis=1), rng.integers(0, 256, (n, 28, 28, 1)).astype(np.uint8)


def schema(task="binary", names=NAMES):
    return {"class_names": list(names), "task": task, "positive_index": 1, "image_size": [28, 28], "channels": 1,
            "mean": [0.5], "std": [0.25], "modalities": ["CR"]}


def decision(thresholds):
    return Decision("Youden's J", thresholds, (0.0, 1.0), {"validation": {}, "n_validation": 20})


def test_operating_point_is_chosen_on_validation_by_youden_or_target_sensitivity():
    y, scores, _ = binary_case()
    youden = choose_operating_points("binary", NAMES, 1, y, scores, "youden", 0.9)
    strict = choose_operating_points("binary", NAMES, 1, y, scores, "sensitivity", 0.95)
    assert set(youden.thresholds) == {"pneumonia"}
    assert strict.thresholds["pneumonia"] <= youden.thresholds["pneumonia"]
    assert strict.details["validation"]["pneumonia"]["sensitivity"] >= 0.95
    assert choose_operating_points("multiclass", ("a", "b", "c"), 1, y, scores, "youden", 0.9).thresholds == {}


def test_sensitivity_and_specificity_use_the_stored_threshold_not_argmax():
    y, scores, _ = binary_case()
    task = Task.from_schema(schema(), decision({"pneumonia": 0.9}))
    metrics = task_metrics(task, y, scores, seed=0, intervals=False)
    assert metrics["sensitivity"]["value"] == np.mean(scores[y == 1, 1] >= 0.9)
    assert metrics["specificity"]["value"] == 1.0
    assert metrics["accuracy"]["value"] == np.mean(scores.argmax(axis=1) == y)


def test_multi_label_metrics_are_macro_over_labels():
    rng = np.random.default_rng(0)
    y = (rng.random((50, 3)) < 0.4).astype(int)
    scores = np.clip(y * 0.6 + rng.random((50, 3)) * 0.5, 0, 1)
    scores[:, 2] = rng.random(50)  # an uninformative label pulls the macro AUC down
    task = Task.from_schema(schema("multilabel", ("a", "b", "c")), decision({"a": 0.5, "b": 0.5, "c": 0.5}))
    metrics = task_metrics(task, y, scores, seed=0, intervals=False)
    assert 0.6 < metrics["auc"]["value"] < 0.95
    assert metrics["accuracy"]["value"] == pytest.approx(np.mean(y == (scores >= 0.5)))


def test_report_explains_each_outcome_and_carries_a_model_card():
    y, scores, pixels = binary_case()
    model = build_medical_classifier(schema(), make_recipe(MedicalImagingRecipe, "quick"))
    split = Split("test", pixels, y, np.asarray([f"img{i}" for i in range(len(y))], dtype=object),
                  groups=np.asarray([f"P{i // 2}" for i in range(len(y))], dtype=object))
    train = Split("train", pixels, y, split.ids)
    context = {"group_check": "Split by patient: checked.", "splits": {"train": {"size": 40}}, "data_name": "demo", "model": "resnet"}
    evaluation = evaluate_medical_classifier(model, split, scores, train, schema(), decision({"pneumonia": 0.5}), 0, context)
    assert evaluation.primary_metric == "auc" and evaluation.metrics["auc"]["low"] <= evaluation.metrics["auc"]["value"]
    sections = {s.title: s for s in evaluation.sections}
    captions = [image["caption"] for image in sections["Grad-CAM: true and false positives and negatives"].data["images"]]
    assert {c.split(":")[0] for c in captions} == {"true positive", "false positive", "false negative", "true negative"}
    card = dict(sections["Model card"].data["rows"])
    assert "Not a medical device" in card["Regulatory status"] and "Split by patient: checked." in card["Data"]
    assert sections["Confusion matrix at the operating point"].data["labels"] == ["normal", "pneumonia"]
    assert set(evaluation.baselines) == {"majority class", "logistic regression (16x16 pixels)"}
    assert evaluation.baselines["majority class"]["auc"]["value"] == 0.5
    found = verdict(evaluation.comparison, "auc")
    best = max(evaluation.baselines, key=lambda n: evaluation.baselines[n]["auc"]["value"])
    assert found.baseline == best and found.baseline_value == pytest.approx(evaluation.baselines[best]["auc"]["value"])
    assert found.value == pytest.approx(evaluation.metrics["auc"]["value"])
    assert list(evaluation.predictions.columns) == ["id", "patient", "true", "predicted", "p_normal", "p_pneumonia"]
