"""Object detection recipe: every key with its type, default and meaning, and the presets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from solutions.core.config import Recipe, require_value
from solutions.core.search_space import Choice, FloatRange

STRIDE = 8  # the detection head's grid: one location per 8x8 input pixels


@dataclass(frozen=True)
class DetectionRecipe(Recipe):
    """How an object detector is trained.

    The detector is single-stage and anchor-free (FCOS-style): a small residual CNN
    (or MobileNetV2, or a KerasHub backbone from a local preset directory), a feature
    pyramid merged down to stride 8, and a head predicting per location class scores,
    the distances to the box's four sides and a centre-ness score. Non-maximum
    suppression runs inside the saved model.

    image_size: (height, width) every image is letterboxed to (kept aspect ratio,
      grey padding at the bottom and right); both multiples of 32.
    width: filters of the CNN's first stage (doubling per stage: width .. 8*width).
    blocks: residual blocks per stage (4 stages, strides 4, 8, 16, 32).
    head_width, head_depth: filters and 3x3 conv layers of each head branch.
    backbone: "cnn" (the residual CNN above, from scratch; normalised by the training
      images' per-channel mean and std) or "mobilenet_v2" (keras.applications MobileNetV2,
      width 1.0: its stride-8, 16 and 32 maps block_6_expand_relu, block_13_expand_relu
      and out_relu feed the pyramid; its own input scaling, pixels to [-1, 1], is inside
      the model, which still takes raw 0-255 pixels).
    weights: for backbone="mobilenet_v2": None (random initialisation), a local weights
      file (mobilenet_v2_1.0_224_imagenet_notop.weights.h5, a Keras 3 .weights.h5 or a
      Keras 2 .h5, checked layer by layer against the backbone; its name and sha256 go
      into the run's manifest) or "imagenet" (downloaded by Keras, needs the network).
    freeze_epochs, fine_tune_learning_rate: with `weights`, the first freeze_epochs epochs
      train the pyramid and head on the frozen backbone at learning_rate, the rest fine-tune
      the whole detector at fine_tune_learning_rate (0: fine-tune from the first epoch).
      The pretrained backbone's batch-norm statistics stay frozen throughout.
    backbone_preset: None, or a local KerasHub preset directory (a folder with config.json,
      e.g. from keras_hub's save_to_preset) whose pretrained backbone replaces the CNN: its
      P3-P5 feature maps feed the pyramid. Never downloaded. Not with `weights`.
    center_radius: a location is a positive for a box when it lies inside the box
      and within this many strides of the box centre.
    focal_alpha, focal_gamma: the focal loss of the class scores.
    box_loss_weight: weight of the GIoU box loss against the class and centre-ness losses.
    flip: box-aware flips in training: "none", "horizontal" or "both" (add vertical;
      for overhead or microscope images).
    scale_jitter: random zoom in [1 - s, 1 + s] with a random crop or pad (0 turns it off).
    color_jitter: strength of random brightness, contrast, saturation and hue (0 turns it off).
    max_boxes: the most boxes one image may hold; images with more are an error.
    max_detections: detections kept per image after non-maximum suppression.
    nms_iou: IoU above which the lower-scored of two same-class boxes is suppressed.
    min_score: detections below this score are dropped before evaluation (COCO-style
      evaluation wants nearly all of them).
    score_threshold: the default minimum score of `ksol predict`, of the drawn boxes and of the
      per-class precision / recall in the report (0.5 is near the best F1 per class on BCCD).
    on_bad_image: "error" (an annotation naming a missing or undecodable image stops with
      a list of them) or "skip" (drop those images and count them in the report).
    n_drawn: test images drawn with their predicted and true boxes in the report.
    """

    PRESETS: ClassVar[dict] = {
        "quick": {"image_size": (128, 128), "width": 8, "blocks": (1, 1, 1, 1), "head_width": 32, "head_depth": 1,
                  "epochs": 20, "batch_size": 8, "learning_rate": 4e-3, "scale_jitter": 0.1, "color_jitter": 0.0,
                  "n_drawn": 4},
        "default": {},
        "accurate": {"image_size": (384, 512), "width": 24, "head_width": 64, "head_depth": 2, "epochs": 100},
    }
    # What `ksol tune object_detection` explores by default (a --space file replaces or narrows it).
    SEARCH_SPACE: ClassVar[dict] = {
        "learning_rate": FloatRange(5e-4, 5e-3, log=True),
        "weight_decay": FloatRange(1e-5, 1e-3, log=True),
        "head_width": Choice((32, 48, 64)),
        "scale_jitter": FloatRange(0.0, 0.4),
        "box_loss_weight": FloatRange(1.0, 4.0),
    }

    epochs: int = 40
    batch_size: int = 8
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    early_stopping_patience: int = 0
    image_size: tuple[int, ...] = (256, 320)
    width: int = 16
    blocks: tuple[int, ...] = (1, 2, 2, 1)
    head_width: int = 48
    head_depth: int = 1
    backbone: Literal["cnn", "mobilenet_v2"] = "cnn"
    weights: str | None = None
    freeze_epochs: int = 5
    fine_tune_learning_rate: float = 5e-4
    backbone_preset: str | None = None
    center_radius: float = 1.5
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    box_loss_weight: float = 2.0
    flip: Literal["none", "horizontal", "both"] = "horizontal"
    scale_jitter: float = 0.25
    color_jitter: float = 0.3
    max_boxes: int = 100
    max_detections: int = 100
    nms_iou: float = 0.5
    min_score: float = 0.01
    score_threshold: float = 0.5
    on_bad_image: Literal["error", "skip"] = "error"
    n_drawn: int = 8

    def check(self) -> None:
        super().check()
        require_value(len(self.image_size) == 2 and all(v >= 32 and v % 32 == 0 for v in self.image_size), "image_size",
                      "[height, width], each a multiple of 32 (the network downsamples 32 times)", list(self.image_size))
        require_value(self.width >= 4, "width", "an integer >= 4", self.width)
        require_value(len(self.blocks) == 4 and all(b >= 0 for b in self.blocks), "blocks",
                      "four integers >= 0 (residual blocks of the stages at strides 4, 8, 16, 32)", list(self.blocks))
        require_value(self.head_width >= 4, "head_width", "an integer >= 4", self.head_width)
        require_value(self.head_depth >= 0, "head_depth", "an integer >= 0", self.head_depth)
        self._check_backbone_keys()
        require_value(self.center_radius > 0, "center_radius", "a number > 0 (in strides)", self.center_radius)
        require_value(0 < self.focal_alpha < 1, "focal_alpha", "a number in (0, 1)", self.focal_alpha)
        require_value(self.focal_gamma >= 0, "focal_gamma", "a number >= 0", self.focal_gamma)
        require_value(self.box_loss_weight > 0, "box_loss_weight", "a number > 0", self.box_loss_weight)
        require_value(0 <= self.scale_jitter < 1, "scale_jitter", "a number in [0, 1)", self.scale_jitter)
        require_value(0 <= self.color_jitter <= 1, "color_jitter", "a number in [0, 1]", self.color_jitter)
        require_value(self.max_boxes >= 1, "max_boxes", "an integer >= 1", self.max_boxes)
        require_value(self.max_detections >= 1, "max_detections", "an integer >= 1", self.max_detections)
        require_value(0 < self.nms_iou <= 1, "nms_iou", "a number in (0, 1]", self.nms_iou)
        require_value(0 <= self.min_score < 1, "min_score", "a number in [0, 1)", self.min_score)
        require_value(0 <= self.score_threshold < 1, "score_threshold", "a number in [0, 1)", self.score_threshold)
        require_value(self.n_drawn >= 0, "n_drawn", "an integer >= 0", self.n_drawn)
        require_value(self.class_weight == "none", "class_weight",
                      '"none" for detection (the focal loss already down-weights the many easy background locations)',
                      self.class_weight)

    def _check_backbone_keys(self) -> None:
        require_value(not (self.backbone_preset and self.weights), "weights",
                      "null with backbone_preset (the preset directory holds its own weights; give one or the other)",
                      self.weights)
        require_value(not self.backbone_preset or self.backbone == "cnn", "backbone",
                      '"cnn" (its default) with backbone_preset, whose KerasHub backbone replaces it', self.backbone)
        require_value(not (self.weights and self.backbone == "cnn"), "backbone",
                      '"mobilenet_v2" when `weights` is set (the CNN has no pretrained weights; it trains from scratch): '
                      "add --set backbone=mobilenet_v2", self.backbone)
        require_value(self.freeze_epochs >= 0, "freeze_epochs", "an integer >= 0", self.freeze_epochs)
        if self.weights:
            require_value(self.freeze_epochs <= self.epochs, "freeze_epochs", f"at most epochs ({self.epochs})",
                          self.freeze_epochs)
        require_value(self.fine_tune_learning_rate > 0, "fine_tune_learning_rate", "a number > 0",
                      self.fine_tune_learning_rate)
