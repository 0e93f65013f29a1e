"""FraudDetectionSolution: the fraud hooks of the tabular workflow.

Training adds to the base workflow: resampling or weighting for rare frauds
(`make_dataset`), the autoencoder of the combined detector (`extend_model`, trained
through core.training like the classifier), and the alert threshold chosen on
validation scores (`choose_decision`, stored in decision.json beside the model).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from solutions.core.decision import Decision
from solutions.core.errors import ConfigError, DataError
from solutions.core.solution import Evaluation, InputChunk
from solutions.core.splits import Split
from solutions.tables.columns import feature_names
from solutions.tables.inputs import frame_to_inputs, record_to_inputs
from solutions.tables.model import encoding_layout, pack_inputs
from solutions.tables.solution import TabularSolution, table_dataset
from solutions.fraud_detection import data, model as model_lib
from solutions.fraud_detection.recipe import FraudRecipe
from solutions.fraud_detection.report import evaluate_fraud
from solutions.fraud_detection.thresholds import choose_threshold, missed_costs


class FraudDetectionSolution(TabularSolution):
    """Score transactions or claims for fraud, choose the alert threshold, explain the alerts.

    >>> from solutions.fraud_detection import FraudDetectionSolution
    >>> FraudDetectionSolution(recipe="quick", imbalance="focal").resolve_recipe().imbalance
    'focal'
    """

    name = "fraud_detection"
    title = "Fraud detection"
    recipe_class = FraudRecipe
    sample_data = "transactions"

    # ------------------------------------------------------------ data
    def generate_table(self, generator: dict[str, Any]):
        return data.generate_table(generator)

    def load_examples(self, source, recipe: FraudRecipe, schema: dict | None):
        examples = super().load_examples(source, recipe, schema)
        column = recipe.amount_column
        if column is not None:
            if column not in examples.x.columns:
                raise ConfigError(f"Recipe key `amount_column` names {column!r}, which {source.spec} lacks. "
                                  f"Columns: {', '.join(map(str, examples.x.columns))}.")
            import pandas as pd

            if not pd.api.types.is_numeric_dtype(examples.x[column]):
                raise DataError(f"amount_column {column!r} must hold numbers (the cost of missing each fraud).")
        return examples

    def amounts(self, frame, recipe: FraudRecipe) -> np.ndarray | None:
        """The amount column's values (the cost of missing each fraud), when the recipe names one."""
        column = recipe.amount_column
        return None if column is None else frame[column].to_numpy(dtype=float)

    # ----------------------------------------------------------- model
    def build_model(self, schema: dict[str, Any], recipe: FraudRecipe):
        if recipe.detector == "autoencoder":
            return model_lib.build_autoencoder(schema, recipe)
        return model_lib.build_fraud_classifier(schema, recipe)

    def model_encodings(self, recipe: FraudRecipe) -> tuple[str, ...]:
        return ("one_hot",) if recipe.detector == "autoencoder" else ("embedding",)

    def custom_objects(self) -> dict[str, Any]:
        return {**super().custom_objects(), **model_lib.CUSTOM_OBJECTS}

    def loss_and_metrics(self, schema: dict[str, Any], recipe: FraudRecipe):
        import keras

        from solutions.tables.ensemble import MemberLoss, MemberMeanAUC

        if recipe.detector == "autoencoder":
            # The model outputs its own reconstruction error; MAE against zeros minimises it.
            return keras.losses.MeanAbsoluteError(), []
        if recipe.imbalance == "focal":
            loss = keras.losses.BinaryFocalCrossentropy(gamma=recipe.focal_gamma)
        else:
            loss = keras.losses.BinaryCrossentropy()
        return MemberLoss(loss), [MemberMeanAUC(curve="PR", name="auprc")]

    def make_dataset(self, split: Split, schema: dict[str, Any], recipe: FraudRecipe, training: bool):
        if recipe.detector == "autoencoder":
            return self._legitimate_rows(split, schema, recipe, training)
        if not training or recipe.imbalance in ("none", "focal"):
            return super().make_dataset(split, schema, recipe, training)
        inputs = frame_to_inputs(split.x, schema, f"The {split.name} split", recipe.missing)
        y = np.asarray(split.y)
        if recipe.imbalance == "class_weight":
            n, positives = len(y), int(y.sum())
            weights = np.where(y == 1, n / (2 * positives), n / (2 * (n - positives)))
            return table_dataset(inputs, y, recipe.batch_size, seed=recipe.seed, weights=weights)
        positive_frame = split.x[y == 1]
        if recipe.imbalance == "gan":
            from solutions.fraud_detection.gan import synthesize_rows

            wanted = gan_rows_wanted(y, recipe)
            synthetic = synthesize_rows(split.x, y, schema, wanted, steps=recipe.gan_steps, noise_dim=recipe.gan_noise_dim,
                                        seed=recipe.seed)
            import pandas as pd

            positive_frame = pd.concat([positive_frame[feature_names(schema)], synthetic], ignore_index=True)
        return _oversampled(frame_to_inputs(split.x[y == 0], schema, "The training split", recipe.missing),
                            frame_to_inputs(positive_frame, schema, "The training split", recipe.missing),
                            len(y), recipe)

    def _legitimate_rows(self, split: Split, schema: dict[str, Any], recipe: FraudRecipe, training: bool):
        legitimate = np.asarray(split.y) == 0
        inputs = frame_to_inputs(split.x[legitimate], schema, f"The {split.name} split", recipe.missing)
        return table_dataset(inputs, np.zeros(int(legitimate.sum())), recipe.batch_size,
                             seed=recipe.seed if training else None)

    # ------------------------------------------------------- decision
    def extend_model(self, model, splits, schema: dict[str, Any], recipe: FraudRecipe, trainer):
        """For detector="combined": train the autoencoder on legitimate rows (through core.training, early
        stopping on validation reconstruction error) and stack it with the classifier by a logistic
        regression fitted on validation rows."""
        notes = {"detector": recipe.detector, "imbalance": recipe.imbalance, **_gan_notes(splits.train.y, recipe)}
        if recipe.detector != "combined":
            return model, notes
        import dataclasses

        from sklearn.linear_model import LogisticRegression

        from solutions.core.training import set_seed
        from solutions.tables.model import TableScorer

        ae_recipe = dataclasses.replace(recipe, epochs=recipe.autoencoder_epochs, monitor="val_loss",
                                        early_stopping_patience=max(1, recipe.early_stopping_patience))
        set_seed(recipe.seed)
        autoencoder = model_lib.build_autoencoder(schema, ae_recipe)
        legitimate = int((np.asarray(splits.train.y) == 0).sum())
        autoencoder, result = trainer(autoencoder, self._legitimate_rows(splits.train, schema, ae_recipe, True),
                                      self._legitimate_rows(splits.val, schema, ae_recipe, False),
                                      keras_mae(), [], ae_recipe, "autoencoder", math.ceil(legitimate / recipe.batch_size))
        val_inputs = frame_to_inputs(splits.val.x, schema, "The validation split", recipe.missing)
        classifier = TableScorer(model, schema, self.model_encodings(recipe), recipe.max_embedding_dim)
        probability = np.clip(classifier.score(val_inputs)[:, 0], 1e-7, 1 - 1e-7)
        error = _compiled_predict(autoencoder, val_inputs, schema)[:, 0]
        features = np.column_stack([np.log(probability / (1 - probability)), error])
        stacker = LogisticRegression(max_iter=1000).fit(features, splits.val.y)
        combined = model_lib.build_combined(schema, model, autoencoder, tuple(stacker.coef_[0]), float(stacker.intercept_[0]))
        notes["autoencoder epochs"] = result.epochs_done
        notes["stacking weights (logit, log error, bias)"] = ", ".join(f"{v:.3f}" for v in [*stacker.coef_[0], stacker.intercept_[0]])
        return combined, notes

    def choose_decision(self, splits, score, schema: dict[str, Any], recipe: FraudRecipe) -> Decision:
        """The alert threshold by the recipe's rule (cost, alert budget or target recall) on validation scores."""
        val = splits.val
        chosen = choose_threshold(recipe.threshold_rule, val.y, score(val.x)[:, 0],
                                  miss_cost=missed_costs(val.y, self.amounts(val.x, recipe), recipe.missed_fraud_cost),
                                  review_cost=recipe.review_cost, alert_budget=recipe.alert_budget,
                                  target_recall=recipe.target_recall)
        return Decision(rule=recipe.threshold_rule, thresholds={schema["positive"]: float(chosen.threshold)},
                        score_range=None if recipe.detector == "autoencoder" else (0.0, 1.0),
                        details={"validation": chosen.to_dict()})

    # -------------------------------------------------------- evaluate
    def evaluate_split(self, split: Split, scores: np.ndarray, train: Split | None, decision: Decision) -> Evaluation:
        return evaluate_fraud(self, split, scores, train, decision)

    # ------------------------------------------------------ explaining
    def feature_columns(self) -> list[str]:
        return feature_names(self.schema_)

    def explain_rows(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(scores (n,), per-column attributions (n, columns)) for raw rows; larger is more suspicious."""
        inputs = self.inputs(x)
        if self._recipe.detector != "autoencoder":
            scores, attributions = self.scorer_.explain(inputs)
            return scores[:, 0], attributions
        return self._reconstruction_reasons(inputs)

    def _reconstruction_reasons(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        import keras

        if getattr(self, "_ae_parts", None) is None or self._ae_parts[0] is not self.model_:
            encoder, network = model_lib.autoencoder_parts(self.model_)
            layout = encoding_layout(self.schema_, "one_hot", self._recipe.max_embedding_dim)
            columns = self.feature_columns()
            width = max(max(v) for v in layout.values()) + 1
            matrix = np.zeros((width, len(columns)), dtype=np.float32)
            for j, column in enumerate(columns):
                matrix[layout[column], j] = 1.0
            parts = keras.Model(encoder.inputs, [encoder.output, network(encoder.output)])
            self._ae_parts = (self.model_, _CompiledModel(parts, self.schema_), matrix)
        _, parts, matrix = self._ae_parts
        target, reconstruction = parts(inputs)
        squared = (target - reconstruction) ** 2
        scores = np.log(squared.mean(axis=1) + 1e-6)
        return scores, squared @ matrix

    # --------------------------------------------------------- predict
    def predict_chunk(self, chunk: InputChunk, decision: Decision):
        """With reasons from a supervised network, one explaining pass gives the scores and the reasons
        (its scores are the model's own outputs); the autoencoder's reasons come from another model."""
        if not self._recipe.n_reasons or self._recipe.detector == "autoencoder":
            return super().predict_chunk(chunk, decision)
        scores, attributions = self.explain_rows(chunk.x)
        return self.prediction_rows(chunk, scores[:, None], decision, attributions)

    def prediction_rows(self, chunk: InputChunk, scores: np.ndarray, decision: Decision,
                        attributions: np.ndarray | None = None):
        frame = self.id_columns(chunk)
        threshold = decision.threshold
        n = self._recipe.n_reasons
        score = np.asarray(scores, dtype=float)[:, 0]
        frame["score"] = score
        frame["flag"] = (score >= threshold).astype(int)
        if n:
            if attributions is None:
                _, attributions = self.explain_rows(chunk.x)
            for k, column in enumerate(_top_columns(attributions, self.feature_columns(), n)):
                frame[f"reason_{k + 1}"] = column
        return frame

    def score_record(self, record: dict[str, Any]) -> float:
        """The fraud score of one row given as a dict of column -> value (about a millisecond)."""
        self._check_fitted()
        return self.scorer_.score_record(record, self.schema_.get("missing_policy", "impute"))

    def predict_record(self, record: dict[str, Any], threshold: float | None = None) -> dict[str, Any]:
        """Score, flag and top reasons for one row given as a dict of column -> value."""
        import time

        self._check_fitted()
        began = time.perf_counter()
        score = self.score_record(record)
        seconds = time.perf_counter() - began
        threshold = self.decision_for(threshold).threshold
        inputs = record_to_inputs(record, self.schema_, missing=self.schema_.get("missing_policy", "impute"))
        _, attributions = self.explain_rows(inputs)
        reasons = [c for c in _top_columns(attributions, self.feature_columns(), self._recipe.n_reasons)]
        return {"score": score, "flag": int(score >= threshold), "threshold": threshold,
                "reasons": [r[0] for r in reasons if r[0]], "score_milliseconds": 1000 * seconds}


def keras_mae():
    """The autoencoder's loss: its model outputs its own reconstruction error, and MAE against zeros minimises it."""
    import keras

    return keras.losses.MeanAbsoluteError()


def _gan_notes(y: np.ndarray, recipe: FraudRecipe) -> dict[str, Any]:
    """The report's note on synthetic rows (imbalance="gan"): how many make_dataset adds to the real frauds."""
    if recipe.imbalance != "gan":
        return {}
    y = np.asarray(y)
    return {"synthetic fraud rows (conditional GAN)": gan_rows_wanted(y, recipe), "real fraud rows": int(y.sum())}


def gan_rows_wanted(y: np.ndarray, recipe: FraudRecipe) -> int:
    """Synthetic fraud rows that bring the training frauds to `oversample_ratio` of an epoch (at most 50,000)."""
    n_negative, n_positive = int((np.asarray(y) == 0).sum()), int(np.asarray(y).sum())
    return min(50_000, max(0, int(recipe.oversample_ratio / (1 - recipe.oversample_ratio) * n_negative) - n_positive))


def _top_columns(attributions: np.ndarray, columns: list[str], n: int) -> list[np.ndarray]:
    """Per rank k < n, the column with the k-th largest positive attribution in each row ('' if none)."""
    names = np.asarray(columns + [""], dtype=object)
    order = np.argsort(-attributions, axis=1)[:, :n]
    values = np.take_along_axis(attributions, order, axis=1)
    order = np.where(values > 0, order, len(columns))
    return [names[order[:, k]] for k in range(order.shape[1])]


def _oversampled(negative: dict[str, np.ndarray], positive: dict[str, np.ndarray], n: int, recipe: FraudRecipe):
    """An epoch of `n` rows drawn with `oversample_ratio` of them from the fraud rows (repeated as needed)."""
    import tensorflow as tf

    def stream(inputs, label):
        size = len(next(iter(inputs.values())))
        rows = tf.data.Dataset.from_tensor_slices((inputs, np.full((size, 1), label, np.float32)))
        return rows.shuffle(min(size, 100_000), seed=recipe.seed, reshuffle_each_iteration=True).repeat()

    mixed = tf.data.Dataset.sample_from_datasets(
        [stream(negative, 0.0), stream(positive, 1.0)],
        weights=[1 - recipe.oversample_ratio, recipe.oversample_ratio], seed=recipe.seed)
    return mixed.take(n).batch(recipe.batch_size).prefetch(tf.data.AUTOTUNE)


class _CompiledModel:
    """A compiled call of a tabular sub-model on packed inputs (see tables.model.TableScorer)."""

    def __init__(self, model, schema: dict[str, Any]):
        import tensorflow as tf

        numeric = [s["name"] for s in schema["numeric"]]
        categorical = [s["name"] for s in schema["categorical"]]
        self.schema = schema

        def call(values, texts):
            columns = {name: values[:, i:i + 1] for i, name in enumerate(numeric)}
            columns.update({name: texts[:, i:i + 1] for i, name in enumerate(categorical)})
            return model(columns, training=False)

        self._call = tf.function(call, input_signature=[tf.TensorSpec((None, len(numeric)), tf.float32),
                                                        tf.TensorSpec((None, len(categorical)), tf.string)])

    def __call__(self, inputs: dict[str, np.ndarray]):
        import tensorflow as tf

        values, texts = pack_inputs(inputs, self.schema)
        out = self._call(tf.constant(values, tf.float32), tf.constant(texts, tf.string))
        return [o.numpy() for o in out] if isinstance(out, (list, tuple)) else out.numpy()


def _compiled_predict(model, inputs: dict[str, np.ndarray], schema: dict[str, Any]) -> np.ndarray:
    return _CompiledModel(model, schema)(inputs)
