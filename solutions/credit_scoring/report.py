"""What a credit report shows: discrimination (AUC, Gini, KS) with intervals, calibration, costs at
the chosen threshold, score bands, stability (PSI), metrics by group, reason codes, and the
WOE scorecard and gradient-boosting baselines on the same split."""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core import metrics as M
from solutions.core.report import histogram_section, lines_section, metric_entry, table_section
from solutions.core.evaluation import Comparison
from solutions.core.solution import Evaluation
from solutions.core.splits import Split
from solutions.tables.columns import categorical_text, feature_names
from solutions.tables.baselines import gradient_boosting_scores
from solutions.credit_scoring.metrics import brier_score, gini, ks_points, ks_statistic, population_stability_index
from solutions.credit_scoring.scorecard import decision_cost, expected_cost_threshold
from solutions.credit_scoring.woe import WOEScorecard

N_REASON_ROWS = 8


def credit_metrics(y: np.ndarray, p: np.ndarray, threshold: float, costs: tuple[float, float], seed: int,
                   intervals: bool = True) -> dict[str, dict[str, float]]:
    """AUC, Gini, KS, Brier score, cost per applicant and approval rate (y: 1 = bad, p: P(bad))."""
    cost = lambda a, b: decision_cost(a, b, threshold, *costs)  # noqa: E731
    entry = (lambda f: metric_entry(M.bootstrap_interval(f, y, p, seed=seed))) if intervals else (lambda f: metric_entry(f(y, p)))
    return {
        "auc": entry(M.roc_auc), "gini": entry(gini), "ks": entry(ks_statistic),
        "brier": entry(brier_score), "cost_per_applicant": entry(cost),
        "approval_rate": metric_entry(float(np.mean(p < threshold))),
    }


def evaluate_credit(solution, split: Split, p: np.ndarray, train: Split | None, decision) -> Evaluation:
    """The credit report for calibrated probabilities of default `p` on `split`, at the run's `decision`."""
    import pandas as pd

    recipe, schema = solution._recipe, solution.schema_
    y = np.asarray(split.y)
    costs = (recipe.cost_bad_approved, recipe.cost_good_refused)
    threshold = decision.threshold
    metrics = credit_metrics(y, p, threshold, costs, recipe.seed)
    points = solution.points(p)

    baselines, baseline_p = {}, {}
    if train is not None:
        bayes = expected_cost_threshold(*costs)
        baselines["refuse everyone"] = {"cost_per_applicant": metric_entry(decision_cost(y, np.ones(len(y)), bayes, *costs)),
                                        "approval_rate": metric_entry(0.0)}
        woe = WOEScorecard(seed=recipe.seed).fit(train.x, train.y, schema)
        baseline_p["WOE scorecard (logistic regression)"] = woe.predict_proba(split.x)
        baseline_p["HistGradientBoosting"] = gradient_boosting_scores(train.x, train.y, split.x, schema, recipe.seed)
        for name, values in baseline_p.items():
            baselines[name] = credit_metrics(y, values, bayes, costs, recipe.seed, intervals=False)

    sections = [
        _decision_section(decision.rule, y, p, threshold, costs),
        _ks_section(y, points),
        _roc_section(y, {"this model": p, **baseline_p}),
        _calibration_section(y, solution.raw_probabilities(split.x), p, decision.details["calibration"]),
        _bands_section(solution, decision.details["scorecard"], y, points),
        histogram_section("Score distribution by outcome", {"good": points[y == 0], "bad": points[y == 1]}, "score (points)",
                          note="Scorecard points: higher is better."),
    ]
    if train is not None:
        sections.append(_stability_section(solution, train, split, points))
        sections.append(table_section("Information value of each column (WOE baseline)", ["column", "information value"],
                                      sorted(([c, v] for c, v in woe.information_value_.items()), key=lambda r: -r[1]),
                                      "Under 0.02: not predictive; 0.1-0.3: medium; above 0.3: strong."))
    if recipe.group_column:
        sections.append(_group_section(split.x[recipe.group_column], y, p, points, threshold, costs, recipe.group_column))
    sections.append(_reasons_section(solution, split, p, points, threshold))
    predictions = pd.DataFrame({"id": split.ids, "true": [schema["class_names"][i] for i in y], "probability_bad": p,
                                "score": np.round(points, 1), "band": solution.bands(points),
                                "decision": np.where(p < threshold, "approve", "refuse")})
    # "refuse everyone" ranks no one, so it has no AUC: the verdict compares the scorecard and boosting baselines.
    return Evaluation(metrics=metrics, sections=sections, primary_metric="auc", baselines=baselines, predictions=predictions,
                      comparison=Comparison(M.roc_auc, y, p, baseline_p, seed=recipe.seed))


def _decision_section(rule: str, y, p, threshold, costs):
    rows = []
    for t in sorted({0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, threshold}):
        approved = p < t
        rows.append(["chosen" if t == threshold else "", t, float(approved.mean()),
                     float(y[approved].mean()) if approved.any() else float("nan"), decision_cost(y, p, t, *costs)])
    why = ("the least expected cost with calibrated probabilities: approve when P(bad) < "
           f"{costs[1]:g} / ({costs[1]:g} + {costs[0]:g})" if rule == "expected_cost"
           else "the least cost on the validation applicants")
    return table_section(f"Approval threshold: P(bad) < {threshold:.3f}",
                         ["", "threshold", "approval rate", "bad rate among approved", "cost per applicant"], rows,
                         f"Chosen by {why}. Costs: a bad applicant approved {costs[0]:g}, a good one refused {costs[1]:g}.")


def _ks_section(y, points):
    data = ks_points(y, points)
    ks = ks_statistic(y, -points)
    return lines_section(f"KS plot (KS = {ks:.3f})", [
        {"name": "bad applicants", "x": data["score"], "y": data["positive"]},
        {"name": "good applicants", "x": data["score"], "y": data["negative"]},
    ], "score (points)", "cumulative share at or below the score",
        "KS is the largest vertical gap between the two curves.")


def _roc_section(y, curves: dict[str, np.ndarray]):
    series = []
    for name, values in curves.items():
        points = M.roc_points(y, values)
        series.append({"name": f"{name} (AUC {M.roc_auc(y, values):.3f})", "x": points["fpr"], "y": points["tpr"]})
    series.append({"name": "chance", "x": [0, 1], "y": [0, 1], "style": "--"})
    return lines_section("ROC curve (bad = positive)", series, "false-positive rate", "true-positive rate")


def _calibration_section(y, raw, calibrated, params: dict[str, Any]):
    series = []
    for name, values in (("before calibration", raw), (f"after ({params.get('method', 'none')})", calibrated)):
        bins = M.reliability_bins(y, values, 10)
        series.append({"name": f"{name}, Brier {brier_score(y, values):.3f}", "x": bins["predicted"], "y": bins["observed"]})
    series.append({"name": "perfect calibration", "x": [0, 1], "y": [0, 1], "style": "--"})
    return lines_section("Calibration curve", series, "mean predicted P(bad)", "observed bad rate",
                         "Calibration is fitted on the validation split and shown here on the test split.")


def _bands_section(solution, card: dict[str, Any], y, points):
    bands = solution.bands(points)
    edges = [-np.inf, *card["band_edges"], np.inf]
    rows = []
    for k, name in enumerate(card["band_names"]):
        low, high = edges[len(card["band_names"]) - 1 - k], edges[len(card["band_names"]) - k]
        inside = bands == name
        rows.append([name, f"{low:.0f} to {high:.0f}" if np.isfinite(low) and np.isfinite(high) else
                     (f">= {low:.0f}" if np.isfinite(low) else f"< {high:.0f}"),
                     int(inside.sum()), float(inside.mean()), float(y[inside].mean()) if inside.any() else float("nan")])
    return table_section("Score bands", ["band", "score range", "applicants", "share", "bad rate"], rows,
                         f"{card['base_score']:g} points at good:bad odds of {card['base_odds']:g}:1, "
                         f"{card['pdo']:g} points to double the odds. Band edges from the training applicants' scores "
                         "unless the recipe sets band_edges.")


def _stability_section(solution, train: Split, split: Split, points):
    schema = solution.schema_
    train_points = solution.points(solution.predict_scores(train.x)[:, 0])
    rows = [["score", float(population_stability_index(train_points, points))]]
    numeric = {s["name"] for s in schema["numeric"]}
    for column in feature_names(schema):
        if column in numeric:
            value = population_stability_index(train.x[column].to_numpy(float), split.x[column].to_numpy(float))
        else:
            value = population_stability_index(categorical_text(train.x[column]).to_numpy(str),
                                               categorical_text(split.x[column]).to_numpy(str), categorical=True)
        rows.append([column, float(value)])
    rows = [rows[0]] + sorted(rows[1:], key=lambda r: -r[1])
    return table_section("Population stability index, training vs test", ["what", "PSI"], rows,
                         "Under 0.1: stable; 0.1-0.25: some shift; above 0.25: a shift worth investigating.")


def _group_section(values, y, p, points, threshold, costs, column: str):
    import pandas as pd

    series = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(series) and series.nunique() > 10:
        groups = pd.qcut(series, 4, duplicates="drop").astype(str).to_numpy()
    else:
        groups = categorical_text(series).to_numpy(str)
    rows = []
    for group in sorted(set(groups)):
        inside = groups == group
        approved = p[inside] < threshold
        rows.append([group, int(inside.sum()), float(y[inside].mean()), float(approved.mean()),
                     M.roc_auc(y[inside], p[inside]), float(points[inside].mean()),
                     decision_cost(y[inside], p[inside], threshold, *costs)])
    return table_section(f"Metrics by {column}", ["group", "applicants", "bad rate", "approval rate", "AUC", "mean score",
                                                  "cost per applicant"], rows,
                         "Compare approval rates with bad rates across groups to look for disparate outcomes.")


def _reasons_section(solution, split: Split, p, points, threshold: float):
    refused = np.flatnonzero(p >= threshold)
    picked = refused[np.argsort(-p[refused])][:N_REASON_ROWS] if len(refused) else np.argsort(-p)[:N_REASON_ROWS]
    frame = split.x.iloc[picked].reset_index(drop=True)
    reasons = solution.reason_codes(frame)
    bands = solution.bands(points[picked])
    rows = [[str(split.ids[i]), float(p[i]), float(points[i]), str(b), "; ".join(r) or "(none below the reference)"]
            for i, b, r in zip(picked, bands, reasons)]
    return table_section("Reason codes for refused applicants", ["id", "P(bad)", "score", "band", "reasons"], rows,
                         "The columns that lowered each applicant's score most, against a reference applicant (the "
                         "training medians and most common values): gradient x (input - reference) of the logit.")
