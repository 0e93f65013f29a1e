"""TabM for table solutions: the encoded row -> (periodic embeddings of its numbers) -> k BatchEnsemble members.

`--set network=tabm` (any table solution) builds one network that imitates an ensemble of `tabm_k` MLPs
(Gorishniy et al., ICLR 2025; layers in `tables.tabm`), optionally with an embedding of each numeric
column first (`--set numeric_embedding=periodic`: "PLR"; `piecewise_linear` / `piecewise_linear_tree`: piecewise-linear
encodings on bins fitted on the training split, `tables.numeric_bins`; layers in `tables.numeric_embeddings`). It plugs into the
seed-ensemble contract of `tables.ensemble`: the training model outputs every member's probability,
(n, k), trained on the mean of the members' losses (`MemberLoss`), and its "member_heads" sub-model maps
the encoder's output to the k logits, so `inference_ensemble` saves it as one score (the mean member
logit) with the "encoder" / "head" sub-models `TableScorer` explains. Embeddings sit in the head, after
the encoder, so attributions are still summed per raw column.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from solutions.tables.ensemble import MEMBER_HEADS, SliceFeatures
from solutions.tables.model import build_encoder, table_inputs
from solutions.tables.numeric_embeddings import PeriodicEmbeddings, PiecewiseLinearEmbeddings
from solutions.tables.tabm import build_tabm_head

# Chosen by hand, not tuned (rtdl's defaults are 24 / 48 / 0.01): with these, TabM (k=16) reached a validation
# AUPRC of about 0.20 on fraud_oracle over 3 seeds (issue 17's note).
PERIODIC = {"d_embedding": 16, "n_frequencies": 16, "frequency_init_scale": 0.05}


def numeric_embedding_layer(recipe, bins: list[list[float]] | None):
    """The recipe's embedding of the numbers, (n, columns) -> (n, columns, d): periodic (PLR) or piecewise linear."""
    if recipe.numeric_embedding == "periodic":
        return PeriodicEmbeddings(**PERIODIC, name="periodic")
    if bins is None:
        raise ValueError(f"numeric_embedding={recipe.numeric_embedding} needs the schema's numeric_bins.")
    # TabM's example notebook: version B (a linear embedding plus the learned piecewise part), no ReLU.
    return PiecewiseLinearEmbeddings(bins, d_embedding=PERIODIC["d_embedding"], activation=False, name="piecewise_linear")


def build_tabm_member_heads(width: int, n_numeric: int, recipe, bins: list[list[float]] | None = None) -> keras.Model:
    """(n, width) encoded rows -> (n, tabm_k) member logits; the first `n_numeric` positions are the numbers
    (`bins`: their piecewise-linear bin edges, schema["numeric_bins"])."""
    vector = keras.Input((width,), name="member_heads_input")
    x = vector
    embedded = recipe.numeric_embedding != "none" and n_numeric > 0
    if embedded:
        numbers = SliceFeatures(0, n_numeric, name="numbers")(vector)
        parts = [layers.Flatten(name="numbers_embedded")(numeric_embedding_layer(recipe, bins)(numbers))]
        if width > n_numeric:
            parts.append(SliceFeatures(n_numeric, width, name="other_features")(vector))
        x = parts[0] if len(parts) == 1 else layers.Concatenate(name="embedded_row")(parts)
    tabm = build_tabm_head(int(x.shape[-1]), 1, name="tabm", k=recipe.tabm_k, n_blocks=recipe.tabm_blocks,
                           d_block=recipe.tabm_width, dropout=recipe.dropout,
                           start_scaling_init="normal" if embedded else "random-signs")
    logits = layers.Reshape((recipe.tabm_k,), name="member_logits")(tabm(x))
    return keras.Model(vector, logits, name=MEMBER_HEADS)


def build_tabm_network(schema: dict[str, Any], recipe, name: str) -> keras.Model:
    """The training model: raw columns -> each member's probability, (n, tabm_k).

    >>> from solutions.core.config import make_recipe
    >>> from solutions.fraud_detection.recipe import FraudRecipe
    >>> schema = {"numeric": [{"name": "amount", "median": 1.0, "mean": 1.0, "std": 2.0, "missing": False}],
    ...           "categorical": [{"name": "kind", "vocabulary": ["a", "b"], "mode": "a"}]}
    >>> recipe = make_recipe(FraudRecipe, "quick", network="tabm", numeric_embedding="periodic", tabm_k=4)
    >>> build_tabm_network(schema, recipe, "fraud").output_shape
    (None, 4)
    """
    encoder = build_encoder(schema, ("embedding",), recipe.max_embedding_dim, name="encoder")
    heads = build_tabm_member_heads(int(encoder.output.shape[-1]), len(schema["numeric"]), recipe,
                                    schema.get("numeric_bins"))
    inputs = table_inputs(schema)
    scores = layers.Activation("sigmoid", name="member_scores")(heads(encoder(inputs)))
    return keras.Model(inputs, scores, name=f"{name}_training")
