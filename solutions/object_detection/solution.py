"""ObjectDetectionSolution: the object-detection hooks of the Solution workflow."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource
from solutions.core.decision import Decision
from solutions.core.errors import DataError
from solutions.core.runs import atomic_write_bytes, atomic_write_json, atomic_write_text
from solutions.core.solution import Evaluation, InputChunk, Solution
from solutions.core.splits import Examples, Split, Splits, encode_labels
from solutions.core.wording import plural
from solutions.object_detection import data
from solutions.object_detection.recipe import STRIDE, DetectionRecipe

PREDICTION_COLUMNS = ["file", "class", "score", "x1", "y1", "x2", "y2"]


class ObjectDetectionSolution(Solution):
    """Find and classify objects with boxes, from Pascal VOC, COCO JSON or YOLO txt annotations.

    >>> from solutions.object_detection import ObjectDetectionSolution
    >>> ObjectDetectionSolution(recipe="quick", epochs=1).resolve_recipe().image_size
    (128, 128)
    """

    name = "object_detection"
    title = "Object detection"
    recipe_class = DetectionRecipe
    sample_data = "shape_scenes"
    prediction_chunk_size = 64
    has_threshold = True
    # LiteRT's built-in ops have no combined non-maximum suppression (see export_limits).
    export_formats = ("saved_model", "onnx")

    # ------------------------------------------------------------ data
    def load_examples(self, source: DataSource, recipe: DetectionRecipe, schema: dict | None) -> Examples:
        size = tuple(schema["image_size"]) if schema else tuple(recipe.image_size)
        return data.load_detection_examples(source, size, recipe.on_bad_image, recipe.max_boxes)

    def split(self, examples: Examples, recipe: DetectionRecipe) -> Splits:
        return data.split_detection_examples(examples, recipe.validation_fraction, recipe.test_fraction, recipe.seed)

    def labelled_split(self, examples: Examples, class_names: tuple[str, ...], where: str) -> Split:
        encoded = np.empty(len(examples), dtype=object)
        encoded[:] = [encode_labels(l, class_names, where) if len(l) else np.zeros(0, np.int64) for l in examples.labels]
        return Split("test", examples.x, encoded, examples.ids, examples.targets)

    def make_schema(self, splits: Splits, recipe: DetectionRecipe) -> dict[str, Any]:
        from solutions.object_detection.pipeline import mean_and_std

        mean, std = mean_and_std(splits.train.x)
        return {"class_names": list(splits.class_names), "image_size": list(splits.train.x.shape[1:3]),
                "stride": STRIDE, "mean": mean, "std": std}

    # ----------------------------------------------------------- model
    def build_model(self, schema: dict[str, Any], recipe: DetectionRecipe):
        from solutions.object_detection.model import build_detector

        return build_detector(schema, recipe)

    def check_before_fit(self, recipe: DetectionRecipe) -> None:
        """A pretrained backbone's weights path exists and the image size suits it, before data is read."""
        from solutions.object_detection.pretrained import check_pretrained_recipe

        check_pretrained_recipe(recipe)

    def training_phases(self, model, recipe: DetectionRecipe):
        """One phase from scratch; frozen backbone then fine-tuning with pretrained weights (pretrained.py)."""
        from solutions.object_detection.pretrained import detection_phases

        return detection_phases(recipe)

    def extend_model(self, model, splits: Splits, schema: dict[str, Any], recipe: DetectionRecipe, trainer):
        """No second network; the training notes (which the manifest records) name the backbone and the
        weights file it started from, with its sha256."""
        from solutions.object_detection.pretrained import backbone_notes

        return model, backbone_notes(recipe)

    def inference_model(self, model, schema: dict[str, Any], recipe: DetectionRecipe):
        from solutions.object_detection.model import with_decoder

        return with_decoder(model, schema, recipe)

    def make_dataset(self, split: Split, schema: dict[str, Any], recipe: DetectionRecipe, training: bool):
        from solutions.object_detection.pipeline import detection_dataset

        return detection_dataset(split, schema, recipe, training)

    def loss_and_metrics(self, schema: dict[str, Any], recipe: DetectionRecipe):
        from solutions.object_detection.losses import DetectionLoss

        return DetectionLoss(n_classes=len(schema["class_names"]), alpha=recipe.focal_alpha, gamma=recipe.focal_gamma,
                             box_weight=recipe.box_loss_weight), []

    def custom_objects(self) -> dict[str, Any]:
        from solutions.object_detection.model import custom_objects

        return custom_objects()

    def model_scores(self, x: Any) -> np.ndarray:
        """Detections (N, max_detections, 6) in the letterboxed pixels: x1, y1, x2, y2, score, class."""
        return super().model_scores(np.asarray(x, dtype=np.float32))

    def choose_decision(self, splits: Splits, score, schema: dict[str, Any], recipe: DetectionRecipe) -> Decision:
        """The minimum score of a kept detection: the recipe's score_threshold (not tuned on validation)."""
        return Decision(rule="the recipe's score_threshold", thresholds={"score": float(recipe.score_threshold)},
                        score_range=(0.0, 1.0))

    # ------------------------------------------------------ evaluation
    def evaluate_split(self, split: Split, scores: np.ndarray, train: Split | None, decision: Decision) -> Evaluation:
        """The COCO evaluation, with the COCO ground truth and results JSON the metrics came from as artifacts."""
        import dataclasses

        from solutions.core.report import table_section
        from solutions.object_detection.report import evaluate_detector

        recipe = self._recipe
        found = evaluate_detector(split, scores, train, list(self.schema_["class_names"]), decision.threshold,
                                  recipe.min_score, recipe.n_drawn, recipe.seed)
        sections = list(found.evaluation.sections)
        notes = getattr(self, "training_notes_", None)  # set by fit; a run loaded from disk has none
        if notes:
            sections.append(table_section("Training notes", ["what", "value"], [[k, v] for k, v in notes.items()]))
        return dataclasses.replace(found.evaluation, sections=sections,
                                   artifacts={"ground_truth_coco.json": found.ground_truth,
                                              "predictions_coco.json": found.results})

    # --------------------------------------------------------- predict
    def read_inputs(self, source: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
        return data.iter_detection_inputs(source, schema, chunk_size)

    def prediction_rows(self, chunk: InputChunk, scores: np.ndarray, decision: Decision):
        import pandas as pd

        from solutions.object_detection.report import to_original_pixels

        threshold = decision.threshold
        names = self.schema_["class_names"]
        rows = [[file, names[int(d[5])], float(d[4]), *(float(v) for v in d[:4])]
                for file, found in zip(chunk.ids, to_original_pixels(scores, chunk.meta))
                for d in found if d[4] >= threshold]
        return pd.DataFrame(rows, columns=PREDICTION_COLUMNS)

    def predict_to_csv(self, inputs: Any, out: Path, chunk_size: int | None = None, progress: bool = True,
                       threshold: float | None = None) -> dict[str, Any]:
        """Detections for a folder of images: `out` as CSV (or COCO results JSON when it ends in .json),
        and each image drawn with its boxes into the folder `<out stem>_annotated/` beside it."""
        import pandas as pd

        from solutions.object_detection.coco import coco_results
        from solutions.object_detection.drawing import draw_boxes
        from solutions.object_detection.report import to_original_pixels

        decision = self.decision_for(threshold)
        threshold = decision.threshold
        out = Path(out)
        as_json = out.suffix.lower() == ".json"
        drawn_dir = out.with_name(f"{out.stem}_annotated")
        names = list(self.schema_["class_names"])
        frames, failures, results, began, n_images, written = [], [], [], time.perf_counter(), 0, set()
        for chunk in self.read_inputs(inputs, self.schema_, chunk_size or self.prediction_chunk_size):
            failures.extend(chunk.failures)
            if not len(chunk.ids):
                continue
            scores = self.predict_scores(chunk.x)
            found = [d[d[:, 4] >= threshold] for d in to_original_pixels(scores, chunk.meta)]
            frames.append(self.prediction_rows(chunk, scores, decision))
            results += coco_results(list(range(n_images + 1, n_images + len(chunk.ids) + 1)), found, names, chunk.ids)
            for file, detections in zip(chunk.ids, found):
                drawn = draw_boxes(_read_rgb(file), detections, names)
                name = Path(file).stem
                name = name if name not in written else f"{name}_{len(written)}"  # same name, other folder
                written.add(name)
                atomic_write_bytes(drawn_dir / f"{name}.png", _png(drawn))
            n_images += len(chunk.ids)
            if progress:
                print(f"predicted {plural(n_images, 'image')}", file=sys.stderr, flush=True)
        if n_images == 0:
            raise DataError(f"No readable images to predict on in {inputs!r}." + _failure_list(failures))
        frame = pd.concat(frames, ignore_index=True)
        if as_json:
            atomic_write_json(out, results)
        else:
            atomic_write_text(out, frame.to_csv(index=False))
        seconds = time.perf_counter() - began
        return {"rows": len(frame), "images": n_images, "skipped": [list(f) for f in failures], "seconds": seconds,
                "rows_per_second": len(frame) / seconds if seconds else float("nan"),
                "images_per_second": n_images / seconds if seconds else float("nan"),
                "out": str(out), "annotated_images": str(drawn_dir), "threshold": threshold}

    def export_limits(self) -> str:
        return ("LiteRT cannot hold this detector: its built-in ops have no combined non-maximum suppression "
                "(it would need the TensorFlow select-ops runtime). Export with --format saved_model or --format onnx.")

    def example_inputs(self, schema: dict[str, Any], n: int = 2) -> np.ndarray:
        height, width = schema["image_size"]
        return np.random.default_rng(0).integers(0, 256, (n, height, width, 3)).astype(np.float32)


def _failure_list(failures: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{path}: {why}" for path, why in failures[:5])
    return f" Unreadable: {shown}." if shown else ""


def _read_rgb(file: str) -> np.ndarray:
    """The original image of a prediction input, re-read so it is drawn at full resolution."""
    from solutions.imaging.decode import decode_image, to_channels

    return to_channels(decode_image(Path(file).read_bytes(), file), 3)


def _png(image: np.ndarray) -> bytes:
    import cv2

    ok, buffer = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"Could not encode an image of shape {image.shape} as PNG.")
    return buffer.tobytes()
