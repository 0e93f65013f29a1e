"""The trivial baseline: every test image gets each class's mean training box.

The detection counterpart of "predict the majority class": it knows where objects
of each class tend to be and how big they are, and nothing about the image. Its
score for a class is the share of training images that hold the class. A detector
that does not beat it has learned nothing about the pictures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solutions.core.splits import Split


@dataclass(frozen=True)
class ClassMeanBoxes:
    """Per class: the mean box as fractions of the image (x1, y1, x2, y2) and a score."""

    boxes: np.ndarray
    scores: np.ndarray


def fit_class_mean_boxes(train: Split, n_classes: int) -> ClassMeanBoxes:
    """Mean relative box and image frequency of each class in the training split.

    >>> from solutions.object_detection.annotations import ImageBoxes
    >>> y = np.empty(2, dtype=object); y[:] = [np.array([0]), np.array([0, 1])]
    >>> targets = [ImageBoxes(np.array([[0, 0, 10, 10]], np.float32), 20, 20, 1.0),
    ...            ImageBoxes(np.array([[10, 10, 20, 20], [0, 10, 10, 20]], np.float32), 20, 20, 1.0)]
    >>> prior = fit_class_mean_boxes(Split("train", None, y, np.array(["a", "b"]), targets), 2)
    >>> prior.boxes.tolist(), prior.scores.tolist()
    ([[0.25, 0.25, 0.75, 0.75], [0.0, 0.5, 0.5, 1.0]], [1.0, 0.5])
    """
    sums = np.zeros((n_classes, 4))
    counts = np.zeros(n_classes)
    images_with = np.zeros(n_classes)
    for target, classes in zip(train.targets, train.y):
        relative = target.boxes / np.float32([target.width, target.height, target.width, target.height])
        for box, k in zip(relative, classes):
            sums[k] += box
            counts[k] += 1
        images_with[np.unique(classes).astype(int)] += 1
    boxes = sums / np.maximum(counts, 1)[:, None]
    return ClassMeanBoxes(boxes=boxes, scores=images_with / max(len(train), 1))


def predict_class_mean_boxes(prior: ClassMeanBoxes, split: Split) -> list[np.ndarray]:
    """(n_classes, 6) detections per image of `split`, in its original pixels."""
    detections = []
    for target in split.targets:
        boxes = prior.boxes * np.float32([target.width, target.height, target.width, target.height])
        classes = np.arange(len(prior.scores), dtype=float)
        detections.append(np.column_stack([boxes, prior.scores, classes])[prior.scores > 0])
    return detections
