"""SentimentSolution: the sentiment hooks of the Solution workflow."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource
from solutions.core.solution import Evaluation, InputChunk, Solution
from solutions.core.splits import Examples, Split, Splits
from solutions.sentiment import data
from solutions.sentiment.inputs import TextInputs, iter_prediction_texts
from solutions.sentiment.normalize import normalize_texts
from solutions.sentiment.recipe import SEQUENCE_MODELS, SentimentRecipe


class SentimentSolution(Solution):
    """Classify the sentiment of texts: tables, a folder per class, or sentence<TAB>label lines.

    >>> from solutions.sentiment import SentimentSolution
    >>> SentimentSolution(recipe="quick", model="cnn").resolve_recipe().optimizer
    'adamw'
    """

    name = "sentiment"
    title = "Sentiment analysis"
    recipe_class = SentimentRecipe
    sample_data = "reviews"

    accepts = frozenset({"files", "texts"})
    # ONNX and LiteRT have no equivalent of TextVectorization's string operations (see export_limits).
    export_formats = ("saved_model",)

    def check_before_fit(self, recipe: SentimentRecipe) -> None:
        """A hub preset or encoder folder, or a word-vector file and its dimension, are checked (for each member
        of an ensemble) before any data is read or file written."""
        from solutions.sentiment.encoder_preset import check_encoder_preset
        from solutions.sentiment.model import check_embedding_weights, check_hub_preset

        for member in map(recipe.member_recipe, recipe.members()):
            if member.model == "hub":
                check_hub_preset(member)
            if member.model == "encoder":
                check_encoder_preset(member.hub_preset, member.encoder_sequence_length)
            check_embedding_weights(member)

    def load_examples(self, source: DataSource, recipe: SentimentRecipe, schema: dict | None) -> Examples:
        """Training data remembers its --text and --label columns; new data for a trained run
        defaults to them."""
        if schema is not None:
            defaults = {"text": schema.get("text_column"), "label": schema.get("label_column")}
            config = {**{k: v for k, v in defaults.items() if v is not None}, **source.config}
            source = dataclasses.replace(source, config=config)
        examples = data.load_text_examples(source, recipe)
        return dataclasses.replace(examples, found={"text_column": source.config.get("text"),
                                                    "label_column": source.config.get("label")})

    def make_schema(self, splits: Splits, recipe: SentimentRecipe) -> dict[str, Any]:
        return {"class_names": list(splits.class_names), "normalize": recipe.normalize,
                "standardize": recipe.model_standardize(), **splits.found,
                "max_length": recipe.max_length if set(recipe.members()) & set(SEQUENCE_MODELS) else None}

    def build_model(self, schema: dict[str, Any], recipe: SentimentRecipe):
        from solutions.sentiment.model import build_sentiment_model

        return build_sentiment_model(schema, recipe)

    def adapt_model(self, model, train: Split, schema: dict[str, Any], recipe: SentimentRecipe) -> None:
        from solutions.sentiment.model import adapt_sentiment_model

        adapt_sentiment_model(model, normalize_texts(train.x, schema["normalize"]), train.y,
                              len(schema["class_names"]), recipe)

    def training_phases(self, model, recipe: SentimentRecipe):
        """The workflow's loop trains the model, except the encoder's head: it trains on cached embeddings in
        extend_model (embedding_cache.py)."""
        return [] if recipe.members()[0] == "encoder" else super().training_phases(model, recipe)

    def extend_model(self, model, splits: Splits, schema: dict[str, Any], recipe: SentimentRecipe, trainer):
        """The encoder's head trained on cached embeddings, or an ensemble's other members trained and joined
        (ensemble.py); the training notes (which the manifest records) name the word-vector file the embedding
        started from, the encoder, the embedding throughput and the ensemble's weights, where they apply."""
        from solutions.sentiment.model import word_vector_notes

        def loss_and_metrics():
            return self.loss_and_metrics(schema, recipe)

        if recipe.model == "encoder":
            from solutions.sentiment.embedding_cache import train_encoder_head

            return model, train_encoder_head(model, splits, schema, recipe, trainer, loss_and_metrics).notes
        if recipe.model == "ensemble":
            from solutions.sentiment.ensemble import train_ensemble

            def build_member(member: SentimentRecipe):
                built = self.build_model(schema, member)
                self.adapt_model(built, splits.train, schema, member)
                return built

            return train_ensemble(model, splits, schema, recipe, trainer,
                                  lambda split, member, training: self.make_dataset(split, schema, member, training),
                                  loss_and_metrics, build_member)
        return model, word_vector_notes(model)

    def make_optimizer(self, recipe: SentimentRecipe, learning_rate: float, total_steps: int):
        import keras

        from solutions.core.training import learning_rate_schedule

        schedule = learning_rate_schedule(recipe, learning_rate, total_steps)
        if recipe.optimizer == "sgd":
            return keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, weight_decay=recipe.weight_decay)
        return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=recipe.weight_decay)

    def make_dataset(self, split: Split, schema: dict[str, Any], recipe: SentimentRecipe, training: bool):
        import tensorflow as tf

        texts = normalize_texts(split.x, schema["normalize"]).astype(str)
        targets = np.eye(len(schema["class_names"]), dtype=np.float32)[split.y]
        dataset = tf.data.Dataset.from_tensor_slices((texts, targets))
        if training:
            dataset = dataset.shuffle(min(len(split), 50_000), seed=recipe.seed, reshuffle_each_iteration=True)
        return dataset.batch(recipe.batch_size).prefetch(tf.data.AUTOTUNE)

    def loss_and_metrics(self, schema: dict[str, Any], recipe: SentimentRecipe):
        import keras

        return keras.losses.CategoricalCrossentropy(), ["accuracy"]

    def model_scores(self, x: Any) -> np.ndarray:
        import tensorflow as tf

        self._check_fitted()
        texts = normalize_texts([str(t) for t in np.asarray(x, dtype=object).ravel()], self.schema_["normalize"])
        if len(texts) == 0:
            return np.zeros((0, len(self.schema_["class_names"])), dtype=np.float32)
        batch = max(64, self._recipe.batch_size)
        dataset = tf.data.Dataset.from_tensor_slices(texts.astype(str)).batch(batch)
        return np.asarray(self.model_.predict(dataset, verbose=0))

    def evaluate_split(self, split: Split, scores: np.ndarray, train: Split | None, decision: None) -> Evaluation:
        from solutions.sentiment.encoder import encoder_notes
        from solutions.sentiment.ensemble import ensemble_notes
        from solutions.sentiment.model import word_vector_notes
        from solutions.sentiment.report import evaluate_sentiment

        notes = {**word_vector_notes(self.model_), **encoder_notes(self.model_), **ensemble_notes(self.model_)}
        return evaluate_sentiment(split, scores, train, tuple(self.schema_["class_names"]), self.predict_scores,
                                  self.schema_.get("max_length"), self._recipe.seed, notes=notes)

    def read_inputs(self, source: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
        return iter_prediction_texts(source, schema, chunk_size, self._recipe.on_decode_error)

    def prediction_rows(self, chunk: InputChunk, scores: np.ndarray, decision: None):
        import pandas as pd

        names = self.schema_["class_names"]
        frame = pd.DataFrame({"id": chunk.ids, "label": [names[i] for i in scores.argmax(axis=1)],
                              "probability": scores.max(axis=1)})
        for j, name in enumerate(names):
            frame[f"p_{name}"] = scores[:, j]
        return frame

    def predict_texts(self, texts: list[str], threshold: float | None = None):
        """Predictions for texts given directly, as a DataFrame with the text beside its label.

        Empty texts are predicted too (from the model's bias alone); nothing is dropped.
        """
        frame = self.predict(TextInputs(tuple(texts)), threshold=threshold)
        frame.insert(1, "text", list(texts))
        return frame

    def export_limits(self) -> str:
        return ("Its TextVectorization layer runs string operations (regex replace, split, n-grams) that ONNX and "
                "LiteRT do not have. Use --format saved_model, which takes raw strings.")

    def example_inputs(self, schema: dict[str, Any], n: int = 4) -> np.ndarray:
        words = ["a", "wonderful", "film", "boring", "plot", "not", "great", "acting"]
        rng = np.random.default_rng(0)
        return np.asarray([" ".join(rng.choice(words, 6)) for _ in range(n)], dtype=object)

    def custom_objects(self) -> dict[str, Any]:
        from solutions.sentiment.encoder_layers import ENCODER_OBJECTS
        from solutions.sentiment.layers import CUSTOM_OBJECTS

        # While fitting, building the model has imported KerasHub already; a loaded run has its recipe.
        recipe = self.recipe if isinstance(self.recipe, SentimentRecipe) else None
        if recipe is not None and {"hub", "encoder"} & set(recipe.members()):
            import keras_hub  # noqa: F401  (registers KerasHub's layers for loading)
        return {**CUSTOM_OBJECTS, **ENCODER_OBJECTS}
