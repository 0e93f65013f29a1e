"""One row scored in about half the time of the whole model's call: the category lookups in Python, the rest compiled.

A one-row call of a table model is mostly per-operation overhead, and most operations are the string
lookups (one StringLookup, its comparisons and casts per categorical column). For one row a Python dict
does the same lookup in microseconds, so `RowScorer` looks the categories up in dicts built from the
model's own StringLookup vocabularies (index 0: out of vocabulary, as the layer's) and runs everything
after the lookups (imputation, normalisation, embeddings, the head) as one XLA-compiled function. It
applies to the standard table model, sigmoid(head(encoder)), with embedded categories; `for_model`
returns None for any other model, which is then scored by its own call. Scores equal the model's
(tests/tables/test_row_scorer.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.tables.inputs import record_to_inputs
from solutions.tables.model import is_plain_binary_model, safe_layer_name


class RowScorer:
    def __init__(self, schema: dict[str, Any], tables: list[dict[str, int]], function):
        self.schema, self.tables, self._function = schema, tables, function
        self._numeric = [s["name"] for s in schema["numeric"]]
        self._categorical = [s["name"] for s in schema["categorical"]]

    @classmethod
    def for_model(cls, model, schema: dict[str, Any]) -> "RowScorer | None":
        """A row scorer of `model`, or None when the model is not sigmoid(head(encoder)) with embedded categories."""
        import keras
        import tensorflow as tf

        if not is_plain_binary_model(model):
            return None
        encoder, head = model.get_layer("encoder"), model.get_layer("head")
        inputs = encoder.input
        if not isinstance(inputs, dict):
            return None
        lookups = []
        for spec in schema["categorical"]:
            try:
                layer = encoder.get_layer(f"lookup_{safe_layer_name(spec['name'])}")
            except ValueError:
                return None
            if getattr(layer, "output_mode", None) != "int" or len(layer.get_vocabulary()) != len(spec["vocabulary"]) + 1:
                return None
            lookups.append(layer)
        try:  # a categorical column that also feeds another layer (one-hot) leaves this graph disconnected
            tail = keras.Model([inputs[s["name"]] for s in schema["numeric"]] + [layer.output for layer in lookups],
                               encoder.output)
        except ValueError:
            return None
        n_numeric, n_categorical = len(schema["numeric"]), len(lookups)

        def score(values, indices):
            columns = [values[:, i:i + 1] for i in range(n_numeric)] + [indices[:, j:j + 1] for j in range(n_categorical)]
            return tf.sigmoid(head(tail(columns, training=False), training=False))

        signature = [tf.TensorSpec((None, n_numeric), tf.float32), tf.TensorSpec((None, n_categorical), tf.int64)]
        tables = [{token: i for i, token in enumerate(layer.get_vocabulary())} for layer in lookups]
        for jit in (True, False):  # XLA where it compiles the model's layers, else a plain graph
            function = tf.function(score, input_signature=signature, jit_compile=jit).get_concrete_function()
            scorer = cls(schema, tables, function)
            try:
                scorer.score_record(_any_record(schema))
                return scorer
            except Exception:  # noqa: BLE001 - a layer XLA cannot compile: take the plain graph
                if not jit:
                    return None
        return None

    def score_record(self, record: dict[str, Any], missing: str = "impute") -> float:
        """The score of one row given as a dict of column -> value (checked as `record_to_inputs` checks it)."""
        inputs = record_to_inputs(record, self.schema, missing=missing)
        values = np.asarray([[float(inputs[name].reshape(-1)[0]) for name in self._numeric]], np.float32)
        indices = np.asarray([[table.get(str(inputs[name].reshape(-1)[0]), 0)
                               for name, table in zip(self._categorical, self.tables)]], np.int64)
        return float(self._function(values.reshape(1, len(self._numeric)),
                                    indices.reshape(1, len(self._categorical))).numpy()[0, 0])


def _any_record(schema: dict[str, Any]) -> dict[str, Any]:
    """A row of training medians and most frequent categories: what compiles the function once."""
    record = {s["name"]: s["median"] for s in schema["numeric"]}
    record.update({s["name"]: s.get("mode", s["vocabulary"][0] if s["vocabulary"] else "") for s in schema["categorical"]})
    return record
