"""The annotation of one image, as every format's parser returns it, and the box clean-up rules.

Boxes are (x1, y1, x2, y2) in the original image's pixels, x to the right and y down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ImageAnnotation:
    """One image's objects as a parser read them (before the image is decoded).

    `split` is "train", "val", "test" or None (not given by the data);
    `source` names the annotation file for messages;
    `dropped` lists (id, reason) for objects the parser already rejected;
    `normalized` boxes are fractions of the image's width and height (YOLO).
    """

    image: Path
    boxes: np.ndarray
    labels: tuple[str, ...]
    split: str | None = None
    source: str = ""
    dropped: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    normalized: bool = False


@dataclass(frozen=True)
class ImageBoxes:
    """An image's cleaned boxes and how it was letterboxed for the model.

    `boxes` are in original pixels; `scale` maps them to the letterboxed image
    (multiply); `clipped` counts boxes that reached past the border and were cut to it.
    """

    boxes: np.ndarray
    width: int
    height: int
    scale: float
    clipped: int = 0


@dataclass(frozen=True)
class CleanBoxes:
    boxes: np.ndarray
    labels: tuple[str, ...]
    clipped: int
    dropped: tuple[tuple[str, str], ...]


def clean_boxes(boxes: np.ndarray, labels: tuple[str, ...], width: int, height: int, image_id: str) -> CleanBoxes:
    """Clip boxes to the image and drop those left with zero width or height.

    >>> kept = clean_boxes(np.array([[5, 5, 5, 9], [-4, 2, 8, 30]], np.float32), ("a", "b"), 20, 20, "img")
    >>> kept.boxes.tolist(), kept.labels, kept.clipped, kept.dropped
    ([[0.0, 2.0, 8.0, 20.0]], ('b',), 1, (('img#0', 'zero-area box'),))
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    clipped_boxes = boxes.copy()
    clipped_boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
    clipped_boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
    degenerate = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    outside = ~degenerate & ((clipped_boxes[:, 2] <= clipped_boxes[:, 0]) | (clipped_boxes[:, 3] <= clipped_boxes[:, 1]))
    changed = ~degenerate & ~outside & np.any(clipped_boxes != boxes, axis=1)
    keep = ~degenerate & ~outside
    dropped = tuple((f"{image_id}#{i}", "zero-area box") for i in np.flatnonzero(degenerate)) + tuple(
        (f"{image_id}#{i}", "box entirely outside the image") for i in np.flatnonzero(outside))
    return CleanBoxes(boxes=clipped_boxes[keep], labels=tuple(l for l, k in zip(labels, keep) if k),
                      clipped=int(changed.sum()), dropped=dropped)


def letterbox_scale(width: int, height: int, size: tuple[int, int]) -> float:
    """The factor that fits a width x height image inside size=(height, width), keeping its aspect ratio.

    >>> letterbox_scale(640, 480, (256, 320))
    0.5
    """
    return min(size[0] / height, size[1] / width)


def letterbox(image: np.ndarray, size: tuple[int, int], fill: int = 114) -> tuple[np.ndarray, float]:
    """Resize `image` to fit `size` (height, width) keeping its aspect ratio; pad the bottom and right.

    >>> padded, scale = letterbox(np.zeros((480, 640, 3), np.uint8), (256, 320))
    >>> padded.shape, scale, int(padded[250, 10, 0])
    ((256, 320, 3), 0.5, 114)
    """
    from solutions.imaging.decode import resize_image

    height, width = image.shape[:2]
    scale = letterbox_scale(width, height, size)
    new_h, new_w = max(1, min(size[0], round(height * scale))), max(1, min(size[1], round(width * scale)))
    resized = resize_image(image, (new_h, new_w))
    canvas = np.full((size[0], size[1], image.shape[2]), fill, dtype=np.uint8)
    canvas[:new_h, :new_w] = resized
    return canvas, scale
