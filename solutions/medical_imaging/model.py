"""Medical image classifiers in Keras: raw pixels in, probabilities out.

Each model starts with medically sensible augmentation (small rotations,
shifts and zooms in one resampling, contrast; flips only when the recipe
allows them; all inactive unless called with training=True) and the pixel normalisation, so `model.keras` alone
takes raw pixels. The CNN body is sized to the input (28 to 224 pixels) and
its last feature map is named "features" for Grad-CAM. Single-label models
end in a softmax, multi-label models in one sigmoid per label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core.explain import FEATURE_LAYER
from solutions.imaging.backbones import backbone_features, resnet_features, set_backbone_trainable
from solutions.medical_imaging.recipe import MedicalImagingRecipe

__all__ = ["build_medical_classifier", "medical_augmentation", "stem_downsampling", "densenet_features", "tta_variants",
           "set_backbone_trainable"]


def stem_downsampling(image_size: tuple[int, int]) -> int:
    """How many times the stem halves the input: 0 up to 64 pixels, 1 up to 128, 2 above.

    >>> [stem_downsampling((s, s)) for s in (28, 64, 128, 224)]
    [0, 0, 1, 2]
    """
    side = min(image_size)
    return 0 if side <= 64 else 1 if side <= 128 else 2


def build_medical_classifier(schema: dict[str, Any], recipe: MedicalImagingRecipe):
    """Build the recipe's model for `schema` (image_size, channels, class_names, task, pixel mean/std).

    >>> from solutions.core.config import make_recipe
    >>> schema = {"image_size": [28, 28], "channels": 1, "class_names": ["a", "b", "c"], "task": "multilabel",
    ...           "mean": [0.5], "std": [0.25]}
    >>> model = build_medical_classifier(schema, make_recipe(MedicalImagingRecipe, "quick"))
    >>> model.output_shape, model.layers[-1].activation.__name__
    ((None, 3), 'sigmoid')
    """
    import keras
    from keras import layers

    height, width = schema["image_size"]
    channels = int(schema["channels"])
    inputs = keras.Input((height, width, channels), name="pixels")
    x = medical_augmentation(recipe, "augment")(inputs)
    if recipe.model == "transfer":
        x = backbone_features(x, recipe.backbone, recipe.weights, (height, width), channels)
    else:
        # (pixels / 255 - mean) / std as one Rescaling: plain constants, which every exporter handles.
        scale = [1 / (255 * s) for s in schema["std"]]
        offset = [-m / s for m, s in zip(schema["mean"], schema["std"])]
        x = layers.Rescaling(scale, offset, name="normalize")(x)
        downsample = stem_downsampling((height, width))
        if recipe.model == "resnet":
            x = resnet_features(x, recipe.depth, recipe.width, stem_downsample=downsample)
        else:
            x = densenet_features(x, recipe.dense_layers, recipe.growth_rate, stem_downsample=downsample)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if recipe.dropout:
        x = layers.Dropout(recipe.dropout, name="dropout")(x)
    activation = "sigmoid" if schema.get("task") == "multilabel" else "softmax"
    outputs = layers.Dense(len(schema["class_names"]), activation=activation, name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"medical_{recipe.model}")


def medical_augmentation(recipe: MedicalImagingRecipe, name: str):
    """One random rotation-shift-zoom resampling (with the allowed flips), then random contrast, on raw pixels (0..255).

    Inactive unless the model is called with training=True, so a plain
    `model(x)` predicts deterministically. The rotation, shift and zoom touch a
    share (`augment_probability`) of the images; borders are filled by reflection.
    """
    import keras
    from keras import layers

    from solutions.imaging.layers import RandomAffine, RandomImageContrast

    steps = []
    if recipe.rotation_degrees or recipe.shift or recipe.zoom or recipe.flip != "none":
        steps.append(RandomAffine(recipe.rotation_degrees, recipe.shift, recipe.zoom, recipe.augment_probability, flip=recipe.flip))
    if recipe.contrast:
        steps.append(RandomImageContrast(recipe.contrast))
    return keras.Sequential(steps, name=name) if steps else layers.Identity(name=name)


def densenet_features(x, layers_per_block: int, growth_rate: int, stem_downsample: int = 0, blocks: int = 3):
    """A DenseNet-BC body (Huang et al. 2017): dense blocks of bottleneck layers, transitions halving channels and size.

    Each layer is BN-ReLU-Conv1x1(4k)-BN-ReLU-Conv3x3(k) and its output is
    concatenated to its input. Returns the final BN-ReLU map, named "features".
    """
    from keras import layers

    def bn_relu(t):
        return layers.ReLU()(layers.BatchNormalization(momentum=0.9)(t))

    def conv(filters, kernel, stride=1):
        return layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, kernel_initializer="he_normal")

    x = conv(2 * growth_rate, 7 if stem_downsample else 3, 2 if stem_downsample else 1)(x)
    if stem_downsample >= 2:
        x = layers.MaxPooling2D(3, strides=2, padding="same")(bn_relu(x))
    for block in range(blocks):
        for _ in range(layers_per_block):
            y = conv(4 * growth_rate, 1)(bn_relu(x))
            y = conv(growth_rate, 3)(bn_relu(y))
            x = layers.Concatenate()([x, y])
        if block < blocks - 1:
            x = conv(x.shape[-1] // 2, 1)(bn_relu(x))
            x = layers.AveragePooling2D(2, padding="same")(x)
    return layers.Activation("linear", name=FEATURE_LAYER)(bn_relu(x))


def tta_variants(x: np.ndarray, flip: str = "none") -> list[np.ndarray]:
    """The batch itself, shifted by a few pixels each way (edges repeated), and flipped where allowed.

    Shifts are 4% of the side (at least one pixel); their predictions are averaged.

    >>> [v.shape for v in tta_variants(np.zeros((2, 28, 28, 1)))]
    [(2, 28, 28, 1), (2, 28, 28, 1), (2, 28, 28, 1), (2, 28, 28, 1), (2, 28, 28, 1)]
    """
    x = np.asarray(x)
    step = max(1, round(0.04 * min(x.shape[1:3])))
    padded = np.pad(x, ((0, 0), (step, step), (step, step), (0, 0)), mode="edge")
    height, width = x.shape[1:3]
    variants = [x]
    for dy, dx in ((-step, 0), (step, 0), (0, -step), (0, step)):
        variants.append(padded[:, step + dy:step + dy + height, step + dx:step + dx + width])
    if flip in ("horizontal", "both"):
        variants.append(x[:, :, ::-1])
    if flip in ("vertical", "both"):
        variants.append(x[:, ::-1])
    return variants
