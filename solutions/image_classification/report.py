"""What an image-classification report shows: metrics, per-class table, confusion matrix,
confident mistakes, Grad-CAM overlays, and the baselines on the same split."""

from __future__ import annotations

import numpy as np

from solutions.core import metrics as M
from solutions.core.explain import grad_cam, overlay_heatmap
from solutions.core.report import (
    confusion_matrix_section, images_section, metric_entry, table_section,
)
from solutions.core.evaluation import Comparison
from solutions.core.solution import Evaluation
from solutions.core.splits import Split
from solutions.imaging.baseline import logistic_regression_baseline
from solutions.image_classification.metrics import top_k_accuracy

N_MISTAKES = 12
N_GRAD_CAM = 8


def classification_metrics(y: np.ndarray, probabilities: np.ndarray, n_classes: int, top_k: int, seed: int) -> dict:
    predicted = probabilities.argmax(axis=1)
    k = min(top_k, n_classes - 1) if n_classes > 2 else 1
    result = {
        "accuracy": metric_entry(M.bootstrap_interval(M.accuracy, y, predicted, seed=seed)),
        "macro_f1": metric_entry(M.bootstrap_interval(lambda a, b: M.macro_f1(a, b, n_classes), y, predicted, seed=seed)),
    }
    if k > 1:
        result[f"top_{k}_accuracy"] = metric_entry(top_k_accuracy(y, probabilities, k))
    result["expected_calibration_error"] = metric_entry(M.expected_calibration_error(y, probabilities))
    return result


def evaluate_image_classifier(model, split: Split, probabilities: np.ndarray, train: Split | None,
                              class_names: tuple[str, ...], top_k: int, seed: int) -> Evaluation:
    import pandas as pd

    n = len(class_names)
    y, predicted = split.y, probabilities.argmax(axis=1)
    metrics = classification_metrics(y, probabilities, n, top_k, seed)
    baselines, baseline_predictions = {}, {}
    if train is not None:
        majority = M.majority_class_predictions(train.y, len(y))
        baselines["majority class"] = {"accuracy": metric_entry(M.accuracy(y, majority)),
                                       "macro_f1": metric_entry(M.macro_f1(y, majority, n))}
        lr = logistic_regression_baseline(train.x, train.y, split.x, seed)
        baselines["logistic regression (16x16 pixels)"] = classification_metrics(y, lr, n, top_k, seed)
        baseline_predictions = {"majority class": majority, "logistic regression (16x16 pixels)": lr.argmax(axis=1)}
    per_class = M.per_class_scores(y, predicted, class_names)
    sections = [
        table_section("Per-class scores", ["class", "precision", "recall", "f1", "support"],
                      [[r["class"], r["precision"], r["recall"], r["f1"], r["support"]] for r in per_class]),
        confusion_matrix_section("Confusion matrix", M.confusion(y, predicted, n), class_names,
                                 "Rows: true class; columns: predicted class; colour: share of the row."),
    ]
    mistakes = np.flatnonzero(predicted != y)
    if len(mistakes):
        worst = mistakes[np.argsort(-probabilities[mistakes].max(axis=1))][:N_MISTAKES]
        sections.append(images_section("Most confident mistakes", [
            (split.x[i], f"{split.ids[i]}: predicted {class_names[predicted[i]]} ({probabilities[i].max():.2f}), "
                         f"true {class_names[y[i]]}") for i in worst]))
    chosen = np.random.default_rng(seed).choice(len(y), size=min(N_GRAD_CAM, len(y)), replace=False)
    heatmaps = grad_cam(model, split.x[chosen], predicted[chosen])
    sections.append(images_section("Grad-CAM: where the model looked", [
        (overlay_heatmap(split.x[i], heat), f"{split.ids[i]}: predicted {class_names[predicted[i]]}, true {class_names[y[i]]}")
        for i, heat in zip(chosen, heatmaps)],
        "Grad-CAM heatmaps of the predicted class over the last convolutional feature map (red: most influence)."))
    predictions = pd.DataFrame({"id": split.ids, "true": [class_names[i] for i in y],
                                "predicted": [class_names[i] for i in predicted]})
    for j, name in enumerate(class_names):
        predictions[f"p_{name}"] = probabilities[:, j]
    return Evaluation(metrics=metrics, sections=sections, primary_metric="accuracy", baselines=baselines,
                      predictions=predictions, comparison=Comparison(M.accuracy, y, predicted, baseline_predictions, seed=seed))
