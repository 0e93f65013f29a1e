"""Fraud models in Keras: raw table columns in, a score out.

- `build_fraud_classifier`: encoder (imputation, normalisation, lookups and
  embeddings) -> MLP head -> sigmoid fraud probability.
- `build_autoencoder`: encoder (one-hot categories) -> bottleneck network ->
  reconstruction; the output is log(mean squared reconstruction error), an
  anomaly score that needs no labels.
- `build_combined`: both, stacked by a logistic layer whose weights are fitted
  on validation scores.

Every model loads with safe_mode on (custom layers are registered in the "ksol" package).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

from solutions.tables.ensemble import build_network
from solutions.tables.tabm_network import build_tabm_network
from solutions.tables.model import build_encoder, build_mlp_head, table_inputs
from solutions.fraud_detection.recipe import FraudRecipe


@keras.saving.register_keras_serializable(package="ksol")
class ReconstructionError(layers.Layer):
    """log(mean over positions of (target - reconstruction)^2 + 1e-6), one value per row: shape (n, 1)."""

    def call(self, inputs):
        target, reconstruction = inputs
        error = ops.mean(ops.square(target - reconstruction), axis=-1, keepdims=True)
        return ops.log(error + 1e-6)

    def compute_output_shape(self, input_shapes):
        return (input_shapes[0][0], 1)


CUSTOM_OBJECTS = {"ksol>ReconstructionError": ReconstructionError}


def build_fraud_classifier(schema: dict[str, Any], recipe: FraudRecipe):
    """The MLP classifier: raw columns -> fraud probability (n, 1), or (n, members) while an ensemble trains.

    >>> from solutions.core.config import make_recipe
    >>> schema = {"numeric": [{"name": "amount", "median": 1.0, "mean": 1.0, "std": 2.0, "missing": False}],
    ...           "categorical": [{"name": "kind", "vocabulary": ["a", "b"], "mode": "a"}]}
    >>> build_fraud_classifier(schema, make_recipe(FraudRecipe, "quick")).output_shape
    (None, 1)
    """
    if recipe.network == "tabm":
        return build_tabm_network(schema, recipe, "fraud_tabm")

    def member(encoder_name: str, head_name: str):
        encoder = build_encoder(schema, ("embedding",), recipe.max_embedding_dim, name=encoder_name)
        return encoder, build_mlp_head(int(encoder.output.shape[-1]), recipe.hidden_units, recipe.dropout, name=head_name)

    return build_network(schema, member, recipe.members, "fraud_mlp")


def build_autoencoder(schema: dict[str, Any], recipe: FraudRecipe):
    """The anomaly detector: raw columns -> log reconstruction error (n, 1)."""
    encoder = build_encoder(schema, ("one_hot",), recipe.max_embedding_dim, name="ae_encoder")
    width = int(encoder.output.shape[-1])
    vector = keras.Input((width,), name="ae_network_input")
    x = vector
    units = list(recipe.autoencoder_units)
    for i, n in enumerate(units + units[-2::-1]):
        x = layers.Dense(n, activation="relu", name=f"ae_dense_{i + 1}")(x)
    network = keras.Model(vector, layers.Dense(width, name="ae_reconstruction")(x), name="ae_network")
    inputs = table_inputs(schema)
    target = encoder(inputs)
    error = ReconstructionError(name="score")([target, network(target)])
    return keras.Model(inputs, error, name="fraud_autoencoder")


def autoencoder_parts(model) -> tuple[Any, Any]:
    """The (encoder, network) sub-models of an autoencoder or combined model."""
    return model.get_layer("ae_encoder"), model.get_layer("ae_network")


def build_combined(schema: dict[str, Any], classifier, autoencoder, weights: tuple[float, float], bias: float):
    """Classifier logit and autoencoder error -> sigmoid(w1 * logit + w2 * error + b), one model."""
    inputs = table_inputs(schema)
    logit = classifier.get_layer("head")(classifier.get_layer("encoder")(inputs))
    ae_encoder, network = autoencoder_parts(autoencoder)
    target = ae_encoder(inputs)
    error = ReconstructionError(name="reconstruction_error")([target, network(target)])
    stacked = layers.Concatenate(name="stacked")([logit, error])
    dense = layers.Dense(1, activation="sigmoid", name="score")
    output = dense(stacked)
    dense.set_weights([np.asarray(weights, dtype="float32").reshape(2, 1), np.asarray([bias], dtype="float32")])
    return keras.Model(inputs, output, name="fraud_combined")
