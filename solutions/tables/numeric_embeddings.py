"""Embeddings for numeric table columns: piecewise-linear encodings and periodic ("PLR") embeddings.

Keras versions of the layers of Gorishniy, Rubachev and Babenko, "On Embeddings for Numerical
Features in Tabular Deep Learning" (NeurIPS 2022), following the authors' PyTorch package
`rtdl_num_embeddings` (0.0.12, yandex-research/rtdl-num-embeddings, package/rtdl_num_embeddings.py)
for the details the paper leaves open: the extrapolation of the first and last bin, the layout of
columns with fewer bins, initialisation and defaults.

- `compute_quantile_bins` / `compute_tree_bins`: the bin edges b_0 < ... < b_T of each column, from
  training quantiles or from the split thresholds of a decision tree fitted on the target.
- `PiecewiseLinearEncoding` (PLE, no weights): for x in bin t (b_{t-1} <= x < b_t) the encoding is
  [1, ..., 1, (x - b_{t-1}) / (b_t - b_{t-1}), 0, ..., 0]. The first component is only capped at 1
  and the last only floored at 0, so values below b_0 give a negative first component and values above
  b_T a last component over 1 (rtdl's extrapolation); a single-bin column is plain min-max scaling.
- `PiecewiseLinearEmbeddings`: PLE, then one linear layer per column to d dimensions (version "B":
  plus a linear embedding of the raw value, the PLE weights starting at zero).
- `PeriodicEmbeddings` (PLR): per column, [cos(2 pi c x), sin(2 pi c x)] with k trainable frequencies
  c ~ N(0, sigma), a linear layer per column (shared with `lite=True`) to d dimensions, then ReLU.

Inputs are (batch, n_columns) floats with missing values already imputed (NaN stays NaN). The layers
are registered, so models using them load with safe_mode on once this module is imported (or with
`custom_objects=CUSTOM_OBJECTS`).
"""

from __future__ import annotations

import math
import random
from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

PACKAGE = "ksol"  # the registration package every custom layer of the project uses


# ---------------------------------------------------------------------------------------------
# Bins
# ---------------------------------------------------------------------------------------------
def _columns(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"x must be a (rows, columns) array; got shape {x.shape}.")
    if np.isinf(x).any():
        raise ValueError("x must not contain inf or -inf (NaN is ignored).")
    return x


def _check_n_bins(n_bins: int, n_values: int, column: int) -> None:
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2; got {n_bins}.")
    if n_bins >= n_values:
        raise ValueError(f"n_bins must be less than the number of non-missing values; column {column} has "
                         f"{n_values} for n_bins={n_bins}.")


def check_bins(bins: Sequence[Sequence[float]]) -> list[np.ndarray]:
    """The bin edges of each column as float64 arrays, checked: at least two edges, finite, strictly increasing.

    >>> [b.tolist() for b in check_bins([[0, 1, 3], [2.0, 5.0]])]
    [[0.0, 1.0, 3.0], [2.0, 5.0]]
    """
    if not bins:
        raise ValueError("The list of bins must not be empty.")
    checked = []
    for i, edges in enumerate(bins):
        edges = np.asarray(edges, dtype=np.float64)
        if edges.ndim != 1 or len(edges) < 2:
            raise ValueError(f"Column {i} needs at least two bin edges in a flat list; got {edges.tolist()}.")
        if not np.isfinite(edges).all():
            raise ValueError(f"The bin edges of column {i} must be finite.")
        if (np.diff(edges) <= 0).any():
            raise ValueError(f"The bin edges of column {i} must be strictly increasing.")
        checked.append(edges)
    return checked


def compute_quantile_bins(x: np.ndarray, n_bins: int = 48) -> list[np.ndarray]:
    """Per column, the n_bins + 1 training quantiles (0, 1/n_bins, ..., 1) with duplicates removed.

    rtdl's `compute_bins(X, n_bins)` without a tree (linear interpolation between order statistics,
    duplicate quantiles removed after computing them, so a column can end with fewer bins), except
    that NaN values are left out column by column. A column with fewer than two distinct values has no
    bins and raises.

    >>> [b.tolist() for b in compute_quantile_bins(np.array([[0.0], [1.0], [np.nan], [2.0], [3.0]]), 2)]
    [[0.0, 1.5, 3.0]]
    """
    x = _columns(x)
    bins = []
    for j, column in enumerate(x.T):
        values = column[~np.isnan(column)]
        _check_n_bins(n_bins, len(values), j)
        edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)))
        if len(edges) < 2:
            raise ValueError(f"Column {j} has a single distinct value; it cannot be binned.")
        bins.append(edges)
    return check_bins(bins)


def compute_tree_bins(x: np.ndarray, y: np.ndarray, n_bins: int = 48, *, regression: bool = False,
                      tree_kwargs: dict[str, Any] | None = None) -> list[np.ndarray]:
    """Target-aware bins: per column, [min, max] plus the split thresholds of a decision tree with at most
    n_bins leaves fitted on that column alone (rtdl's `compute_bins(X, n_bins, tree_kwargs=..., y=...,
    regression=...)`).

    tree_kwargs go to scikit-learn's DecisionTreeClassifier (DecisionTreeRegressor when `regression`),
    e.g. {"min_samples_leaf": 64, "min_impurity_decrease": 1e-4} as in rtdl's README; max_leaf_nodes is
    set to n_bins and may not be given; random_state defaults to 0. Rows where the column is NaN are left
    out of that column's tree.
    """
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    x = _columns(x)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must be one-dimensional with one value per row of x; got shape {y.shape} for {len(x)} rows.")
    tree_kwargs = dict(tree_kwargs or {})
    if "max_leaf_nodes" in tree_kwargs:
        raise ValueError("tree_kwargs must not contain max_leaf_nodes: it is set to n_bins.")
    tree_kwargs.setdefault("random_state", 0)
    tree_class = DecisionTreeRegressor if regression else DecisionTreeClassifier
    bins = []
    for j, column in enumerate(x.T):
        keep = ~np.isnan(column)
        values = column[keep]
        _check_n_bins(n_bins, len(values), j)
        if values.min() == values.max():
            raise ValueError(f"Column {j} has a single distinct value; it cannot be binned.")
        tree = tree_class(max_leaf_nodes=n_bins, **tree_kwargs).fit(values.reshape(-1, 1), y[keep]).tree_
        split = tree.children_left != tree.children_right  # leaves have both children -1
        edges = np.concatenate([[values.min(), values.max()], tree.threshold[split]])
        bins.append(np.unique(edges))
    return check_bins(bins)


# ---------------------------------------------------------------------------------------------
# Initialisers (used at build time only: they are not part of any config)
# ---------------------------------------------------------------------------------------------
def _seed() -> int:
    # Like Keras' unseeded initialisers: a draw from Python's generator, which keras.utils.set_random_seed seeds.
    return random.randint(1, 10**9)


def _uniform(bound: float):
    return keras.initializers.RandomUniform(-bound, bound, seed=_seed())


def _truncated_normal_3_sigma(sigma: float):
    """N(0, sigma) truncated to [-3 sigma, 3 sigma], as rtdl's _Periodic (Keras' TruncatedNormal cuts at 2 sigma)."""
    seed = _seed()
    limit = math.erf(3.0 / math.sqrt(2.0))

    def initializer(shape, dtype=None):
        u = keras.random.uniform(shape, minval=-limit, maxval=limit, dtype="float32", seed=seed)
        return ops.cast(sigma * math.sqrt(2.0) * ops.erfinv(u), dtype or "float32")

    return initializer


# ---------------------------------------------------------------------------------------------
# Piecewise-linear encoding and embeddings
# ---------------------------------------------------------------------------------------------
def _ple_tables(bins: list[np.ndarray]) -> dict[str, np.ndarray]:
    """The constants of PLE as an affine map plus a clamp, in rtdl's padded layout.

    Column i with T_i bins uses channels 0 .. T_i - 2 for its first T_i - 1 components and the LAST
    channel (max_bins - 1) for its last component; the channels in between are padding (always 0).
    Aligning the last components lets one clamp serve all columns.
    """
    n_bins = [len(b) - 1 for b in bins]
    n, width = len(bins), max(n_bins)
    weight, bias = np.zeros((n, width)), np.zeros((n, width))
    lower, upper = np.zeros((n, width)), np.ones((n, width))
    for i, edges in enumerate(bins):
        step = np.diff(edges)
        w, b = 1.0 / step, -edges[:-1] / step  # w x + b = (x - left edge) / bin width
        weight[i, -1], bias[i, -1] = w[-1], b[-1]
        weight[i, : n_bins[i] - 1], bias[i, : n_bins[i] - 1] = w[:-1], b[:-1]
    if width == 1:
        lower[:], upper[:] = -np.inf, np.inf  # every column is one bin: min-max scaling, no clamp
    else:
        lower[:, 0] = -np.inf  # the first bin extrapolates below b_0 (only capped at 1)
        upper[:, -1] = np.inf  # the last bin extrapolates above b_T (only floored at 0)
        lower[np.asarray(n_bins) == 1, -1] = -np.inf  # a single-bin column is not clamped at all
    valid = np.zeros((n, width), dtype=bool)
    for i, t in enumerate(n_bins):
        valid[i, : t - 1] = True
        valid[i, -1] = True
    return {"weight": weight, "bias": bias, "lower": lower, "upper": upper, "valid": valid}


class _PiecewiseLinearBase(keras.layers.Layer):
    def __init__(self, bins: Sequence[Sequence[float]], **kwargs):
        super().__init__(**kwargs)
        self.bins = [[float(v) for v in edges] for edges in check_bins(bins)]
        self.n_columns = len(self.bins)
        self.n_bins = [len(edges) - 1 for edges in self.bins]
        self.max_bins = max(self.n_bins)
        self._tables = _ple_tables([np.asarray(b) for b in self.bins])

    def _check_input(self, input_shape) -> None:
        if len(input_shape) != 2 or (input_shape[-1] is not None and input_shape[-1] != self.n_columns):
            raise ValueError(f"{type(self).__name__} expects inputs of shape (batch, {self.n_columns}); got {tuple(input_shape)}.")

    def _encode(self, x):
        """(batch, n_columns) -> (batch, n_columns, max_bins) in the padded layout of `_ple_tables`."""
        dtype = self.compute_dtype
        const = {k: ops.convert_to_tensor(v.astype("float32"), dtype=dtype) for k, v in self._tables.items() if k != "valid"}
        z = ops.expand_dims(ops.cast(x, dtype), -1) * const["weight"] + const["bias"]
        return ops.minimum(ops.maximum(z, const["lower"]), const["upper"])

    def get_config(self):
        return {**super().get_config(), "bins": self.bins}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PiecewiseLinearEncoding(_PiecewiseLinearBase):
    """Piecewise-linear encoding (Equation 1 of the paper); no trainable weights.

    bins: per column the edges b_0 < ... < b_T (from `compute_quantile_bins` / `compute_tree_bins`).
    flatten=True (the default, as rtdl's PiecewiseLinearEncoding): (batch, n_columns) ->
    (batch, sum of T_i), each column's T_i components in order, padding removed.
    flatten=False: (batch, n_columns, max T_i) in rtdl's padded layout: a column with fewer bins keeps its
    first T_i - 1 components at the start and its last one in the last channel, zeros in between.

    >>> layer = PiecewiseLinearEncoding([[0.0, 1.0, 2.0, 4.0]])
    >>> np.round(np.asarray(layer(np.array([[1.5], [-1.0], [5.0]], "float32"))), 3).tolist()
    [[1.0, 0.5, 0.0], [-1.0, 0.0, 0.0], [1.0, 1.0, 1.5]]
    """

    def __init__(self, bins: Sequence[Sequence[float]], flatten: bool = True, **kwargs):
        super().__init__(bins, **kwargs)
        self.flatten = bool(flatten)
        valid = self._tables["valid"]
        self._positions = None if valid.all() else np.flatnonzero(valid.reshape(-1)).astype("int32")

    def build(self, input_shape):
        self._check_input(input_shape)
        self.built = True

    def call(self, x):
        encoded = self._encode(x)
        if not self.flatten:
            return encoded
        flat = ops.reshape(encoded, (-1, self.n_columns * self.max_bins))
        return flat if self._positions is None else ops.take(flat, self._positions, axis=1)

    def compute_output_shape(self, input_shape):
        if self.flatten:
            return (input_shape[0], sum(self.n_bins))
        return (input_shape[0], self.n_columns, self.max_bins)

    def get_config(self):
        return {**super().get_config(), "flatten": self.flatten}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PiecewiseLinearEmbeddings(_PiecewiseLinearBase):
    """PLE followed by one linear layer per column: (batch, n_columns) -> (batch, n_columns, d_embedding).

    Version "B" (what rtdl's README and the TabM paper recommend, and the default here; rtdl itself still
    falls back to "A" with a warning): out = w * x + b  +  [ReLU](PLE(x) @ V), with w, b of shape
    (n_columns, d) ~ U(+-1/sqrt(d)) and V of shape (n_columns, max_bins, d) starting at zero, so the layer
    starts as a linear embedding and learns the piecewise part. Version "A" (the paper's):
    [ReLU](PLE(x) @ V + c), V and c ~ U(+-1/sqrt(max_bins)). The ReLU (activation=True) acts on the
    piecewise part only. Defaults d_embedding=16, activation=False are those of TabM's example notebook.
    """

    def __init__(self, bins: Sequence[Sequence[float]], d_embedding: int = 16, activation: bool = False,
                 version: str = "B", **kwargs):
        super().__init__(bins, **kwargs)
        if int(d_embedding) <= 0:
            raise ValueError(f"d_embedding must be positive; got {d_embedding}.")
        if version not in ("A", "B"):
            raise ValueError(f'version must be "A" or "B"; got {version!r}.')
        self.d_embedding, self.activation, self.version = int(d_embedding), bool(activation), version

    def build(self, input_shape):
        self._check_input(input_shape)
        n, d, t = self.n_columns, self.d_embedding, self.max_bins
        if self.version == "B":
            self.linear_kernel = self.add_weight(shape=(n, d), initializer=_uniform(d**-0.5), name="linear_kernel")
            self.linear_bias = self.add_weight(shape=(n, d), initializer=_uniform(d**-0.5), name="linear_bias")
            self.kernel = self.add_weight(shape=(n, t, d), initializer="zeros", name="kernel")
            self.bias = None
        else:
            self.linear_kernel = self.linear_bias = None
            self.kernel = self.add_weight(shape=(n, t, d), initializer=_uniform(t**-0.5), name="kernel")
            self.bias = self.add_weight(shape=(n, d), initializer=_uniform(t**-0.5), name="bias")
        self.built = True

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        piecewise = ops.einsum("bnt,ntd->bnd", self._encode(x), self.kernel)
        if self.bias is not None:
            piecewise = piecewise + self.bias
        if self.activation:
            piecewise = ops.relu(piecewise)
        if self.linear_kernel is None:
            return piecewise
        return ops.expand_dims(x, -1) * self.linear_kernel + self.linear_bias + piecewise

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n_columns, self.d_embedding)

    def get_config(self):
        return {**super().get_config(), "d_embedding": self.d_embedding, "activation": self.activation,
                "version": self.version}


# ---------------------------------------------------------------------------------------------
# Periodic embeddings
# ---------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package=PACKAGE)
class PeriodicEmbeddings(keras.layers.Layer):
    """Periodic embeddings ("PLR"): (batch, n_columns) -> (batch, n_columns, d_embedding).

    Per column j: v = [cos(2 pi c_j x_j), sin(2 pi c_j x_j)] (the n_frequencies cosines, then the sines),
    with trainable frequencies c_j ~ N(0, frequency_init_scale) truncated at 3 sigma; then
    v @ W_j + b_j with W_j of shape (2 n_frequencies, d), one per column (lite=True: one W, b shared by
    all columns), W, b ~ U(+-1/sqrt(2 n_frequencies)); then ReLU (activation=False gives "PL"; lite
    requires the ReLU, as in rtdl). Defaults are rtdl's: d_embedding=24, n_frequencies=48,
    frequency_init_scale=0.01; rtdl has no default for lite, and lite=False is what TabM's example uses.
    frequency_init_scale (sigma) matters: rtdl's README advises trying small values first.
    """

    def __init__(self, d_embedding: int = 24, n_frequencies: int = 48, frequency_init_scale: float = 0.01,
                 activation: bool = True, lite: bool = False, **kwargs):
        super().__init__(**kwargs)
        if int(d_embedding) <= 0 or int(n_frequencies) <= 0:
            raise ValueError(f"d_embedding and n_frequencies must be positive; got {d_embedding}, {n_frequencies}.")
        if float(frequency_init_scale) <= 0:
            raise ValueError(f"frequency_init_scale must be positive; got {frequency_init_scale}.")
        if lite and not activation:
            raise ValueError("lite=True is allowed only with activation=True (as in rtdl).")
        self.d_embedding, self.n_frequencies = int(d_embedding), int(n_frequencies)
        self.frequency_init_scale, self.activation, self.lite = float(frequency_init_scale), bool(activation), bool(lite)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"PeriodicEmbeddings expects inputs of shape (batch, n_columns); got {tuple(input_shape)}.")
        n, k, d = int(input_shape[-1]), self.n_frequencies, self.d_embedding
        self.n_columns = n
        self.frequencies = self.add_weight(shape=(n, k), initializer=_truncated_normal_3_sigma(self.frequency_init_scale),
                                           name="frequencies")
        bound = (2 * k) ** -0.5
        head = (2 * k, d) if self.lite else (n, 2 * k, d)
        self.kernel = self.add_weight(shape=head, initializer=_uniform(bound), name="kernel")
        self.bias = self.add_weight(shape=(d,) if self.lite else (n, d), initializer=_uniform(bound), name="bias")
        self.built = True

    def call(self, x):
        angles = 2.0 * math.pi * self.frequencies * ops.expand_dims(ops.cast(x, self.compute_dtype), -1)
        periodic = ops.concatenate([ops.cos(angles), ops.sin(angles)], axis=-1)  # (batch, n, 2k)
        if self.lite:
            out = ops.einsum("bnf,fd->bnd", periodic, self.kernel)
        else:
            out = ops.einsum("bnf,nfd->bnd", periodic, self.kernel)
        out = out + self.bias
        return ops.relu(out) if self.activation else out

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1], self.d_embedding)

    def get_config(self):
        return {**super().get_config(), "d_embedding": self.d_embedding, "n_frequencies": self.n_frequencies,
                "frequency_init_scale": self.frequency_init_scale, "activation": self.activation, "lite": self.lite}


CUSTOM_OBJECTS = {f"{PACKAGE}>{cls.__name__}": cls
                  for cls in (PiecewiseLinearEncoding, PiecewiseLinearEmbeddings, PeriodicEmbeddings)}
