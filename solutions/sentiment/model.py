"""Sentiment classifiers in Keras: raw strings in, class probabilities out.

Every model starts with a TextVectorization layer, so `model.keras` alone takes raw
(normalised, see normalize.py) strings. Its vocabulary, and for the naive-Bayes
features the log-count ratios, are fitted on the training split by `adapt_sentiment_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from solutions.core.errors import ConfigError
from solutions.sentiment.recipe import SEQUENCE_MODELS, SentimentRecipe

VECTORIZER = "vectorize"
NB_LAYER = "nb_logits"
IDF_LAYER = "idf"
ADAPT_BATCH = 256


def build_sentiment_model(schema: dict[str, Any], recipe: SentimentRecipe):
    """Build the recipe's model for `schema` (class_names); its vocabulary is fitted later.

    >>> from solutions.core.config import make_recipe
    >>> model = build_sentiment_model({"class_names": ["neg", "pos"]}, make_recipe(SentimentRecipe, "quick"))
    >>> model.output_shape
    (None, 2)
    """
    n_classes = len(schema["class_names"])
    if recipe.model == "bow":
        return _bag_of_ngrams(recipe, n_classes)
    if recipe.model in SEQUENCE_MODELS:
        return _sequence_model(recipe, n_classes)
    return _hub_classifier(recipe, n_classes)


def _standardize(recipe: SentimentRecipe):
    from solutions.sentiment.layers import separate_punctuation

    return {"separate_punctuation": separate_punctuation, "strip_punctuation": "lower_and_strip_punctuation",
            "lower": "lower"}[recipe.model_standardize()]


def _bag_of_ngrams(recipe: SentimentRecipe, n_classes: int):
    import keras
    from keras import layers

    from solutions.sentiment.layers import FeatureDropout, FeatureWeights, LogCountRatioDense

    # TF-IDF is counts times a FeatureWeights layer of IDF values: TextVectorization's own
    # tf_idf mode with pad_to_max_tokens does not load back (Keras 3.15).
    mode = {"nb": "multi_hot", "binary": "multi_hot", "tfidf": "count"}[recipe.features]
    inputs = keras.Input(shape=(), dtype="string", name="text")
    vectorize = layers.TextVectorization(max_tokens=recipe.max_tokens, standardize=_standardize(recipe),
                                         ngrams=recipe.ngrams, output_mode=mode, sparse=recipe.hidden_units == 0, pad_to_max_tokens=True,
                                         name=VECTORIZER)
    x = vectorize(inputs)
    if recipe.features == "tfidf":
        x = FeatureWeights(name=IDF_LAYER)(x)
    if recipe.feature_dropout:
        x = FeatureDropout(recipe.feature_dropout, seed=recipe.seed, name="feature_dropout")(x)
    if recipe.hidden_units:
        x = layers.Dense(recipe.hidden_units, activation="relu", name="hidden")(x)
        if recipe.dropout:
            x = layers.Dropout(recipe.dropout, name="dropout")(x)
    if recipe.features == "nb" and not recipe.hidden_units:
        logits = LogCountRatioDense(n_classes, name=NB_LAYER)(x)
    else:
        logits = layers.Dense(n_classes, name="logits")(x)
    outputs = layers.Activation("softmax", name="probabilities", dtype="float32")(logits)
    return keras.Model(inputs, outputs, name=f"sentiment_bow_{recipe.features}")


def _sequence_model(recipe: SentimentRecipe, n_classes: int):
    import keras
    from keras import layers

    from solutions.sentiment.layers import ChunkAverage, TokenChunks, TokenWindow

    inputs = keras.Input(shape=(), dtype="string", name="text")
    vectorize = layers.TextVectorization(max_tokens=recipe.max_tokens, standardize=_standardize(recipe),
                                         output_mode="int", name=VECTORIZER)
    ids = TokenWindow(recipe.max_length * recipe.chunks, recipe.truncation, name="window")(vectorize(inputs))
    if recipe.chunks > 1:
        ids = TokenChunks(recipe.max_length, recipe.chunks, name="chunks")(ids)
    probabilities = _encoder(recipe, n_classes)(ids)
    if recipe.chunks > 1:
        probabilities = ChunkAverage(recipe.chunks, name="chunk_average")([probabilities, ids])
    return keras.Model(inputs, probabilities, name=f"sentiment_{recipe.model}")


def _encoder(recipe: SentimentRecipe, n_classes: int):
    """Token ids (batch, max_length) -> class probabilities, as a functional sub-model."""
    import keras
    from keras import layers

    from solutions.sentiment.layers import MaskedAverage, PositionEmbedding

    ids = keras.Input(shape=(recipe.max_length,), dtype="int64", name="token_ids")
    if recipe.model == "cnn":
        x = layers.Embedding(recipe.max_tokens, recipe.embedding_dim, name="embedding")(ids)
        pooled = [layers.GlobalMaxPooling1D(name=f"pool_{k}")(
            layers.Conv1D(recipe.units, k, padding="same", activation="relu", name=f"conv_{k}")(x))
            for k in recipe.kernel_sizes]
        x = pooled[0] if len(pooled) == 1 else layers.Concatenate(name="features")(pooled)
    elif recipe.model == "bilstm":
        x = layers.Embedding(recipe.max_tokens, recipe.embedding_dim, mask_zero=True, name="embedding")(ids)
        x = layers.Bidirectional(layers.LSTM(recipe.units), name="bilstm")(x)
    else:
        x = layers.Embedding(recipe.max_tokens, recipe.units, mask_zero=True, name="embedding")(ids)
        x = PositionEmbedding(recipe.max_length, name="positions")(x)
        for i in range(recipe.num_layers):
            attended = layers.MultiHeadAttention(recipe.num_heads, recipe.units // recipe.num_heads,
                                                 dropout=recipe.dropout, name=f"attention_{i}")(x, x)
            x = layers.LayerNormalization(epsilon=1e-6, name=f"norm_a{i}")(layers.Add(name=f"residual_a{i}")([x, attended]))
            hidden = layers.Dense(2 * recipe.units, activation="gelu", name=f"ffn_in_{i}")(x)
            hidden = layers.Dense(recipe.units, name=f"ffn_out_{i}")(hidden)
            x = layers.LayerNormalization(epsilon=1e-6, name=f"norm_f{i}")(layers.Add(name=f"residual_f{i}")([x, hidden]))
        x = MaskedAverage(name="average")([x, ids])
    if recipe.dropout:
        x = layers.Dropout(recipe.dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities", dtype="float32")(x)
    return keras.Model(ids, outputs, name=f"{recipe.model}_encoder")


def check_hub_preset(recipe: SentimentRecipe) -> Path:
    """The recipe's KerasHub preset folder, or a ConfigError: only local folders, nothing is downloaded."""
    if not recipe.hub_preset:
        raise ConfigError(
            "model=hub needs a local KerasHub preset directory: pass --set hub_preset=/path/to/preset (a folder with "
            "config.json, tokenizer.json and the weights, e.g. written by keras_hub's save_to_preset or unpacked "
            "from a Kaggle download). Nothing is downloaded. Received: hub_preset=None."
        )
    preset = Path(recipe.hub_preset)
    if not preset.is_dir() or not (preset / "config.json").is_file():
        raise ConfigError(
            f"hub_preset must be a local KerasHub preset directory holding config.json. Received: "
            f"hub_preset={recipe.hub_preset!r}, which {'has no config.json' if preset.is_dir() else 'is not a folder'}. "
            "Preset names such as 'bert_tiny_en_uncased' would need a download and are not accepted: download the "
            "preset elsewhere and pass its folder."
        )
    return preset


def _hub_classifier(recipe: SentimentRecipe, n_classes: int):
    """A KerasHub text classifier (BERT family) from a local preset directory; never downloads."""
    preset = check_hub_preset(recipe)
    try:
        import keras_hub
    except ImportError:
        raise ConfigError("model=hub needs keras-hub: pip install 'keras-solutions[hub]'.") from None
    try:
        classifier = keras_hub.models.TextClassifier.from_preset(str(preset), num_classes=n_classes, activation="softmax")
    except (ValueError, OSError, KeyError) as error:
        raise ConfigError(f"Could not load a KerasHub text classifier from {preset}: {error}") from None
    longest = getattr(classifier.backbone, "max_sequence_length", None) or recipe.max_length
    classifier.preprocessor.sequence_length = min(recipe.max_length, int(longest))
    return classifier


def adapt_sentiment_model(model, texts: np.ndarray, y: np.ndarray, n_classes: int, recipe: SentimentRecipe) -> None:
    """Fit the vocabulary (and naive-Bayes ratios) of `model` on the training texts.

    The ratio of feature j for class k is log((p_kj / |p_k|) / (q_kj / |q_k|)), where
    p_k (q_k) counts the training texts of class k (of the other classes) holding feature j,
    plus `nb_alpha` (Wang & Manning 2012).
    """
    import tensorflow as tf

    if recipe.model == "hub":
        return
    vectorize = model.get_layer(VECTORIZER)
    vectorize.adapt(tf.data.Dataset.from_tensor_slices(np.asarray(texts, dtype=object).astype(str)).batch(ADAPT_BATCH))
    if recipe.model != "bow" or recipe.features == "binary":
        return
    counts = document_counts(vectorize, texts, y, n_classes, recipe.max_tokens)
    if recipe.features == "tfidf":
        idf = np.log(1 + len(texts) / (1 + counts.sum(axis=0)))  # TextVectorization's own tf_idf formula
        model.get_layer(IDF_LAYER).set_feature_weights(idf.astype(np.float32))
    elif not recipe.hidden_units:
        model.get_layer(NB_LAYER).set_ratios(log_count_ratios(counts, recipe.nb_alpha).T.astype(np.float32))


def document_counts(vectorize, texts: np.ndarray, y: np.ndarray, n_classes: int, width: int) -> np.ndarray:
    """How many training texts of each class hold each feature: (classes, width)."""
    import tensorflow as tf

    counts = np.zeros((n_classes, width), dtype=np.float64)
    for start in range(0, len(texts), ADAPT_BATCH):
        features = vectorize(tf.constant(np.asarray(texts[start:start + ADAPT_BATCH]).astype(str)))
        if not isinstance(features, tf.SparseTensor):
            features = tf.sparse.from_dense(features)
        rows = features.indices.numpy()
        batch_y = np.asarray(y[start:start + ADAPT_BATCH])
        np.add.at(counts, (batch_y[rows[:, 0]], rows[:, 1]), 1.0)
    return counts


def log_count_ratios(counts: np.ndarray, alpha: float) -> np.ndarray:
    """One-vs-rest naive-Bayes log-count ratios, (classes, features), from per-class feature counts.

    >>> r = log_count_ratios(np.array([[3.0, 0.0], [0.0, 3.0]]), 1.0)
    >>> bool(r[0, 0] > 0 > r[0, 1]) and np.allclose(r[0], -r[1])
    True
    """
    ratios = np.empty_like(counts, dtype=np.float64)
    for k in range(len(counts)):
        p = counts[k] + alpha
        q = counts.sum(axis=0) - counts[k] + alpha
        ratios[k] = np.log((p / p.sum()) / (q / q.sum()))
    return ratios
