"""Image classifiers in Keras: raw pixels in, class probabilities out.

Every model starts with its preprocessing (rescaling, normalisation,
augmentation active only in training) so `model.keras` alone takes raw
pixels, and names its last spatial feature map "features" for Grad-CAM.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from solutions.core.errors import ConfigError
from solutions.core.explain import FEATURE_LAYER
from solutions.image_classification.recipe import ImageClassificationRecipe

IMAGENET_HOST = "storage.googleapis.com"


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
        backbone = load_backbone(recipe, (height, width))
        x = backbone(x)
        x = layers.Activation("linear", name=FEATURE_LAYER)(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if recipe.dropout:
        x = layers.Dropout(recipe.dropout, name="dropout")(x)
    outputs = layers.Dense(len(schema["class_names"]), activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"image_classifier_{recipe.model}")


def augmentation(kind: str, name: str):
    """Augmentation layers (identity at inference): flips, and for "standard" shifts of 1/8."""
    import keras
    from keras import layers

    steps = []
    if kind in ("light", "standard"):
        steps.append(layers.RandomFlip("horizontal"))
    if kind == "standard":
        steps.append(layers.RandomTranslation(0.125, 0.125, fill_mode="reflect"))
    return keras.Sequential(steps, name=name) if steps else layers.Identity(name=name)


def resnet_features(x, depth: int, width: int):
    """The CIFAR ResNet body of He et al. (2016): 3 stages of (depth-2)/6 basic blocks.

    Filters double and resolution halves at each stage; projection shortcuts
    where the shape changes. Returns the last feature map, named "features".
    """
    from keras import layers, regularizers

    blocks = (depth - 2) // 6

    def conv(filters, stride=1, kernel=3):
        return layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                             kernel_initializer="he_normal")

    x = conv(width)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.ReLU()(x)
    for stage in range(3):
        filters = width * 2 ** stage
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            shortcut = x
            y = conv(filters, stride)(x)
            y = layers.BatchNormalization(momentum=0.9)(y)
            y = layers.ReLU()(y)
            y = conv(filters)(y)
            y = layers.BatchNormalization(momentum=0.9, gamma_initializer="zeros")(y)
            if stride != 1 or shortcut.shape[-1] != filters:
                shortcut = conv(filters, stride, kernel=1)(shortcut)
                shortcut = layers.BatchNormalization(momentum=0.9)(shortcut)
            x = layers.ReLU()(layers.Add()([shortcut, y]))
    return layers.Activation("linear", name=FEATURE_LAYER)(x)


def load_backbone(recipe: ImageClassificationRecipe, image_size: tuple[int, int]):
    """A convolutional backbone without its top, named "backbone"; see the recipe's `weights`."""
    weights = recipe.weights
    if weights and Path(weights).is_dir():
        return _kerashub_backbone(Path(weights))
    if weights and weights != "imagenet" and not Path(weights).is_file():
        raise ConfigError(
            f"Recipe key `weights` must be None, \"imagenet\", a weights file or a KerasHub preset directory. "
            f"Received: weights={weights!r}, which is not an existing file or folder."
        )
    if weights == "imagenet":
        check_online(IMAGENET_HOST)
    import keras

    constructors = {
        "mobilenet_v3_small": (keras.applications.MobileNetV3Small, {"include_preprocessing": True}),
        "mobilenet_v3_large": (keras.applications.MobileNetV3Large, {"include_preprocessing": True}),
        "efficientnet_b0": (keras.applications.EfficientNetB0, {}),
        "efficientnet_v2_b0": (keras.applications.EfficientNetV2B0, {"include_preprocessing": True}),
        "convnext_tiny": (keras.applications.ConvNeXtTiny, {"include_preprocessing": True}),
    }
    constructor, options = constructors[recipe.backbone]
    height, width = image_size
    if min(height, width) < 32:
        raise ConfigError(
            f"Backbone {recipe.backbone} needs images of at least 32x32. Received: image_size={list(image_size)}. "
            "Set --set image_size=[96,96] (larger is slower but more accurate for pretrained weights)."
        )
    backbone = constructor(include_top=False, weights=weights, input_shape=(height, width, 3), **options)
    backbone.name = "backbone"
    return backbone


def _kerashub_backbone(preset_dir: Path):
    try:
        import keras_hub
    except ImportError:
        raise ConfigError("A KerasHub preset directory needs keras-hub: pip install keras-hub") from None
    if not (preset_dir / "config.json").is_file():
        raise ConfigError(f"{preset_dir} is not a KerasHub preset directory: it has no config.json.")
    backbone = keras_hub.models.Backbone.from_preset(str(preset_dir))
    backbone.name = "backbone"
    return backbone


def check_online(host: str, timeout: float = 3.0) -> None:
    """Raise ConfigError at once when `host` cannot be reached, instead of hanging in a download."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        raise ConfigError(
            f"weights=imagenet needs to download from {host}, which cannot be reached from this machine. "
            "Download the weights file elsewhere and pass --set weights=/path/to/file.h5, use a local KerasHub "
            "preset directory, or train from scratch with --set weights=null."
        ) from None


def set_backbone_trainable(model, trainable: bool) -> None:
    """Freeze or unfreeze the backbone; batch-norm layers stay frozen when fine-tuning."""
    from keras import layers

    backbone = model.get_layer("backbone")
    backbone.trainable = trainable
    if trainable:
        for layer in backbone._flatten_layers(include_self=False):
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
