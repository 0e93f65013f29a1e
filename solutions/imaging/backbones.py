"""Convolutional building blocks shared by the image domains: residual bodies and pretrained backbones.

Pure Keras builders. Every body ends in a feature map named "features"
(core.explain.FEATURE_LAYER), so Grad-CAM works on any model built from them.

A keras.applications backbone is the layer named "backbone"; it takes raw 0..255 RGB pixels (its own
input scaling is inside it) and is built from one of BACKBONES. Its weights are None (random),
"imagenet" (downloaded by Keras), a local weights file (Keras 3 `.weights.h5` or a Keras 2 `.h5`,
checked layer by layer against the backbone before anything is assigned) or a KerasHub preset
directory. The recipe's `backbone` may be left unset: the weights file's name then says which
(`mobilenet_v2_1.0_224_imagenet_notop.weights.h5` is MobileNetV2), else it is mobilenet_v3_small.
"""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path
from typing import Any, Callable

from solutions.core.errors import ConfigError
from solutions.core.explain import FEATURE_LAYER

IMAGENET_HOST = "storage.googleapis.com"
BACKBONE_NAMES = ("mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_v2_b0",
                  "convnext_tiny")
DEFAULT_BACKBONE = "mobilenet_v3_small"
# The smallest height and width each backbone takes (keras.applications refuses smaller inputs).
MIN_IMAGE_SIDE = {name: 32 for name in BACKBONE_NAMES}


def _mobilenet_v2(input_shape, weights):
    """MobileNetV2 (width 1.0) with keras.applications.mobilenet_v2.preprocess_input (pixels to [-1, 1]) inside."""
    import keras

    pixels = keras.Input(input_shape, name="pixels")
    scaled = keras.layers.Rescaling(1 / 127.5, -1.0, name="preprocess_input")(pixels)
    base = keras.applications.MobileNetV2(input_tensor=scaled, input_shape=input_shape, include_top=False, weights=weights)
    return keras.Model(pixels, base.output, name=base.name)  # one input, not a list of one: called on a tensor


def _application(constructor: str, **options):
    def build(input_shape, weights):
        import keras

        return getattr(keras.applications, constructor)(include_top=False, weights=weights, input_shape=input_shape, **options)

    return build


# name -> build(input_shape, weights) -> keras.Model taking 0..255 RGB pixels; weights is None or "imagenet".
BACKBONES: dict[str, Callable[[tuple[int, int, int], str | None], Any]] = {
    "mobilenet_v2": _mobilenet_v2,
    "mobilenet_v3_small": _application("MobileNetV3Small", include_preprocessing=True),
    "mobilenet_v3_large": _application("MobileNetV3Large", include_preprocessing=True),
    "efficientnet_b0": _application("EfficientNetB0"),
    "efficientnet_v2_b0": _application("EfficientNetV2B0", include_preprocessing=True),
    "convnext_tiny": _application("ConvNeXtTiny", include_preprocessing=True),
}


def backbone_named_by(weights: str | None) -> str | None:
    """The backbone a weights file's name names (the longest match, ignoring "_" and "-"), or None.

    >>> backbone_named_by("/w/mobilenet_v2_1.0_224_imagenet_notop.weights.h5"), backbone_named_by("efficientnetb0_notop.h5")
    ('mobilenet_v2', 'efficientnet_b0')
    >>> backbone_named_by("model.weights.h5") is None
    True
    """
    if not weights or weights == "imagenet":
        return None
    plain = re.sub(r"[_\-]", "", Path(weights).name.lower())
    found = [name for name in BACKBONE_NAMES if name.replace("_", "") in plain]
    return max(found, key=len) if found else None


def resolve_backbone(backbone: str | None, weights: str | None) -> tuple[str, str]:
    """(backbone name, how it was chosen): the recipe's, else the one the weights file names, else the default."""
    if backbone:
        return backbone, "set in the recipe"
    named = backbone_named_by(weights)
    if named:
        return named, f"named by the weights file {Path(weights).name}"
    return DEFAULT_BACKBONE, "the default (neither the recipe nor the weights file's name names one)"


def weights_fingerprint(weights: str | None) -> dict[str, str]:
    """{"weights file": its name, "weights sha256": its digest} for a local file or preset folder; {} otherwise."""
    if not weights or weights == "imagenet" or not Path(weights).exists():
        return {}
    path = Path(weights)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return {"weights file": path.name, "weights sha256": digest.hexdigest()}


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


def load_backbone(name: str | None, weights: str | None, image_size: tuple[int, int]):
    """A keras.applications backbone `name` without its top, named "backbone", taking 0..255 RGB pixels.

    `name` None: the one the weights file's name names, else mobilenet_v3_small (resolve_backbone).
    `weights`: None (random initialisation), "imagenet" (downloaded by Keras, needs the network),
    a local weights file (checked against the backbone first: load_weights_file), or a local
    KerasHub preset directory.
    """
    if weights and Path(weights).is_dir():
        return _kerashub_backbone(Path(weights))
    if weights and weights != "imagenet" and not Path(weights).is_file():
        raise ConfigError(
            f"Recipe key `weights` must be None, \"imagenet\", a weights file or a KerasHub preset directory. "
            f"Received: weights={weights!r}, which is not an existing file or folder."
        )
    name, _ = resolve_backbone(name, weights)
    if name not in BACKBONES:
        raise ConfigError(f"Recipe key `backbone` must be one of {', '.join(BACKBONES)}. Received: backbone={name!r}.")
    check_image_size(name, image_size)
    if weights == "imagenet":
        check_online(IMAGENET_HOST)
    height, width = image_size
    backbone = BACKBONES[name]((height, width, 3), "imagenet" if weights == "imagenet" else None)
    if weights and weights != "imagenet":
        load_weights_file(backbone, Path(weights), name)
    backbone.name = "backbone"
    return backbone


def check_image_size(name: str, image_size) -> None:
    """ConfigError when `image_size` is below what backbone `name` takes (MIN_IMAGE_SIDE), naming both."""
    side = MIN_IMAGE_SIDE.get(name, 32)
    if min(image_size) < side:
        raise ConfigError(
            f"Backbone {name} needs images of at least {side}x{side}. Received: image_size={list(image_size)}. "
            "Set --set image_size=[96,96] (larger is slower but more accurate for pretrained weights)."
        )


def load_weights_file(backbone, path: Path, name: str) -> None:
    """Assign the weights in `path` to `backbone` after checking every layer's shapes against the file.

    Reads Keras 3 weights files (`model.save_weights`, `*.weights.h5`: layers keyed by class name and
    count, in layer order, as Keras writes them) and Keras 2 HDF5 weights (`layer_names`, the files
    keras.applications downloads: weighted layers in order). The first layer whose shapes differ, or that
    the file lacks, is a ConfigError naming the file, the backbone, the layer and both shapes.
    """
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ConfigError(f"{path} is not a weights file Keras can read (HDF5 .weights.h5 or .h5): {error}.") from None
    with handle:
        root = handle["model_weights"] if "model_weights" in handle else handle
        if "layer_names" in root.attrs:
            pairs = _keras2_pairs(backbone, root)
        elif "layers" in root:
            pairs = _keras3_pairs(backbone, root["layers"], "layers")
        else:
            raise ConfigError(f"{path} holds no layer weights (neither a Keras 3 `layers` group nor Keras 2 `layer_names`). "
                              "Pass a file written by model.save_weights or downloaded from keras.applications.")
        hint = _name_hint(path, name)
        for layer, where, arrays, expected in pairs:
            wanted = [tuple(v.shape) for v in expected]
            if arrays is None:
                raise ConfigError(f"{path.name} does not fit backbone {name}: its layer {layer.name} (weights of shape "
                                  f"{_shapes_text(wanted)}) has no weights in the file (looked for {where}).{hint}")
            shapes = [tuple(a.shape) for a in arrays]
            if shapes != wanted:
                raise ConfigError(f"{path.name} does not fit backbone {name}: the first mismatching layer is {layer.name}, "
                                  f"whose weights have shape {_shapes_text(wanted)} in {name} but "
                                  f"{_shapes_text(shapes)} in the file (at {where}).{hint}")
        covered = {id(v) for *_, expected in pairs for v in expected}
        if any(id(v) not in covered for v in backbone.weights):  # variables kept outside `vars`: Keras' own loader
            try:
                backbone.load_weights(path)
            except ValueError as error:
                raise ConfigError(f"{path.name} does not fit backbone {name}: {error}{hint}") from None
            return
        for _, _, arrays, expected in pairs:
            for variable, array in zip(expected, arrays):
                variable.assign(array[()])


def _shapes_text(shapes) -> str:
    return ", ".join(str(tuple(int(d) for d in s)) for s in shapes) or "none"


def _name_hint(path: Path, name: str) -> str:
    named = backbone_named_by(str(path))
    return f" The file's name suggests backbone {named}: pass --set backbone={named}." if named and named != name else ""


def _own_weights(layer) -> list:
    """A layer's own variables in the order Keras saves them (its sublayers' are not included)."""
    store: dict[str, Any] = {}
    layer.save_own_variables(store)
    return [store[str(i)] for i in range(len(store))]


def _snake(name: str) -> str:
    """The key Keras 3 gives a layer class in a weights file (keras.src.utils.naming.to_snake_case)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _keras3_pairs(model, group, where: str) -> list:
    """(layer, path, arrays or None, variables) for every layer with own weights, keyed as Keras 3 writes them
    (class name in snake case, numbered in layer order), recursing into nested models."""
    import keras

    pairs, used = [], {}
    for layer in model.layers:
        key = _snake(type(layer).__name__)
        used[key] = used.get(key, -1) + 1
        key = key if used[key] == 0 else f"{key}_{used[key]}"
        if isinstance(layer, keras.Model):
            pairs += _keras3_pairs(layer, group[key]["layers"] if f"{key}/layers" in group else {}, f"{where}/{key}/layers")
            continue
        variables = _own_weights(layer)
        if not variables:
            continue
        entry = group.get(f"{key}/vars") if hasattr(group, "get") else None
        arrays = None if entry is None else [entry[str(i)] for i in range(len(entry))]
        pairs.append((layer, f"{where}/{key}/vars", arrays, variables))
    return pairs


def _keras2_pairs(model, root) -> list:
    """(layer, group name, arrays or None, variables) pairing weighted layers in order, as Keras' own HDF5 loader does
    (a nested model is one entry: its trainable, then its other weights)."""
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in root.attrs["layer_names"]]
    groups = [(n, [root[n][w] for w in root[n].attrs["weight_names"]]) for n in names
              if len(root[n].attrs.get("weight_names", []))]
    layers = [layer for layer in model.layers if layer.weights]
    pairs = []
    for index, layer in enumerate(layers):
        variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        if index < len(groups):
            pairs.append((layer, f"layer {groups[index][0]!r}", groups[index][1], variables))
        else:
            pairs.append((layer, f"weighted layer {index + 1}; the file has {len(groups)}", None, variables))
    return pairs


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


# A block of a keras.applications backbone, from its layers' names: MobileNetV2's block_16_expand, MobileNetV3's
# expanded_conv_3_project, EfficientNet's block6a_se_reduce, ConvNeXt's stage_3_block_2_... and downsampling_block_1.
BLOCK_NAME = re.compile(r"(?:^|_)((?:stage_\d+_)?block_?\d+[a-z]?|downsampling_block_\d+|expanded_conv(?:_\d+)?)(?=_|$)")


def backbone_blocks(backbone) -> list[tuple[str, list]]:
    """The backbone's blocks in order, as (name, layers): the stem, each named block, the layers after the last block.

    A layer whose name Keras made up (re_lu_3, activation_7, multiply_2) belongs to the block before it;
    other layers outside any named block form the "stem" before the first block and, after the last one,
    a block named after its first layer (MobileNetV2's Conv_1, EfficientNet's top_conv).
    """
    import keras

    blocks: list[tuple[str, list]] = []
    named = []  # per block: whether BLOCK_NAME named it
    for layer in backbone.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        match = BLOCK_NAME.search(layer.name)
        generated = re.fullmatch(rf"{_snake(type(layer).__name__)}(_\d+)?", layer.name) is not None
        if match:
            name, is_block = match.group(1), True
        elif blocks and (generated or not named[-1]):
            name, is_block = blocks[-1][0], named[-1]
        else:
            name, is_block = ("stem" if not blocks else layer.name), False
        if blocks and blocks[-1][0] == name:
            blocks[-1][1].append(layer)
        else:
            blocks.append((name, [layer]))
            named.append(is_block)
    return blocks


def top_blocks(backbone, count: int | None) -> list[tuple[str, list]]:
    """The last `count` blocks of the backbone (all of them for None); ConfigError when it has fewer."""
    blocks = backbone_blocks(backbone)
    if count is None:
        return blocks
    if count > len(blocks):
        raise ConfigError(f"Recipe key `fine_tune_blocks` must be at most the backbone's {len(blocks)} blocks "
                          f"({blocks[0][0]} ... {blocks[-1][0]}). Received: fine_tune_blocks={count}.")
    return blocks[len(blocks) - count:] if count else []


def set_backbone_trainable(model, trainable: bool, blocks: int | None = None) -> None:
    """Freeze the layer named "backbone", or unfreeze its top `blocks` blocks (all for None).

    Batch-norm layers stay frozen when fine-tuning (their statistics are the pretrained ones).
    """
    from keras import layers

    backbone = model.get_layer("backbone")
    backbone.trainable = trainable
    if trainable:
        unfrozen = {id(layer) for _, members in top_blocks(backbone, blocks) for layer in members}
        for layer in backbone.layers:
            layer.trainable = id(layer) in unfrozen
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


def check_transfer_recipe(recipe) -> None:
    """Checks of a transfer recipe that need no data: the weights path exists, image_size (when set) suits the backbone."""
    weights = recipe.weights
    if weights and weights != "imagenet" and not Path(weights).exists():
        raise ConfigError(
            f"Recipe key `weights` must be None, \"imagenet\", a weights file or a KerasHub preset directory. "
            f"Received: weights={weights!r}, which is not an existing file or folder."
        )
    if recipe.image_size and not (weights and Path(weights).is_dir()):
        check_image_size(resolve_backbone(recipe.backbone, weights)[0], tuple(recipe.image_size))


def check_transfer_keys(recipe, augments: bool, augment_key: str) -> None:
    """The checks of the transfer-learning recipe keys both image recipes share (in their check())."""
    from solutions.core.config import require_value

    blocks = recipe.fine_tune_blocks
    require_value(blocks is None or blocks >= 0, "fine_tune_blocks", "null (all blocks) or an integer >= 0", blocks)
    if recipe.model == "transfer" and recipe.weights and blocks == 0:
        require_value(recipe.freeze_epochs == recipe.epochs, "freeze_epochs",
                      f"equal to epochs ({recipe.epochs}) with fine_tune_blocks=0, which fine-tunes nothing",
                      recipe.freeze_epochs)
    require_value(recipe.feature_cache_mb >= 0, "feature_cache_mb", "a number of megabytes >= 0", recipe.feature_cache_mb)
    require_value(recipe.feature_cache_views >= 0, "feature_cache_views", "an integer >= 0", recipe.feature_cache_views)
    require_value(augments or recipe.feature_cache_views <= 1, "feature_cache_views",
                  f"0 or 1 when the recipe does not augment ({augment_key}): every view would be the same image",
                  recipe.feature_cache_views)


def uses_feature_cache(recipe) -> bool:
    """Whether the frozen phase trains on cached backbone features (imaging.transfer) instead of through the backbone."""
    return recipe.model == "transfer" and bool(recipe.weights) and recipe.freeze_epochs > 0 and recipe.feature_cache


def transfer_phases(recipe) -> list:
    """Training phases for a recipe with the transfer-learning keys (model, weights, freeze_epochs,
    fine_tune_blocks, fine_tune_learning_rate, feature_cache).

    Pretrained transfer learning trains the head with the backbone frozen for `freeze_epochs`, then
    fine-tunes the top `fine_tune_blocks` blocks (all for None; none for 0) at `fine_tune_learning_rate`;
    anything else trains in one phase. With the feature cache, both run after this list (which is then
    empty) in ImageSolution.extend_model, on cached activations (imaging.transfer).
    """
    from solutions.core.training import Phase

    if recipe.model != "transfer" or not recipe.weights or recipe.freeze_epochs == 0:
        return [Phase("train", recipe.epochs, recipe.learning_rate)]
    if uses_feature_cache(recipe):
        return []
    phases = [Phase("frozen backbone", recipe.freeze_epochs, recipe.learning_rate,
                    prepare=lambda m: set_backbone_trainable(m, False))]
    if recipe.fine_tune_blocks != 0:
        phases.append(Phase("fine-tune", recipe.epochs - recipe.freeze_epochs, recipe.fine_tune_learning_rate,
                            prepare=lambda m: set_backbone_trainable(m, True, recipe.fine_tune_blocks)))
    return phases
