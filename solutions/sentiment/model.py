"""Sentiment classifiers in Keras: raw strings in, class probabilities out.

Every model starts with a TextVectorization layer (the encoder model: its preset's WordPiece
tokenizer, encoder.py), so `model.keras` alone takes raw (normalised, see normalize.py) strings.
Its vocabulary, and for the naive-Bayes features the log-count ratios, are fitted on the training
split by `adapt_sentiment_model`, which also sets the embedding rows from a word-vector file (recipe
key embedding_weights). An ensemble (ensemble.py) is built here as its first member; the others join
it after training.
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
EMBEDDING_LAYER = "embedding"
MISSING_SHOWN = 10
ADAPT_BATCH = 256


def build_sentiment_model(schema: dict[str, Any], recipe: SentimentRecipe):
    """Build the recipe's model for `schema` (class_names); its vocabulary is fitted later.

    >>> from solutions.core.config import make_recipe
    >>> model = build_sentiment_model({"class_names": ["neg", "pos"]}, make_recipe(SentimentRecipe, "quick"))
    >>> model.output_shape
    (None, 2)
    """
    n_classes = len(schema["class_names"])
    if recipe.model == "ensemble":
        return build_sentiment_model(schema, recipe.member_recipe(recipe.members()[0]))
    if recipe.model == "encoder":
        from solutions.sentiment.encoder import build_encoder_model

        return build_encoder_model(schema, recipe)
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
        x = _embedding(recipe, recipe.embedding_dim, mask_zero=False)(ids)
        pooled = [layers.GlobalMaxPooling1D(name=f"pool_{k}")(
            layers.Conv1D(recipe.units, k, padding="same", activation="relu", name=f"conv_{k}")(x))
            for k in recipe.kernel_sizes]
        x = pooled[0] if len(pooled) == 1 else layers.Concatenate(name="features")(pooled)
    elif recipe.model == "bilstm":
        x = _embedding(recipe, recipe.embedding_dim, mask_zero=True)(ids)
        x = layers.Bidirectional(layers.LSTM(recipe.units), name="bilstm")(x)
    else:
        x = _embedding(recipe, recipe.units, mask_zero=True)(ids)
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


def _embedding(recipe: SentimentRecipe, width: int, mask_zero: bool):
    """The word embedding of a sequence model: learned from scratch, or started from the recipe's word vectors
    (their rows are set by `adapt_sentiment_model`, once the vocabulary is known)."""
    from keras import layers

    from solutions.sentiment.layers import WordVectorEmbedding

    if recipe.embedding_weights is None:
        return layers.Embedding(recipe.max_tokens, width, mask_zero=mask_zero, name=EMBEDDING_LAYER)
    return WordVectorEmbedding(recipe.max_tokens, width, mask_zero=mask_zero, trainable=recipe.embedding_trainable,
                               name=EMBEDDING_LAYER)


def check_embedding_weights(recipe: SentimentRecipe) -> int | None:
    """The dimension of the recipe's word-vector file (None without one), checked against the width of the
    model's embedding before any data is read: a ConfigError when they differ or the file is missing."""
    if recipe.embedding_weights is None:
        return None
    from solutions.sentiment.word_vectors import vector_dimension

    dimension = vector_dimension(recipe.embedding_weights)
    _check_width(recipe, dimension, Path(recipe.embedding_weights).name)
    return dimension


def _check_width(recipe: SentimentRecipe, dimension: int, file: str) -> None:
    name, width = recipe.embedding_width()
    if width != dimension:
        raise ConfigError(
            f"Recipe key `{name}` must equal the dimension of the word vectors in {file} ({dimension}) when "
            f"embedding_weights is set: the {recipe.model} model's embedding rows are those vectors. "
            f"Received: {name}={width}. Pass --set {name}={dimension}."
            + (f" (num_heads must divide it: {recipe.num_heads} does not.)"
               if name == "units" and dimension % recipe.num_heads else "")
        )


def set_word_vectors(model, vocabulary: list[str], recipe: SentimentRecipe) -> dict[str, Any]:
    """Read the recipe's word-vector file for `vocabulary` (TextVectorization's, padding and OOV first), set the
    rows of the model's embedding from it and return what was found (the `source` the layer records)."""
    from solutions.sentiment.word_vectors import build_embedding_matrix, read_word_vectors

    layer = word_vector_layer(model)
    vectors = read_word_vectors(recipe.embedding_weights, vocabulary)
    _check_width(recipe, vectors.dimension, vectors.path.name)
    matrix = build_embedding_matrix(vocabulary, vectors, int(layer.input_dim), recipe.seed)
    words = vocabulary[2:]
    missing = [w for w in words if w not in vectors.vectors]
    source = {"file": vectors.path.name, "sha256": vectors.sha256, "dimension": vectors.dimension,
              "file_words": vectors.rows, "vocabulary": len(words), "found": len(words) - len(missing),
              "found_lowercase": len(vectors.lowercase), "trainable": bool(layer.trainable),
              "missing_examples": missing[:MISSING_SHOWN]}
    layer.set_vectors(matrix, source)
    return source


def word_vector_layer(model):
    """The WordVectorEmbedding of `model` (searched through its sub-models), or None."""
    from solutions.sentiment.layers import WordVectorEmbedding

    for layer in getattr(model, "layers", []):
        if isinstance(layer, WordVectorEmbedding):
            return layer
        inner = word_vector_layer(layer)
        if inner is not None:
            return inner
    return None


def word_vector_notes(model) -> dict[str, Any]:
    """What the report says of the pretrained word vectors a model started from ({} without them).

    >>> word_vector_notes(build_sentiment_model({"class_names": ["a", "b"]}, SentimentRecipe(model="cnn")))
    {}
    """
    layer = word_vector_layer(model)
    source = None if layer is None else layer.source
    if not source:
        return {}
    share = source["found"] / source["vocabulary"] if source["vocabulary"] else 0.0
    lowercase = f" ({source['found_lowercase']:,} through a file word's lower-case form)" if source["found_lowercase"] else ""
    return {
        "word vectors file": source["file"],
        "word vectors sha256": source["sha256"],
        "word vectors": f"{source['dimension']} dimensions, {source['file_words']:,} words in the file",
        "vocabulary words found in the file": f"{source['found']:,} of {source['vocabulary']:,} ({share:.1%}){lowercase}",
        "vocabulary words not in the file": (f"{source['vocabulary'] - source['found']:,}, random rows; the most frequent: "
                                             + (", ".join(map(repr, source["missing_examples"])) or "none")),
        "embedding during training": ("trained with the model (non-static)" if source["trainable"]
                                      else "frozen at the file's vectors (static)"),
    }


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
    """Fit the vocabulary (and naive-Bayes ratios, or the rows of pretrained word vectors) of `model` on the
    training texts.

    The ratio of feature j for class k is log((p_kj / |p_k|) / (q_kj / |q_k|)), where
    p_k (q_k) counts the training texts of class k (of the other classes) holding feature j,
    plus `nb_alpha` (Wang & Manning 2012).
    """
    import tensorflow as tf

    recipe = recipe.member_recipe(recipe.members()[0])  # an ensemble's first member; any other model itself
    if recipe.model in ("hub", "encoder"):  # their tokenizers come with the pretrained model
        return
    vectorize = model.get_layer(VECTORIZER)
    vectorize.adapt(tf.data.Dataset.from_tensor_slices(np.asarray(texts, dtype=object).astype(str)).batch(ADAPT_BATCH))
    if recipe.embedding_weights is not None:
        set_word_vectors(model, [str(w) for w in vectorize.get_vocabulary()], recipe)
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
