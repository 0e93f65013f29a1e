"""The sentence-encoder classifier (model="encoder"): raw strings in, class probabilities out, in one Keras model.

    text -> wordpieces (WordPieceWindows: the preset's tokenizer; chunks windows of word-piece ids)
         -> sentence_encoder (the frozen BERT backbone; each window's mean of its last hidden states over
            its non-padding word pieces, [CLS] and [SEP] included, as sentence-transformers pools)
         -> head (an optional ReLU layer and a softmax layer on each window's embedding; the class
            probabilities averaged over the text's windows that hold a word piece)
The two parts are sub-models, so the head can train on cached embeddings (embedding_cache.py) and still be
the head of the saved model.
"""

from __future__ import annotations

from typing import Any

from solutions.sentiment.recipe import SentimentRecipe

WORDPIECES = "wordpieces"
SENTENCE_ENCODER = "sentence_encoder"
PRESENCE = "windows_present"
HEAD = "head"


def build_encoder_model(schema: dict[str, Any], recipe: SentimentRecipe):
    """The encoder classifier for the BERT folder in `recipe.hub_preset` (checked, then loaded; never downloads)."""
    from solutions.sentiment.encoder_preset import check_encoder_preset, load_bert_encoder

    backbone, tokenizer = load_bert_encoder(check_encoder_preset(recipe.hub_preset, recipe.encoder_sequence_length))
    return encoder_classifier(backbone, tokenizer, len(schema["class_names"]), recipe)


def encoder_classifier(backbone, tokenizer, n_classes: int, recipe: SentimentRecipe):
    """Wire a KerasHub BERT backbone and its tokenizer into the classifier of the module docstring (the backbone
    is frozen)."""
    import keras

    from solutions.sentiment.encoder_layers import WindowPresence, WordPieceWindows

    backbone.trainable = False
    text = keras.Input(shape=(), dtype="string", name="text")
    ids = WordPieceWindows(tokenizer, recipe.encoder_sequence_length, recipe.chunks, recipe.truncation, name=WORDPIECES)(text)
    embeddings = sentence_encoder(backbone, recipe.chunks)(ids)
    present = WindowPresence(name=PRESENCE)(ids)
    head = classifier_head(int(backbone.hidden_dim), recipe.chunks, n_classes, recipe)
    return keras.Model(text, head([embeddings, present]), name="sentiment_encoder")


def sentence_encoder(backbone, chunks: int):
    """(batch, chunks, T) word-piece ids -> (batch, chunks, hidden) mean-pooled embeddings."""
    import keras

    from solutions.sentiment.encoder_layers import BertInputs, FlattenWindows, GroupWindows
    from solutions.sentiment.layers import MaskedAverage

    ids = keras.Input(shape=(chunks, None), dtype="int32", name="window_ids")
    rows = FlattenWindows(name="flatten_windows")(ids)
    hidden = backbone(BertInputs(name="bert_inputs")(rows))["sequence_output"]
    pooled = MaskedAverage(name="mean_pooling")([hidden, rows])
    return keras.Model(ids, GroupWindows(chunks, name="group_windows")(pooled), name=SENTENCE_ENCODER)


def classifier_head(width: int, chunks: int, n_classes: int, recipe: SentimentRecipe):
    """[(batch, chunks, width) embeddings, (batch, chunks) window presence] -> (batch, classes) probabilities."""
    import keras
    from keras import layers

    from solutions.sentiment.layers import MaskedAverage

    embeddings = keras.Input(shape=(chunks, width), name="embeddings")
    present = keras.Input(shape=(chunks,), dtype="int32", name="present")
    x = embeddings
    if recipe.hidden_units:
        x = layers.Dense(recipe.hidden_units, activation="relu", name="hidden")(x)
    if recipe.dropout:
        x = layers.Dropout(recipe.dropout, name="dropout")(x)
    window_probabilities = layers.Dense(n_classes, activation="softmax", name="window_probabilities", dtype="float32")(x)
    probabilities = MaskedAverage(name="probabilities", dtype="float32")([window_probabilities, present])
    return keras.Model([embeddings, present], probabilities, name=HEAD)


def encoder_notes(model) -> dict[str, Any]:
    """What the report says of the sentence encoder in `model` (searched through its sub-models; {} without one).

    >>> encoder_notes(None)
    {}
    """
    windows = _find_layer(model, WORDPIECES)
    encoder = _find_layer(model, SENTENCE_ENCODER)
    if windows is None or encoder is None:
        return {}
    backbone = next(layer for layer in encoder.layers if hasattr(layer, "hidden_dim"))
    return {
        "sentence encoder": (f"BERT, {backbone.num_layers} layers x {backbone.hidden_dim}, "
                             f"{backbone.count_params():,} parameters, frozen; mean-pooled last hidden states"),
        "encoder windows": (f"{windows.chunks} x {windows.length} word pieces ([CLS] and [SEP] included), "
                            f"longer texts cut by {windows.policy!r}"),
    }


def _find_layer(model, name: str):
    for layer in getattr(model, "layers", []):
        if layer.name == name:
            return layer
        inner = _find_layer(layer, name)
        if inner is not None:
            return inner
    return None
