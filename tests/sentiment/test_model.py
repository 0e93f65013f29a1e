"""The sentiment models: custom layers, every architecture saving and loading with safe_mode, hub presets."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.config import make_recipe
from solutions.core.errors import ConfigError
from solutions.sentiment.model import adapt_sentiment_model, build_sentiment_model
from solutions.sentiment.recipe import SentimentRecipe

TEXTS = np.asarray(["a great and moving film", "a dull , boring mess", "not bad at all !", "awful acting",
                    "wonderful cast", "tedious plot"] * 3, dtype=object)
LABELS = np.asarray([1, 0, 1, 0, 1, 0] * 3)


def test_token_window_policies():
    from solutions.sentiment.layers import TokenWindow

    ids = np.array([[1, 2, 3, 4, 5, 6, 0], [7, 8, 0, 0, 0, 0, 0]])
    assert TokenWindow(4, "head")(ids).numpy().tolist() == [[1, 2, 3, 4], [7, 8, 0, 0]]
    assert TokenWindow(4, "tail")(ids).numpy().tolist() == [[3, 4, 5, 6], [7, 8, 0, 0]]
    assert TokenWindow(4, "head_tail")(ids).numpy().tolist() == [[1, 2, 5, 6], [7, 8, 0, 0]]
    assert TokenWindow(9, "head_tail")(ids).numpy().shape == (2, 9)
    with pytest.raises(ValueError, match="`policy` must be one of"):
        TokenWindow(4, "middle")


def test_chunk_average_ignores_empty_windows():
    from solutions.sentiment.layers import ChunkAverage

    probabilities = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8], [0.4, 0.6]], dtype="float32")
    ids = np.array([[3, 4], [0, 0], [0, 0], [0, 0]])  # text 1: one real window; text 2: no tokens at all
    result = ChunkAverage(2)([probabilities, ids]).numpy()
    assert np.allclose(result, [[0.9, 0.1], [0.2, 0.8]])


def test_log_count_ratio_layer_scales_the_kernel():
    from solutions.sentiment.layers import LogCountRatioDense

    layer = LogCountRatioDense(2)
    layer.build((None, 3))
    layer.set_ratios(np.array([[1.0, -1.0], [2.0, -2.0], [0.0, 0.0]]))
    layer.kernel.assign(np.ones((3, 2)))
    assert np.allclose(layer(np.array([[1.0, 1.0, 1.0]])).numpy(), [[3.0, -3.0]])


@pytest.mark.parametrize("overrides", [
    {"model": "bow"},
    {"model": "bow", "features": "tfidf", "hidden_units": 8, "dropout": 0.1},
    {"model": "cnn", "standardize": "strip_punctuation"},
    {"model": "bilstm", "truncation": "tail"},
    {"model": "transformer", "chunks": 2, "max_length": 4},
])
def test_models_take_raw_strings_and_load_with_safe_mode(overrides, tmp_path):
    import keras

    from solutions.sentiment.layers import CUSTOM_OBJECTS

    recipe = make_recipe(SentimentRecipe, "quick", **overrides)
    model = build_sentiment_model({"class_names": ["neg", "pos"]}, recipe)
    adapt_sentiment_model(model, TEXTS, LABELS, 2, recipe)
    before = model.predict(TEXTS, verbose=0)
    assert before.shape == (len(TEXTS), 2) and np.allclose(before.sum(axis=1), 1, atol=1e-5)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True, custom_objects=CUSTOM_OBJECTS)
    assert np.allclose(loaded.predict(TEXTS, verbose=0), before, atol=1e-6)


def test_naive_bayes_ratios_point_at_the_class():
    recipe = make_recipe(SentimentRecipe, "quick")
    model = build_sentiment_model({"class_names": ["neg", "pos"]}, recipe)
    adapt_sentiment_model(model, TEXTS, LABELS, 2, recipe)
    vocabulary = model.get_layer("vectorize").get_vocabulary()
    ratios = model.get_layer("nb_logits").ratios.numpy()
    assert ratios[vocabulary.index("wonderful"), 1] > 0 > ratios[vocabulary.index("boring"), 1]
    assert np.allclose(ratios[:, 0], -ratios[:, 1])


def test_hub_model_needs_a_local_preset_and_never_downloads(tmp_path):
    with pytest.raises(ConfigError, match="hub_preset.*local KerasHub preset directory"):
        make_recipe(SentimentRecipe, "quick", model="hub")
    recipe = make_recipe(SentimentRecipe, "quick", model="hub", hub_preset="bert_tiny_en_uncased")
    with pytest.raises(ConfigError, match="not accepted: download the preset elsewhere"):
        build_sentiment_model({"class_names": ["neg", "pos"]}, recipe)
    (tmp_path / "preset").mkdir()
    recipe = make_recipe(SentimentRecipe, "quick", model="hub", hub_preset=str(tmp_path / "preset"))
    with pytest.raises(ConfigError, match="has no config.json"):
        build_sentiment_model({"class_names": ["neg", "pos"]}, recipe)


def test_auto_values_resolve_per_model():
    assert (SentimentRecipe().optimizer, SentimentRecipe().learning_rate, SentimentRecipe().max_tokens) == ("sgd", 0.25, 1_000_000)
    lstm = SentimentRecipe(model="bilstm")
    assert (lstm.optimizer, lstm.learning_rate, lstm.max_tokens) == ("adamw", 2e-3, 30_000)
    assert SentimentRecipe(model="bilstm", learning_rate=0.01).learning_rate == 0.01
