"""Bins of the piecewise-linear numeric embeddings, fitted once on the training split and kept in the schema.

The embeddings act on the numbers as the encoder passes them on: missing cells filled with the training
median, then standardised with the training mean and standard deviation. So the bins are fitted on those
values; the edges in schema.json are in standardised units.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core.errors import ConfigError

NUMERIC_EMBEDDINGS = ("none", "periodic", "piecewise_linear", "piecewise_linear_tree")
PIECEWISE = ("piecewise_linear", "piecewise_linear_tree")
# rtdl's README example for target-aware bins; a leaf of at least 64 rows keeps thresholds from chasing noise
# (small tables such as German credit's 765 training rows get only a few bins per column).
TREE_OPTIONS = {"min_samples_leaf": 64, "min_impurity_decrease": 1e-4}


def standardised_numbers(frame, numeric: list[dict[str, Any]]) -> np.ndarray:
    """The numeric columns of `frame` as the encoder passes them on: (rows, columns) float64."""
    columns = []
    for spec in numeric:
        values = np.asarray(frame[spec["name"]], dtype=np.float64)
        values = np.where(np.isnan(values), spec["median"], values)
        columns.append((values - spec["mean"]) / (spec["std"] or 1.0))
    return np.stack(columns, axis=1)


def fit_numeric_bins(frame, y, numeric: list[dict[str, Any]], recipe) -> list[list[float]] | None:
    """Per numeric column, the bin edges of the recipe's piecewise-linear embedding; None for other recipes.

    >>> import pandas as pd
    >>> from solutions.tables.solution import TabularRecipe
    >>> frame = pd.DataFrame({"amount": [0.0, 1.0, 2.0, 3.0, 4.0]})
    >>> spec = [{"name": "amount", "median": 2.0, "mean": 2.0, "std": 1.0, "missing": False}]
    >>> recipe = TabularRecipe(network="tabm", numeric_embedding="piecewise_linear", numeric_bins=2)
    >>> fit_numeric_bins(frame, [0, 0, 1, 1, 1], spec, recipe)
    [[-2.0, 0.0, 2.0]]
    """
    if getattr(recipe, "numeric_embedding", "none") not in PIECEWISE or not numeric:
        return None
    from solutions.tables.numeric_embeddings import compute_quantile_bins, compute_tree_bins

    x = standardised_numbers(frame, numeric)
    n_bins = min(recipe.numeric_bins, len(x) - 1)
    if n_bins < 2:
        raise ConfigError(f"numeric_embedding={recipe.numeric_embedding} needs at least 3 training rows to fit bins. "
                          f"Received: {len(x)}. Add rows or set --set numeric_embedding=none.")
    bins = []
    for column in x.T:
        if len(np.unique(column)) < 2:
            # one value once missing cells hold the median (its missing indicator still carries them): one bin
            bins.append([float(column[0]) - 1.0, float(column[0]) + 1.0])
        elif recipe.numeric_embedding == "piecewise_linear":
            bins.append(compute_quantile_bins(column[:, None], n_bins)[0].tolist())
        else:
            bins.append(compute_tree_bins(column[:, None], np.asarray(y).astype(int), n_bins,
                                          tree_kwargs=TREE_OPTIONS)[0].tolist())
    return bins
