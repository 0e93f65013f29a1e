"""The image models: sizes, preprocessing inside, transfer learning paths, Grad-CAM."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.config import make_recipe
from solutions.core.errors import ConfigError
from solutions.core.explain import grad_cam, overlay_heatmap
from solutions.image_classification.model import build_image_classifier
from solutions.image_classification.recipe import ImageClassificationRecipe

SCHEMA = {"image_size": [32, 32], "channels": 3, "class_names": list("abcdefghij"), "mean": [0.5] * 3, "std": [0.25] * 3}


def test_resnet20_has_the_published_size():
    model = build_image_classifier(SCHEMA, make_recipe(ImageClassificationRecipe, "default"))
    # He et al. (2016) report 0.27M parameters for ResNet-20 on CIFAR-10; projection shortcuts add a few.
    assert 0.26e6 < model.count_params() < 0.29e6


def test_model_takes_raw_pixels_and_outputs_probabilities():
    model = build_image_classifier(SCHEMA, make_recipe(ImageClassificationRecipe, "quick"))
    pixels = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype("float32")
    probabilities = np.asarray(model(pixels, training=False))
    assert probabilities.shape == (2, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


def test_a_reloaded_model_called_without_training_does_not_augment(tmp_path):
    import keras

    model = build_image_classifier(SCHEMA, make_recipe(ImageClassificationRecipe, "default"))  # flips and shifts
    model.save(tmp_path / "model.keras")
    from solutions.imaging.layers import image_custom_objects

    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True, custom_objects=image_custom_objects())
    pixels = np.random.default_rng(1).integers(0, 256, (4, 32, 32, 3)).astype("float32")
    plain = np.asarray(loaded(pixels))  # how exporters and users call it: no `training`
    assert np.allclose(plain, np.asarray(loaded(pixels, training=False)), atol=1e-6)
    assert np.allclose(plain, loaded.predict(pixels, verbose=0), atol=1e-5)
    augment = loaded.get_layer("augment")
    assert not np.allclose(np.asarray(augment(pixels, training=True)), pixels)  # still there for training


def test_transfer_backbone_from_random_initialisation_accepts_gray_images():
    schema = {**SCHEMA, "channels": 1, "image_size": [32, 32]}
    recipe = make_recipe(ImageClassificationRecipe, "quick", model="transfer", weights=None)
    model = build_image_classifier(schema, recipe)
    assert model.get_layer("backbone") is not None and model.output_shape == (None, 10)


def test_transfer_backbone_loads_a_local_weights_file(tmp_path):
    import keras

    source = keras.applications.MobileNetV3Small(include_top=False, weights=None, input_shape=(32, 32, 3))
    path = tmp_path / "backbone.weights.h5"
    source.save_weights(path)
    recipe = make_recipe(ImageClassificationRecipe, "quick", model="transfer", weights=str(path))
    model = build_image_classifier(SCHEMA, recipe)
    loaded = model.get_layer("backbone").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(loaded, source.get_weights()))


def test_imagenet_weights_offline_fail_fast_with_a_fix(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    recipe = make_recipe(ImageClassificationRecipe, "quick", model="transfer", weights="imagenet")
    with pytest.raises(ConfigError, match="cannot be reached.*--set weights=/path/to/file.h5"):
        build_image_classifier(SCHEMA, recipe)


def test_missing_weights_path_is_a_config_error():
    recipe = make_recipe(ImageClassificationRecipe, "quick", model="transfer", weights="nowhere.h5")
    with pytest.raises(ConfigError, match="not an existing file or folder"):
        build_image_classifier(SCHEMA, recipe)


def test_grad_cam_highlights_where_the_evidence_is():
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 1))
    features = layers.Activation("linear", name="features")(inputs)
    pooled = layers.GlobalAveragePooling2D()(features)
    model = keras.Model(inputs, layers.Dense(2, activation="softmax", kernel_initializer=keras.initializers.Constant([[1.0, -1.0]]))(pooled))
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[0, 2:4, 5:7] = 1.0
    heat = grad_cam(model, image, np.array([0]))[0]
    assert heat.shape == (8, 8) and heat.max() == 1.0
    assert heat[2:4, 5:7].min() == 1.0 and heat[0, 0] == 0.0
    assert overlay_heatmap(np.zeros((16, 16, 1), np.uint8), heat).shape == (16, 16, 3)


def test_transfer_backbone_from_a_local_kerashub_preset_directory(tmp_path):
    import json

    import keras
    import keras_hub

    hub = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[1, 1], stackwise_num_strides=[1, 2], block_type="basic_block",
        use_pre_activation=False, image_shape=(None, None, 3))
    hub.save_to_preset(str(tmp_path))
    (tmp_path / "image_converter.json").write_text(json.dumps({"config": {"scale": 0.5, "offset": -1.0}}))
    recipe = make_recipe(ImageClassificationRecipe, "quick", model="transfer", weights=str(tmp_path))
    model = build_image_classifier(SCHEMA, recipe)
    scaling = model.get_layer("backbone").get_layer("preset_scaling")
    assert (scaling.scale, scaling.offset) == (0.5, -1.0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype("float32")
    assert np.allclose(reloaded.predict(pixels, verbose=0), model.predict(pixels, verbose=0), atol=1e-5)
