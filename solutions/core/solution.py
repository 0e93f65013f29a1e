"""The Solution base class: one workflow (fit, evaluate, predict, save, export) for every domain.

A domain subclass fills in a few hooks; each returns what the next one needs:

    load_examples(source, recipe, schema)  -> Examples      read the user's data (what the loader
                                                             found about it travels in Examples.found)
    make_schema(splits, recipe)            -> dict          what the model must know about its inputs (JSON)
    build_model(schema, recipe)            -> keras.Model   raw inputs in, probabilities out
    make_dataset(split, schema, recipe, training) -> tf.data.Dataset
    loss_and_metrics(schema, recipe)       -> (loss, metrics)
    evaluate_split(split, scores, train, decision) -> Evaluation   metrics and report sections
    read_inputs(source, schema, chunk_size) -> iterator of InputChunk   for predict
    prediction_rows(chunk, scores, decision) -> DataFrame   (called by predict_chunk(chunk, decision))

and optionally `choose_decision` (a threshold or operating point chosen on validation
scores after training: saved as decision.json, overridden by --threshold), `training_phases`
(transfer learning), `split` (default stratified by label), `labelled_split` (labelled data
to one test split), `extend_model` (a second network trained after the first, through
core.training), `inference_model` (what is saved and predicts: the trained model plus
post-processing such as non-maximum suppression), `adapt_model` (fit a vocabulary or other
data-dependent layers on the training split), `make_optimizer` and `model_scores`.

Capabilities are class attributes that the command line, `ksol list` and the contract
test read: `accepts` (what predict takes: "files", "rows", "texts"), `export_formats`
and `has_threshold`. The base class owns seeds, splits, training with checkpoints, the
decision, run files and export. Like a scikit-learn estimator, `__init__` only stores
its arguments; learned state ends in `_` and is set by `fit` (or `load`) only.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator

import numpy as np

from solutions.core.config import Recipe, load_recipe, read_saved_recipe, recipe_differences, write_recipe_file
from solutions.core.datasets import DataSource, resolve_data
from solutions.core.decision import Decision, threshold_refused
from solutions.core.errors import ConfigError, DataError, NotFittedError, UsageError, did_you_mean
from solutions.core.evaluation import Evaluation
from solutions.core.input_chunk import InputChunk
from solutions.core.report import Report
from solutions.core.report_frame import assemble_report, write_report_files
from solutions.core.runs import (MODEL_FILE, atomic_path, load_keras_model, read_run_files, run_manifest,
                                 sweep_temporaries, write_run_files)
from solutions.core.splits import Examples, Split, Splits, encode_example_labels, is_label_matrix, split_examples
from solutions.core.trainer import Trainer
from solutions.core.wording import plural

__all__ = ["EXPORT_FORMATS", "Evaluation", "InputChunk", "Solution", "Trainer"]

EXPORT_FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}


class Solution:
    """Base class of every domain solution.

    >>> from solutions import get_solution
    >>> solution = get_solution("image_classification")(recipe="quick")
    >>> solution.recipe_.epochs
    Traceback (most recent call last):
    ...
    solutions.core.errors.NotFittedError: ImageClassificationSolution is not fitted yet: call fit(data) first, or load a trained run with ImageClassificationSolution.load(run_dir).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    recipe_class: ClassVar[type[Recipe]] = Recipe
    sample_data: ClassVar[str] = ""
    min_examples_per_class: ClassVar[int] = 5
    prediction_chunk_size: ClassVar[int] = 512
    # Capabilities, read by the command line, `ksol list` and the contract test.
    accepts: ClassVar[frozenset[str]] = frozenset({"files"})  # what predict takes: "files", "rows", "texts"
    export_formats: ClassVar[tuple[str, ...]] = tuple(EXPORT_FORMATS)
    has_threshold: ClassVar[bool] = False  # a decision threshold that --threshold overrides

    def __init__(self, recipe: str | Path | Recipe = "default", **overrides: Any):
        self.recipe = recipe
        self.overrides = overrides

    # ----------------------------------------------------------------- hooks
    def load_examples(self, source: DataSource, recipe: Recipe, schema: dict | None) -> Examples:
        raise NotImplementedError

    def split(self, examples: Examples, recipe: Recipe) -> Splits:
        """Train / validation / test splits of the loaded examples: seeded, stratified by label."""
        return split_examples(
            examples, validation_fraction=recipe.validation_fraction, test_fraction=recipe.test_fraction,
            seed=recipe.seed, min_per_class=self.min_examples_per_class,
        )

    def labelled_split(self, examples: Examples, class_names: tuple[str, ...], where: str) -> Split:
        """Labelled examples from other data as one test split; unknown labels are a DataError."""
        return Split("test", examples.x, encode_example_labels(examples, class_names, where), examples.ids, examples.targets,
                     examples.groups)

    def extend_model(self, model, splits: Splits, schema: dict[str, Any], recipe: Recipe, trainer: Trainer):
        """A second network trained after the first (through `trainer`) and joined to it.
        Returns (model, training notes for the report). Default: the model as trained, no notes."""
        return model, {}

    def inference_model(self, model, schema: dict[str, Any], recipe: Recipe):
        """The model that is saved and predicts, built from the trained one (default: the same model)."""
        return model

    def choose_decision(self, splits: Splits, score: Callable[[Any], np.ndarray], schema: dict[str, Any],
                        recipe: Recipe) -> Decision | None:
        """The decision made after training, from `score(x)` (the model's scores) on the validation
        split (and, where a domain needs them, the training split). Default: none."""
        return None

    def make_schema(self, splits: Splits, recipe: Recipe) -> dict[str, Any]:
        return {"class_names": list(splits.class_names)}

    def adapt_model(self, model, train: Split, schema: dict[str, Any], recipe: Recipe) -> None:
        """Fit the model's data-dependent parts on the training split before training
        (a TextVectorization vocabulary, say). Default: nothing to fit."""

    def make_optimizer(self, recipe: Recipe, learning_rate: float, total_steps: int):
        """The optimizer of a training phase. Default: AdamW with the recipe's learning-rate schedule."""
        from solutions.core.training import make_optimizer

        return make_optimizer(recipe, learning_rate, total_steps)

    def build_model(self, schema: dict[str, Any], recipe: Recipe):
        raise NotImplementedError

    def make_dataset(self, split: Split, schema: dict[str, Any], recipe: Recipe, training: bool):
        raise NotImplementedError

    def loss_and_metrics(self, schema: dict[str, Any], recipe: Recipe) -> tuple[Any, list[Any]]:
        raise NotImplementedError

    def training_phases(self, model, recipe: Recipe):
        from solutions.core.training import Phase

        return [Phase("train", recipe.epochs, recipe.learning_rate)]

    def evaluate_split(self, split: Split, scores: np.ndarray, train: Split | None, decision: Decision | None) -> Evaluation:
        raise NotImplementedError

    def read_inputs(self, source: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
        raise NotImplementedError

    def prediction_rows(self, chunk: InputChunk, scores: np.ndarray, decision: Decision | None):
        raise NotImplementedError

    def example_inputs(self, schema: dict[str, Any], n: int = 4) -> Any:
        """A small batch of valid model inputs, used to check exported models."""
        raise NotImplementedError

    def custom_objects(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------- workflow
    @property
    def recipe_(self) -> Recipe:
        self._check_fitted()
        return self._recipe

    def resolve_recipe(self) -> Recipe:
        """The recipe this solution will train with: preset or file, plus overrides, checked."""
        if isinstance(self.recipe, Recipe):
            if not isinstance(self.recipe, self.recipe_class):
                raise ConfigError(
                    f"{type(self).__name__} needs a {self.recipe_class.__name__}. Received: {type(self.recipe).__name__}."
                )
            if self.overrides:
                from solutions.core.config import make_recipe

                return make_recipe(self.recipe_class, "default", **{**self.recipe.to_dict(), **self.overrides})
            return self.recipe
        return load_recipe(self.recipe_class, self.recipe, self.overrides)

    def check_before_fit(self, recipe: Recipe) -> None:
        """Checks that need no data (a local weights folder exists, say), run before anything is read or written."""

    def fit(self, data: str | Path | DataSource, *, run_dir: str | Path | None = None, resume: bool = False, progress: bool = True, callbacks: list[Any] | None = None):
        """Load `data`, split it, build the model, train it and choose its decision. Returns self.

        With `run_dir`, a checkpoint is written there after every epoch and
        `resume=True` continues an interrupted run from it; TensorBoard logs go to its
        `logs/` unless the recipe says `tensorboard: false`.
        """
        from solutions.core.distribution import is_chief, make_strategy, strategy_scope, worker_scratch
        from solutions.core.tracking import tensorboard_callback
        from solutions.core.training import balanced_class_weight, checkpoint_exists, set_seed, train

        timings: dict[str, float] = {}
        recipe = self.resolve_recipe()
        self.check_before_fit(recipe)
        scratch = worker_scratch(run_dir, recipe.distribution, resume)  # a non-chief worker writes nothing in run_dir
        run_dir = run_dir if scratch is None else scratch.name
        checkpoint_dir = Path(run_dir) / "checkpoints" if run_dir is not None else None
        if run_dir is not None:  # temporaries of a process killed mid-write (a checkpoint, say) go first
            sweep_temporaries(Path(run_dir))
        if resume:
            saved_file = None if run_dir is None else Path(run_dir) / "recipe.yaml"
            started_run = saved_file is not None and saved_file.is_file()
            if not started_run and (checkpoint_dir is None or not checkpoint_exists(checkpoint_dir)):
                raise UsageError(
                    f"--resume found no checkpoint in {checkpoint_dir or '(no run directory given)'}. "
                    "Pass --out with the folder of the interrupted run, or start again without --resume."
                )
            saved = self.recipe_class(**read_saved_recipe(saved_file)) if started_run else None
            if saved is not None and recipe_differences(saved, recipe):
                diffs = ", ".join(f"{k}: saved {a!r}, now {b!r}" for k, (a, b) in recipe_differences(saved, recipe).items())
                raise ConfigError(f"--resume must use the recipe the run started with; these keys differ: {diffs}.")
            # A run stopped before its first checkpoint (it wrote only recipe.yaml) starts again from epoch 1; a model
            # trained in parts through the Trainer (checkpoints/<part>/) continues from its parts' checkpoints.
            resume = checkpoint_exists(checkpoint_dir) or any(checkpoint_exists(p) for p in checkpoint_dir.glob("*/"))
        strategy = make_strategy(recipe.distribution, recipe.batch_size)
        started = time.perf_counter()
        set_seed(recipe.seed)
        source = data if isinstance(data, DataSource) else resolve_data(data)
        examples = self.load_examples(source, recipe, None)
        splits = self.split(examples, recipe)
        schema = self.make_schema(splits, recipe)
        timings["load_data_seconds"] = time.perf_counter() - started
        if run_dir is not None and not resume:
            write_recipe_file(Path(run_dir) / "recipe.yaml", recipe.to_dict())
        set_seed(recipe.seed)
        trainer = Trainer(checkpoint_dir, resume, progress, self.custom_objects(), self.make_optimizer)
        if run_dir is not None and recipe.tensorboard and (recipe.distribution != "multi_worker" or is_chief()):
            callbacks = [*(callbacks or []), tensorboard_callback(run_dir)]
        with strategy_scope(strategy):
            model = self.build_model(schema, recipe)
            self.adapt_model(model, splits.train, schema, recipe)
            train_data = self.make_dataset(splits.train, schema, recipe, training=True)
            val_data = self.make_dataset(splits.val, schema, recipe, training=False)
            loss, metrics = self.loss_and_metrics(schema, recipe)
            steps = int(np.ceil(len(splits.train) / recipe.batch_size))
            if recipe.class_weight == "balanced" and is_label_matrix(splits.train.y):
                raise ConfigError("class_weight=balanced weighs single-label classes; these data are multi-label. "
                                  "Set --set class_weight=none.")
            class_weight = balanced_class_weight(splits.train.y, len(splits.class_names)) if recipe.class_weight == "balanced" else None
            model, result = train(
                model, train_data, val_data, recipe=recipe, phases=self.training_phases(model, recipe),
                loss=loss, metrics=metrics, steps_per_epoch=steps, checkpoint_dir=checkpoint_dir,
                resume=resume and checkpoint_exists(checkpoint_dir), class_weight=class_weight, progress=progress,
                custom_objects=self.custom_objects(), callbacks=callbacks,
                optimizer_factory=self.make_optimizer,
            )
            model = self.inference_model(model, schema, recipe)
            model, notes = self.extend_model(model, splits, schema, recipe, trainer)
            for part in trainer.parts:  # parts of this model trained through the Trainer join its history
                result = result.followed_by(part)
        timings["fit_seconds"] = time.perf_counter() - started - timings["load_data_seconds"]
        self._recipe, self.model_, self.schema_, self.splits_, self.training_ = recipe, model, schema, splits, result
        self.training_notes_ = dict(notes)
        self.decision_ = None
        self.decision_ = self.choose_decision(splits, self.model_scores, schema, recipe)
        self.data_ = {"spec": source.spec, "name": source.name, "fingerprint": self._fingerprint(source, examples),
                      "summary": splits.summary()}
        self.timings_ = timings
        if scratch is not None:
            scratch.cleanup()
        return self

    def evaluate(self, data: str | Path | DataSource | None = None) -> Report:
        """A report on the held-out test split (no argument) or on other labelled data."""
        self._check_fitted()
        if data is None:
            if getattr(self, "splits_", None) is None:
                raise UsageError("This solution was loaded from a run directory; pass the data to evaluate on.")
            split, train, data_summary = self.splits_.test, self.splits_.train, self.data_["summary"]
            data_name = self.data_["name"]
        else:
            source = data if isinstance(data, DataSource) else resolve_data(data)
            examples = self.load_examples(source, self._recipe, self.schema_)
            if examples.given_split is not None and np.any(examples.given_split == "test"):
                examples = examples.subset(np.flatnonzero(examples.given_split == "test"))
            if len(examples) == 0:
                raise DataError(f"No labelled examples were found in {source.spec}.")
            class_names = tuple(self.schema_["class_names"])
            split = self.labelled_split(examples, class_names, f"The data {source.spec}")
            counts = split.class_counts(len(class_names))
            data_summary = {"splits": {"test": {"size": len(split), "classes": dict(zip(class_names, counts.tolist()))}},
                            "dropped": {"count": len(examples.dropped), "examples": [list(d) for d in examples.dropped[:20]]}}
            train, data_name = None, source.name
        scores = self.predict_scores(split.x)
        evaluation = self.evaluate_split(split, scores, train, self.decision_)
        training = getattr(self, "training_", None)
        return assemble_report(
            solution=self.name, title=self.title, evaluation=evaluation, data_name=data_name, data_summary=data_summary,
            new_data=train is None, recipe=self._recipe.to_dict(), history=None if training is None else training.history,
            training=None if training is None else {"epochs_done": training.epochs_done, "best_epoch": training.best_epoch})

    def validation_score(self) -> tuple[str, float]:
        """(primary metric, its value on the validation split) of the fitted model: what `ksol tune` maximises.
        The test split is not read. Every primary metric of this toolkit is better higher."""
        self._check_fitted()
        if getattr(self, "splits_", None) is None:
            raise UsageError("This solution was loaded from a run directory and has no validation split to score.")
        split = self.splits_.val
        evaluation = self.evaluate_split(split, self.held_out_scores(split), None, self.decision_)
        return evaluation.primary_metric, float(evaluation.metrics[evaluation.primary_metric]["value"])

    def model_scores(self, x: Any) -> np.ndarray:
        """The model's outputs for model-ready inputs, before any decision-dependent step (calibration)."""
        self._check_fitted()
        batch = max(32, self._recipe.batch_size)
        return np.asarray(self.model_.predict(x, batch_size=batch, verbose=0))

    def predict_scores(self, x: Any) -> np.ndarray:
        """Class probabilities for model-ready inputs (default: the model's scores)."""
        return self.model_scores(x)

    def held_out_scores(self, split: Split) -> np.ndarray:
        """`predict_scores` of a validation split's examples by a model that did not train on them (default: the
        model's own; a domain whose members each hold out a part of the pooled rows scores each row by those)."""
        return self.predict_scores(split.x)

    def decision_for(self, threshold: float | None) -> Decision | None:
        """The run's decision, or the same with every threshold replaced by `threshold` (--threshold)."""
        self._check_fitted()
        if threshold is None:
            return self.decision_
        if not self.has_threshold:
            raise threshold_refused(self.name, threshold)
        if self.decision_ is None:
            raise threshold_refused(self.name, threshold)
        return self.decision_.with_threshold(threshold)

    def predict(self, inputs: Any, chunk_size: int | None = None, threshold: float | None = None):
        """Predictions for raw inputs (paths, a folder, arrays) as a pandas DataFrame.

        Inputs that could not be read are listed in the frame's `attrs["failures"]` as (input, reason).
        """
        import pandas as pd

        failures: list[tuple[str, str]] = []
        frames = list(self._prediction_frames(inputs, chunk_size, self.decision_for(threshold), failures))
        if not frames:
            raise DataError(f"No readable inputs to predict on in {inputs!r}." + _failure_hint(failures))
        frame = pd.concat(frames, ignore_index=True)
        frame.attrs["failures"] = failures
        return frame

    def predict_to_csv(self, inputs: Any, out: Path, chunk_size: int | None = None, progress: bool = True,
                       threshold: float | None = None) -> dict[str, Any]:
        """Stream predictions for `inputs` into the CSV `out` chunk by chunk (bounded memory; `out` appears
        only when complete). `threshold` replaces the run's decision threshold (solutions with
        `has_threshold`); the others refuse it rather than ignore it."""
        decision = self.decision_for(threshold)
        rows, failures, began = 0, [], time.perf_counter()
        with atomic_path(Path(out)) as tmp:
            with open(tmp, "w", newline="", encoding="utf-8") as handle:
                for frame in self._prediction_frames(inputs, chunk_size, decision, failures):
                    frame.to_csv(handle, header=rows == 0, index=False, quoting=csv.QUOTE_MINIMAL)
                    rows += len(frame)
                    if progress:
                        print(f"predicted {plural(rows, 'row')}", file=sys.stderr, flush=True)
            if rows == 0:
                raise DataError(f"No readable inputs to predict on in {inputs!r}." + _failure_hint(failures))
        seconds = time.perf_counter() - began
        return {"rows": rows, "skipped": [list(f) for f in failures], "seconds": seconds,
                "rows_per_second": rows / seconds if seconds else float("nan"), "out": str(out),
                **({"threshold": decision.threshold} if decision is not None and decision.threshold is not None else {})}

    def _prediction_frames(self, inputs: Any, chunk_size: int | None, decision: Decision | None,
                           failures: list[tuple[str, str]]) -> Iterator[Any]:
        """Prediction rows chunk by chunk; unreadable inputs are appended to `failures`."""
        for chunk in self.read_inputs(inputs, self.schema_, chunk_size or self.prediction_chunk_size):
            failures.extend(chunk.failures)
            if len(chunk.ids):
                yield self.predict_chunk(chunk, decision)

    def predict_chunk(self, chunk: InputChunk, decision: Decision | None):
        """The prediction rows of one chunk of readable inputs: its scores through `prediction_rows`.

        A domain whose rows need more than the scores from the same pass (fraud's reasons come with
        the scores from one explaining pass) overrides this."""
        return self.prediction_rows(chunk, self.predict_scores(chunk.x), decision)

    # ------------------------------------------------------------ persistence
    def save(self, run_dir: str | Path, command: list[str] | None = None, timings: dict[str, float] | None = None) -> Path:
        """Write model.keras, recipe.yaml, schema.json, decision.json, history.csv and manifest.json to `run_dir`.

        `timings` adds to the fit's timings in the manifest (evaluation and total seconds, say). A non-chief
        worker of a multi-worker run writes nothing (the chief writes the same model).
        """
        self._check_fitted()
        from solutions.core.distribution import writes_files

        if not writes_files(self._recipe.distribution):
            return Path(run_dir)
        training = getattr(self, "training_", None)
        manifest = run_manifest(solution=self.name, recipe=self._recipe.to_dict(), seed=self._recipe.seed,
                                data={k: v for k, v in getattr(self, "data_", {}).items() if k != "summary"},
                                training=None if training is None else {**training.summary(), **(
                                    {"notes": self.training_notes_} if getattr(self, "training_notes_", None) else {})},
                                timings={**getattr(self, "timings_", {}), **(timings or {})},
                                command=command if command is not None else sys.argv)
        write_run_files(Path(run_dir), model=self.model_, recipe=self._recipe.to_dict(), schema=self.schema_,
                        decision=None if self.decision_ is None else self.decision_.to_dict(),
                        history=None if training is None else training.history, manifest=manifest)
        return Path(run_dir)

    def write_report(self, out_dir: str | Path, report: Report) -> dict[str, Path]:
        """Write report.json, metrics.json, report.md, report.html, figures/ (and predictions.csv) to `out_dir`."""
        return write_report_files(Path(out_dir), report)

    @classmethod
    def load(cls, run_dir: str | Path) -> "Solution":
        """A fitted solution from a run directory (model loaded with safe_mode on)."""
        files = read_run_files(Path(run_dir))
        if cls.name and files.manifest.get("solution") != cls.name:
            raise UsageError(f"{files.run_dir} holds a {files.manifest.get('solution')!r} run, not {cls.name!r}.")
        if cls.has_threshold and files.decision is None:
            raise UsageError(f"{files.run_dir} has no decision.json, which {cls.name} runs keep their threshold in "
                             "(runs trained before keras-solutions wrote it lack it). Train the run again.")
        recipe = cls.recipe_class(**files.recipe)
        solution = cls(recipe)
        model = load_keras_model(files.run_dir / MODEL_FILE, solution.custom_objects())
        solution._recipe, solution.model_, solution.schema_ = recipe, model, files.schema
        solution.decision_ = None if files.decision is None else Decision.from_dict(files.decision)
        solution.splits_, solution.data_ = None, files.manifest.get("data", {})
        return solution

    def export(self, path: str | Path, format: str = "saved_model") -> dict[str, Any]:
        """Export the model (one of `export_formats`) and check it matches the Keras model on a batch."""
        from solutions.core.exporting import export_and_verify

        self._check_fitted()
        if format not in EXPORT_FORMATS:
            raise UsageError(f"--format must be one of {', '.join(EXPORT_FORMATS)}. Received: {format!r}." + did_you_mean(format, EXPORT_FORMATS))
        if format not in self.export_formats:
            supported = ", ".join(self.export_formats) or "none yet"
            raise UsageError(f"--format {format} is not supported by {self.name} (supported: {supported}). "
                             f"{self.export_limits()}")
        return export_and_verify(self.model_, Path(path), EXPORT_FORMATS[format], self.example_inputs(self.schema_))

    def export_limits(self) -> str:
        """Why some export formats are not offered, in one or two sentences (default: nothing to add)."""
        return ""

    # -------------------------------------------------------------- internals
    def _check_fitted(self) -> None:
        if getattr(self, "model_", None) is None:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted yet: call fit(data) first, or load a trained run "
                f"with {type(self).__name__}.load(run_dir)."
            )

    def _fingerprint(self, source: DataSource, examples: Examples) -> str:
        from solutions.core.runs import fingerprint_arrays, fingerprint_path

        if source.path is not None:
            return fingerprint_path(source.path)
        return fingerprint_arrays(np.asarray(examples.x), np.asarray(examples.labels))


def _failure_hint(failures: list[tuple[str, str]]) -> str:
    if not failures:
        return ""
    shown = "; ".join(f"{path}: {reason}" for path, reason in failures[:5])
    return f" {plural(len(failures), 'input')} could not be read: {shown}."
