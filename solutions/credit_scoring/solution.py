"""CreditScoringSolution: the credit hooks of the tabular workflow.

Its decision (`choose_decision`, after training) calibrates the probabilities on
the validation applicants, fixes the scorecard's bands from the training
applicants' scores and chooses the approval threshold by the recipe's rule; all
three are stored in decision.json beside the model. An export (`ksol export`)
holds the network alone: its score is the probability of default before
calibration, to which decision.json's calibration, bands and threshold apply
as in `predict_record`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core.decision import Decision
from solutions.core.errors import ConfigError, DataError
from solutions.core.solution import Evaluation, InputChunk
from solutions.core.splits import Split
from solutions.tables.columns import binary_labels, feature_names, labels_as_text, reference_record
from solutions.tables.inputs import record_to_inputs
from solutions.tables.solution import LabelColumn, TabularSolution
from solutions.credit_scoring import data, model as model_lib
from solutions.credit_scoring.calibration import apply_calibration, fit_calibration
from solutions.credit_scoring.recipe import CreditRecipe
from solutions.credit_scoring.report import evaluate_credit
from solutions.credit_scoring.scorecard import (
    assign_bands, expected_cost_threshold, least_cost_threshold, quantile_band_edges, score_points,
)

BAD, GOOD = "bad", "good"


class CreditScoringSolution(TabularSolution):
    """Probability of default, scorecard points and bands, approve/refuse decisions and reason codes.

    >>> from solutions.credit_scoring import CreditScoringSolution
    >>> CreditScoringSolution(recipe="quick", model="wide_deep").resolve_recipe().model
    'wide_deep'
    """

    name = "credit_scoring"
    title = "Credit scoring"
    recipe_class = CreditRecipe
    sample_data = "applicants"

    # ------------------------------------------------------------ data
    def generate_table(self, generator: dict[str, Any]):
        return data.generate_table(generator)

    def read_frame(self, source, recipe: CreditRecipe):
        if source.path is not None and source.path.is_file() and data.is_german_format(source.path, source.config):
            return data.load_german_credit(source.path)
        return super().read_frame(source, recipe)

    def load_examples(self, source, recipe: CreditRecipe, schema: dict | None):
        examples = super().load_examples(source, recipe, schema)
        column = recipe.group_column
        if column is not None and column not in examples.x.columns:
            raise ConfigError(f"Recipe key `group_column` names {column!r}, which {source.spec} lacks. "
                              f"Columns: {', '.join(map(str, examples.x.columns))}.")
        return examples

    def make_labels(self, values, column: str, source, recipe: CreditRecipe, schema: dict | None):
        """"bad"/"good" labels: by the recipe's bad_values, a good/bad target, or a two-valued one."""
        text = labels_as_text(values)
        distinct = sorted(set(text.tolist()))
        bad_values = schema["bad_values"] if schema else list(labels_as_text(recipe.bad_values))
        if bad_values:
            unknown = [v for v in bad_values if v not in distinct] if schema is None else []
            if len(unknown) == len(bad_values):
                raise DataError(f"{source.spec}: none of the recipe's bad_values ({', '.join(map(repr, bad_values))}) "
                                f"occurs in the target {column!r} (values: {', '.join(map(repr, distinct[:10]))}).")
        elif set(distinct) <= {GOOD, BAD}:
            bad_values = [BAD]
        else:
            try:
                _, positive = binary_labels(values, source.config.get("positive"), column, source.spec)
            except DataError as error:
                raise DataError(f"{error} For credit targets, say which values mean a bad outcome with "
                                "--set bad_values=[VALUE,...] (every other value is good).") from None
            bad_values = [positive]
        return LabelColumn(np.where(np.isin(text, bad_values), BAD, GOOD).astype(object), BAD, GOOD,
                           found={"bad_values": list(bad_values)})

    def make_schema(self, splits, recipe: CreditRecipe) -> dict[str, Any]:
        return {**super().make_schema(splits, recipe), "bad_values": splits.found["bad_values"]}

    # ----------------------------------------------------------- model
    def build_model(self, schema: dict[str, Any], recipe: CreditRecipe):
        return model_lib.build_credit_model(schema, recipe)

    def model_encodings(self, recipe: CreditRecipe) -> tuple[str, ...]:
        return ("embedding", "one_hot") if recipe.model == "wide_deep" else ("embedding",)

    def loss_and_metrics(self, schema: dict[str, Any], recipe: CreditRecipe):
        import keras

        from solutions.tables.ensemble import MemberLoss, MemberMeanAUC

        return MemberLoss(keras.losses.BinaryCrossentropy()), [MemberMeanAUC(name="auc")]

    def choose_decision(self, splits, score, schema: dict[str, Any], recipe: CreditRecipe) -> Decision:
        """Calibrate on the validation applicants, fix the score bands from the training applicants'
        calibrated scores, and choose the approval threshold by the recipe's rule."""
        val_scores = self.held_out_model_scores(splits.val)[:, 0]  # out of fold when the members are cross-fitted
        calibration = fit_calibration(recipe.calibration, val_scores, splits.val.y)
        train_points = score_points(apply_calibration(calibration, score(splits.train.x)[:, 0]),
                                    recipe.base_score, recipe.base_odds, recipe.pdo)
        edges = list(recipe.band_edges) or quantile_band_edges(train_points, len(recipe.band_names))
        if recipe.threshold_rule == "expected_cost":
            threshold = expected_cost_threshold(recipe.cost_bad_approved, recipe.cost_good_refused)
        else:
            threshold = least_cost_threshold(splits.val.y, apply_calibration(calibration, val_scores),
                                             recipe.cost_bad_approved, recipe.cost_good_refused)
        return Decision(rule=recipe.threshold_rule, thresholds={BAD: float(threshold)}, score_range=(0.0, 1.0), details={
            "calibration": calibration,
            "scorecard": {"base_score": recipe.base_score, "base_odds": recipe.base_odds, "pdo": recipe.pdo,
                          "band_names": list(recipe.band_names), "band_edges": edges},
            "cost_bad_approved": recipe.cost_bad_approved, "cost_good_refused": recipe.cost_good_refused})

    def raw_probabilities(self, x) -> np.ndarray:
        """The network's probability of default before calibration, per row."""
        return self.model_scores(x)[:, 0]

    def scores_from_model(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probability of default per row, shape (n, 1), from the network's (n, 1) scores."""
        self._check_fitted()
        return apply_calibration(self.decision_.details["calibration"], scores[:, 0]).reshape(-1, 1)

    def points(self, p_bad: np.ndarray) -> np.ndarray:
        recipe = self._recipe
        return score_points(p_bad, recipe.base_score, recipe.base_odds, recipe.pdo)

    def bands(self, points: np.ndarray) -> np.ndarray:
        card = self.decision_.details["scorecard"]
        return assign_bands(points, card["band_edges"], card["band_names"])

    # -------------------------------------------------------- evaluate
    def evaluate_split(self, split: Split, scores: np.ndarray, train: Split | None, decision: Decision) -> Evaluation:
        return evaluate_credit(self, split, np.asarray(scores)[:, 0], train, decision)

    # ---------------------------------------------------- reason codes
    def reason_codes(self, x, n: int | None = None) -> list[list[str]]:
        """Per row, up to n plain-words reasons: the columns that raised the probability of default most
        (lowered the score) against the reference applicant (training medians and most common values)."""
        n = self._recipe.n_reasons if n is None else n
        inputs = self.inputs(x)
        _, attributions = self.scorer_.explain(inputs)
        columns = feature_names(self.schema_)
        reference = reference_record(self.schema_)
        numeric = {s["name"] for s in self.schema_["numeric"]}
        order = np.argsort(-attributions, axis=1)[:, :n]
        reasons = []
        for i, row in enumerate(order):
            texts = []
            for j in row:
                if attributions[i, j] <= 0:
                    break
                column = columns[j]
                value = inputs[column][i, 0]
                texts.append(describe(column, value, reference[column], column in numeric))
            reasons.append(texts)
        return reasons

    # --------------------------------------------------------- predict
    def prediction_rows(self, chunk: InputChunk, scores: np.ndarray, decision: Decision):
        frame = self.id_columns(chunk)
        p = np.asarray(scores, dtype=float)[:, 0]
        points = self.points(p)
        frame["probability_bad"] = p
        frame["score"] = np.round(points, 1)
        frame["band"] = self.bands(points)
        frame["decision"] = np.where(p < decision.threshold, "approve", "refuse")
        n = self._recipe.n_reasons
        if n:
            reasons = self.reason_codes(chunk.x, n)
            for k in range(n):
                frame[f"reason_{k + 1}"] = [r[k] if k < len(r) else "" for r in reasons]
        return frame

    def predict_record(self, record: dict[str, Any], threshold: float | None = None) -> dict[str, Any]:
        """Probability, score, band, decision and reason codes for one applicant (a dict of column -> value)."""
        self._check_fitted()
        inputs = record_to_inputs(record, self.schema_, missing=self.schema_.get("missing_policy", "impute"))
        p = float(self.predict_scores(inputs)[0, 0])
        points = float(self.points(np.array([p]))[0])
        threshold = self.decision_for(threshold).threshold
        return {"probability_bad": p, "score": round(points, 1), "band": str(self.bands(np.array([points]))[0]),
                "decision": "approve" if p < threshold else "refuse", "reasons": self.reason_codes(inputs)[0]}


def describe(column: str, value: Any, reference: Any, numeric: bool) -> str:
    """A reason in plain words: what the column is, this applicant's value and the reference's.

    >>> describe("duration_months", 48.0, 18.0, True)
    'duration of the credit in months is 48 (reference applicant: 18)'
    """
    what = data.DESCRIPTIONS.get(column, column.replace("_", " "))
    if numeric:
        shown = "missing" if not np.isfinite(value) else f"{value:.6g}"
        return f"{what} is {shown} (reference applicant: {float(reference):.6g})"
    return f"{what} is '{value}' (reference applicant: '{reference}')"
