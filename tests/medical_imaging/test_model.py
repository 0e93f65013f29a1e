"""The medical models: sized to the input, preprocessing and augmentation inside, heads, TTA, transfer."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.config import make_recipe
from solutions.medical_imaging.model import build_medical_classifier, tta_variants
from solutions.medical_imaging.recipe import MedicalImagingRecipe

SCHEMA = {"image_size": [28, 28], "channels": 1, "class_names": ["normal", "pneumonia"], "task": "binary",
          "mean": [0.5], "std": [0.25]}


def recipe(**values):
    return make_recipe(MedicalImagingRecipe, "quick", **values)


@pytest.mark.parametrize("size, feature_side", [(28, 7), (64, 16), (128, 16), (224, 14)])
def test_resnet_is_sized_to_the_input(size, feature_side):
    model = build_medical_classifier({**SCHEMA, "image_size": [size, size]}, recipe())
    assert model.get_layer("features").output.shape[1] == feature_side


def test_densenet_builds_with_a_feature_map_for_grad_cam():
    model = build_medical_classifier(SCHEMA, recipe(model="densenet", dense_layers=2, growth_rate=4))
    assert model.get_layer("features").output.shape[1:3] == (7, 7) and model.output_shape == (None, 2)


def test_multi_label_heads_are_sigmoids_and_single_label_softmax():
    multi = build_medical_classifier({**SCHEMA, "task": "multilabel", "class_names": list("abc")}, recipe())
    pixels = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1)).astype("float32")
    out = np.asarray(multi(pixels))
    assert out.shape == (3, 3) and not np.allclose(out.sum(axis=1), 1)
    single = np.asarray(build_medical_classifier(SCHEMA, recipe())(pixels))
    assert np.allclose(single.sum(axis=1), 1, atol=1e-5)


def test_flips_only_when_the_recipe_allows_them():
    augment = lambda r: build_medical_classifier(SCHEMA, r).get_layer("augment")  # noqa: E731
    layers = augment(recipe()).layers
    assert [type(l).__name__ for l in layers] == ["RandomAffine", "RandomImageContrast"] and layers[0].flip == "none"
    assert augment(recipe(flip="horizontal")).layers[0].flip == "horizontal"
    assert type(augment(recipe(rotation_degrees=0, shift=0, zoom=0, contrast=0))).__name__ == "Identity"


def test_augmentation_is_off_at_inference_so_calls_are_deterministic():
    model = build_medical_classifier(SCHEMA, recipe())
    pixels = np.random.default_rng(1).integers(0, 256, (2, 28, 28, 1)).astype("float32")
    assert np.array_equal(np.asarray(model(pixels)), np.asarray(model(pixels)))


def test_transfer_path_takes_gray_images():
    model = build_medical_classifier({**SCHEMA, "image_size": [32, 32]}, recipe(model="transfer", weights=None))
    assert model.get_layer("backbone") is not None and model.get_layer("gray_to_rgb") is not None


def test_tta_shifts_by_whole_pixels_and_flip_only_when_allowed():
    x = np.arange(2 * 28 * 28).reshape(2, 28, 28, 1).astype(np.float32)
    variants = tta_variants(x)
    assert len(variants) == 5 and np.array_equal(variants[0], x)
    assert np.array_equal(variants[3][:, :, 1:], x[:, :, :-1])  # shifted right by one pixel
    assert len(tta_variants(x, "both")) == 7
