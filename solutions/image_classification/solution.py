"""ImageClassificationSolution: the image-classification hooks of the Solution workflow."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource
from solutions.imaging.solution import ImageSolution
from solutions.core.solution import Evaluation, InputChunk
from solutions.core.splits import Examples, Split, Splits
from solutions.imaging.backbones import transfer_phases
from solutions.core.training import Phase
from solutions.image_classification import data, model as model_lib
from solutions.image_classification.recipe import ImageClassificationRecipe
from solutions.image_classification.report import evaluate_image_classifier


class ImageClassificationSolution(ImageSolution):
    """Classify images into classes from a folder per class, a CSV of paths, or a .npz.

    >>> from solutions.image_classification import ImageClassificationSolution
    >>> solution = ImageClassificationSolution(recipe="quick", epochs=1)
    >>> solution.resolve_recipe().epochs
    1
    """

    name = "image_classification"
    title = "Image classification"
    recipe_class = ImageClassificationRecipe
    sample_data = "shapes"

    def load_examples(self, source: DataSource, recipe: ImageClassificationRecipe, schema: dict | None) -> Examples:
        size = tuple(schema["image_size"]) if schema else tuple(recipe.image_size)
        channels = int(schema["channels"]) if schema else recipe.channels
        return data.load_image_examples(source, size, channels, recipe.on_corrupt)

    def make_schema(self, splits: Splits, recipe: ImageClassificationRecipe) -> dict[str, Any]:
        pixels = splits.train.x.astype(np.float32) / 255
        return {
            "class_names": list(splits.class_names),
            "image_size": list(splits.train.x.shape[1:3]),
            "channels": int(splits.train.x.shape[3]),
            "mean": pixels.mean(axis=(0, 1, 2)).tolist(),
            "std": np.maximum(pixels.std(axis=(0, 1, 2)), 1e-3).tolist(),
        }

    def build_model(self, schema: dict[str, Any], recipe: ImageClassificationRecipe):
        return model_lib.build_image_classifier(schema, recipe)

    def make_dataset(self, split: Split, schema: dict[str, Any], recipe: ImageClassificationRecipe, training: bool):
        import tensorflow as tf

        targets = np.eye(len(schema["class_names"]), dtype=np.float32)[split.y]
        dataset = tf.data.Dataset.from_tensor_slices((split.x, targets))
        if training:
            dataset = dataset.shuffle(min(len(split), 50_000), seed=recipe.seed, reshuffle_each_iteration=True)
        return dataset.batch(recipe.batch_size).map(
            lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def loss_and_metrics(self, schema: dict[str, Any], recipe: ImageClassificationRecipe):
        import keras

        return keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing), ["accuracy"]

    def training_phases(self, model, recipe: ImageClassificationRecipe) -> list[Phase]:
        return transfer_phases(recipe)

    def model_scores(self, x: Any) -> np.ndarray:
        return super().model_scores(np.asarray(x, dtype=np.float32))

    def evaluate_split(self, split: Split, scores: np.ndarray, train: Split | None, decision: None) -> Evaluation:
        return evaluate_image_classifier(self.model_, split, scores, train, tuple(self.schema_["class_names"]),
                                         self._recipe.top_k, self._recipe.seed)

    def read_inputs(self, source: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
        return data.iter_prediction_inputs(source, schema, chunk_size)

    def prediction_rows(self, chunk: InputChunk, scores: np.ndarray, decision: None):
        import pandas as pd

        names = self.schema_["class_names"]
        frame = pd.DataFrame({"file": chunk.ids, "label": [names[i] for i in scores.argmax(axis=1)],
                              "probability": scores.max(axis=1)})
        for j, name in enumerate(names):
            frame[f"p_{name}"] = scores[:, j]
        return frame
