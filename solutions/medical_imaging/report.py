"""What a medical-imaging report shows.

AUC first (per class, macro-averaged for several), with bootstrap intervals;
accuracy; sensitivity and specificity at the operating point chosen on the
validation split; calibration (expected calibration error, reliability
diagram); ROC curves; Grad-CAM overlays of true and false positives and
negatives; the patient-split check; a model card; and baselines trained on
the same split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from solutions.core.decision import Decision
from solutions.core import metrics as M
from solutions.core.explain import grad_cam, overlay_heatmap
from solutions.imaging.baseline import logistic_regression_baseline
from solutions.core.report import (
    Section, confusion_matrix_section, images_section, lines_section, metric_entry, table_section, text_section,
)
from solutions.core.evaluation import Comparison
from solutions.core.solution import Evaluation
from solutions.core.splits import Split
from solutions.medical_imaging.metrics import binary_calibration_error, macro_roc_auc, operating_threshold, sensitivity, specificity

N_PER_OUTCOME = 3
PER_CLASS_RESAMPLES = 200
MAX_CURVES = 10


@dataclass(frozen=True)
class Task:
    """How to read the model's scores: "binary" (positive class `positive`), "multiclass" or "multilabel"."""

    kind: str
    class_names: tuple[str, ...]
    positive: int = 1
    thresholds: tuple[float, ...] = ()

    @classmethod
    def from_schema(cls, schema: dict[str, Any], decision: Decision | None) -> "Task":
        """The task of a trained model, with the thresholds of its decision (0.5 where it has none)."""
        names = tuple(schema["class_names"])
        chosen = decision.thresholds if decision is not None else {}
        return cls(schema["task"], names, int(schema.get("positive_index", 1)),
                   tuple(float(chosen.get(n, 0.5)) for n in names))

    def binary_view(self, y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, K) 0/1 truths and (N, K) scores, one column per class (binary: the positive class only)."""
        if self.kind == "multilabel":
            return np.asarray(y), scores
        onehot = np.eye(len(self.class_names), dtype=np.int64)[np.asarray(y)]
        if self.kind == "binary":
            return onehot[:, [self.positive]], scores[:, [self.positive]]
        return onehot, scores

    def decisions(self, scores: np.ndarray) -> np.ndarray:
        """(N, K) 0/1 decisions matching binary_view: thresholds (binary, multi-label) or argmax (multi-class)."""
        if self.kind == "multiclass":
            return np.eye(len(self.class_names), dtype=np.int64)[scores.argmax(axis=1)]
        columns = [self.positive] if self.kind == "binary" else range(len(self.class_names))
        return np.stack([scores[:, k] >= self.thresholds[k] for k in columns], axis=1).astype(np.int64)

    def column_names(self) -> tuple[str, ...]:
        return (self.class_names[self.positive],) if self.kind == "binary" else self.class_names


def choose_operating_points(task_kind: str, class_names: tuple[str, ...], positive: int, y: np.ndarray,
                            scores: np.ndarray, method: str, target_sensitivity: float) -> Decision:
    """Thresholds per class chosen on validation data, and the validation sensitivity/specificity at them.

    Binary: the positive class's threshold; multi-label: one per label;
    multi-class predicts the highest probability and has none.
    """
    if task_kind == "multiclass":
        return Decision(rule="argmax (multi-class)")
    task = Task(task_kind, class_names, positive, tuple([0.5] * len(class_names)))
    truths, columns = task.binary_view(y, scores)
    names = task.column_names()
    target = target_sensitivity if method == "sensitivity" else None
    thresholds, validation = {}, {}
    for k, name in enumerate(names):
        t = operating_threshold(truths[:, k], columns[:, k], target)
        undefined = not np.isfinite(t)
        t = 0.5 if undefined else t
        decided = columns[:, k] >= t
        thresholds[name] = float(t)
        validation[name] = {"sensitivity": sensitivity(truths[:, k], decided), "specificity": specificity(truths[:, k], decided),
                            "undefined": undefined}
    label = ("the Youden index J (sensitivity + specificity - 1)" if target is None
             else f"the highest threshold reaching sensitivity {target:.2f}")
    return Decision(rule=label, thresholds=thresholds, score_range=(0.0, 1.0),
                    details={"validation": validation, "n_validation": int(len(y))})


def task_metrics(task: Task, y: np.ndarray, scores: np.ndarray, seed: int, intervals: bool = True) -> dict[str, dict[str, float]]:
    """AUC, accuracy, sensitivity, specificity and ECE of `scores` on truths `y`, with bootstrap intervals."""
    def entry(metric, *arrays):
        return metric_entry(M.bootstrap_interval(metric, *arrays, seed=seed) if intervals else metric(*arrays))

    truths, columns = task.binary_view(y, scores)
    decided = task.decisions(scores)
    result = {"auc": entry(macro_roc_auc, truths, columns)}
    if task.kind == "multilabel":
        result["accuracy"] = entry(lambda t, s: float(np.mean(t == (s >= 0.5))), truths, columns)
    else:
        result["accuracy"] = entry(M.accuracy, np.asarray(y), scores.argmax(axis=1))
    result["sensitivity"] = entry(_macro(sensitivity), truths, decided)
    result["specificity"] = entry(_macro(specificity), truths, decided)
    if task.kind == "multiclass":
        result["expected_calibration_error"] = metric_entry(M.expected_calibration_error(y, scores))
    else:
        result["expected_calibration_error"] = metric_entry(binary_calibration_error(truths, columns))
    return result


def _macro(metric):
    def macro(truths, decided):
        values = [metric(truths[:, k], decided[:, k]) for k in range(truths.shape[1])]
        values = [v for v in values if np.isfinite(v)]
        return float(np.mean(values)) if values else float("nan")
    return macro


def evaluate_medical_classifier(model, split: Split, scores: np.ndarray, train: Split | None, schema: dict[str, Any],
                                decision: Decision | None, seed: int, context: dict[str, Any]) -> Evaluation:
    """The full evaluation of a medical classifier on `split` at its operating point (see the module docstring)."""
    task = Task.from_schema(schema, decision)
    metrics = task_metrics(task, split.y, scores, seed)
    baselines, baseline_scores = _baselines(task, split, train, seed) if train is not None else ({}, {})
    truths, columns = task.binary_view(split.y, scores)
    comparison = Comparison(macro_roc_auc, truths, columns, {name: task.binary_view(split.y, values)[1]
                                                             for name, values in baseline_scores.items()}, seed=seed)
    sections = [
        _operating_point_section(task, decision),
        _per_class_section(task, split.y, scores, seed),
    ]
    confusion = _confusion_section(task, split.y, scores)
    if confusion is not None:
        sections.append(confusion)
    sections += [_roc_section(task, split.y, scores), _reliability_section(task, split.y, scores)]
    sections.append(_grad_cam_section(model, task, split, scores))
    sections.append(text_section("Patient-level split", context["group_check"]))
    sections.append(_model_card(task, schema, metrics, context))
    return Evaluation(metrics=metrics, sections=sections, primary_metric="auc", baselines=baselines,
                      predictions=prediction_frame(task, split, scores), comparison=comparison)


def prediction_frame(task: Task, split: Split, scores: np.ndarray):
    """One row per image: id, patient, true and predicted labels, and each class's probability."""
    import pandas as pd

    frame = pd.DataFrame({"id": split.ids})
    if split.groups is not None:
        frame["patient"] = split.groups
    frame["true"] = labels_as_class_names(task, np.asarray(split.y))
    frame["predicted"] = predicted_text(task, scores)
    for j, name in enumerate(task.class_names):
        frame[f"p_{name}"] = scores[:, j]
    return frame


def labels_as_class_names(task: Task, y: np.ndarray) -> list[str]:
    """Encoded labels (class indices, or 0/1 rows when multi-label) as class names, several joined by "|"."""
    if task.kind == "multilabel":
        return ["|".join(n for n, v in zip(task.class_names, row) if v) for row in y]
    return [task.class_names[i] for i in y]


def predicted_text(task: Task, scores: np.ndarray) -> list[str]:
    """Decisions as labels: the operating threshold (binary), argmax (multi-class), labels over their thresholds."""
    if task.kind == "multilabel":
        return labels_as_class_names(task, task.decisions(scores))
    if task.kind == "binary":
        negative = 1 - task.positive
        return [task.class_names[task.positive] if d else task.class_names[negative] for d in task.decisions(scores)[:, 0]]
    return [task.class_names[i] for i in scores.argmax(axis=1)]


# ------------------------------------------------------------------ sections
def _operating_point_section(task: Task, decision: Decision | None) -> Section:
    chosen = {} if decision is None else {"method": decision.rule, "thresholds": decision.thresholds, **decision.details}
    if task.kind == "multiclass":
        return text_section("Operating point", "Multi-class: each image is assigned its most probable class; "
                            "sensitivity and specificity are one-vs-rest per class, macro-averaged.")
    rows = []
    for name in task.column_names():
        val = chosen.get("validation", {}).get(name, {})
        note = "validation split had one class: 0.5 used" if val.get("undefined") else ""
        rows.append([name, chosen.get("thresholds", {}).get(name, float("nan")), val.get("sensitivity", float("nan")),
                     val.get("specificity", float("nan")), note])
    return table_section("Operating point", ["class", "threshold", "validation sensitivity", "validation specificity", "note"], rows,
                         f"Decision thresholds on the probability of each class, chosen on the validation split "
                         f"({chosen.get('n_validation', '?')} images) by {chosen.get('method', '?')}, then applied unchanged to this data. "
                         "Accuracy in the headline table is at the most probable class (threshold 0.5), as MedMNIST reports it.")


def _per_class_section(task: Task, y: np.ndarray, scores: np.ndarray, seed: int) -> Section:
    truths, columns = task.binary_view(y, scores)
    decided = task.decisions(scores)
    rows = []
    for k, name in enumerate(task.column_names()):
        auc = M.bootstrap_interval(M.roc_auc, truths[:, k], columns[:, k], n_resamples=PER_CLASS_RESAMPLES, seed=seed)
        rows.append([name, int(truths[:, k].sum()), float(truths[:, k].mean()), auc.value, auc.low, auc.high,
                     sensitivity(truths[:, k], decided[:, k]), specificity(truths[:, k], decided[:, k])])
    how = "at the operating point" if task.kind != "multiclass" else "one-vs-rest at the most probable class"
    return table_section("Per-class AUC, sensitivity and specificity",
                         ["class", "positives", "prevalence", "AUC", "AUC low", "AUC high", "sensitivity", "specificity"], rows,
                         f"AUC one-vs-rest with a 95% bootstrap interval ({PER_CLASS_RESAMPLES} resamples); sensitivity and specificity {how}.")


def _confusion_section(task: Task, y: np.ndarray, scores: np.ndarray) -> Section | None:
    if task.kind == "multilabel":
        return None
    if task.kind == "binary":
        truth = (np.asarray(y) == task.positive).astype(int)
        matrix = M.confusion(truth, task.decisions(scores)[:, 0], 2)
        names = (task.class_names[1 - task.positive], task.class_names[task.positive])
        return confusion_matrix_section("Confusion matrix at the operating point", matrix, names,
                                        "Rows: true class; columns: decision at the validation-chosen threshold.")
    return confusion_matrix_section("Confusion matrix", M.confusion(y, scores.argmax(axis=1), len(task.class_names)),
                                    task.class_names, "Rows: true class; columns: most probable class.")


def _roc_section(task: Task, y: np.ndarray, scores: np.ndarray) -> Section:
    truths, columns = task.binary_view(y, scores)
    series = []
    decided = task.decisions(scores)
    for k, name in list(enumerate(task.column_names()))[:MAX_CURVES]:
        if len(np.unique(truths[:, k])) < 2:
            continue
        points = M.roc_points(truths[:, k], columns[:, k])
        series.append({"name": f"{name} (AUC {M.roc_auc(truths[:, k], columns[:, k]):.3f})", "x": points["fpr"], "y": points["tpr"]})
        if task.kind == "binary":
            fpr = 1 - specificity(truths[:, k], decided[:, k])
            series.append({"name": "operating point", "x": [fpr], "y": [sensitivity(truths[:, k], decided[:, k])],
                           "style": "none", "marker": "o"})
    series.append({"name": "chance", "x": [0, 1], "y": [0, 1], "style": ":"})
    return lines_section("ROC curve", series, "1 - specificity (false-positive rate)", "sensitivity (true-positive rate)",
                         "One-vs-rest per class" + (f" (first {MAX_CURVES} classes)" if len(task.column_names()) > MAX_CURVES else "") + ".")


def _reliability_section(task: Task, y: np.ndarray, scores: np.ndarray) -> Section:
    if task.kind == "multiclass":
        bins = M.reliability_bins(scores.argmax(axis=1) == np.asarray(y), scores.max(axis=1))
        note = "Top-class confidence against the share of correct predictions, per probability bin."
    else:
        truths, columns = task.binary_view(y, scores)
        bins = M.reliability_bins(truths, columns)
        note = "Predicted probability against the observed rate, per probability bin" + (
            " (all labels pooled)." if task.kind == "multilabel" else ".")
    series = [{"name": "model", "x": bins["predicted"], "y": bins["observed"], "marker": "o"},
              {"name": "perfect calibration", "x": [0, 1], "y": [0, 1], "style": ":"}]
    return lines_section("Reliability diagram", series, "predicted probability", "observed frequency",
                         note + " Points on the diagonal are calibrated; bins: " + ", ".join(map(str, bins["count"])) + " images.")


def _grad_cam_section(model, task: Task, split: Split, scores: np.ndarray) -> Section:
    truths, columns = task.binary_view(split.y, scores)
    decided = task.decisions(scores)
    if task.kind == "multiclass":
        predicted = scores.argmax(axis=1)
        correct = np.flatnonzero(predicted == split.y)
        wrong = np.flatnonzero(predicted != split.y)
        picks = [("correct", i) for i in correct[np.argsort(-scores[correct].max(axis=1))][:2 * N_PER_OUTCOME]]
        picks += [("mistake", i) for i in wrong[np.argsort(-scores[wrong].max(axis=1))][:2 * N_PER_OUTCOME]]
        target = {i: int(predicted[i]) for _, i in picks}
        explained = "the predicted class"
    else:
        k = int(np.argmax(truths.sum(axis=0)))  # the most frequent finding of multi-label data
        class_index = task.positive if task.kind == "binary" else k
        p, t, d = columns[:, k], truths[:, k].astype(bool), decided[:, k].astype(bool)
        outcomes = {"true positive": (t & d, -p), "false positive": (~t & d, -p),
                    "false negative": (t & ~d, p), "true negative": (~t & ~d, p)}
        picks = []
        for outcome, (mask, order) in outcomes.items():
            chosen = np.flatnonzero(mask)
            picks += [(outcome, i) for i in chosen[np.argsort(order[chosen])][:N_PER_OUTCOME]]
        target = {i: class_index for _, i in picks}
        explained = f"P({task.class_names[class_index]})"
    if not picks:
        return text_section("Grad-CAM", "No images to explain.")
    index = np.asarray([i for _, i in picks])
    heatmaps = grad_cam(model, np.asarray(split.x[index], dtype=np.float32), np.asarray([target[i] for i in index]))
    images = []
    for (outcome, i), heat in zip(picks, heatmaps):
        caption = f"{outcome}: {split.ids[i]}, P({task.class_names[target[i]]})={scores[i, target[i]]:.2f}"
        images.append((overlay_heatmap(split.x[i], heat), caption))
    return images_section("Grad-CAM: true and false positives and negatives", images,
                          f"Grad-CAM of {explained} over the last convolutional feature map (red: most influence), for the most "
                          "confident images of each outcome at the operating point. A heatmap shows where the model looked, "
                          "not why; check that it falls on anatomy rather than markers, borders or text.")


def _model_card(task: Task, schema: dict[str, Any], metrics: dict[str, dict[str, float]], context: dict[str, Any]) -> Section:
    auc, sens, spec = metrics["auc"], metrics["sensitivity"], metrics["specificity"]
    sizes = ", ".join(f"{name} {entry['size']}" for name, entry in context.get("splits", {}).items()) or "not recorded"
    kind = {"binary": f"binary ({task.class_names[1 - task.positive]} vs {task.class_names[task.positive]}, positive: "
                      f"{task.class_names[task.positive]})",
            "multiclass": f"multi-class ({len(task.class_names)} classes)",
            "multilabel": f"multi-label ({len(task.class_names)} findings, one sigmoid each)"}[task.kind]
    modality = ", ".join(schema.get("modalities") or []) or "not recorded (PNG, JPEG or arrays)"
    rows = [
        ["Model", f"{context.get('model', '?')} classifier, {kind}, input {schema['image_size'][0]}x{schema['image_size'][1]} "
                  f"{'gray' if schema['channels'] == 1 else 'colour'}."],
        ["Intended use", "Research and education: studying how well a CNN separates these classes on data like the training "
                         "data, and triaging research datasets. Outputs are probabilities for a human expert to review."],
        ["Not intended for", "Diagnosis, screening, treatment decisions or any clinical use; data from other scanners, "
                             "sites, populations, views or image sizes than the training data without new validation."],
        ["Data", f"{context.get('data_name', '?')}; images per split: {sizes}; modality: {modality}. "
                 f"{context['group_check']}"],
        ["Metrics", f"Test AUC {auc['value']:.3f} (95% CI {auc.get('low', float('nan')):.3f}-{auc.get('high', float('nan')):.3f}); "
                    f"sensitivity {sens['value']:.3f} and specificity {spec['value']:.3f} at the operating point chosen on "
                    f"validation data; ECE {metrics['expected_calibration_error']['value']:.3f}."],
        ["Limitations", "Evaluated on a single held-out split of one dataset, not on external or prospective data; "
                        "performance in subgroups (age, sex, scanner, site) was not assessed; probabilities may be miscalibrated "
                        "under a different prevalence; low-resolution inputs lose fine findings; Grad-CAM is a coarse, "
                        "qualitative explanation."],
        ["Regulatory status", "Not a medical device. Not cleared or approved by any regulator (e.g. FDA, CE marking). "
                              "Do not use to make decisions about patients."],
    ]
    return table_section("Model card", ["field", "content"], rows)


# ------------------------------------------------------------------ baselines
def _baselines(task: Task, split: Split, train: Split, seed: int) -> tuple[dict[str, dict[str, dict[str, float]]],
                                                                           dict[str, np.ndarray]]:
    """Majority class (prior probabilities) and logistic regression on 16x16 pixels, trained on the same split:
    their metrics, and their (N, K) scores of the test images."""
    n = len(split.y)
    if task.kind == "multilabel":
        prior = np.tile(np.asarray(train.y, dtype=float).mean(axis=0), (n, 1))
    else:
        prior = np.tile(np.bincount(train.y, minlength=len(task.class_names)) / len(train.y), (n, 1))
    logistic = logistic_regression_baseline(train.x, train.y, split.x, seed)
    if logistic.shape[1] < len(task.class_names):
        logistic = np.pad(logistic, ((0, 0), (0, len(task.class_names) - logistic.shape[1])))
    # No validation-chosen thresholds exist for the baselines, so they are compared on the threshold-free metrics.
    keep = ("auc", "accuracy", "expected_calibration_error")
    scores = {"majority class": prior, "logistic regression (16x16 pixels)": logistic}
    return ({name: {k: v for k, v in task_metrics(task, split.y, values, seed, intervals=False).items() if k in keep}
             for name, values in scores.items()}, scores)
