"""Convolutional building blocks shared by the image domains: residual bodies and pretrained backbones.

Pure Keras builders. Every body ends in a feature map named "features"
(core.explain.FEATURE_LAYER), so Grad-CAM works on any model built from them.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from solutions.core.errors import ConfigError
from solutions.core.explain import FEATURE_LAYER

IMAGENET_HOST = "storage.googleapis.com"
BACKBONE_NAMES = ("mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_v2_b0", "convnext_tiny")


def resnet_features(x, depth: int, width: int, stem_downsample: int = 0):
    """The CIFAR ResNet body of He et al. (2016): 3 stages of (depth-2)/6 basic blocks.

    Filters double and resolution halves at each stage; projection shortcuts
    where the shape changes. `stem_downsample` halves the input 0, 1 or 2 times
    in the stem first (a stride-2 conv, then a max-pool), so larger inputs
    (112, 224 pixels) reach the stages at a CIFAR-like size. Returns the last
    feature map, named "features".
    """
    from keras import layers

    blocks = (depth - 2) // 6

    def conv(filters, stride=1, kernel=3):
        return layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                             kernel_initializer="he_normal")

    x = conv(width, stride=2 if stem_downsample >= 1 else 1, kernel=7 if stem_downsample >= 1 else 3)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.ReLU()(x)
    if stem_downsample >= 2:
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
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


def load_backbone(name: str, weights: str | None, image_size: tuple[int, int]):
    """A keras.applications backbone `name` without its top, named "backbone".

    `weights`: None (random initialisation), "imagenet" (downloaded by Keras,
    needs the network), a local weights file, or a local KerasHub preset directory.
    """
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
    if name not in constructors:
        raise ConfigError(f"Recipe key `backbone` must be one of {', '.join(constructors)}. Received: backbone={name!r}.")
    constructor, options = constructors[name]
    height, width = image_size
    if min(height, width) < 32:
        raise ConfigError(
            f"Backbone {name} needs images of at least 32x32. Received: image_size={list(image_size)}. "
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
    import keras

    backbone = keras_hub.models.Backbone.from_preset(str(preset_dir))
    scale, offset = kerashub_input_scaling(preset_dir)
    return keras.Sequential([keras.layers.Rescaling(scale, offset, name="preset_scaling"), backbone], name="backbone")


def kerashub_input_scaling(preset_dir: Path) -> tuple[Any, Any]:
    """The (scale, offset) a KerasHub preset's image converter applies to 0-255 pixels; 1/255 when it has none."""
    import json

    converter = Path(preset_dir) / "image_converter.json"
    if not converter.is_file():
        return 1 / 255, 0.0
    try:
        config = json.loads(converter.read_text(encoding="utf-8")).get("config", {})
    except ValueError:
        raise ConfigError(f"{converter} is not valid JSON; the KerasHub preset directory may be damaged.") from None
    scale = config.get("scale", 1 / 255)
    offset = config.get("offset", 0.0)
    return (1.0 if scale is None else scale), (0.0 if offset is None else offset)


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
    """Freeze or unfreeze the layer named "backbone"; batch-norm layers stay frozen when fine-tuning."""
    from keras import layers

    backbone = model.get_layer("backbone")
    backbone.trainable = trainable
    if trainable:
        for layer in backbone._flatten_layers(include_self=False):
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False


def backbone_features(x, name: str, weights: str | None, image_size: tuple[int, int], channels: int):
    """Gray inputs repeated to RGB, the backbone, and its output named "features" for Grad-CAM."""
    from keras import layers

    if channels == 1:
        x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
    x = load_backbone(name, weights, image_size)(x)
    return layers.Activation("linear", name=FEATURE_LAYER)(x)


def transfer_phases(recipe) -> list:
    """Training phases for a recipe with model/weights/freeze_epochs/fine_tune_learning_rate keys.

    Pretrained transfer learning trains the head with the backbone frozen for
    `freeze_epochs`, then fine-tunes everything at `fine_tune_learning_rate`;
    anything else trains in one phase.
    """
    from solutions.core.training import Phase

    if recipe.model != "transfer" or not recipe.weights or recipe.freeze_epochs == 0:
        return [Phase("train", recipe.epochs, recipe.learning_rate)]
    return [
        Phase("frozen backbone", recipe.freeze_epochs, recipe.learning_rate,
              prepare=lambda m: set_backbone_trainable(m, False)),
        Phase("fine-tune", recipe.epochs - recipe.freeze_epochs, recipe.fine_tune_learning_rate,
              prepare=lambda m: set_backbone_trainable(m, True)),
    ]

