"""Credit models in Keras: raw application columns in, probability of default out.

- "mlp": encoder (imputation, normalisation, lookups, embeddings) -> MLP head.
- "wide_deep": the same deep part, plus a wide linear part on one-hot
  categories and the numbers, their logits summed (Cheng et al. 2016).

Both name their sub-models "encoder" and "head" so reason codes can attribute
the logit to columns.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from solutions.tables.ensemble import build_network
from solutions.tables.tabm_network import build_tabm_network
from solutions.tables.model import build_encoder, build_mlp_head
from solutions.credit_scoring.recipe import CreditRecipe


def build_credit_model(schema: dict[str, Any], recipe: CreditRecipe):
    """The recipe's model: raw columns -> P(bad), shape (n, 1) ((n, members) while an ensemble trains).

    >>> from solutions.core.config import make_recipe
    >>> schema = {"numeric": [{"name": "age", "median": 30.0, "mean": 30.0, "std": 9.0, "missing": False}],
    ...           "categorical": [{"name": "housing", "vocabulary": ["own", "rent"], "mode": "own"}]}
    >>> build_credit_model(schema, make_recipe(CreditRecipe, "quick", model="wide_deep")).output_shape
    (None, 1)
    """
    if recipe.network == "tabm":
        return build_tabm_network(schema, recipe, "credit_tabm")

    def member(encoder_name: str, head_name: str):
        if recipe.model == "mlp":
            encoder = build_encoder(schema, ("embedding",), recipe.max_embedding_dim, name=encoder_name)
            return encoder, build_mlp_head(int(encoder.output.shape[-1]), recipe.hidden_units, recipe.dropout, name=head_name)
        encoder = build_encoder(schema, ("embedding", "one_hot"), recipe.max_embedding_dim, name=encoder_name)
        deep_width, wide_width = (int(o.shape[-1]) for o in encoder.outputs)
        return encoder, wide_deep_head(deep_width, wide_width, recipe, name=head_name)

    return build_network(schema, member, recipe.members, f"credit_{recipe.model}")


def wide_deep_head(deep_width: int, wide_width: int, recipe: CreditRecipe, name: str = "head"):
    """[deep vector, wide vector] -> MLP logit + linear logit."""
    deep_in = keras.Input((deep_width,), name="deep_input")
    wide_in = keras.Input((wide_width,), name="wide_input")
    deep = build_mlp_head(deep_width, recipe.hidden_units, recipe.dropout, name="deep")(deep_in)
    wide = layers.Dense(1, name="wide_logit")(wide_in)
    return keras.Model([deep_in, wide_in], layers.Add(name="logit")([deep, wide]), name=name)
