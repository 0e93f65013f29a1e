"""TabularSolution: the Solution workflow for one binary label over a table of mixed columns.

It fills in the hooks every table domain shares: reading CSV or Parquet (or
a domain's generator and formats), resolving the label (--label, or a column
named label/target/class/y), identifier (--id, or unique per row) and time
(--time) columns, the out-of-time split, the feature schema, tf.data
datasets, compiled scoring, streaming prediction in chunks and one-row
scoring. Classes are ordered (negative, positive), so y == 1 is the positive
("bad") class everywhere and the model's single output is its probability.

A domain adds its recipe (a `TabularRecipe`), `build_model`, `evaluate_split`
and `prediction_rows`, and may override `read_frame` (other formats),
`make_labels` (a label mapping) and `make_dataset` (resampling).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterator, Literal

import numpy as np

from solutions.core.config import Recipe, require_value
from solutions.core.datasets import DataSource
from solutions.core.errors import ConfigError, DataError
from solutions.core.solution import InputChunk, Solution
from solutions.core.splits import Examples, Split, Splits, split_examples, time_ordered_split
from solutions.core.layout import find_label_column
from solutions.core.wording import plural
from solutions.tables.columns import (
    binary_labels, check_missing, column_list, feature_schema, infer_layout, labels_as_text, time_value, time_values,
    unusable_columns, without_columns,
)
from solutions.tables.cross_fit import cross_fit_splits
from solutions.tables.numeric_bins import NUMERIC_EMBEDDINGS, fit_numeric_bins
from solutions.tables.inputs import SOURCE_ATTR, check_numbers_in_range, frame_to_inputs, rows_in_range
from solutions.tables.reading import iter_table_chunks, read_table_file


@dataclass(frozen=True)
class TabularRecipe(Recipe):
    """Keys every table solution shares (besides the training keys of `Recipe`).

    missing: "impute" (numeric cells get the training median plus a
      missing-indicator input, categorical cells a "(missing)" category; the
      report counts them) or "error" (any missing feature cell stops with a
      list of the columns).
    categorical_columns: columns to treat as categories even though they hold numbers.
    ignore_columns: columns that are neither features nor identifiers.
    test_start: with a time column (--time), the first time of the test split
      (a number such as 1996, or a date); None takes the latest test_fraction of rows.
    min_category_count: categories seen fewer times in training share the
      out-of-vocabulary bucket with categories never seen.
    max_embedding_dim: the widest embedding of a categorical column.
    hidden_units: the MLP's layer widths; dropout: after each of them.
    network: "mlp" (hidden_units, dropout) or "tabm": one network imitating an ensemble of tabm_k MLPs
      (1 to 64, with members=1; BatchEnsemble adapters; tabm_blocks layers of tabm_width; see
      tables.tabm_network), optionally with numeric embeddings: each number through its own small
      vector first (Gorishniy et al., NeurIPS 2022): "periodic" (PLR: periodic, linear, ReLU),
      "piecewise_linear" (piecewise-linear encoding on `numeric_bins` quantile bins of the training
      split, then a linear layer per column) or "piecewise_linear_tree" (the same on target-aware bins:
      the thresholds of a decision tree per column, fitted on the training split's labels). The bins
      are fitted once, saved in schema.json and built into the model.
    numeric_bins: the most bins per numeric column for the piecewise-linear embeddings (2 to 256); a
      column with fewer distinct values gets fewer.
    members: how many independently initialised networks are trained side by side and averaged
      (their logits) into the saved model's one score; 1 is a single network. See
      tables.ensemble: small tables give very different networks from different seeds.
    cross_fit: with members >= 2 (network mlp), pool the training and validation rows and cut them
      into `members` stratified folds: member i trains on all folds but fold i, and every validation
      figure (early stopping, calibration, thresholds, the report's validation score) is the
      out-of-fold score of all pooled rows (tables.cross_fit). Not with a time column, whose
      validation split is the later period. Unset (null), the domain decides (CROSS_FIT_DEFAULT: credit
      cross-fits its member ensembles, fraud does not), and a time split or one network turns it off.
    """

    # Whether an unset `cross_fit` cross-fits the member ensembles this recipe can cross-fit.
    CROSS_FIT_DEFAULT: ClassVar[bool] = False

    missing: Literal["impute", "error"] = "impute"
    categorical_columns: tuple[str, ...] = ()
    ignore_columns: tuple[str, ...] = ()
    test_start: str | None = None
    min_category_count: int = 2
    max_embedding_dim: int = 8
    hidden_units: tuple[int, ...] = (64, 32)
    dropout: float = 0.1
    members: int = 1
    cross_fit: bool | None = None
    network: Literal["mlp", "tabm"] = "mlp"
    numeric_embedding: Literal[NUMERIC_EMBEDDINGS] = "none"  # type: ignore[valid-type]
    numeric_bins: int = 48
    tabm_k: int = 16
    tabm_width: int = 128
    tabm_blocks: int = 2

    def check(self) -> None:
        super().check()
        require_value(1 <= self.members <= 32, "members", "an integer from 1 to 32", self.members)
        require_value(self.network == "mlp" or self.members == 1, "members",
                      "1 with network=tabm (TabM is already an ensemble of tabm_k members)", self.members)
        require_value(self.cross_fit is not True or (self.members >= 2 and self.network == "mlp"), "cross_fit",
                      "false unless members >= 2 and network=mlp (each member holds out its own fold)", self.cross_fit)
        require_value(self.cross_fit is not True or self.class_weight != "balanced", "cross_fit",
                      "false with class_weight=balanced (per-member targets take no class weights)", self.cross_fit)
        require_value(self.network == "tabm" or self.numeric_embedding == "none", "numeric_embedding",
                      '"none" unless network=tabm', self.numeric_embedding)
        require_value(2 <= self.numeric_bins <= 256, "numeric_bins", "an integer from 2 to 256 (bins per numeric column)",
                      self.numeric_bins)
        # tabm's own check is k >= 1 (k = 1: one member, TabM's blocks without the ensemble); 64 bounds the cost.
        require_value(1 <= self.tabm_k <= 64, "tabm_k", "an integer from 1 to 64 (the number of TabM members)", self.tabm_k)
        require_value(self.tabm_width >= 1, "tabm_width", "an integer >= 1 (the width of each TabM block)", self.tabm_width)
        require_value(self.tabm_blocks >= 1, "tabm_blocks", "an integer >= 1 (the number of TabM blocks)", self.tabm_blocks)
        require_value(self.min_category_count >= 1, "min_category_count", "an integer >= 1", self.min_category_count)
        require_value(self.max_embedding_dim >= 2, "max_embedding_dim", "an integer >= 2", self.max_embedding_dim)
        require_value(len(self.hidden_units) >= 1 and min(self.hidden_units) >= 1, "hidden_units",
                      "a list of layer widths, each >= 1", list(self.hidden_units))
        require_value(0 <= self.dropout < 1, "dropout", "a number in [0, 1)", self.dropout)


    def cross_fits(self, time_split: bool) -> bool:
        """Whether training cross-fits the members: as set, or (unset) the domain's default where it applies."""
        if self.cross_fit is not None:
            return self.cross_fit
        return (self.CROSS_FIT_DEFAULT and self.members >= 2 and self.network == "mlp" and self.class_weight != "balanced"
                and not time_split)


class TabularSolution(Solution):
    """Base class of the table domains (fraud detection, credit scoring)."""

    # 20,000 rows: 1,000,000 fraud claims scored (with reasons) in under 1 GB, as fast as 50,000-row chunks
    prediction_chunk_size: ClassVar[int] = 20_000
    min_examples_per_class: ClassVar[int] = 5
    accepts: ClassVar[frozenset[str]] = frozenset({"files", "rows"})
    # One named input per column (float32, or strings for categories); lookups export as ONNX CategoryMapper
    # and LiteRT's built-in HASHTABLE ops (see core.exporting).
    export_formats: ClassVar[tuple[str, ...]] = ("saved_model", "onnx", "litert")
    has_threshold: ClassVar[bool] = True

    # ------------------------------------------------------ domain hooks
    def generate_table(self, generator: dict[str, Any]):
        """The bundled sample's DataFrame from a dataset config's `generator`."""
        raise DataError(f"{self.name} has no generator {generator.get('name')!r}.")

    def read_frame(self, source: DataSource, recipe: TabularRecipe):
        """The raw table of a data source (a generator, CSV or Parquet)."""
        if source.generator:
            return self.generate_table(source.generator)
        if source.path is None or source.path.is_dir():
            raise DataError(f"{source.spec} is not a table file. Pass a CSV or Parquet file.")
        return read_table_file(source.path)

    def make_labels(self, values, column: str, source: DataSource, recipe: TabularRecipe,
                    schema: dict | None) -> "LabelColumn":
        """The label column as text, with its positive and negative values."""
        positive = schema["positive"] if schema else source.config.get("positive")
        labels, positive = binary_labels(values, positive, column, source.spec)
        if schema:
            return LabelColumn(labels, positive, schema["class_names"][0])
        others = sorted(set(labels.tolist()) - {positive})
        return LabelColumn(labels, positive, others[0] if others else f"not {positive}")

    def inference_model(self, model, schema: dict[str, Any], recipe: TabularRecipe):
        """An ensemble's training model (one output per member) becomes the averaged one-score model."""
        from solutions.tables.ensemble import inference_ensemble, is_member_ensemble

        return inference_ensemble(model, schema, model.name.removesuffix("_training")) if is_member_ensemble(model) else model

    def model_encodings(self, recipe: TabularRecipe) -> tuple[str, ...]:
        """The encoder outputs the model uses (see tables.model.build_encoder)."""
        return ("embedding",)

    # --------------------------------------------------------- workflow
    def load_examples(self, source: DataSource, recipe: TabularRecipe, schema: dict | None) -> Examples:
        frame = self.read_frame(source, recipe)
        where = source.spec
        config = source.config
        if schema is None:
            label = find_label_column(list(frame.columns), config.get("label"), where)
            layout = infer_layout(frame, label=label, ids=column_list(config.get("id")), time=config.get("time"),
                                  categorical=recipe.categorical_columns, ignore=recipe.ignore_columns, where=where)
        else:
            label, layout = schema["label"], None
            if label not in frame.columns:
                raise DataError(f"{where} has no label column {label!r}, which the model was trained on; "
                                "evaluation needs labelled rows (use `ksol predict` for unlabelled ones).")
        ids = self._row_ids(frame, schema["ids"] if schema else list(layout.ids), source)
        present = frame[label].notna().to_numpy()
        dropped = tuple((str(i), "missing label") for i in ids[~present])
        if not present.all():
            frame, ids = frame[present].reset_index(drop=True), ids[present]
        if frame.empty:
            raise DataError(f"{where} has no rows with a label in column {label!r}: it is missing in every "
                            f"row ({plural(len(present), 'row')}). Fill in the labels, or name the label column with --label.")
        check_numbers_in_range(frame, layout.numeric if schema is None else [c["name"] for c in schema["numeric"]],
                               ids, where)
        found = self.make_labels(frame[label], label, source, recipe, schema)
        table: dict[str, Any] = {}
        if schema is None:
            missing = check_missing(frame, layout.features, recipe.missing, where)
            options = config.get("options") or {}
            table = {"layout": layout, "positive": found.positive, "negative": found.negative, "missing": missing,
                     "test_start": recipe.test_start if recipe.test_start is not None else options.get("test_start"),
                     "where": where, **found.found}
        return Examples(x=frame, labels=found.labels, ids=ids, dropped=dropped, found=table)

    def _row_ids(self, frame, id_columns: list[str], source: DataSource) -> np.ndarray:
        present = [c for c in id_columns if c in frame.columns]
        if not present:
            return np.asarray([f"row {i + 1}" for i in range(len(frame))], dtype=object)
        if len(present) == 1:
            return labels_as_text(frame[present[0]].to_numpy())
        return np.asarray(["|".join(parts) for parts in zip(*(labels_as_text(frame[c].to_numpy()) for c in present))], dtype=object)

    def split(self, examples: Examples, recipe: TabularRecipe) -> Splits:
        """Stratified random splits, or out-of-time splits when a time column is given."""
        info = examples.found
        layout, positive, negative = info["layout"], info["positive"], info["negative"]
        given, notes = examples.given_split, list(layout.notes)
        if layout.time:
            times = time_values(examples.x[layout.time], layout.time, info["where"])
            start = None if info["test_start"] in (None, "") else time_value(info["test_start"], layout.time)
            given = time_ordered_split(times, validation_fraction=recipe.validation_fraction,
                                       test_fraction=recipe.test_fraction, test_start=start)
            for name in ("train", "val", "test"):
                part = times[given == name]
                notes.append(f"{name}: {layout.time} from {_time_text(part.min())} to {_time_text(part.max())}")
        for name in ("train", "val", "test") if layout.time else ("train",):
            rows = examples.labels if given is None else examples.labels[given == name]
            for value, what in ((positive, "positive"), (negative, "negative")):
                if not np.any(rows == value):
                    where = "the training split" if name == "train" else f"the {name} split"
                    raise DataError(
                        f"{'The data has' if given is None else where.capitalize() + ' has'} no {what} rows "
                        f"(label {layout.label!r} = {value!r}): {plural(len(rows), 'row')}, none of them {value!r}. "
                        + ("Check --positive and the label column." if given is None else
                           "Move test_start, or check --positive and the time column.")
                    )
        splits = split_examples(dataclasses.replace(examples, given_split=given),
                                validation_fraction=recipe.validation_fraction, test_fraction=recipe.test_fraction,
                                seed=recipe.seed, min_per_class=self.min_examples_per_class)
        splits = positive_last(splits, positive, negative)
        unusable = unusable_columns(splits.train.x, layout.features, layout.categorical, "the training split")
        if unusable:  # the same value, or none, in every training row (it varies only in the later splits, say)
            kept = without_columns(layout, unusable, info["where"])
            notes += kept.notes[len(layout.notes):]
            info = {**info, "layout": kept, "missing": {c: n for c, n in info["missing"].items() if c not in unusable}}
            splits = dataclasses.replace(splits, found=info)
        if info["missing"]:
            listed = ", ".join(f"{c} ({n})" for c, n in list(info["missing"].items())[:10])
            notes.append(f"missing values imputed (median or a '(missing)' category, with an indicator): {listed}")
        else:
            notes.append("no missing feature values")
        splits = dataclasses.replace(splits, notes=tuple(list(splits.notes) + notes))
        if recipe.cross_fits(time_split=bool(layout.time)):
            if layout.time:
                raise ConfigError(f"cross_fit pools the training and validation rows, but {info['where']} is split by "
                                  f"time ({layout.time!r}): its validation split is the later period. Set "
                                  "cross_fit=false, or train without --time.")
            pooled = np.concatenate([splits.train.y, splits.val.y])
            fewest = int(np.bincount(pooled, minlength=2).min())
            if recipe.cross_fit is None and fewest < recipe.members:  # the default gives way to small data
                note = (f"members not cross-fitted: a class has {plural(fewest, 'row')} in training and validation, "
                        f"fewer than the {recipe.members} folds cross-fitting needs; one shared validation split instead")
                return dataclasses.replace(splits, notes=tuple(splits.notes) + (note,))
            splits = cross_fit_splits(splits, recipe.members, recipe.seed)
        return splits

    def make_schema(self, splits: Splits, recipe: TabularRecipe) -> dict[str, Any]:
        features = feature_schema(splits.train.x, splits.found["layout"], recipe.min_category_count)
        bins = fit_numeric_bins(splits.train.x, splits.train.y, features["numeric"], recipe)
        return {"class_names": list(splits.class_names), "positive": splits.class_names[1], **features,
                **({"numeric_bins": bins} if bins is not None else {}),
                "missing_policy": recipe.missing, "missing_counts": splits.found["missing"]}

    def inputs(self, x: Any, where: str | None = None) -> dict[str, np.ndarray]:
        """Model inputs from a DataFrame (or inputs already made), checked against the schema.

        Messages name `where`, else the file the rows came from (`read_inputs` records it in the
        frame's attrs), else "The rows"."""
        if isinstance(x, dict):
            return x
        where = where or getattr(x, "attrs", {}).get(SOURCE_ATTR) or "The rows"
        return frame_to_inputs(x, self.schema_, where, self.schema_.get("missing_policy", "impute"))

    def make_dataset(self, split: Split, schema: dict[str, Any], recipe: TabularRecipe, training: bool):
        """(columns, label) batches; cross-fitted splits carry a label per member (tables.cross_fit)."""
        inputs = frame_to_inputs(split.x, schema, f"The {split.name} split", recipe.missing)
        target = split.y if split.targets is None else split.targets
        return table_dataset(inputs, target, recipe.batch_size, seed=recipe.seed if training else None)

    def held_out_model_scores(self, split: Split) -> np.ndarray:
        """`model_scores` of a split's rows by a model that did not train on them: a cross-fitted validation
        split (tables.cross_fit) is scored out of fold, each row by the members that held it out."""
        if split.targets is None:
            return self.model_scores(split.x)
        from solutions.tables.cross_fit import held_out_members
        from solutions.tables.ensemble import member_scores

        seen = held_out_members(split.targets)
        scores = member_scores(self.model_, self.inputs(split.x))
        return ((scores * seen).sum(axis=1, keepdims=True) / seen.sum(axis=1, keepdims=True)).astype(np.float32)

    def held_out_scores(self, split: Split) -> np.ndarray:
        return self.scores_from_model(self.held_out_model_scores(split))

    def scores_from_model(self, scores: np.ndarray) -> np.ndarray:
        """`predict_scores`' step after the model's scores (credit: calibration). Default: none."""
        return scores

    def predict_scores(self, x: Any) -> np.ndarray:
        return self.scores_from_model(self.model_scores(x))

    @property
    def scorer_(self):
        """A compiled scorer of the fitted model (built on first use)."""
        from solutions.tables.model import TableScorer

        self._check_fitted()
        cached = getattr(self, "_scorer", None)
        if cached is None or cached.model is not self.model_:
            cached = TableScorer(self.model_, self.schema_, self.model_encodings(self._recipe), self._recipe.max_embedding_dim)
            self._scorer = cached
        return cached

    def model_scores(self, x: Any) -> np.ndarray:
        """The model's output for raw rows (a DataFrame): shape (n, 1), the positive class's probability."""
        self._check_fitted()
        return self.scorer_.score(self.inputs(x))

    def read_inputs(self, source: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
        import pandas as pd

        # Rows holding numbers float32 cannot (inf, |x| > 3.4e38) are failures, each named, not inputs.
        if isinstance(source, pd.DataFrame):
            for start in range(0, len(source), chunk_size):
                chunk = source.iloc[start:start + chunk_size].reset_index(drop=True)
                rows, ids, failures = rows_in_range(chunk, self._chunk_ids(chunk, schema, "row", start), schema, "the rows")
                yield InputChunk(ids=ids, x=rows, failures=failures)
            return
        if isinstance(source, dict):
            row = pd.DataFrame([source])
            rows, ids, failures = rows_in_range(row, self._chunk_ids(row, schema, "row", 0), schema, "the row")
            yield InputChunk(ids=ids, x=rows, failures=failures)
            return
        from pathlib import Path

        paths = [source] if isinstance(source, (str, Path)) else list(source)
        categorical = tuple(c["name"] for c in schema["categorical"])
        for path in map(Path, paths):
            start = 0
            for chunk in iter_table_chunks(path, chunk_size, string_columns=categorical):
                rows, ids, failures = rows_in_range(chunk.reset_index(drop=True),
                                                    self._chunk_ids(chunk, schema, path.name, start), schema, str(path))
                rows.attrs[SOURCE_ATTR] = str(path)  # so a message about these rows names their file
                yield InputChunk(ids=ids, x=rows, failures=failures)
                start += len(chunk)

    def _chunk_ids(self, chunk, schema: dict[str, Any], prefix: str, start: int) -> np.ndarray:
        present = [c for c in schema.get("ids", []) if c in chunk.columns]
        if present:
            return self._row_ids(chunk, present, None)
        return np.asarray([f"{prefix}:{start + i + 1}" for i in range(len(chunk))], dtype=object)

    def id_columns(self, chunk: InputChunk):
        """The identifier columns of a prediction chunk (or a row number), as the first output columns."""
        import pandas as pd

        present = [c for c in self.schema_.get("ids", []) if c in chunk.x.columns]
        if present:
            return chunk.x[present].reset_index(drop=True).copy()
        return pd.DataFrame({"row": chunk.ids})

    def example_inputs(self, schema: dict[str, Any], n: int = 32) -> dict[str, np.ndarray]:
        """`n` different rows as model inputs, for export checks: seeded numbers across each column's training
        range (NaN in every 7th row of columns that had missing cells), and categories cycling through the
        vocabulary, a value never seen in training and, with missing=impute, "(missing)"."""
        from solutions.tables.columns import MISSING_TOKEN

        rng = np.random.default_rng(0)
        inputs: dict[str, np.ndarray] = {}
        for spec in schema["numeric"]:
            low, high = spec.get("min", spec["median"] - spec["std"]), spec.get("max", spec["median"] + spec["std"])
            values = rng.uniform(low, high, n).astype(np.float32)
            if spec["missing"]:
                values[::7] = np.nan
            inputs[spec["name"]] = values.reshape(-1, 1)
        extra = ["(a value never seen)"] + ([MISSING_TOKEN] if schema.get("missing_policy", "impute") == "impute" else [])
        for j, spec in enumerate(schema["categorical"]):
            values = [*spec["vocabulary"], *extra]
            inputs[spec["name"]] = np.asarray([values[(i + j) % len(values)] for i in range(n)], dtype=object).reshape(-1, 1)
        return inputs

    def custom_objects(self) -> dict[str, Any]:
        from solutions.tables import numeric_embeddings, tabm
        from solutions.tables.ensemble import CUSTOM_OBJECTS as ENSEMBLE_OBJECTS
        from solutions.tables.model import CUSTOM_OBJECTS

        return {**CUSTOM_OBJECTS, **ENSEMBLE_OBJECTS, **tabm.CUSTOM_OBJECTS, **numeric_embeddings.CUSTOM_OBJECTS}


@dataclass(frozen=True)
class LabelColumn:
    """A table's label column as text, which value is positive and which negative, and what else the
    domain found while reading it (kept with the table's layout for make_schema)."""

    labels: np.ndarray
    positive: str
    negative: str
    found: dict[str, Any] = field(default_factory=dict)


def positive_last(splits: Splits, positive: str, negative: str) -> Splits:
    """The splits with class_names (negative, positive), so y == 1 marks the positive class."""
    names = tuple(splits.class_names)
    if names == (negative, positive):
        return splits
    if set(names) != {negative, positive}:
        raise DataError(f"Expected the classes {negative!r} and {positive!r}; found {', '.join(map(repr, names))}.")
    flip = lambda s: dataclasses.replace(s, y=(1 - s.y).astype(np.int64))  # noqa: E731
    return dataclasses.replace(splits, train=flip(splits.train), val=flip(splits.val), test=flip(splits.test),
                               class_names=(negative, positive))


def table_dataset(inputs: dict[str, np.ndarray], y: np.ndarray, batch_size: int, *, seed: int | None = None,
                  weights: np.ndarray | None = None):
    """A batched tf.data pipeline of (columns, label[, weight]); shuffled each epoch when `seed` is given.
    `y` is one label per row, or a row of labels (one per member, tables.cross_fit)."""
    import tensorflow as tf

    target = np.asarray(y, dtype=np.float32)
    target = target.reshape(-1, 1) if target.ndim == 1 else target
    parts = (inputs, target) if weights is None else (inputs, target, np.asarray(weights, dtype=np.float32))
    dataset = tf.data.Dataset.from_tensor_slices(parts)
    if seed is not None:
        dataset = dataset.shuffle(min(len(target), 100_000), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _time_text(value: float) -> str:
    if abs(value) > 1e15:  # nanoseconds since 1970: a date
        import pandas as pd

        return str(pd.Timestamp(int(value)))
    return f"{value:g}"
