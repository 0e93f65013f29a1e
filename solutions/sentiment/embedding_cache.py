"""Train the encoder model's head on cached sentence embeddings (the text form of imaging/transfer.py's cache).

The sentence encoder is frozen, so each training and validation text is embedded once; the head then trains
on those embeddings through the run's Trainer as a part of the run's own model (`part_of_model=True`, its
epochs join the run's history, checkpoints in checkpoints/encoder_head/). That is the same training as
through the frozen encoder, at the cost of one forward pass per text. Texts are embedded in batches of
similar word-piece counts, each padded only to its longest window: padding is masked in attention and
pooling, so the embeddings are those of the model itself. The cache is held in memory
(texts x chunks x hidden floats: 4 MB per 2,500 texts for a 384-wide encoder).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from solutions.core.wording import plural
from solutions.sentiment.encoder import HEAD, SENTENCE_ENCODER, WORDPIECES, encoder_notes

EMBED_BATCH = 64
TOKENIZE_BATCH = 512


@dataclass
class EmbeddingCache:
    """The head's inputs for N texts: embeddings (N, chunks, hidden) float32 and window presence (N, chunks) int32,
    with how many texts were cut to the windows and the seconds the embedding took."""

    embeddings: np.ndarray
    present: np.ndarray
    cut: int
    seconds: float

    def dataset(self, targets: np.ndarray, batch_size: int, shuffle: bool, seed: int):
        """A tf.data.Dataset of ((embeddings, present), targets) batches, reshuffled (seeded) each epoch."""
        import tensorflow as tf

        dataset = tf.data.Dataset.from_tensor_slices(((self.embeddings, self.present), targets.astype(np.float32)))
        if shuffle:
            dataset = dataset.shuffle(len(targets), seed=seed, reshuffle_each_iteration=True)
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


@dataclass(frozen=True)
class HeadTraining:
    """What training the head on the cache gives the caller: training notes and the validation probabilities."""

    notes: dict[str, Any]
    val_probabilities: np.ndarray


def embed_texts(model, texts: np.ndarray, batch_size: int = EMBED_BATCH) -> EmbeddingCache:
    """Run the encoder model's `wordpieces` and `sentence_encoder` parts over `texts` (normalised strings) once."""
    import tensorflow as tf

    began = time.perf_counter()
    windows = model.get_layer(WORDPIECES)
    encoder = model.get_layer(SENTENCE_ENCODER)
    tokenize = tf.function(lambda x: windows(x), input_signature=[tf.TensorSpec((None,), tf.string)])
    count = tf.function(lambda x: windows.tokenizer(x).row_lengths(), input_signature=[tf.TensorSpec((None,), tf.string)])
    encode = tf.function(lambda ids: encoder(ids, training=False),
                         input_signature=[tf.TensorSpec((None, windows.chunks, None), tf.int32)])
    texts = np.asarray(texts, dtype=object).astype(str)
    n, room = len(texts), windows.chunks * (windows.length - 2)
    ids = np.zeros((n, windows.chunks, windows.length), np.int32)
    cut = 0
    for start in range(0, n, TOKENIZE_BATCH):
        batch = tf.constant(texts[start:start + TOKENIZE_BATCH])
        pieces = tokenize(batch).numpy()
        ids[start:start + len(pieces), :, :pieces.shape[-1]] = pieces
        cut += int(np.sum(count(batch).numpy() > room))
    lengths = np.count_nonzero(ids, axis=-1).max(axis=-1)
    order = np.argsort(lengths, kind="stable")
    embeddings = np.zeros((n, windows.chunks, int(encoder.output.shape[-1])), np.float32)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        embeddings[index] = encode(tf.constant(ids[index, :, :lengths[index].max()])).numpy()
    present = np.any(ids != 0, axis=-1).astype(np.int32)
    return EmbeddingCache(embeddings, present, cut, time.perf_counter() - began)


def train_encoder_head(model, splits, schema: dict[str, Any], recipe, trainer, loss_and_metrics: Callable,
                       part: str = "encoder_head") -> HeadTraining:
    """Embed the training and validation splits once, train the model's head on the cache through `trainer`
    as part `part` of the run's model, and return the notes the manifest records."""
    from solutions.sentiment.normalize import normalize_texts

    n_classes = len(schema["class_names"])
    train = embed_texts(model, normalize_texts(splits.train.x, schema["normalize"]))
    val = embed_texts(model, normalize_texts(splits.val.x, schema["normalize"]))
    embedded, seconds = len(splits.train) + len(splits.val), train.seconds + val.seconds
    megabytes = (train.embeddings.nbytes + val.embeddings.nbytes) / 2**20
    note = (f"{plural(len(splits.train), 'training text')} and {len(splits.val)} validation embedded once, "
            f"{train.embeddings.shape[-1]:,} floats per window, {megabytes:,.1f} MB in memory, in {seconds:.1f} s")
    if trainer.progress:
        print(f"[{part}] {note}", file=sys.stderr, flush=True)
    eye = np.eye(n_classes, dtype=np.float32)
    head = model.get_layer(HEAD)
    loss, metrics = loss_and_metrics()
    trained, _ = trainer(head, train.dataset(eye[splits.train.y], recipe.batch_size, True, recipe.seed),
                         val.dataset(eye[splits.val.y], recipe.batch_size, False, recipe.seed), loss, metrics, recipe, part,
                         math.ceil(len(splits.train) / recipe.batch_size), part_of_model=True)
    if trained is not head:  # resumed: the head was loaded from its checkpoint
        head.set_weights(trained.get_weights())
    val_probabilities = np.asarray(head.predict((val.embeddings, val.present), batch_size=256, verbose=0))
    notes = {**encoder_notes(model), "embedding cache": note,
             "embedding throughput (sentences/s)": round(embedded / seconds, 1) if seconds else None,
             "training texts cut to the windows": f"{train.cut:,} of {len(splits.train):,}"}
    return HeadTraining(notes, val_probabilities)
