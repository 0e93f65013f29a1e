"""The detector: shapes, the decoder inverting the targets, the loss, and backbones from local presets."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.config import make_recipe
from solutions.core.errors import ConfigError
from solutions.object_detection.layers import DetectionDecoder
from solutions.object_detection.losses import DetectionLoss
from solutions.object_detection.model import build_detector, with_decoder
from solutions.object_detection.recipe import DetectionRecipe
from solutions.object_detection.targets import encode_targets

SCHEMA = {"image_size": [64, 96], "class_names": ["a", "b"], "mean": [0.5] * 3, "std": [0.25] * 3, "stride": 8}


def ideal_outputs(targets: np.ndarray, n_classes: int) -> np.ndarray:
    """Raw head outputs that decode exactly to the targets: confident logits, log-distances."""
    raw = np.full(targets.shape, -12.0, np.float32)
    positive = targets[..., :n_classes].max(axis=-1) > 0
    raw[..., :n_classes] = np.where(targets[..., :n_classes] > 0, 12.0, -12.0)
    raw[..., n_classes:n_classes + 4] = np.log(np.maximum(targets[..., n_classes:n_classes + 4], 1e-3))
    centerness = np.clip(targets[..., -1], 1e-6, 1 - 1e-6)
    raw[..., -1] = np.where(positive, np.log(centerness / (1 - centerness)), -12.0)
    return raw


def test_decoder_recovers_the_boxes_the_targets_encode():
    boxes = np.array([[[8, 8, 40, 40], [50, 10, 90, 60]]], np.float32)
    classes = np.array([[0, 1]], np.int32)
    targets = encode_targets(boxes, classes, 2, (64, 96), 8, 1.5).numpy()
    decoder = DetectionDecoder(n_classes=2, image_size=(64, 96), stride=8, max_detections=10)
    found = np.asarray(decoder(ideal_outputs(targets, 2)))[0]
    kept = found[found[:, 4] > 0.5]
    assert len(kept) == 2  # NMS merged each box's many positive locations into one
    order = np.argsort(kept[:, 5])
    assert np.allclose(kept[order, :4], boxes[0], atol=0.05) and kept[order, 5].tolist() == [0, 1]
    assert found.shape == (10, 6) and np.all(found[2:, 4] == 0)


def test_loss_is_lower_for_the_right_outputs():
    boxes = np.array([[[8, 8, 40, 40]]], np.float32)
    targets = encode_targets(boxes, np.array([[1]], np.int32), 2, (64, 96), 8, 1.5).numpy()
    loss = DetectionLoss(n_classes=2)
    right = float(loss(targets, ideal_outputs(targets, 2)))
    wrong = float(loss(targets, np.zeros_like(targets)))
    # at the right outputs only the entropy of the soft centre-ness targets is left
    t = targets[0, targets[0, :, :2].max(axis=1) > 0, -1]
    entropy = float(np.mean(-t * np.log(t) - (1 - t) * np.log1p(-np.minimum(t, 1 - 1e-7))))
    assert abs(right - entropy) < 1e-3 and wrong > right + 1


def test_training_and_inference_models_share_weights_and_shapes():
    recipe = make_recipe(DetectionRecipe, "quick", max_detections=7)
    model = build_detector(SCHEMA, recipe)
    assert model.output_shape == (None, 8 * 12, 7)
    inference = with_decoder(model, SCHEMA, recipe)
    assert inference.output_shape == (None, 7, 6)
    assert len(inference.weights) == len(model.weights)
    out = np.asarray(inference(np.zeros((1, 64, 96, 3), np.float32)))
    assert out.shape == (1, 7, 6)


def test_saved_detector_loads_with_safe_mode(tmp_path):
    import keras

    from solutions.object_detection.model import custom_objects

    recipe = make_recipe(DetectionRecipe, "quick")
    inference = with_decoder(build_detector(SCHEMA, recipe), SCHEMA, recipe)
    inference.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True, custom_objects=custom_objects())
    x = np.random.default_rng(0).uniform(0, 255, (2, 64, 96, 3)).astype(np.float32)
    assert np.allclose(np.asarray(loaded(x)), np.asarray(inference(x)), atol=1e-5)


def test_backbone_preset_must_be_a_local_directory(tmp_path):
    recipe = make_recipe(DetectionRecipe, "quick", backbone_preset="resnet_18_imagenet")
    with pytest.raises(ConfigError, match="must be a local KerasHub preset directory.*never downloaded"):
        build_detector(SCHEMA, recipe)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="not one"):
        build_detector(SCHEMA, make_recipe(DetectionRecipe, "quick", backbone_preset=str(tmp_path / "empty")))


def test_a_keras_hub_backbone_from_a_local_preset_feeds_the_pyramid(tmp_path):
    keras_hub = pytest.importorskip("keras_hub")
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, 64, 64, 64],
        stackwise_num_blocks=[1, 1, 1, 1], stackwise_num_strides=[1, 2, 2, 2], block_type="basic_block",
        use_pre_activation=False, image_shape=(None, None, 3))
    backbone.save_to_preset(str(tmp_path / "preset"))
    recipe = make_recipe(DetectionRecipe, "quick", backbone_preset=str(tmp_path / "preset"))
    model = build_detector(SCHEMA, recipe)
    assert model.output_shape == (None, 8 * 12, 7)
    assert model.get_layer("backbone").count_params() == backbone.count_params()
