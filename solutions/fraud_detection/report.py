"""What a fraud report shows: ranking metrics, the alert threshold and its costs, curves, score
distributions, the reasons behind a few alerts, and the baselines on the same split."""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core import metrics as M
from solutions.core.report import (
    confusion_matrix_section, histogram_section, lines_section, metric_entry, table_section,
)
from solutions.core.evaluation import Comparison
from solutions.core.solution import Evaluation
from solutions.core.splits import Split
from solutions.tables.baselines import gradient_boosting_scores, logistic_regression_scores
from solutions.fraud_detection.metrics import alert_rate_metrics, average_precision, precision_recall_points, recall_at_fpr
from solutions.fraud_detection.thresholds import evaluate_threshold, missed_costs, threshold_table

N_EXPLAINED = 8


def ranking_metrics(y: np.ndarray, scores: np.ndarray, alert_budget: float, seed: int, intervals: bool = True) -> dict:
    """AUPRC (primary), ROC-AUC, recall at 1% false positives, precision and recall at the alert budget."""
    at_budget = alert_rate_metrics(y, scores, alert_budget)
    if intervals:
        auprc = metric_entry(M.bootstrap_interval(average_precision, y, scores, seed=seed))
        auc = metric_entry(M.bootstrap_interval(M.roc_auc, y, scores, seed=seed))
    else:
        auprc, auc = metric_entry(average_precision(y, scores)), metric_entry(M.roc_auc(y, scores))
    return {
        "auprc": auprc,
        "roc_auc": auc,
        "recall_at_1pct_fpr": metric_entry(recall_at_fpr(y, scores, 0.01)),
        "precision_at_budget": metric_entry(at_budget["precision"]),
        "recall_at_budget": metric_entry(at_budget["recall"]),
    }


def evaluate_fraud(solution, split: Split, scores: np.ndarray, train: Split | None, decision) -> Evaluation:
    """The fraud report for `scores` (the positive class's score per row of `split`) at the run's `decision`."""
    import pandas as pd

    recipe, schema = solution._recipe, solution.schema_
    y = np.asarray(split.y)
    scores = np.asarray(scores, dtype=float).reshape(-1)
    threshold = decision.threshold
    miss_cost = missed_costs(y, solution.amounts(split.x, recipe), recipe.missed_fraud_cost)
    chosen = evaluate_threshold(threshold, y, scores, miss_cost, recipe.review_cost)
    metrics = ranking_metrics(y, scores, recipe.alert_budget, recipe.seed)
    metrics["cost_at_threshold"] = metric_entry(chosen.cost)
    metrics["savings_vs_no_model"] = metric_entry(chosen.savings)

    baselines: dict[str, dict] = {}
    baseline_scores: dict[str, np.ndarray] = {}
    if train is not None:
        for name, fit in (("logistic regression", logistic_regression_scores),
                          ("HistGradientBoosting", gradient_boosting_scores)):
            baseline_scores[name] = fit(train.x, train.y, split.x, schema, recipe.seed)
            baselines[name] = ranking_metrics(y, baseline_scores[name], recipe.alert_budget, recipe.seed, intervals=False)

    names = schema["class_names"]
    flagged = scores >= threshold
    sections = [
        _decision_section(decision, chosen, recipe, int(y.sum()), len(y)),
        table_section("Thresholds on the test split", ["which", "threshold", "alerts", "alert rate", "caught",
                                                        "precision", "recall", "cost", "savings"],
                      [[r["which"], r["threshold"], r["alerts"], r["alert_rate"], r["caught"], r["precision"], r["recall"],
                        r["cost"], r["savings"]] for r in threshold_table(y, scores, threshold, miss_cost=miss_cost,
                                                                          review_cost=recipe.review_cost)],
                      "Each row flags every claim scoring at least the threshold. Savings: the cost of no model "
                      "(every fraud missed) minus the cost with this threshold."),
        confusion_matrix_section("Confusion matrix at the chosen threshold", M.confusion(y, flagged.astype(int), 2),
                                 tuple(names), "Rows: true class; columns: flagged (1) or not (0)."),
        _curve_section("Precision-recall curve", y, {"this model": scores, **baseline_scores}, "pr"),
        _curve_section("ROC curve", y, {"this model": scores, **baseline_scores}, "roc"),
        histogram_section("Score distribution per class", {names[0]: scores[y == 0], names[1]: scores[y == 1]},
                          "score", note=f"Shares of each class's rows per score bin; scores >= {threshold:.4g} are flagged."),
    ]
    sections.append(_reasons_section(solution, split, scores, flagged))
    notes = getattr(solution, "training_notes_", None)  # set by fit; a run loaded from disk has none
    if notes:
        sections.append(table_section("Training notes", ["what", "value"], [[k, v] for k, v in notes.items()]))
    predictions = pd.DataFrame({"id": split.ids, "true": [names[i] for i in y], "score": scores, "flag": flagged.astype(int)})
    return Evaluation(metrics=metrics, sections=sections, primary_metric="auprc", baselines=baselines,
                      predictions=predictions, comparison=Comparison(average_precision, y, scores, baseline_scores, seed=recipe.seed))


def _decision_section(decision, test, recipe, positives: int, n: int):
    rule = {"cost": f"least expected cost (missed fraud {'= the row amount ' + repr(recipe.amount_column) if recipe.amount_column else f'costs {recipe.missed_fraud_cost:g}'}, "
                    f"an alert costs {recipe.review_cost:g} to review)",
            "budget": f"alert budget: the top {recipe.alert_budget:.1%} of rows",
            "recall": f"catch at least {recipe.target_recall:.0%} of the frauds"}[decision.rule]
    val = decision.details["validation"]
    rows = [["validation", val["threshold"], val["alerts"], val["precision"], val["recall"], val["cost"], val["savings"]],
            ["test", test.threshold, test.alerts, test.precision, test.recall, test.cost, test.savings]]
    return table_section(f"Decision threshold: {decision.threshold:.4g}",
                         ["split", "threshold", "alerts", "precision", "recall", "cost", "savings vs no model"], rows,
                         f"Chosen on the validation split by the rule: {rule}. Test: {positives} frauds in {n} rows.")


def _curve_section(title: str, y: np.ndarray, curves: dict[str, np.ndarray], kind: str):
    series = []
    for name, values in curves.items():
        if kind == "pr":
            points = precision_recall_points(y, values)
            series.append({"name": f"{name} (AUPRC {average_precision(y, values):.3f})", "x": points["recall"], "y": points["precision"]})
        else:
            points = M.roc_points(y, values)
            series.append({"name": f"{name} (AUC {M.roc_auc(y, values):.3f})", "x": points["fpr"], "y": points["tpr"]})
    if kind == "pr":
        rate = float(np.mean(y))
        series.append({"name": f"no skill ({rate:.3f})", "x": [0, 1], "y": [rate, rate], "style": "--"})
        return lines_section(title, series, "recall", "precision")
    series.append({"name": "chance", "x": [0, 1], "y": [0, 1], "style": "--"})
    return lines_section(title, series, "false-positive rate", "true-positive rate")


def _reasons_section(solution, split: Split, scores: np.ndarray, flagged: np.ndarray):
    order = np.argsort(-scores, kind="stable")
    picked = [i for i in order if flagged[i]][:N_EXPLAINED] or list(order[:N_EXPLAINED])
    frame = split.x.iloc[picked].reset_index(drop=True)
    _, attributions = solution.explain_rows(frame)
    columns = solution.feature_columns()
    names = solution.schema_["class_names"]
    rows = []
    for k, i in enumerate(picked):
        top = np.argsort(-attributions[k])[:max(1, solution._recipe.n_reasons)]
        reasons = "; ".join(f"{columns[j]}={_value(frame.loc[k, columns[j]])} ({attributions[k, j]:+.2f})"
                            for j in top if attributions[k, j] > 0)
        rows.append([str(split.ids[i]), float(scores[i]), names[int(split.y[i])], reasons or "(none above the reference)"])
    how = ("per-column reconstruction error (what the autoencoder found unusual)" if solution._recipe.detector == "autoencoder"
           else "gradient x (input - reference) of the classifier's logit, summed per column, against the typical "
                "training row (medians and most frequent categories)")
    return table_section("Top alerts and the columns that drove them", ["id", "score", "true class", "top reasons"], rows,
                         f"The highest-scoring flagged test rows. Reasons: {how}; larger is more suspicious.")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
