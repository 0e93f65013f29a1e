"""Image classification recipe: every key with its type, default and meaning, and the presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from solutions.core.config import Recipe, require_value
from solutions.core.search_space import Choice, FloatRange
from solutions.imaging.backbones import BACKBONE_NAMES, check_transfer_keys


@dataclass(frozen=True)
class ImageClassificationRecipe(Recipe):
    """How an image classifier is trained.

    model: "resnet" (a CIFAR-style residual CNN, depth 6n+2) or "transfer" (a
      keras.applications backbone, or a KerasHub preset directory as `weights`).
    depth, width: ResNet depth (8, 14, 20, 32, ...) and the first stage's filters.
    image_size: (height, width) every image is resized to.
    channels: "auto" (gray if every sampled image is gray), "gray" or "rgb".
    augment: "none", "light" (flips) or "standard" (flips and shifts).
    label_smoothing, dropout: regularisation of the classifier head.
    on_corrupt: "skip" unreadable images (counted in the report) or "error" (list them and stop).
    backbone, weights: for model="transfer"; weights is None (random initialisation),
      "imagenet" (downloaded by Keras, needs the network), a local weights file
      (a Keras 3 .weights.h5 or a Keras 2 .h5, checked layer by layer against the
      backbone), or a local KerasHub preset directory. backbone unset (null): the one
      the weights file's name names (mobilenet_v2_1.0_224_imagenet_notop.weights.h5:
      mobilenet_v2), else mobilenet_v3_small. Gray images are repeated to RGB; the
      backbone's own input scaling is inside the model, which takes raw pixels.
    freeze_epochs, fine_tune_learning_rate: transfer learning trains the head with the
      backbone frozen for freeze_epochs, then fine-tunes at the lower rate.
    fine_tune_blocks: how many of the backbone's top blocks the fine-tuning unfreezes
      (MobileNetV2: 1 is Conv_1, 2 adds block_16, ...); null: all of them; 0: none
      (then freeze_epochs must equal epochs). Batch-norm layers stay frozen.
    feature_cache: with pretrained weights, compute the frozen backbone's features once
      (per view) and train the head on them, then cache the activations below the first
      unfrozen block and fine-tune only what is above; false trains through the backbone.
    feature_cache_mb: the memory the cache may take; a larger cache is written to the
      run folder (checkpoints/feature_cache/, memory-mapped .npy, removed after training).
    feature_cache_views: augmented views cached per training image besides the plain
      one (each epoch draws one view per image); without augmentation only 0 or 1.
    top_k: the k of the reported top-k accuracy.
    """

    PRESETS: ClassVar[dict] = {
        "quick": {"depth": 8, "width": 8, "epochs": 12, "batch_size": 16, "early_stopping_patience": 0,
                  "augment": "light", "learning_rate": 1e-2, "freeze_epochs": 1},
        "default": {},
        "accurate": {"depth": 32, "width": 16, "epochs": 80, "learning_rate": 2e-3},
    }
    # What `ksol tune image_classification` explores by default (a --space file replaces or narrows it).
    SEARCH_SPACE: ClassVar[dict] = {
        "learning_rate": FloatRange(3e-4, 1e-2, log=True),
        "weight_decay": FloatRange(1e-5, 1e-2, log=True),
        "width": Choice((16, 32)),
        "label_smoothing": FloatRange(0.0, 0.2),
        "augment": Choice(("light", "standard")),
        "batch_size": Choice((64, 128)),
    }

    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 5e-4
    early_stopping_patience: int = 0
    model: Literal["resnet", "transfer"] = "resnet"
    depth: int = 20
    width: int = 16
    image_size: tuple[int, ...] = (32, 32)
    channels: Literal["auto", "gray", "rgb"] = "auto"
    augment: Literal["none", "light", "standard"] = "standard"
    label_smoothing: float = 0.1
    dropout: float = 0.0
    on_corrupt: Literal["skip", "error"] = "skip"
    backbone: Literal[BACKBONE_NAMES] | None = None  # type: ignore[valid-type]
    weights: str | None = None
    freeze_epochs: int = 3
    fine_tune_learning_rate: float = 1e-4
    fine_tune_blocks: int | None = None
    feature_cache: bool = True
    feature_cache_mb: int = 2048
    feature_cache_views: int = 1
    top_k: int = 5

    def check(self) -> None:
        super().check()
        require_value((self.depth - 2) % 6 == 0 and self.depth >= 8, "depth", "6n+2 with n >= 1 (8, 14, 20, 32, 44, 56)", self.depth)
        require_value(self.width >= 1, "width", "an integer >= 1", self.width)
        require_value(len(self.image_size) == 2 and min(self.image_size) >= 8, "image_size",
                 "[height, width], each at least 8", list(self.image_size))
        require_value(0 <= self.label_smoothing < 1, "label_smoothing", "a number in [0, 1)", self.label_smoothing)
        require_value(0 <= self.dropout < 1, "dropout", "a number in [0, 1)", self.dropout)
        require_value(self.top_k >= 1, "top_k", "an integer >= 1", self.top_k)
        require_value(self.freeze_epochs >= 0, "freeze_epochs", "an integer >= 0", self.freeze_epochs)
        if self.model == "transfer" and self.weights:
            require_value(self.freeze_epochs <= self.epochs, "freeze_epochs", f"at most epochs ({self.epochs})", self.freeze_epochs)
        require_value(self.fine_tune_learning_rate > 0, "fine_tune_learning_rate", "a number > 0", self.fine_tune_learning_rate)
        check_transfer_keys(self, augments=self.augment != "none", augment_key="augment=none")
