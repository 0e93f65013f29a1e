"""MedicalImagingSolution: the medical-imaging hooks of the Solution workflow."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource
from solutions.core.decision import Decision
from solutions.core.errors import DataError
from solutions.imaging.solution import ImageSolution
from solutions.core.solution import Evaluation, InputChunk
from solutions.core.splits import Examples, Split, Splits, is_label_matrix, shared_groups
from solutions.imaging.backbones import transfer_phases
from solutions.core.training import Phase
from solutions.core.wording import agree, plural
from solutions.medical_imaging import data, model as model_lib
from solutions.medical_imaging.recipe import MedicalImagingRecipe
from solutions.medical_imaging.report import Task, choose_operating_points, evaluate_medical_classifier, predicted_text

STATS_SAMPLE = 4096


class MedicalImagingSolution(ImageSolution):
    """Classify 2D medical images (DICOM, PNG, JPEG, MedMNIST .npz): binary, multi-class or multi-label.

    Splits keep each patient in one split when patient ids exist; the operating
    point is chosen on the validation split (`choose_decision`) and saved as decision.json.

    >>> from solutions.medical_imaging import MedicalImagingSolution
    >>> MedicalImagingSolution(recipe="quick", epochs=1).resolve_recipe().epochs
    1
    """

    name = "medical_imaging"
    title = "Medical imaging"
    recipe_class = MedicalImagingRecipe
    sample_data = "chest_phantoms"
    has_threshold = True

    # ----------------------------------------------------------------- data
    def load_examples(self, source: DataSource, recipe: MedicalImagingRecipe, schema: dict | None) -> Examples:
        size = tuple(schema["image_size"]) if schema else (tuple(recipe.image_size) or None)
        channels = int(schema["channels"]) if schema else None
        loaded = data.load_medical_examples(source, size, _window(recipe), recipe.on_corrupt, channels)
        examples = loaded.examples
        if schema is not None and schema.get("modalities") and loaded.modalities and set(loaded.modalities) != set(schema["modalities"]):
            raise DataError(f"{source.spec} holds {', '.join(loaded.modalities)} images, but the model was trained on "
                            f"{', '.join(schema['modalities'])} images. Evaluate on images of the trained modality.")
        if schema is not None and (schema["task"] == "multilabel") != is_label_matrix(examples.labels):
            trained = "multi-label" if schema["task"] == "multilabel" else "single-label"
            raise DataError(f"{source.spec} holds {'multi-label' if is_label_matrix(examples.labels) else 'single-label'} "
                            f"targets, but the model was trained on {trained} data with classes {', '.join(schema['class_names'])}.")
        import dataclasses

        return dataclasses.replace(examples, found={"positive": source.config.get("positive"),
                                                    "modalities": list(loaded.modalities or ())})

    def make_schema(self, splits: Splits, recipe: MedicalImagingRecipe) -> dict[str, Any]:
        names = tuple(splits.class_names)
        task = "multilabel" if is_label_matrix(splits.train.y) else "binary" if len(names) == 2 else "multiclass"
        schema: dict[str, Any] = {"class_names": list(names), "task": task}
        if task == "binary":
            positive = splits.found.get("positive")
            if positive is not None and str(positive) not in names:
                raise DataError(f"--positive {positive!r} is not a class of these data. Classes: {', '.join(map(repr, names))}.")
            schema["positive_index"] = names.index(str(positive)) if positive is not None else 1
            schema["positive_source"] = "given" if positive is not None else "the second class in sorted order (set --positive to choose)"
        x = splits.train.x
        sample = x[np.random.default_rng(recipe.seed).choice(len(x), min(len(x), STATS_SAMPLE), replace=False)].astype(np.float32) / 255
        schema.update({
            "image_size": list(x.shape[1:3]),
            "channels": int(x.shape[3]),
            "mean": sample.mean(axis=(0, 1, 2)).tolist(),
            "std": np.maximum(sample.std(axis=(0, 1, 2)), 1e-3).tolist(),
            "modalities": list(splits.found.get("modalities", ())),
        })
        return schema

    def make_dataset(self, split: Split, schema: dict[str, Any], recipe: MedicalImagingRecipe, training: bool):
        import tensorflow as tf

        if schema["task"] == "multilabel":
            targets = np.asarray(split.y, dtype=np.float32)
        else:
            targets = np.eye(len(schema["class_names"]), dtype=np.float32)[split.y]
        dataset = tf.data.Dataset.from_tensor_slices((split.x, targets))
        if training:  # a full-size buffer: some published files (PneumoniaMNIST here) come in a non-random order
            dataset = dataset.shuffle(min(len(split), 100_000), seed=recipe.seed, reshuffle_each_iteration=True)
        return dataset.batch(recipe.batch_size).map(
            lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    # ---------------------------------------------------------------- model
    def build_model(self, schema: dict[str, Any], recipe: MedicalImagingRecipe):
        return model_lib.build_medical_classifier(schema, recipe)

    def loss_and_metrics(self, schema: dict[str, Any], recipe: MedicalImagingRecipe):
        import keras

        if schema["task"] == "multilabel":
            return keras.losses.BinaryCrossentropy(), [
                keras.metrics.AUC(multi_label=True, num_labels=len(schema["class_names"]), name="auc"),
                keras.metrics.BinaryAccuracy(name="accuracy")]
        return (keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
                ["accuracy", keras.metrics.AUC(name="auc")])

    def training_phases(self, model, recipe: MedicalImagingRecipe) -> list[Phase]:
        return transfer_phases(recipe)

    def choose_decision(self, splits: Splits, score, schema: dict[str, Any], recipe: MedicalImagingRecipe) -> Decision:
        """The operating point (a threshold per decided class) chosen on the validation split."""
        return choose_operating_points(schema["task"], tuple(schema["class_names"]), int(schema.get("positive_index", 1)),
                                       splits.val.y, score(splits.val.x), recipe.operating_point, recipe.target_sensitivity)

    def model_scores(self, x: Any) -> np.ndarray:
        """Probabilities; with recipe.tta, averaged over small shifts (and the allowed flips)."""
        x = np.asarray(x, dtype=np.float32)
        if not self._recipe.tta:
            return super().model_scores(x)
        return np.mean([super(MedicalImagingSolution, self).model_scores(v)
                        for v in model_lib.tta_variants(x, self._recipe.flip)], axis=0)

    # --------------------------------------------------------------- report
    def evaluate_split(self, split: Split, scores: np.ndarray, train: Split | None, decision: Decision | None) -> Evaluation:
        summary = (getattr(self, "data_", None) or {}).get("summary", {})
        context = {"group_check": self.group_check(split, train), "splits": summary.get("splits", {}) if train is not None else {},
                   "data_name": (getattr(self, "data_", None) or {}).get("name", "?"), "model": self._recipe.model}
        return evaluate_medical_classifier(self.model_, split, scores, train, self.schema_, decision, self._recipe.seed, context)

    def group_check(self, split: Split, train: Split | None) -> str:
        """What the report says about patients and splits, after checking that none is in two splits."""
        splits = getattr(self, "splits_", None)
        if train is None or splits is None:
            return ("Evaluated on other data than the training run's: whether its patients overlap the training patients "
                    "cannot be checked here (patient ids are not stored with the model). Make sure they do not.")
        parts = (splits.train, splits.val, splits.test)
        if splits.train.groups is None:
            return ("No patient ids were given, so images were split individually. If one patient can have several images, "
                    "give a patient_id column (CSV) or PatientID tags (DICOM); otherwise images of one patient can sit in "
                    "both training and test data and make the results optimistic.")
        groups = np.concatenate([p.groups for p in parts])
        names = np.concatenate([np.full(len(p), p.name, dtype=object) for p in parts])
        shared = shared_groups(groups, names)
        counts = ", ".join(f"{p.name} {len(set(p.groups))}" for p in parts)
        if shared:
            return f"WARNING: {plural(len(shared), 'patient')} {agree(len(shared), 'appears', 'appear')} in more than one split (e.g. {', '.join(list(shared)[:3])})."
        return (f"Split by patient: {plural(len(set(groups)), 'patient')} ({counts}). Checked: no patient id appears in more "
                "than one split.")

    # ------------------------------------------------------------ prediction
    def read_inputs(self, source: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
        return data.iter_prediction_inputs(source, schema, chunk_size, _window(self._recipe))

    def prediction_rows(self, chunk: InputChunk, scores: np.ndarray, decision: Decision | None):
        import pandas as pd

        task = Task.from_schema(self.schema_, decision)
        frame = pd.DataFrame({"file": chunk.ids, "prediction": predicted_text(task, scores)})
        for j, name in enumerate(task.class_names):
            frame[f"p_{name}"] = scores[:, j]
        return frame


def _window(recipe: MedicalImagingRecipe) -> tuple[float, float] | None:
    return None if recipe.window_center is None else (float(recipe.window_center), float(recipe.window_width))
