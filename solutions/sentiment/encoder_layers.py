"""The custom Keras pieces of the sentence-encoder model (model="encoder"), registered for safe_mode loading.

The encoder model reads raw strings: `WordPieceWindows` holds the preset's KerasHub WordPiece tokenizer
(its vocabulary is saved as an asset of model.keras) and turns each text into `chunks` windows of at most
`length` word-piece ids, each `[CLS] ... [SEP]`; the other layers reshape those windows for the BERT
backbone and back. Padding is id 0 everywhere, as in BERT's vocabularies ([PAD] first).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from solutions.sentiment.layers import PACKAGE, TokenWindow


@keras.saving.register_keras_serializable(package=PACKAGE)
class WordPieceWindows(layers.Layer):
    """Strings (batch,) -> word-piece ids (batch, chunks, T), T <= length: the longest window of the batch.

    The text's word pieces are cut to `chunks * (length - 2)` by `policy` (TokenWindow's "head", "tail" or
    "head_tail"), split into `chunks` consecutive windows, and each window that holds a piece is written
    `[CLS] pieces [SEP]`; windows past the text stay all padding (0), except the first, which is `[CLS] [SEP]`
    for an empty text. Ids are trimmed to the batch's longest window, so short texts cost short sequences.
    """

    def __init__(self, tokenizer, length: int, chunks: int = 1, policy: str = "head", **kwargs):
        super().__init__(**kwargs)
        if int(length) < 3:
            raise ValueError(f"`length` must be >= 3 ([CLS], a word piece, [SEP]). Received: length={length}.")
        self.tokenizer = tokenizer
        self.length, self.chunks, self.policy = int(length), int(chunks), policy
        self.window = TokenWindow(self.chunks * (self.length - 2), policy, name="window")

    def build(self, input_shape):
        pass  # the tokenizer holds a vocabulary, not weights: nothing to build

    def call(self, texts):
        import tensorflow as tf

        pieces = self.tokenizer(tf.convert_to_tensor(texts))
        if isinstance(pieces, list):  # KerasHub hands eager callers Python lists; tf.functions get the RaggedTensor
            pieces = tf.ragged.constant(pieces, dtype=tf.int32, ragged_rank=1, inner_shape=())
        ids = ops.cast(pieces.to_tensor(default_value=0), "int32")
        body = ops.reshape(self.window(ids), (-1, self.chunks, self.length - 2))
        counts = ops.sum(ops.cast(ops.not_equal(body, 0), "int32"), axis=-1)
        first = ops.arange(self.chunks, dtype="int32")[None, :] == 0
        present = ops.cast(ops.logical_or(counts > 0, first), "int32")
        cls = present[..., None] * int(self.tokenizer.cls_token_id)
        sep = ops.one_hot(counts + 1, self.length, dtype="int32") * (present * int(self.tokenizer.sep_token_id))[..., None]
        windows = ops.concatenate([cls, body, ops.zeros_like(cls)], axis=-1) + sep
        return windows[:, :, : ops.max(counts) + 2]

    def compute_output_spec(self, texts):
        return keras.KerasTensor((texts.shape[0], self.chunks, None), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "tokenizer": keras.saving.serialize_keras_object(self.tokenizer),
                "length": self.length, "chunks": self.chunks, "policy": self.policy}

    @classmethod
    def from_config(cls, config):
        import keras_hub  # noqa: F401  (registers the tokenizer's class)

        config = dict(config)
        config["tokenizer"] = keras.saving.deserialize_keras_object(config["tokenizer"])
        return cls(**config)


@keras.saving.register_keras_serializable(package=PACKAGE)
class FlattenWindows(layers.Layer):
    """(batch, chunks, T) -> (batch * chunks, T): one row per window, for the backbone."""

    def call(self, ids):
        return ops.reshape(ids, (-1, ops.shape(ids)[-1]))

    def compute_output_spec(self, ids):
        return keras.KerasTensor((None, ids.shape[-1]), dtype=ids.dtype)


@keras.saving.register_keras_serializable(package=PACKAGE)
class GroupWindows(layers.Layer):
    """(batch * chunks, dim) -> (batch, chunks, dim): each text's windows back together."""

    def __init__(self, chunks: int, **kwargs):
        super().__init__(**kwargs)
        self.chunks = int(chunks)

    def call(self, x):
        return ops.reshape(x, (-1, self.chunks, ops.shape(x)[-1]))

    def compute_output_shape(self, input_shape):
        return (None, self.chunks, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "chunks": self.chunks}


@keras.saving.register_keras_serializable(package=PACKAGE)
class WindowPresence(layers.Layer):
    """(batch, chunks, T) ids -> (batch, chunks) int32: 1 for a window holding any token, else 0."""

    def call(self, ids):
        return ops.cast(ops.any(ops.not_equal(ids, 0), axis=-1), "int32")

    def compute_output_spec(self, ids):
        return keras.KerasTensor(tuple(ids.shape[:-1]), dtype="int32")


@keras.saving.register_keras_serializable(package=PACKAGE)
class BertInputs(layers.Layer):
    """(rows, T) word-piece ids -> the dict a KerasHub BERT backbone takes: one segment, padding where id is 0."""

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        return {"token_ids": ids, "segment_ids": ops.zeros_like(ids),
                "padding_mask": ops.cast(ops.not_equal(ids, 0), "int32")}

    def compute_output_spec(self, ids):
        return {name: keras.KerasTensor(tuple(ids.shape), dtype="int32")
                for name in ("token_ids", "segment_ids", "padding_mask")}


ENCODER_OBJECTS = {f"{PACKAGE}>{obj.__name__}": obj
                   for obj in (WordPieceWindows, FlattenWindows, GroupWindows, WindowPresence, BertInputs)}
