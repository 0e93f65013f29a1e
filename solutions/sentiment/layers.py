"""The custom Keras pieces of the sentiment models, registered so model.keras loads with safe_mode on.

Every piece is a plain function of tensors with its whole state in get_config() or in
weights: no Lambda layers, no Python callables stored in the model.
"""

from __future__ import annotations

import keras
from keras import layers, ops

PACKAGE = "ksol"
# RE2 (TensorFlow's regex engine) has no look-around, so apostrophes and hyphens are split off
# only where they start or end a word, in two more passes: "don't" and "12-part" stay whole.
PUNCTUATION_PATTERN = r"([^\w\s'\-])"
LEADING_MARKS = r"(^|\s)(['\-]+)"
TRAILING_MARKS = r"(['\-]+)(\s|$)"


@keras.saving.register_keras_serializable(package=PACKAGE)
def separate_punctuation(text):
    """TextVectorization standardisation: lower-case, and spaces around punctuation marks, except
    apostrophes and hyphens inside a word.

    >>> import tensorflow as tf
    >>> " ".join(separate_punctuation(tf.constant(["Don't miss it, a 12-part GEM!"])).numpy()[0].decode().split())
    "don't miss it , a 12-part gem !"
    >>> " ".join(separate_punctuation(tf.constant(["'quoted' -- ok"])).numpy()[0].decode().split())
    "' quoted ' -- ok"
    """
    import tensorflow as tf

    text = tf.strings.regex_replace(tf.strings.lower(text), PUNCTUATION_PATTERN, r" \1 ")
    text = tf.strings.regex_replace(text, LEADING_MARKS, r"\1\2 ")
    return tf.strings.regex_replace(text, TRAILING_MARKS, r" \1\2")


@keras.saving.register_keras_serializable(package=PACKAGE)
class LogCountRatioDense(layers.Layer):
    """A dense layer over n-gram features scaled by their naive-Bayes log-count ratios.

    logits = x @ (ratios * kernel) + bias, where `ratios` (features x classes) is fixed from
    the training split by `set_ratios` (class k against the rest) and `kernel` is learned: the
    NBSVM of Wang & Manning (2012) written as a Keras layer, trained with the logistic loss.
    Accepts dense or sparse features.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        features = int(input_shape[-1])
        self.ratios = self.add_weight(shape=(features, self.units), initializer="zeros", trainable=False, name="ratios")
        self.kernel = self.add_weight(shape=(features, self.units), initializer="zeros", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        return ops.matmul(ops.cast(inputs, self.compute_dtype), self.ratios * self.kernel) + self.bias

    def set_ratios(self, ratios) -> None:
        self.ratios.assign(ops.convert_to_tensor(ratios, dtype=self.ratios.dtype))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package=PACKAGE)
class FeatureDropout(layers.Layer):
    """Dropout of whole features (n-grams) during training, for dense or sparse inputs; identity at inference.

    Dropping features regularises linear models of sparse text features (Wager, Wang & Liang 2013).
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.seed = float(rate), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        import tensorflow as tf

        if not training or self.rate == 0:
            return inputs
        if isinstance(inputs, tf.SparseTensor):
            values = keras.random.dropout(ops.cast(inputs.values, self.compute_dtype), self.rate, seed=self.seed_generator)
            return tf.SparseTensor(inputs.indices, values, inputs.dense_shape)
        return keras.random.dropout(ops.cast(inputs, self.compute_dtype), self.rate, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class FeatureWeights(layers.Layer):
    """Multiply each feature by a fixed weight set from the training split (`set_feature_weights`),
    e.g. term counts by their inverse document frequency. Accepts dense or sparse features."""

    def build(self, input_shape):
        self.feature_weights = self.add_weight(shape=(int(input_shape[-1]),), initializer="ones", trainable=False,
                                               name="feature_weights")

    def call(self, inputs):
        return ops.multiply(ops.cast(inputs, self.compute_dtype), self.feature_weights)

    def set_feature_weights(self, weights) -> None:
        self.feature_weights.assign(ops.convert_to_tensor(weights, dtype=self.feature_weights.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class TokenWindow(layers.Layer):
    """Cut right-padded token ids (batch, any length) to exactly `length` tokens.

    policy "head" keeps the first tokens, "tail" the last, "head_tail" the first and last
    halves; texts shorter than `length` keep all their tokens, padded with 0.
    """

    POLICIES = ("head", "tail", "head_tail")

    def __init__(self, length: int, policy: str = "head", **kwargs):
        super().__init__(**kwargs)
        if policy not in self.POLICIES:
            raise ValueError(f"`policy` must be one of {self.POLICIES}. Received: policy={policy!r}.")
        self.length, self.policy = int(length), policy

    def call(self, ids):
        ids = ops.convert_to_tensor(ids)
        padded = ops.pad(ids, [[0, 0], [0, self.length]])
        if self.policy == "head":
            return padded[:, :self.length]
        lengths = ops.sum(ops.cast(ops.not_equal(ids, 0), "int32"), axis=1, keepdims=True)
        head = ops.arange(self.length, dtype="int32")[None, :]
        if self.policy == "tail":
            positions = ops.maximum(lengths - self.length, 0) + head
        else:
            first = self.length // 2
            last = self.length - first
            split = ops.concatenate([ops.arange(first, dtype="int32"),
                                     ops.arange(last, dtype="int32") - last], axis=0)[None, :]
            from_end = ops.where(split < 0, lengths + split, split)
            positions = ops.where(lengths <= self.length, head, from_end)
        return ops.take_along_axis(padded, ops.cast(positions, "int32"), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.length)

    def get_config(self):
        return {**super().get_config(), "length": self.length, "policy": self.policy}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TokenChunks(layers.Layer):
    """(batch, chunks * length) token ids -> (batch * chunks, length): one row per window."""

    def __init__(self, length: int, chunks: int, **kwargs):
        super().__init__(**kwargs)
        self.length, self.chunks = int(length), int(chunks)

    def call(self, ids):
        return ops.reshape(ids, (-1, self.length))

    def compute_output_shape(self, input_shape):
        return (None, self.length)

    def get_config(self):
        return {**super().get_config(), "length": self.length, "chunks": self.chunks}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ChunkAverage(layers.Layer):
    """Average class probabilities over each text's non-empty windows.

    Inputs: probabilities (batch * chunks, classes) and the windows' token ids
    (batch * chunks, length). A text with no tokens at all takes its first window.
    """

    def __init__(self, chunks: int, **kwargs):
        super().__init__(**kwargs)
        self.chunks = int(chunks)

    def call(self, inputs):
        probabilities, ids = inputs
        classes = ops.shape(probabilities)[-1]
        probabilities = ops.reshape(probabilities, (-1, self.chunks, classes))
        present = ops.any(ops.not_equal(ops.reshape(ids, (-1, self.chunks, ops.shape(ids)[-1])), 0), axis=-1)
        first = ops.one_hot(ops.zeros_like(present[:, 0], dtype="int32"), self.chunks) > 0
        present = ops.logical_or(present, ops.logical_and(first, ops.logical_not(ops.any(present, axis=1, keepdims=True))))
        weights = ops.cast(present, probabilities.dtype)[..., None]
        total = ops.sum(ops.where(weights > 0, probabilities, 0.0) * weights, axis=1)
        return total / ops.sum(weights, axis=1)

    def compute_output_shape(self, input_shape):
        return (None, input_shape[0][-1])

    def get_config(self):
        return {**super().get_config(), "chunks": self.chunks}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PositionEmbedding(layers.Layer):
    """Add a learned embedding of each position (0 .. length-1) to a (batch, length, dim) sequence."""

    def __init__(self, length: int, **kwargs):
        super().__init__(**kwargs)
        self.length = int(length)
        self.supports_masking = True

    def build(self, input_shape):
        self.positions = self.add_weight(shape=(self.length, int(input_shape[-1])), initializer="glorot_uniform",
                                         name="positions")

    def call(self, x):
        return x + ops.cast(self.positions[None, : ops.shape(x)[1]], x.dtype)

    def get_config(self):
        return {**super().get_config(), "length": self.length}


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedAverage(layers.Layer):
    """Mean of a (batch, length, dim) sequence over positions whose token id is not 0 (0 when none)."""

    def call(self, inputs):
        x, ids = inputs
        weights = ops.cast(ops.not_equal(ids, 0), x.dtype)[..., None]
        return ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], input_shape[0][-1])


@keras.saving.register_keras_serializable(package=PACKAGE)
class WordVectorEmbedding(layers.Embedding):
    """An Embedding whose rows start from pretrained word vectors, and which says where they came from.

    `set_vectors(matrix, source)` assigns the rows (built for the adapted vocabulary) and records
    `source`, a JSON dict (file name, SHA-256, dimension, vocabulary words found), in the layer's
    config, so model.keras tells which vectors it started from. `trainable=False` keeps the rows as
    set (Kim 2014's CNN-static).
    """

    def __init__(self, input_dim: int, output_dim: int, source: dict | None = None, **kwargs):
        super().__init__(input_dim, output_dim, **kwargs)
        self.source = None if source is None else dict(source)

    def set_vectors(self, matrix, source: dict) -> None:
        self.embeddings.assign(ops.convert_to_tensor(matrix, dtype=self.embeddings.dtype))
        self.source = dict(source)

    def get_config(self):
        return {**super().get_config(), "source": self.source}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ProbabilityAverage(layers.Layer):
    """The weighted average of several models' class probabilities: an ensemble's output.

    `weights` (one per input, summing to 1) and the members' `names` are in the config, so model.keras
    says how its members are combined.
    """

    def __init__(self, weights, names, **kwargs):
        super().__init__(**kwargs)
        if len(weights) != len(names) or not len(weights):
            raise ValueError(f"`weights` and `names` must be non-empty and of one length. Received: weights={weights}, "
                             f"names={names}.")
        self.member_weights, self.names = [float(w) for w in weights], [str(n) for n in names]

    def call(self, inputs):
        return sum(ops.cast(p, "float32") * w for p, w in zip(inputs, self.member_weights))

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "weights": self.member_weights, "names": self.names}


CUSTOM_OBJECTS = {
    f"{PACKAGE}>{obj.__name__}": obj
    for obj in (separate_punctuation, LogCountRatioDense, FeatureDropout, FeatureWeights, TokenWindow, TokenChunks, ChunkAverage, PositionEmbedding,
                MaskedAverage, WordVectorEmbedding, ProbabilityAverage)
}
