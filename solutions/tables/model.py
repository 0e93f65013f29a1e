"""Keras preprocessing for tables inside the model, a compiled scorer, and feature attributions.

A tabular model takes raw rows as a dict of columns (one (n, 1) input per
feature column: float32 for numbers, missing cells as NaN; strings for
categories). The `encoder` sub-model turns them into vectors: numeric
columns are imputed (`MissingValueImputer`, the training median), flagged
where they were missing (`MissingIndicator`, for columns that had missing
values in training) and normalised (`keras.layers.Normalization` with the
training mean and variance); categorical columns go through
`keras.layers.StringLookup` with one out-of-vocabulary bucket, so unseen
categories share it instead of failing, then an `Embedding` or a one-hot
vector. A domain's `head` sub-model maps the encoder's outputs to a logit;
the model's output is its sigmoid. Everything loads with safe_mode on.

`TableScorer` calls the model through a compiled `tf.function` (about a
millisecond for one row, against several for `model.predict`) and explains
scores by gradient x (encoding - reference encoding), summed per column.
"""

from __future__ import annotations

import re
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from solutions.tables.columns import feature_names, reference_record
from solutions.tables.inputs import record_to_inputs

ENCODINGS = ("embedding", "one_hot")


@keras.saving.register_keras_serializable(package="ksol")
class MissingValueImputer(layers.Layer):
    """Replace NaN in each column of a (n, k) float tensor by that column's fill value."""

    def __init__(self, fill: list[float], **kwargs):
        super().__init__(**kwargs)
        self.fill = [float(v) for v in fill]

    def call(self, x):
        fill = ops.convert_to_tensor(np.asarray(self.fill, dtype="float32")[None, :])
        return ops.where(ops.isnan(x), fill, x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "fill": self.fill}


@keras.saving.register_keras_serializable(package="ksol")
class MissingIndicator(layers.Layer):
    """1.0 where the selected columns of a (n, k) float tensor are NaN, else 0.0: shape (n, len(columns))."""

    def __init__(self, columns: list[int], **kwargs):
        super().__init__(**kwargs)
        self.columns = [int(c) for c in columns]

    def call(self, x):
        picked = ops.take(x, np.asarray(self.columns, dtype="int32"), axis=1)
        return ops.cast(ops.isnan(picked), "float32")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], len(self.columns))

    def get_config(self):
        return {**super().get_config(), "columns": self.columns}


CUSTOM_OBJECTS = {"ksol>MissingValueImputer": MissingValueImputer, "ksol>MissingIndicator": MissingIndicator}


def safe_layer_name(column: str) -> str:
    """A layer name made from a column name (letters, digits, _ and - only).

    >>> safe_layer_name("Days Policy/Accident")
    'Days_Policy_Accident'
    """
    return re.sub(r"[^A-Za-z0-9_-]+", "_", str(column)).strip("_") or "column"


def embedding_dim(n_categories: int, max_dim: int) -> int:
    """Embedding width for a column with `n_categories` values: 1.6 n^0.56, at least 2, at most `max_dim`.

    >>> embedding_dim(4, 8), embedding_dim(1000, 8)
    (3, 8)
    """
    return int(max(2, min(max_dim, round(1.6 * n_categories ** 0.56))))


def table_inputs(schema: dict[str, Any]) -> dict[str, Any]:
    """One keras.Input of shape (1,) per feature column, keyed by the column name."""
    inputs = {}
    names = set()
    for spec in schema["numeric"]:
        inputs[spec["name"]] = keras.Input((1,), dtype="float32", name=_unique(safe_layer_name(spec["name"]), names))
    for spec in schema["categorical"]:
        inputs[spec["name"]] = keras.Input((1,), dtype="string", name=_unique(safe_layer_name(spec["name"]), names))
    return inputs


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def encoding_layout(schema: dict[str, Any], encoding: str, max_embedding_dim: int) -> dict[str, list[int]]:
    """Which positions of an encoder output belong to which column (its value and its missing flag)."""
    layout: dict[str, list[int]] = {}
    numeric = schema["numeric"]
    for i, spec in enumerate(numeric):
        layout[spec["name"]] = [i]
    position = len(numeric)
    for spec in numeric:
        if spec["missing"]:
            layout[spec["name"]].append(position)
            position += 1
    for spec in schema["categorical"]:
        size = len(spec["vocabulary"]) + 1
        width = embedding_dim(size, max_embedding_dim) if encoding == "embedding" else size
        layout[spec["name"]] = list(range(position, position + width))
        position += width
    return layout


def build_encoder(schema: dict[str, Any], encodings: tuple[str, ...] = ("embedding",), max_embedding_dim: int = 8,
                  name: str = "encoder"):
    """A sub-model from the raw columns to one vector per requested encoding (see `encoding_layout`).

    >>> schema = {"numeric": [{"name": "amount", "median": 1.0, "mean": 1.0, "std": 2.0, "missing": True}],
    ...           "categorical": [{"name": "kind", "vocabulary": ["a", "b"], "mode": "a"}]}
    >>> encoder = build_encoder(schema, ("embedding", "one_hot"), 4)
    >>> [tuple(o.shape) for o in encoder.outputs]
    [(None, 5), (None, 5)]
    """
    for encoding in encodings:
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}. Received: {encoding!r}.")
    inputs = table_inputs(schema)
    numeric_part = []
    if schema["numeric"]:
        names = [spec["name"] for spec in schema["numeric"]]
        raw = inputs[names[0]] if len(names) == 1 else layers.Concatenate(name="numeric_columns")([inputs[n] for n in names])
        filled = MissingValueImputer([s["median"] for s in schema["numeric"]], name="impute_median")(raw)
        normalised = layers.Normalization(mean=[s["mean"] for s in schema["numeric"]],
                                          variance=[s["std"] ** 2 for s in schema["numeric"]], name="normalize")(filled)
        numeric_part.append(normalised)
        flagged = [i for i, s in enumerate(schema["numeric"]) if s["missing"]]
        if flagged:
            numeric_part.append(MissingIndicator(flagged, name="missing_indicator")(raw))
    outputs = []
    for encoding in encodings:
        parts = list(numeric_part)
        for spec in schema["categorical"]:
            column, vocabulary = spec["name"], spec["vocabulary"]
            safe = safe_layer_name(column)
            if encoding == "embedding":
                index = layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, name=f"lookup_{safe}")(inputs[column])
                width = embedding_dim(len(vocabulary) + 1, max_embedding_dim)
                vector = layers.Embedding(len(vocabulary) + 1, width, name=f"embed_{safe}")(index)
                parts.append(layers.Reshape((width,), name=f"flat_{safe}")(vector))
            else:
                parts.append(layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, output_mode="one_hot",
                                                 name=f"onehot_{safe}")(inputs[column]))
        outputs.append(parts[0] if len(parts) == 1 else layers.Concatenate(name=f"{encoding}_features")(parts))
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=name)


def build_binary_model(schema: dict[str, Any], encoder, head, name: str):
    """Raw columns -> encoder -> head (a logit) -> sigmoid score; the standard tabular model."""
    inputs = table_inputs(schema)
    logit = head(encoder(inputs))
    score = layers.Activation("sigmoid", name="score")(logit)
    return keras.Model(inputs, score, name=name)


def is_plain_binary_model(model) -> bool:
    """Whether `model` is build_binary_model's: its output is sigmoid(head(encoder(inputs))), nothing else."""
    inner = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    return ([layer.name for layer in inner] == ["encoder", "head", "score"]
            and model.get_layer("score").get_config().get("activation") == "sigmoid")


def pack_inputs(inputs: dict[str, np.ndarray], schema: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The model inputs as two matrices: numeric columns (n, k) float32 and categorical columns (n, m) text.

    One compiled call with two tensors costs far less than one with a tensor per column.
    """
    numeric = [inputs[s["name"]] for s in schema["numeric"]]
    categorical = [inputs[s["name"]] for s in schema["categorical"]]
    n = len(next(iter(inputs.values())))
    packed_numeric = np.hstack(numeric).astype(np.float32, copy=False) if numeric else np.zeros((n, 0), np.float32)
    packed_text = np.hstack(categorical) if categorical else np.zeros((n, 0), dtype=object)
    return packed_numeric, packed_text


class TableScorer:
    """Score rows (and explain the scores) with compiled calls of a tabular model.

    `score` returns the model's output per row; `explain` also returns, per row
    and column, gradient x (encoding - reference encoding) of the head's logit,
    summed over the column's positions: positive values pushed the score up.
    Explanations need the model's "encoder" and "head" sub-models.
    """

    def __init__(self, model, schema: dict[str, Any], encodings: tuple[str, ...] = ("embedding",),
                 max_embedding_dim: int = 8, batch_size: int = 8192):
        import tensorflow as tf

        self.model, self.schema, self.batch_size = model, schema, batch_size
        self.columns = feature_names(schema)
        self.encodings, self.max_embedding_dim = tuple(encodings), max_embedding_dim
        numeric = [s["name"] for s in schema["numeric"]]
        categorical = [s["name"] for s in schema["categorical"]]
        self._signature = [tf.TensorSpec((None, len(numeric)), tf.float32), tf.TensorSpec((None, len(categorical)), tf.string)]

        def unpack(values, texts):
            columns = {name: values[:, i:i + 1] for i, name in enumerate(numeric)}
            columns.update({name: texts[:, i:i + 1] for i, name in enumerate(categorical)})
            return columns

        self._unpack = unpack
        # A concrete function skips tf.function's argument matching: about 1 ms for one row on 2 CPU cores.
        self._score = tf.function(lambda values, texts: model(unpack(values, texts), training=False),
                                  input_signature=self._signature).get_concrete_function()
        self._explain = None
        self._row_scorer = None  # built on the first score_record

    def _tensors(self, packed: tuple[np.ndarray, np.ndarray]):
        import tensorflow as tf

        return tf.constant(packed[0], dtype=tf.float32), tf.constant(packed[1], dtype=tf.string)

    def score(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Model outputs for every row, computed in batches: shape (n, outputs)."""
        values, texts = pack_inputs(inputs, self.schema)
        parts = [self._score(*self._tensors((values[i:i + self.batch_size], texts[i:i + self.batch_size]))).numpy()
                 for i in range(0, max(1, len(values)), self.batch_size)]
        return np.concatenate(parts)

    def score_record(self, record: dict[str, Any], missing: str = "impute") -> float:
        """The score of one row given as a dict of column -> value (through `RowScorer` where it applies)."""
        if self._row_scorer is None:
            from solutions.tables.row_scorer import RowScorer

            self._row_scorer = RowScorer.for_model(self.model, self.schema) or False
        if self._row_scorer:
            return self._row_scorer.score_record(record, missing)
        packed = pack_inputs(record_to_inputs(record, self.schema, missing=missing), self.schema)
        return float(self._score(*self._tensors(packed)).numpy()[0, 0])

    def explain(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(scores (n, 1), attributions (n, columns)) against the schema's reference row."""
        if self._explain is None:
            self._explain = self._build_explain()
        values, texts = pack_inputs(inputs, self.schema)
        scores, attributions = [], []
        for i in range(0, max(1, len(values)), self.batch_size):
            s, a = self._explain(*self._tensors((values[i:i + self.batch_size], texts[i:i + self.batch_size])))
            scores.append(s.numpy())
            attributions.append(a.numpy())
        return np.concatenate(scores), np.concatenate(attributions)

    def _build_explain(self):
        import tensorflow as tf

        encoder, head = self.model.get_layer("encoder"), self.model.get_layer("head")
        packed = pack_inputs(record_to_inputs(reference_record(self.schema), self.schema), self.schema)
        reference = encoder(self._unpack(*self._tensors(packed)), training=False)
        reference = [reference] if not isinstance(reference, (list, tuple)) else list(reference)
        matrices = []
        for encoding in self.encodings:
            layout = encoding_layout(self.schema, encoding, self.max_embedding_dim)
            width = max(max(v) for v in layout.values()) + 1
            matrix = np.zeros((width, len(self.columns)), dtype=np.float32)
            for j, column in enumerate(self.columns):
                matrix[layout[column], j] = 1.0
            # An ensemble's encoder concatenates one such encoding per member (tables.ensemble).
            members = int(reference[len(matrices)].shape[-1]) // width
            matrices.append(tf.constant(np.tile(matrix, (members, 1))))
        model, unpack = self.model, self._unpack
        plain = is_plain_binary_model(model)

        @tf.function(input_signature=self._signature)
        def explain(values, texts):
            x = unpack(values, texts)
            encoded = encoder(x, training=False)
            encoded = [encoded] if not isinstance(encoded, (list, tuple)) else list(encoded)
            with tf.GradientTape() as tape:
                tape.watch(encoded)
                logit = head(encoded if len(encoded) > 1 else encoded[0], training=False)
            gradients = tape.gradient(logit, encoded)
            total = 0.0
            for g, e, r, m in zip(gradients, encoded, reference, matrices):
                total = total + tf.matmul(g * (e - r), m)
            # The score from the same forward pass where the model is sigmoid(head(encoder)), else the model's own.
            return (tf.sigmoid(logit) if plain else model(x, training=False)), total

        return explain


def top_reasons(attributions: np.ndarray, columns: list[str], k: int, sign: float = 1.0) -> list[list[str]]:
    """The `k` columns with the largest attribution (times `sign`) per row, largest first, positive only.

    >>> top_reasons(np.array([[0.5, -1.0, 2.0]]), ["a", "b", "c"], 2)
    [['c', 'a']]
    """
    signed = np.asarray(attributions) * sign
    order = np.argsort(-signed, axis=1)[:, :k]
    return [[columns[j] for j in row if signed[i, j] > 0] for i, row in enumerate(order)]


def build_mlp_head(input_width: int, hidden_units: tuple[int, ...], dropout: float, name: str = "head"):
    """A sub-model from an encoded vector to one logit: Dense-ReLU (and dropout) per hidden width."""
    vector = keras.Input((input_width,), name=f"{name}_input")
    x = vector
    for i, units in enumerate(hidden_units):
        x = layers.Dense(units, activation="relu", name=f"{name}_dense_{i + 1}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"{name}_dropout_{i + 1}")(x)
    logit = layers.Dense(1, name=f"{name}_logit")(x)
    return keras.Model(vector, logit, name=name)
