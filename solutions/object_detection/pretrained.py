"""A keras.applications backbone under the detector's pyramid: its feature maps, checks, phases and notes.

The backbone comes from imaging.backbones (the image-classification transfer path): the same
weights files, checked layer by layer, with the backbone's own input scaling inside it. The
detector needs three of its maps, at strides 8, 16 and 32 (PYRAMID_LAYERS), instead of its
last one. With pretrained weights, training runs in two phases: the pyramid and head on the
frozen backbone, then the whole detector at the lower fine-tuning rate, batch-norm statistics
kept as pretrained (the detector's batches of 8 images are too small to re-estimate them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from solutions.core.errors import ConfigError
from solutions.core.wording import plural
from solutions.object_detection.recipe import DetectionRecipe

# backbone -> its layers at strides 8, 16 and 32 (checked by building it: tests/object_detection/test_pretrained.py).
# The expansion ReLUs of the first block of each lower resolution are the widest maps at their stride.
PYRAMID_LAYERS = {"mobilenet_v2": ("block_6_expand_relu", "block_13_expand_relu", "out_relu")}


def pretrained_features(name: str, weights: str | None, image_size: tuple[int, int]):
    """A model named "backbone": 0-255 pixels in, the backbone's stride-8, 16 and 32 feature maps out.

    >>> extractor = pretrained_features("mobilenet_v2", None, (64, 96))
    >>> [tuple(shape[1:3]) for shape in extractor.output_shape]
    [(8, 12), (4, 6), (2, 3)]
    """
    import keras

    from solutions.imaging.backbones import load_backbone

    check_weights_path(weights)
    backbone = load_backbone(name, weights, tuple(image_size))
    outputs = [backbone.get_layer(layer).output for layer in PYRAMID_LAYERS[name]]
    return keras.Model(backbone.inputs, outputs, name="backbone")


def check_weights_path(weights: str | None) -> None:
    """ConfigError unless `weights` is None, "imagenet" or an existing file (a folder is a KerasHub preset)."""
    if not weights or weights == "imagenet" or Path(weights).is_file():
        return
    why = ("a folder: a KerasHub preset directory goes in `backbone_preset`" if Path(weights).is_dir()
           else "not an existing file")
    raise ConfigError(f'Recipe key `weights` must be None, "imagenet" or a weights file of the backbone '
                      f"(e.g. mobilenet_v2_1.0_224_imagenet_notop.weights.h5). Received: weights={weights!r}, "
                      f"which is {why}.")


def check_pretrained_recipe(recipe: DetectionRecipe) -> None:
    """The checks that need no data: the weights path, and the image size against the backbone's minimum."""
    if recipe.backbone == "cnn":
        return
    from solutions.imaging.backbones import check_image_size

    check_weights_path(recipe.weights)
    check_image_size(recipe.backbone, tuple(recipe.image_size))


def detection_phases(recipe: DetectionRecipe) -> list:
    """One phase from scratch; with pretrained weights, "frozen backbone" (freeze_epochs, at learning_rate)
    then "fine-tune" (the other epochs, at fine_tune_learning_rate, batch norms frozen)."""
    from solutions.core.training import Phase
    from solutions.imaging.backbones import set_backbone_trainable

    if recipe.backbone == "cnn" or not recipe.weights:
        return [Phase("train", recipe.epochs, recipe.learning_rate)]
    phases = []
    if recipe.freeze_epochs:
        phases.append(Phase("frozen backbone", recipe.freeze_epochs, recipe.learning_rate,
                            prepare=lambda model: set_backbone_trainable(model, False)))
    if recipe.epochs > recipe.freeze_epochs:
        phases.append(Phase("fine-tune", recipe.epochs - recipe.freeze_epochs, recipe.fine_tune_learning_rate,
                            prepare=lambda model: set_backbone_trainable(model, True)))
    return phases


def backbone_notes(recipe: DetectionRecipe) -> dict[str, Any]:
    """What the run's manifest and report record of the backbone: its kind and the weights file's name and sha256."""
    from solutions.imaging.backbones import weights_fingerprint

    if recipe.backbone_preset:
        return {"backbone": "KerasHub preset directory", **weights_fingerprint(recipe.backbone_preset)}
    if recipe.backbone == "cnn":
        return {"backbone": "cnn (trained from scratch)"}
    if not recipe.weights:
        return {"backbone": f"{recipe.backbone} (random initialisation)"}
    schedule = (f"{plural(recipe.freeze_epochs, 'epoch')} on the frozen backbone at {recipe.learning_rate:g}, then "
                f"{plural(recipe.epochs - recipe.freeze_epochs, 'epoch')} fine-tuning it at "
                f"{recipe.fine_tune_learning_rate:g}, batch-norm statistics frozen")
    source = "ImageNet (downloaded by Keras)" if recipe.weights == "imagenet" else "pretrained weights file"
    return {"backbone": f"{recipe.backbone} ({source}; pyramid on {', '.join(PYRAMID_LAYERS[recipe.backbone])})",
            "schedule": schedule, **weights_fingerprint(recipe.weights)}
