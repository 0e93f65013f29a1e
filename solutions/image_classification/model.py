"""Image classifiers in Keras: raw pixels in, class probabilities out.

Every model starts with its preprocessing (rescaling, normalisation,
augmentation active only in training) so `model.keras` alone takes raw
pixels, and names its last spatial feature map "features" for Grad-CAM.
"""

from __future__ import annotations

from typing import Any

from solutions.core.explain import FEATURE_LAYER
from solutions.imaging.backbones import load_backbone, resnet_features, set_backbone_trainable
from solutions.image_classification.recipe import ImageClassificationRecipe

__all__ = ["build_image_classifier", "augmentation", "set_backbone_trainable"]


def build_image_classifier(schema: dict[str, Any], recipe: ImageClassificationRecipe):
    """Build the recipe's model for `schema` (image_size, channels, class_names, pixel mean/std).

    >>> import keras
    >>> from solutions.core.config import make_recipe
    >>> schema = {"image_size": [32, 32], "channels": 3, "class_names": ["a", "b"], "mean": [0.5] * 3, "std": [0.25] * 3}
    >>> model = build_image_classifier(schema, make_recipe(ImageClassificationRecipe, "quick"))
    >>> model.output_shape
    (None, 2)
    """
    import keras
    from keras import layers

    height, width = schema["image_size"]
    channels = int(schema["channels"])
    inputs = keras.Input((height, width, channels), name="pixels")
    if recipe.model == "resnet":
        # (pixels / 255 - mean) / std as one Rescaling: plain constants, which every exporter handles
        # (Normalization's captured mean and variance become missing inputs in the ONNX export).
        scale = [1 / (255 * s) for s in schema["std"]]
        offset = [-m / s for m, s in zip(schema["mean"], schema["std"])]
        x = layers.Rescaling(scale, offset, name="normalize")(inputs)
        x = augmentation(recipe.augment, "augment")(x)
        x = resnet_features(x, recipe.depth, recipe.width)
    else:
        x = inputs
        if channels == 1:
            x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
        x = augmentation(recipe.augment, "augment")(x)
        backbone = load_backbone(recipe.backbone, recipe.weights, (height, width))
        x = backbone(x)
        x = layers.Activation("linear", name=FEATURE_LAYER)(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if recipe.dropout:
        x = layers.Dropout(recipe.dropout, name="dropout")(x)
    outputs = layers.Dense(len(schema["class_names"]), activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"image_classifier_{recipe.model}")


def augmentation(kind: str, name: str):
    """Augmentation layers (identity at inference, also in a plain `model(x)`): flips, and for "standard" shifts of 1/8."""
    import keras
    from keras import layers

    from solutions.imaging.layers import TrainingOnly

    steps = []
    if kind in ("light", "standard"):
        steps.append(layers.RandomFlip("horizontal"))
    if kind == "standard":
        steps.append(layers.RandomTranslation(0.125, 0.125, fill_mode="reflect"))
    return TrainingOnly(keras.Sequential(steps), name=name) if steps else layers.Identity(name=name)
