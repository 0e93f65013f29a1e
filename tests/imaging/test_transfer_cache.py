"""Transfer learning on cached backbone features (imaging.transfer), on a tiny backbone with random weights.

The tiny backbone stands in for mobilenet_v2 (monkeypatched into imaging.backbones.BACKBONES) and names
its layers as MobileNetV2 does, so its blocks are stem, block_1 (residual), block_2 and Conv_1. One
slow test loads the real MobileNetV2 file from ../shared/weights/.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from solutions.core.errors import ConfigError
from solutions.image_classification import ImageClassificationSolution

REAL_WEIGHTS = Path(__file__).resolve().parents[2].parent / "shared" / "weights" / "mobilenet_v2_1.0_224_imagenet_notop.weights.h5"
BASE = {"model": "transfer", "backbone": "mobilenet_v2", "image_size": [32, 32], "augment": "none", "batch_size": 256,
        "learning_rate": 1e-2, "early_stopping_patience": 0, "tensorboard": False}


def tiny_backbone(input_shape, weights, width: int = 4):
    """Random-weight stand-in for MobileNetV2: its layer names, input scaling inside, 4 blocks, ~1k weights."""
    import keras
    from keras import layers

    def conv_bn_relu(x, filters, name, stride=1, bn="_BN", relu="_relu"):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", name=name)(x)
        x = layers.BatchNormalization(name=name + bn)(x)
        return layers.ReLU(name=name + relu)(x)

    pixels = keras.Input(input_shape, name="pixels")
    x = layers.Rescaling(1 / 127.5, -1.0, name="preprocess_input")(pixels)
    x = conv_bn_relu(x, width, "Conv1", stride=2)
    x = layers.Add(name="block_1_add")([x, conv_bn_relu(x, width, "block_1_expand")])
    x = conv_bn_relu(x, 2 * width, "block_2_project", stride=2)
    x = conv_bn_relu(x, 4 * width, "Conv_1", bn="_bn", relu="_out_relu")
    return keras.Model(pixels, x, name="tiny_mobilenet")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny backbone as mobilenet_v2, and a weights file of it (random weights, non-trivial BN statistics)."""
    from solutions.imaging import backbones

    patch = pytest.MonkeyPatch()
    patch.setitem(backbones.BACKBONES, "mobilenet_v2", tiny_backbone)
    model = tiny_backbone((32, 32, 3), None)
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.uniform(0.1, 0.5, w.shape).astype(w.dtype) if w.ndim == 1 else w for w in model.get_weights()])
    path = tmp_path_factory.mktemp("weights") / "tiny.weights.h5"
    model.save_weights(path)
    yield path
    patch.undo()


def fit(weights, run_dir=None, **values):
    solution = ImageClassificationSolution(recipe="quick", **{**BASE, "weights": str(weights), **values})
    return solution.fit("shapes", run_dir=run_dir, progress=False)


@pytest.fixture(scope="module")
def head_runs(tiny, tmp_path_factory):
    """The head trained 3 frozen epochs on cached features (in memory, and on disk) and through the backbone."""
    values = {"epochs": 3, "freeze_epochs": 3, "fine_tune_blocks": 0}
    disk = tmp_path_factory.mktemp("disk") / "run"
    return {"cached": fit(tiny, **values), "through": fit(tiny, feature_cache=False, **values),
            "disk": fit(tiny, run_dir=disk, feature_cache_mb=0, **values), "disk_dir": disk}


@pytest.fixture(scope="module")
def tuned_run(tiny, tmp_path_factory):
    """Cached head (2 epochs, augmented views), then the top 2 blocks fine-tuned on cached block_1_add activations."""
    from solutions.core.workflow import train_run

    out = tmp_path_factory.mktemp("tuned") / "run"
    solution = ImageClassificationSolution(recipe="quick", **{**BASE, "weights": str(tiny), "epochs": 3, "freeze_epochs": 2,
                                                              "fine_tune_blocks": 2, "augment": "light",
                                                              "feature_cache_views": 2})
    train_run(solution, "shapes", out, progress=False)
    return solution, out


def test_the_cached_head_is_the_head_trained_through_the_frozen_backbone(head_runs):
    # One batch per epoch (batch_size 256 > 126 training images), so both see the same data in each step;
    # they differ only in float summation order (measured: 1.2e-6 on kernels of order 0.5 after 3 Adam steps).
    cached, through = head_runs["cached"], head_runs["through"]
    for a, b in zip(cached.model_.get_layer("probabilities").get_weights(), through.model_.get_layer("probabilities").get_weights()):
        assert np.allclose(a, b, rtol=0, atol=1e-5), np.abs(a - b).max()
    assert [h["phase"] for h in cached.training_.history] == ["frozen_backbone"] * 3
    assert np.allclose([h["val_loss"] for h in cached.training_.history], [h["val_loss"] for h in through.training_.history], atol=1e-4)
    assert cached.training_.epochs_done == through.training_.epochs_done == 3


def test_a_cache_over_feature_cache_mb_is_memory_mapped_in_the_run_folder_then_removed(head_runs, tiny):
    memory, disk = head_runs["cached"], head_runs["disk"]
    for a, b in zip(memory.model_.get_weights(), disk.model_.get_weights()):
        assert np.array_equal(a, b)
    assert "memory-mapped on disk" in disk.training_notes_["frozen_backbone"]
    assert not (head_runs["disk_dir"] / "checkpoints" / "feature_cache").exists()
    with pytest.raises(ConfigError, match="more than feature_cache_mb=0.*without a run folder"):
        fit(tiny, epochs=1, freeze_epochs=1, fine_tune_blocks=0, feature_cache_mb=0)


def test_fine_tuning_unfreezes_exactly_the_named_top_blocks(tuned_run, tiny):
    import keras

    from solutions.imaging.backbones import backbone_blocks, set_backbone_trainable

    solution, _ = tuned_run
    backbone = solution.model_.get_layer("backbone")
    assert [name for name, _ in backbone_blocks(backbone)] == ["stem", "block_1", "block_2", "Conv_1"]
    before = tiny_backbone((32, 32, 3), None)
    before.load_weights(tiny)
    changed = {layer.name for layer in backbone.layers
               if any(not np.array_equal(a, b) for a, b in zip(layer.get_weights(), before.get_layer(layer.name).get_weights()))}
    assert changed == {"block_2_project", "Conv_1"}  # convolutions of the top 2 blocks; every batch norm kept its statistics
    model = solution.model_
    set_backbone_trainable(model, True, 2)
    trainable = {layer.name for layer in backbone.layers if layer.trainable_weights}
    assert trainable == {"block_2_project", "Conv_1"}
    assert not any(layer.trainable for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization))
    set_backbone_trainable(model, True, None)
    assert {layer.name for layer in backbone.layers if layer.trainable_weights} == {"Conv1", "block_1_expand", "block_2_project", "Conv_1"}
    with pytest.raises(ConfigError, match="at most the backbone's 4 blocks"):
        set_backbone_trainable(model, True, 5)
    history = solution.training_.history
    assert [h["phase"] for h in history] == ["frozen_backbone", "frozen_backbone", "fine_tune"] and history[-1]["epoch"] == 3
    assert "block_2, Conv_1" in solution.training_notes_["fine_tune"] and "block_1_add" in solution.training_notes_["fine_tune"]
    assert "x 3 views" in solution.training_notes_["frozen_backbone"]  # the plain image and 2 augmented views


def test_the_saved_model_takes_raw_pixels_and_predicts_as_the_trained_one(tuned_run, tiny):
    from solutions.core.explain import grad_cam

    solution, out = tuned_run
    loaded = ImageClassificationSolution.load(out)  # model.keras with safe_mode on
    pixels = np.random.default_rng(1).integers(0, 256, (6, 32, 32, 3)).astype(np.float32)
    assert loaded.model_.input_shape == (None, 32, 32, 3)
    assert np.allclose(loaded.model_.predict(pixels, verbose=0), solution.model_.predict(pixels, verbose=0), atol=1e-6)
    assert loaded.model_.get_layer("backbone").get_layer("preprocess_input").scale == pytest.approx(1 / 127.5)
    heat = grad_cam(loaded.model_, pixels[:2], np.array([0, 1]))
    assert heat.shape == (2, 8, 8) and np.isfinite(heat).all()  # the 8x8 feature map of 32x32 pixels
    exported = loaded.export(out / "exported", "saved_model")
    assert exported["max_abs_difference"] < 1e-4
    manifest = json.loads((out / "manifest.json").read_text())
    notes = manifest["training"]["notes"]
    assert notes["weights file"] == "tiny.weights.h5"
    assert notes["weights sha256"] == hashlib.sha256(Path(tiny).read_bytes()).hexdigest()
    assert notes["backbone"].startswith("mobilenet_v2 (set in the recipe)") and manifest["training"]["epochs_done"] == 3
    assert (out / "report.html").is_file() and sorted(p.name for p in (out / "checkpoints").iterdir()) == ["fine_tune", "frozen_backbone"]


def test_resume_of_a_finished_cached_run_continues_from_its_parts(tuned_run):
    solution, out = tuned_run
    again = ImageClassificationSolution(recipe=solution.recipe_)
    again.fit("shapes", run_dir=out, resume=True, progress=False)
    pixels = np.random.default_rng(2).integers(0, 256, (4, 32, 32, 3)).astype(np.float32)
    assert np.allclose(again.model_.predict(pixels, verbose=0), solution.model_.predict(pixels, verbose=0), atol=1e-6)
    assert again.training_.resumed_from_epoch == 3 and len(again.training_.history) == 3


def test_a_weights_file_of_another_shape_names_file_backbone_layer_and_shapes(tiny, tmp_path, capsys):
    from solutions.cli import main
    from solutions.imaging.backbones import load_backbone

    wider = tmp_path / "wide.weights.h5"
    tiny_backbone((32, 32, 3), None, width=8).save_weights(wider)
    message = ("wide.weights.h5 does not fit backbone mobilenet_v2: the first mismatching layer is Conv1, whose weights "
               r"have shape \(3, 3, 3, 4\), \(4,\) in mobilenet_v2 but \(3, 3, 3, 8\), \(8,\) in the file")
    with pytest.raises(ConfigError, match=message):
        load_backbone("mobilenet_v2", str(wider), (32, 32))
    assert main(["train", "image_classification", "--data", "shapes", "--set", "model=transfer", "--set", "backbone=mobilenet_v2",
                 "--set", f"weights={wider}", "--set", "epochs=1", "--set", "freeze_epochs=1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "first mismatching layer is Conv1" in err and "Traceback" not in err


def test_images_below_the_backbones_minimum_and_imagenet_offline_exit_2(tmp_path, capsys, monkeypatch):
    import socket

    from solutions.cli import main

    common = ["train", "image_classification", "--data", "shapes", "--set", "model=transfer", "--set", "epochs=1",
              "--set", "freeze_epochs=1"]
    assert main([*common, "--set", f"weights={REAL_WEIGHTS if REAL_WEIGHTS.is_file() else 'imagenet'}",
                 "--set", "image_size=[28,28]", "--set", "backbone=mobilenet_v2", "--out", str(tmp_path / "small")]) == 2
    err = capsys.readouterr().err
    assert "Backbone mobilenet_v2 needs images of at least 32x32. Received: image_size=[28, 28]" in err and "Traceback" not in err

    def refuse(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert main([*common, "--set", "weights=imagenet", "--set", "backbone=mobilenet_v2", "--out", str(tmp_path / "net")]) == 2
    err = capsys.readouterr().err
    assert "weights=imagenet needs to download from storage.googleapis.com" in err and "Traceback" not in err


def test_the_backbone_follows_the_weights_files_name_when_unset():
    from solutions.imaging.backbones import resolve_backbone

    assert resolve_backbone(None, str(REAL_WEIGHTS)) == ("mobilenet_v2", f"named by the weights file {REAL_WEIGHTS.name}")
    assert resolve_backbone("efficientnet_b0", str(REAL_WEIGHTS))[0] == "efficientnet_b0"
    assert resolve_backbone(None, "imagenet")[0] == resolve_backbone(None, "backbone.weights.h5")[0] == "mobilenet_v3_small"


@pytest.mark.slow
def test_the_real_mobilenet_v2_file_loads_layer_for_layer(monkeypatch):
    if not REAL_WEIGHTS.is_file():
        pytest.skip(f"{REAL_WEIGHTS} is absent: the shared pretrained weights are not beside this checkout")
    import h5py

    from solutions.imaging import backbones
    from solutions.imaging.backbones import load_backbone

    monkeypatch.setitem(backbones.BACKBONES, "mobilenet_v2", backbones._mobilenet_v2)  # the real one, not the tiny stand-in
    backbone = load_backbone(None, str(REAL_WEIGHTS), (96, 96))
    convolutions = [layer for layer in backbone.layers if type(layer).__name__ == "Conv2D"]
    assert convolutions[-1].name == "Conv_1" and len(convolutions) == 35  # Keras keys it conv2d_34 in the file
    with h5py.File(REAL_WEIGHTS, "r") as handle:
        stored = handle["layers/conv2d_34/vars/0"][()]
    assert stored.shape == (1, 1, 320, 1280) and np.array_equal(convolutions[-1].get_weights()[0], stored)
