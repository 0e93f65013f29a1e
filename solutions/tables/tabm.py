"""TabM building blocks: one MLP-sized network that imitates an ensemble of k MLPs.

Keras versions of the layers of Gorishniy, Kotelnikov and Babenko, "TabM: Advancing Tabular Deep
Learning with Parameter-Efficient Ensembling" (ICLR 2025), following the authors' PyTorch package
`tabm` (yandex-research/tabm, tabm.py) for initialisation, where the adapters sit and the defaults.

Every ensemble layer takes and returns (batch, k, d): k representations of each row, one per member,
and member i's output depends on member i's input only.

- `EnsembleView`: (batch, d) -> (batch, k, d), k copies (a (batch, k, d) input passes unchanged).
- `LinearBatchEnsemble`: BatchEnsemble's linear layer, y_i = s_i * ((r_i * x_i) W) + b_i, with one
  shared kernel W and per-member vectors r_i, s_i and biases b_i (the "adapters").
- `LinearEnsemble`: k independent linear layers (the output heads; all layers of "tabm-packed").
- `ElementwiseAffine`: a per-member scaling (and optional bias), TabM-mini's only adapter.
- `tabm_layers` / `build_tabm_head`: the whole network from an encoded row to k predictions.

Architectures (`arch_type`):
- "tabm": every hidden linear layer is a LinearBatchEnsemble. With TabM's initialisation the members
  differ at the start only in the first layer's r (random signs, or N(0, 1) after numeric embeddings);
  its s and every later r, s start at 1, and the k biases of a layer start equal.
- "tabm-mini": one ElementwiseAffine (scaling only) on the k input copies, then Dense layers shared by
  all members.
- "tabm-packed": k fully independent MLPs (LinearEnsemble layers).
All end with a LinearEnsemble head. Train the k predictions each on its own loss (the mean of the
members' losses, not the loss of their mean); at inference average them (probabilities, for
classification). The weights of shared and ensembled linear layers start as PyTorch's nn.Linear does,
U(+-1/sqrt(fan_in)) for kernel and bias, not Keras' Glorot / zeros.
"""

from __future__ import annotations

import random
from typing import Sequence

import keras
from keras import layers, ops

PACKAGE = "ksol"  # the registration package every custom layer of the project uses
SCALING_INITS = ("ones", "normal", "random-signs")
ARCH_TYPES = ("tabm", "tabm-mini", "tabm-packed")


def tabm_defaults(has_num_embeddings: bool = False) -> dict:
    """The hyperparameters `TabM.make` fills in: they depend on whether numeric embeddings come first.

    >>> tabm_defaults()["n_blocks"], tabm_defaults(True)["start_scaling_init"]
    (3, 'normal')
    """
    return {"k": 32, "n_blocks": 2 if has_num_embeddings else 3, "d_block": 512, "dropout": 0.1, "arch_type": "tabm",
            "start_scaling_init": "normal" if has_num_embeddings else "random-signs"}


# ---------------------------------------------------------------------------------------------
# Initialisers (used at build time only: they are not part of any config)
# ---------------------------------------------------------------------------------------------
def _seed() -> int:
    # Like Keras' unseeded initialisers: a draw from Python's generator, which keras.utils.set_random_seed seeds.
    return random.randint(1, 10**9)


def _uniform(fan_in: int):
    bound = fan_in**-0.5
    return keras.initializers.RandomUniform(-bound, bound, seed=_seed())


def _check_scaling_init(value: str) -> str:
    if value not in SCALING_INITS:
        raise ValueError(f"scaling init must be one of {SCALING_INITS}; got {value!r}.")
    return value


def _check_chunks(chunks: Sequence[int] | None, width: int) -> list[int] | None:
    if chunks is None:
        return None
    chunks = [int(c) for c in chunks]
    if any(c <= 0 for c in chunks) or sum(chunks) != width:
        raise ValueError(f"scaling init chunks must be positive and sum to the input width {width}; got {chunks}.")
    return chunks


def scaling_initializer(distribution: str, chunks: Sequence[int] | None = None):
    """tabm's `init_scaling_`: "ones", "normal" (N(0, 1)) or "random-signs" (+-1, each with probability 1/2),
    for a (k, width) tensor. With chunks (sizes summing to width) every chunk of a row gets ONE value, so a
    feature embedded in d numbers is scaled as a whole (TabM's chunks are the features' widths)."""
    _check_scaling_init(distribution)
    if distribution == "ones":
        if chunks is not None:
            raise ValueError('chunks must be None when the scaling init is "ones".')
        return "ones"
    seed = _seed()

    def initializer(shape, dtype=None):
        shape = tuple(int(s) for s in shape)
        sizes = [1] * shape[-1] if chunks is None else _check_chunks(chunks, shape[-1])
        drawn_shape = (*shape[:-1], len(sizes))
        if distribution == "normal":
            values = keras.random.normal(drawn_shape, dtype="float32", seed=seed)
        else:
            values = ops.where(keras.random.uniform(drawn_shape, dtype="float32", seed=seed) < 0.5, -1.0, 1.0)
        if chunks is not None:
            values = ops.repeat(values, sizes, axis=-1)
        return ops.cast(values, dtype or "float32")

    return initializer


def _check_ensemble_input(layer, input_shape) -> int:
    if len(input_shape) != 3 or input_shape[1] != layer.k or input_shape[-1] is None:
        raise ValueError(f"{type(layer).__name__} expects inputs of shape (batch, k={layer.k}, d); got {tuple(input_shape)}.")
    return int(input_shape[-1])


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package=PACKAGE)
class EnsembleView(layers.Layer):
    """(batch, d) -> (batch, k, d): k copies of each row; a (batch, k, d) input (k batches) passes as it is."""

    def __init__(self, k: int = 32, **kwargs):
        super().__init__(**kwargs)
        if int(k) <= 0:
            raise ValueError(f"k must be positive; got {k}.")
        self.k = int(k)

    def build(self, input_shape):
        if len(input_shape) == 3 and input_shape[1] != self.k:
            raise ValueError(f"EnsembleView(k={self.k}) got a 3-D input with {input_shape[1]} members.")
        if len(input_shape) not in (2, 3):
            raise ValueError(f"EnsembleView expects (batch, d) or (batch, k, d); got {tuple(input_shape)}.")
        self.built = True

    def call(self, x):
        if len(x.shape) == 3:
            return x
        return ops.tile(ops.expand_dims(x, 1), (1, self.k, 1))

    def compute_output_shape(self, input_shape):
        return input_shape if len(input_shape) == 3 else (input_shape[0], self.k, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "k": self.k}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LinearBatchEnsemble(layers.Layer):
    """k linear layers sharing one kernel: y_i = s_i * ((r_i * x_i) @ W) + b_i, (batch, k, d_in) -> (batch, k, units).

    Weights: kernel W (d_in, units) ~ U(+-1/sqrt(d_in)); r (k, d_in) and s (k, units) from scaling_init
    (one of "ones", "normal", "random-signs", or a pair (init of r, init of s)); bias (k, units), the same
    U(+-1/sqrt(d_in)) draw for every member (one shared bias plus k zero offsets, in effect).
    first_scaling_init_chunks: chunk sizes for r's initialisation (see `scaling_initializer`).
    """

    def __init__(self, units: int, k: int = 32, scaling_init: str | Sequence[str] = "random-signs",
                 first_scaling_init_chunks: Sequence[int] | None = None, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0 or int(k) <= 0:
            raise ValueError(f"units and k must be positive; got units={units}, k={k}.")
        self.units, self.k, self.use_bias = int(units), int(k), bool(use_bias)
        pair = (scaling_init, scaling_init) if isinstance(scaling_init, str) else tuple(scaling_init)
        if len(pair) != 2:
            raise ValueError(f"scaling_init must be a string or a pair of strings; got {scaling_init!r}.")
        self.scaling_init = tuple(_check_scaling_init(v) for v in pair)
        self.first_scaling_init_chunks = None if first_scaling_init_chunks is None else [int(c) for c in first_scaling_init_chunks]

    def build(self, input_shape):
        d_in = _check_ensemble_input(self, input_shape)
        chunks = _check_chunks(self.first_scaling_init_chunks, d_in)
        self.kernel = self.add_weight(shape=(d_in, self.units), initializer=_uniform(d_in), name="kernel")
        self.r = self.add_weight(shape=(self.k, d_in), initializer=scaling_initializer(self.scaling_init[0], chunks), name="r")
        self.s = self.add_weight(shape=(self.k, self.units), initializer=scaling_initializer(self.scaling_init[1]), name="s")
        if self.use_bias:
            shared = _uniform(d_in)

            def same_for_every_member(shape, dtype=None):
                return ops.tile(ops.expand_dims(shared((shape[-1],), dtype=dtype), 0), (shape[0], 1))

            self.bias = self.add_weight(shape=(self.k, self.units), initializer=same_for_every_member, name="bias")
        else:
            self.bias = None
        self.built = True

    def call(self, x):
        y = ops.matmul(x * self.r, self.kernel) * self.s  # BatchEnsemble, Equation 5
        return y if self.bias is None else y + self.bias

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.k, self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "k": self.k, "scaling_init": list(self.scaling_init),
                "first_scaling_init_chunks": self.first_scaling_init_chunks, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LinearEnsemble(layers.Layer):
    """k independent linear layers: y_i = x_i @ W_i + b_i, (batch, k, d_in) -> (batch, k, units);
    W (k, d_in, units) and b (k, units) ~ U(+-1/sqrt(d_in))."""

    def __init__(self, units: int, k: int = 32, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        if int(units) <= 0 or int(k) <= 0:
            raise ValueError(f"units and k must be positive; got units={units}, k={k}.")
        self.units, self.k, self.use_bias = int(units), int(k), bool(use_bias)

    def build(self, input_shape):
        d_in = _check_ensemble_input(self, input_shape)
        self.kernel = self.add_weight(shape=(self.k, d_in, self.units), initializer=_uniform(d_in), name="kernel")
        self.bias = self.add_weight(shape=(self.k, self.units), initializer=_uniform(d_in), name="bias") if self.use_bias else None
        self.built = True

    def call(self, x):
        y = ops.einsum("bki,kio->bko", x, self.kernel)
        return y if self.bias is None else y + self.bias

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.k, self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "k": self.k, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ElementwiseAffine(layers.Layer):
    """y_i = x_i * w_i (+ b_i): a per-member scaling of (batch, k, d); w (k, d) from scaling_init (with
    scaling_init_chunks), b (k, d) zeros. TabM-mini uses it without bias as its only adapter."""

    def __init__(self, k: int = 32, scaling_init: str = "random-signs", scaling_init_chunks: Sequence[int] | None = None,
                 use_bias: bool = False, **kwargs):
        super().__init__(**kwargs)
        if int(k) <= 0:
            raise ValueError(f"k must be positive; got {k}.")
        self.k, self.scaling_init, self.use_bias = int(k), _check_scaling_init(scaling_init), bool(use_bias)
        self.scaling_init_chunks = None if scaling_init_chunks is None else [int(c) for c in scaling_init_chunks]

    def build(self, input_shape):
        d = _check_ensemble_input(self, input_shape)
        chunks = _check_chunks(self.scaling_init_chunks, d)
        self.scale = self.add_weight(shape=(self.k, d), initializer=scaling_initializer(self.scaling_init, chunks), name="scale")
        self.bias = self.add_weight(shape=(self.k, d), initializer="zeros", name="bias") if self.use_bias else None
        self.built = True

    def call(self, x):
        y = x * self.scale
        return y if self.bias is None else y + self.bias

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "k": self.k, "scaling_init": self.scaling_init,
                "scaling_init_chunks": self.scaling_init_chunks, "use_bias": self.use_bias}


CUSTOM_OBJECTS = {f"{PACKAGE}>{cls.__name__}": cls
                  for cls in (EnsembleView, LinearBatchEnsemble, LinearEnsemble, ElementwiseAffine)}


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------
def tabm_layers(d_in: int, d_out: int = 1, *, k: int = 32, n_blocks: int = 3, d_block: int = 512, dropout: float = 0.1,
                arch_type: str = "tabm", start_scaling_init: str = "random-signs",
                start_scaling_init_chunks: Sequence[int] | None = None, name: str = "tabm") -> list[layers.Layer]:
    """The layers of a TabM network, in order: applied one after the other they map an encoded row
    (batch, d_in) to k predictions (batch, k, d_out).

    EnsembleView, then n_blocks x (linear, ReLU, Dropout), then a LinearEnsemble head. The defaults are
    `tabm_defaults()` (no numeric embeddings); after embeddings TabM uses n_blocks=2 and
    start_scaling_init="normal". start_scaling_init_chunks: the width of each feature in the encoded row
    (1 for a plain number, d for an embedded one, the cardinality of a one-hot category), so the first
    adapter scales each feature as a whole; they must sum to d_in. tabm-packed has no adapters to scale.
    """
    if arch_type not in ARCH_TYPES:
        raise ValueError(f"arch_type must be one of {ARCH_TYPES}; got {arch_type!r}.")
    if min(int(d_in), int(d_out), int(k), int(n_blocks), int(d_block)) <= 0:
        raise ValueError("d_in, d_out, k, n_blocks and d_block must be positive.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}.")
    _check_scaling_init(start_scaling_init)
    chunks = _check_chunks(start_scaling_init_chunks, int(d_in))

    stack: list[layers.Layer] = [EnsembleView(k, name=f"{name}_ensemble_view")]
    if arch_type == "tabm-mini":
        stack.append(ElementwiseAffine(k, start_scaling_init, chunks, use_bias=False, name=f"{name}_affine"))
    for i in range(n_blocks):
        block = f"{name}_block_{i + 1}"
        if arch_type == "tabm":
            scaling = (start_scaling_init, "ones") if i == 0 else ("ones", "ones")  # TabM's initialisation
            linear = LinearBatchEnsemble(d_block, k, scaling, chunks if i == 0 else None, name=f"{block}_linear")
        elif arch_type == "tabm-mini":
            fan_in = int(d_in) if i == 0 else d_block  # shared by all members; initialised as nn.Linear
            linear = layers.Dense(d_block, kernel_initializer=_uniform(fan_in), bias_initializer=_uniform(fan_in),
                                  name=f"{block}_linear")
        else:
            linear = LinearEnsemble(d_block, k, name=f"{block}_linear")
        stack += [linear, layers.ReLU(name=f"{block}_relu")]
        if dropout:
            stack.append(layers.Dropout(dropout, name=f"{block}_dropout"))
    stack.append(LinearEnsemble(d_out, k, name=f"{name}_output"))
    return stack


def build_tabm_head(input_width: int, d_out: int = 1, name: str = "head", **kwargs) -> keras.Model:
    """A sub-model from an encoded row (batch, input_width) to k predictions (batch, k, d_out) (logits);
    kwargs are `tabm_layers`' (k, n_blocks, d_block, dropout, arch_type, start_scaling_init,
    start_scaling_init_chunks)."""
    vector = keras.Input((int(input_width),), name=f"{name}_input")
    x = vector
    for layer in tabm_layers(int(input_width), d_out, name=name, **kwargs):
        x = layer(x)
    return keras.Model(vector, x, name=name)
