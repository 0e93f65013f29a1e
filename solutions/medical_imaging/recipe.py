"""Medical imaging recipe: every key with its type, default and meaning, and the presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from solutions.core.config import Recipe, require_value
from solutions.core.search_space import Choice, FloatRange
from solutions.imaging.backbones import BACKBONE_NAMES, check_transfer_keys


@dataclass(frozen=True)
class MedicalImagingRecipe(Recipe):
    """How a 2D medical image classifier is trained, evaluated and thresholded.

    model: "resnet" (a residual CNN, depth 6n+2), "densenet" (a DenseNet-BC of three
      dense blocks) or "transfer" (a keras.applications backbone; see backbone, weights).
      Both CNNs take gray or colour input and size their stem to the image: full
      resolution up to 64 pixels, one stride-2 step up to 128, two above. The default stays
      "resnet": on PneumoniaMNIST (benchmarks/medical_imaging.py) it and the ImageNet MobileNetV2
      at 96x96 reach the same validation AUC (0.9979), the transfer model in 1.4 minutes instead of
      12.7 (test AUC 0.975 against 0.978), and the ResNet needs no weights file.
    depth, width: ResNet depth (8, 14, 20, 32, ...) and its first stage's filters.
    growth_rate, dense_layers: DenseNet's filters added per layer and layers per block.
    image_size: (height, width) every image is resized to; empty (the default) keeps the
      data's own size, which every image must then share (at most 256 a side).
    rotation_degrees, shift, zoom, contrast: training augmentation inside the model
      (random rotation up to +-degrees, translation and zoom as fractions of the size,
      all in one resampling; contrast factor); 0 turns one off. Inactive at inference.
    augment_probability: the share of training images that get the rotation, shift and zoom.
    flip: "none" (default: anatomy has a side), "horizontal", "vertical" or "both".
    tta: average predictions over small shifts (and the allowed flips) at test time.
    label_smoothing, dropout: regularisation of the classifier head (single-label).
    window_center, window_width: DICOM window in rescaled units (Hounsfield units for CT);
      both unset (default) uses each file's WindowCenter/WindowWidth tags, or its full range.
    on_corrupt: "error" (default: list unreadable files and stop) or "skip" them (counted in the report).
    operating_point: how the decision threshold is chosen on the validation split:
      "youden" (maximise sensitivity + specificity - 1) or "sensitivity" (the highest
      threshold reaching target_sensitivity).
    target_sensitivity: the sensitivity that operating_point="sensitivity" must reach.
    backbone, weights, freeze_epochs, fine_tune_learning_rate: the transfer-learning path
      (model="transfer"): weights None (random), "imagenet" (needs the network), a weights
      file (Keras 3 .weights.h5 or Keras 2 .h5, checked layer by layer against the backbone)
      or a KerasHub preset directory; the head trains with the backbone frozen for
      freeze_epochs, then the backbone is fine-tuned at the lower rate. backbone unset (null):
      the one the weights file's name names, else mobilenet_v3_small. Gray images are
      repeated to RGB; the backbone's input scaling is inside the model (raw pixels in).
    fine_tune_blocks: how many of the backbone's top blocks fine-tuning unfreezes (null: all;
      0: none, then freeze_epochs must equal epochs). Batch-norm layers stay frozen.
    feature_cache, feature_cache_mb, feature_cache_views: with pretrained weights, the frozen
      backbone's features are computed once per training image (plus feature_cache_views
      augmented views when the recipe augments; 0 or 1 otherwise) and the head trains on them,
      then the top blocks fine-tune on cached activations below them. The cache takes up to
      feature_cache_mb of memory, beyond that a memory-mapped file in the run folder
      (removed after training); feature_cache=false trains through the backbone every epoch.
    """

    PRESETS: ClassVar[dict] = {
        "quick": {"depth": 8, "width": 8, "epochs": 12, "batch_size": 16, "learning_rate": 1e-2,
                  "early_stopping_patience": 0, "freeze_epochs": 1},
        "default": {},
        "accurate": {"depth": 20, "width": 32, "epochs": 60, "tta": True},
    }
    # What `ksol tune medical_imaging` explores by default (a --space file replaces or narrows it).
    SEARCH_SPACE: ClassVar[dict] = {
        "learning_rate": FloatRange(3e-4, 1e-2, log=True),
        "weight_decay": FloatRange(1e-5, 1e-2, log=True),
        "width": Choice((16, 32)),
        "dropout": FloatRange(0.0, 0.4),
        "augment_probability": FloatRange(0.25, 1.0),
        "batch_size": Choice((64, 128)),
    }

    epochs: int = 40
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 5e-4
    early_stopping_patience: int = 0
    model: Literal["resnet", "densenet", "transfer"] = "resnet"
    depth: int = 14
    width: int = 16
    growth_rate: int = 12
    dense_layers: int = 6
    image_size: tuple[int, ...] = ()
    rotation_degrees: float = 10.0
    shift: float = 0.08
    zoom: float = 0.05
    contrast: float = 0.1
    augment_probability: float = 0.75
    flip: Literal["none", "horizontal", "vertical", "both"] = "none"
    tta: bool = False
    label_smoothing: float = 0.0
    dropout: float = 0.0
    window_center: float | None = None
    window_width: float | None = None
    on_corrupt: Literal["error", "skip"] = "error"
    operating_point: Literal["youden", "sensitivity"] = "youden"
    target_sensitivity: float = 0.9
    backbone: Literal[BACKBONE_NAMES] | None = None  # type: ignore[valid-type]
    weights: str | None = None
    freeze_epochs: int = 3
    fine_tune_learning_rate: float = 1e-4
    fine_tune_blocks: int | None = None
    feature_cache: bool = True
    feature_cache_mb: int = 2048
    feature_cache_views: int = 1

    def check(self) -> None:
        super().check()
        require_value((self.depth - 2) % 6 == 0 and self.depth >= 8, "depth", "6n+2 with n >= 1 (8, 14, 20, 32, 44, 56)", self.depth)
        require_value(self.width >= 1, "width", "an integer >= 1", self.width)
        require_value(self.growth_rate >= 1, "growth_rate", "an integer >= 1", self.growth_rate)
        require_value(self.dense_layers >= 1, "dense_layers", "an integer >= 1", self.dense_layers)
        require_value(len(self.image_size) == 0 or (len(self.image_size) == 2 and 8 <= min(self.image_size) and max(self.image_size) <= 1024),
                      "image_size", "[] (the data's own size) or [height, width], each between 8 and 1024", list(self.image_size))
        require_value(0 <= self.rotation_degrees <= 45, "rotation_degrees", "a number between 0 and 45", self.rotation_degrees)
        for name in ("shift", "zoom", "contrast"):
            require_value(0 <= getattr(self, name) < 0.5, name, "a fraction in [0, 0.5)", getattr(self, name))
        require_value(0 <= self.augment_probability <= 1, "augment_probability", "a fraction in [0, 1]", self.augment_probability)
        require_value(0 <= self.label_smoothing < 1, "label_smoothing", "a number in [0, 1)", self.label_smoothing)
        require_value(0 <= self.dropout < 1, "dropout", "a number in [0, 1)", self.dropout)
        require_value((self.window_center is None) == (self.window_width is None), "window_width",
                      "set together with window_center (both or neither)", self.window_width)
        require_value(self.window_width is None or self.window_width >= 1, "window_width", "a number >= 1", self.window_width)
        require_value(0 < self.target_sensitivity <= 1, "target_sensitivity", "a fraction in (0, 1]", self.target_sensitivity)
        require_value(self.freeze_epochs >= 0, "freeze_epochs", "an integer >= 0", self.freeze_epochs)
        if self.model == "transfer" and self.weights:
            require_value(self.freeze_epochs <= self.epochs, "freeze_epochs", f"at most epochs ({self.epochs})", self.freeze_epochs)
        require_value(self.fine_tune_learning_rate > 0, "fine_tune_learning_rate", "a number > 0", self.fine_tune_learning_rate)
        augments = bool(self.rotation_degrees or self.shift or self.zoom or self.contrast or self.flip != "none")
        check_transfer_keys(self, augments=augments, augment_key="rotation_degrees, shift, zoom and contrast 0, flip none")
