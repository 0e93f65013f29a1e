"""MobileNetV2 under the detector's pyramid: its stride-8/16/32 maps, training in phases from a weights file,
the saved model on raw pixels, the manifest's weights fingerprint, and bad weights or keys as exit 2."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from solutions.cli import main
from solutions.core.config import make_recipe
from solutions.core.errors import ConfigError
from solutions.object_detection import ObjectDetectionSolution
from solutions.object_detection.model import build_detector
from solutions.object_detection.pretrained import pretrained_features
from solutions.object_detection.recipe import DetectionRecipe
from tests.object_detection.conftest import write_voc

SCHEMA = {"image_size": [64, 96], "class_names": ["a", "b"], "mean": [0.5] * 3, "std": [0.25] * 3, "stride": 8}
REAL_WEIGHTS = Path(__file__).resolve().parents[3] / "shared" / "weights" / "mobilenet_v2_1.0_224_imagenet_notop.weights.h5"


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory) -> Path:
    """A random MobileNetV2's weights, saved as Keras saves them (the layout of the ImageNet file)."""
    from solutions.imaging.backbones import load_backbone

    path = tmp_path_factory.mktemp("weights") / "mobilenet_v2_random.weights.h5"
    load_backbone("mobilenet_v2", None, (64, 64)).save_weights(path)
    return path


@pytest.mark.parametrize("image_size", [(64, 96), (256, 320)])  # a small size and the default recipe's
def test_mobilenet_v2_maps_for_the_pyramid_are_at_strides_8_16_32(image_size):
    extractor = pretrained_features("mobilenet_v2", None, image_size)
    height, width = image_size
    assert [tuple(s[1:3]) for s in extractor.output_shape] == [(height // s, width // s) for s in (8, 16, 32)]


def test_detector_on_mobilenet_v2_takes_raw_pixels_through_the_backbones_own_scaling():
    model = build_detector(SCHEMA, make_recipe(DetectionRecipe, "quick", backbone="mobilenet_v2"))
    assert model.output_shape == (None, 8 * 12, 7)
    names = [layer.name for layer in model.layers]
    assert "normalize" not in names  # no schema mean/std: MobileNetV2 wants [-1, 1]
    scaling = model.get_layer("backbone").get_layer("preprocess_input")
    assert scaling.scale == pytest.approx(1 / 127.5) and scaling.offset == pytest.approx(-1.0)


def test_pretrained_training_freezes_the_backbone_then_fine_tunes_it_with_batch_norms_frozen():
    from solutions.object_detection.pretrained import detection_phases

    recipe = make_recipe(DetectionRecipe, "quick", epochs=5, freeze_epochs=2, learning_rate=1e-2,
                         fine_tune_learning_rate=1e-3, backbone="mobilenet_v2", weights="file.weights.h5")
    phases = detection_phases(recipe)
    assert [(p.name, p.epochs, p.learning_rate) for p in phases] == [("frozen backbone", 2, 1e-2), ("fine-tune", 3, 1e-3)]
    model = build_detector(SCHEMA, make_recipe(DetectionRecipe, "quick", backbone="mobilenet_v2"))
    backbone = model.get_layer("backbone")
    phases[0].prepare(model)
    assert not backbone.trainable and model.get_layer("lateral3").trainable
    phases[1].prepare(model)
    assert backbone.get_layer("Conv1").trainable and not backbone.get_layer("bn_Conv1").trainable
    from_scratch = detection_phases(make_recipe(DetectionRecipe, "quick", backbone="mobilenet_v2"))
    assert [(p.name, p.epochs) for p in from_scratch] == [("train", 20)]  # random weights: nothing to keep


def test_fine_tuning_from_a_weights_file_keeps_its_statistics_and_saves_a_raw_pixel_model(weights_file, tmp_path):
    import h5py

    folder = write_voc(tmp_path / "voc", n_images=12, size=64, seed=2, splits=(8, 2, 2))
    solution = ObjectDetectionSolution("quick", epochs=1, freeze_epochs=0, image_size=(64, 64), n_drawn=0,
                                       backbone="mobilenet_v2", weights=str(weights_file))
    run_dir = tmp_path / "run"
    solution.fit(str(folder), run_dir=run_dir, progress=False)
    backbone = solution.model_.get_layer("backbone")
    with h5py.File(weights_file, "r") as handle:
        conv1 = handle["layers/conv2d/vars/0"][()]
        statistics = [handle["layers/batch_normalization/vars"][str(i)][()] for i in range(4)]
    assert not np.allclose(np.asarray(backbone.get_layer("Conv1").kernel), conv1)  # fine-tuned through the backbone
    assert all(np.array_equal(np.asarray(v), s) for v, s in zip(backbone.get_layer("bn_Conv1").weights, statistics))

    solution.save(run_dir)
    notes = json.loads((run_dir / "manifest.json").read_text())["training"]["notes"]
    assert notes["weights file"] == weights_file.name
    assert notes["weights sha256"] == hashlib.sha256(weights_file.read_bytes()).hexdigest()
    reloaded = ObjectDetectionSolution.load(run_dir)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3)).astype(np.float32)
    assert np.allclose(reloaded.model_scores(pixels), solution.model_scores(pixels), atol=1e-4)


def test_a_weights_file_that_does_not_fit_exits_2_naming_file_backbone_and_layer(tmp_path, capsys):
    import keras

    wrong = tmp_path / "other.weights.h5"
    keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(16, 3)]).save_weights(wrong)
    folder = write_voc(tmp_path / "voc", n_images=8, size=64, splits=(4, 2, 2))
    code = main(["train", "object_detection", "--data", str(folder), "--recipe", "quick", "--set", "epochs=1",
                 "--set", "freeze_epochs=0", "--set", "backbone=mobilenet_v2", "--set", f"weights={wrong}",
                 "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "other.weights.h5 does not fit backbone mobilenet_v2: the first mismatching layer is Conv1" in err


@pytest.mark.parametrize("settings, message", [
    (["weights=missing.weights.h5", "backbone=mobilenet_v2"], "Received: weights='missing.weights.h5', which is not an existing file"),
    (["weights=w.weights.h5"], 'Recipe key `backbone` must be "mobilenet_v2" when `weights` is set'),
    (["weights=w.weights.h5", "backbone_preset=preset"], "Recipe key `weights` must be null with backbone_preset"),
    (["backbone=mobilenet_v2", "backbone_preset=preset"], 'Recipe key `backbone` must be "cnn" (its default) with backbone_preset'),
    (["backbone=mobilenet_v2", "weights=w.weights.h5", "epochs=3"], "Recipe key `freeze_epochs` must be at most epochs (3)"),
])
def test_bad_backbone_keys_exit_2_before_training(shared_voc_folder, tmp_path, capsys, settings, message):
    overrides = [part for setting in settings for part in ("--set", setting)]
    code = main(["train", "object_detection", "--data", str(shared_voc_folder), "--recipe", "quick",
                 *overrides, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_a_weights_folder_is_pointed_to_backbone_preset(tmp_path):
    recipe = make_recipe(DetectionRecipe, "quick", backbone="mobilenet_v2", weights=str(tmp_path))
    with pytest.raises(ConfigError, match="which is a folder: a KerasHub preset directory goes in `backbone_preset`"):
        build_detector(SCHEMA, recipe)


@pytest.mark.slow
@pytest.mark.skipif(not REAL_WEIGHTS.is_file(), reason=f"the ImageNet MobileNetV2 weights are not at {REAL_WEIGHTS}")
def test_the_imagenet_weights_file_loads_into_the_detectors_backbone_unchanged():
    import keras

    model = build_detector(SCHEMA, make_recipe(DetectionRecipe, "quick", backbone="mobilenet_v2", weights=str(REAL_WEIGHTS)))
    reference = keras.applications.MobileNetV2(input_shape=(64, 96, 3), include_top=False, weights=str(REAL_WEIGHTS))
    backbone = model.get_layer("backbone")
    compared = 0
    for layer in (layer for layer in reference.layers if layer.weights):
        for ours, theirs in zip(backbone.get_layer(layer.name).weights, layer.weights, strict=True):
            assert np.array_equal(np.asarray(ours), np.asarray(theirs)), layer.name
            compared += 1
    assert compared == len(reference.weights) == 260 and backbone.count_params() == 2_257_984  # the README's count
