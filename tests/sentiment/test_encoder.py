"""The sentence-encoder model (model="encoder") on a tiny random BERT: windows, cached embeddings, the head's training,
chunks; and, marked slow, the real all-MiniLM-L6-v2 folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from solutions.core.config import make_recipe
from solutions.sentiment.recipe import SentimentRecipe
from tests.sentiment.tiny_bert import write_hugging_face_folder, write_keras_preset

pytest.importorskip("keras_hub")
pytest.importorskip("safetensors")

SHARED_MINILM = Path(__file__).resolve().parents[3] / "shared" / "weights" / "all-MiniLM-L6-v2"
TEXTS = np.asarray(["the film was great", "the plot was dull and boring , not fun", "", "great !",
                    "the cast and the score were superb but the ending was weak", "awful"], dtype=object)
LABELS = np.asarray([1, 0, 1, 1, 1, 0])


@pytest.fixture(scope="module")
def presets(tmp_path_factory) -> dict[str, Path]:
    """The same tiny BERT in both layouts the encoder reads."""
    root = tmp_path_factory.mktemp("tiny_bert")
    return {"keras_hub": write_keras_preset(root / "keras_hub"), "hugging_face": write_hugging_face_folder(root / "hf")}


def encoder_model(preset: Path, **overrides):
    from solutions.sentiment.encoder import build_encoder_model

    recipe = make_recipe(SentimentRecipe, "quick", model="encoder", hub_preset=str(preset), **overrides)
    return build_encoder_model({"class_names": ["neg", "pos"]}, recipe)


def test_word_piece_windows_are_cls_pieces_sep_and_trimmed_to_the_batch():
    import keras_hub

    from solutions.sentiment.encoder_layers import WordPieceWindows

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "great", "film", "!", "##s"]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    windows = WordPieceWindows(tokenizer, length=5, chunks=2, policy="head")
    ids = np.asarray(windows(np.asarray(["A great film!", "", "films", "a a a a a a a a"], dtype=object)))
    assert ids.tolist() == [[[2, 5, 6, 7, 3], [2, 8, 3, 0, 0]],  # 4 pieces: 3 in the first window, 1 in the second
                            [[2, 3, 0, 0, 0], [0, 0, 0, 0, 0]],  # empty: [CLS] [SEP], the second window unused
                            [[2, 7, 9, 3, 0], [0, 0, 0, 0, 0]],
                            [[2, 5, 5, 5, 3], [2, 5, 5, 5, 3]]]  # 8 pieces cut to 2 x 3 ("head")
    assert np.asarray(windows(np.asarray(["film"], dtype=object))).shape == (1, 2, 3)  # [CLS] film [SEP]


def test_both_layouts_load_the_same_encoder(presets):
    """KerasHub's preset and the Hugging Face folder (model.safetensors, vocab.txt) give the same word pieces and
    sentence embeddings."""
    embeddings = []
    for layout in ("keras_hub", "hugging_face"):
        model = encoder_model(presets[layout])
        embeddings.append(np.asarray(model.get_layer("sentence_encoder")(model.get_layer("wordpieces")(TEXTS))))
    assert np.allclose(*embeddings, atol=1e-5) and np.abs(embeddings[0]).max() > 0.1


def test_cached_embeddings_are_the_models_own_pooled_output(presets):
    """Embedding in length-sorted batches, each padded only to its longest text, gives what the model computes in
    one batch and what the mean over each text's own word pieces is, text by text."""
    from solutions.sentiment.embedding_cache import embed_texts

    model = encoder_model(presets["keras_hub"])
    cache = embed_texts(model, TEXTS, batch_size=2)
    ids = model.get_layer("wordpieces")(TEXTS)
    whole_batch = np.asarray(model.get_layer("sentence_encoder")(ids))
    assert np.allclose(cache.embeddings, whole_batch, atol=1e-5)
    backbone = next(layer for layer in model.get_layer("sentence_encoder").layers if hasattr(layer, "hidden_dim"))
    for i, text in enumerate(TEXTS):
        pieces = np.asarray(ids)[i, 0]
        pieces = pieces[pieces != 0][None, :]
        hidden = backbone({"token_ids": pieces, "segment_ids": np.zeros_like(pieces),
                           "padding_mask": np.ones_like(pieces)})["sequence_output"]
        assert np.allclose(cache.embeddings[i, 0], np.asarray(hidden)[0].mean(axis=0), atol=1e-5), text
    assert cache.present.tolist() == [[1]] * len(TEXTS)


def test_training_the_head_on_the_cache_equals_training_through_the_frozen_encoder(presets):
    """Full-batch SGD from the same start: the head trained on cached embeddings and the whole model trained on raw
    strings (the encoder frozen) end with the same weights."""
    import keras
    import tensorflow as tf

    from solutions.sentiment.embedding_cache import embed_texts

    targets = np.eye(2, dtype=np.float32)[LABELS]
    through, cached = encoder_model(presets["keras_hub"]), encoder_model(presets["keras_hub"])
    cached.get_layer("head").set_weights(through.get_layer("head").get_weights())
    assert len(through.trainable_weights) == 2  # the softmax layer's kernel and bias: the encoder is frozen
    through.compile(keras.optimizers.SGD(0.5), "categorical_crossentropy")
    through.fit(tf.data.Dataset.from_tensor_slices((TEXTS.astype(str), targets)).batch(len(TEXTS)), epochs=3, verbose=0)
    cache = embed_texts(cached, TEXTS)
    head = cached.get_layer("head")
    head.compile(keras.optimizers.SGD(0.5), "categorical_crossentropy")
    head.fit(cache.dataset(targets, len(TEXTS), shuffle=False, seed=0), epochs=3, verbose=0)
    for a, b in zip(through.get_layer("head").get_weights(), head.get_weights()):
        assert np.allclose(a, b, atol=1e-5)
    assert not np.allclose(head.get_weights()[0], encoder_model(presets["keras_hub"]).get_layer("head").get_weights()[0])


def test_chunks_average_the_probabilities_of_each_window(presets):
    """A text of two full windows is scored as the mean of its two halves scored alone."""
    model = encoder_model(presets["keras_hub"], chunks=2, encoder_sequence_length=6, truncation="head")
    first, second = "the film was great", "the ending was weak"  # four word pieces each: one window each
    scores = model.predict(np.asarray([f"{first} {second}", first, second, ""], dtype=object), verbose=0)
    assert np.allclose(scores[0], (scores[1] + scores[2]) / 2, atol=1e-5)
    assert np.allclose(scores.sum(axis=1), 1, atol=1e-5)
    assert not np.allclose(scores[1], scores[2])


def test_the_encoder_model_saves_and_loads_with_safe_mode(presets, tmp_path):
    import keras

    from solutions.sentiment.encoder_layers import ENCODER_OBJECTS
    from solutions.sentiment.layers import CUSTOM_OBJECTS

    model = encoder_model(presets["hugging_face"], chunks=2, encoder_sequence_length=8)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True, custom_objects={**CUSTOM_OBJECTS, **ENCODER_OBJECTS})
    assert np.allclose(loaded.predict(TEXTS, verbose=0), model.predict(TEXTS, verbose=0), atol=1e-6)
    assert loaded.get_layer("wordpieces").tokenizer.vocabulary_size() == model.get_layer("wordpieces").tokenizer.vocabulary_size()


@pytest.mark.slow
def test_the_real_minilm_folder_gives_its_published_sentence_similarities():
    if not (SHARED_MINILM / "config.json").is_file():
        pytest.skip(f"the shared all-MiniLM-L6-v2 folder is absent: {SHARED_MINILM} (see shared/weights/README.md)")
    from solutions.sentiment.embedding_cache import embed_texts
    from solutions.sentiment.encoder import encoder_notes

    model = encoder_model(SHARED_MINILM, encoder_sequence_length=64)
    texts = np.asarray(["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."],
                       dtype=object)
    vectors = embed_texts(model, texts).embeddings[:, 0]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] == pytest.approx(0.755, abs=0.005)
    assert unit[0] @ unit[2] == pytest.approx(-0.105, abs=0.01)
    assert encoder_notes(model)["sentence encoder"].startswith("BERT, 6 layers x 384, 22,713,216 parameters")
