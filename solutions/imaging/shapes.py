"""The bundled sample data's vocabulary: coloured circles, squares and triangles drawn with OpenCV.

Image classification draws one shape per image, object detection several per
scene; both draw them here so a "square" looks the same in either domain.
"""

from __future__ import annotations

import numpy as np

SHAPE_CLASSES = ("circle", "square", "triangle")


def draw_shape(image: np.ndarray, name: str, centre: tuple[int, int], radius: int, colour: tuple[int, ...]) -> None:
    """Fill shape `name` (one of SHAPE_CLASSES) of half-size `radius` at `centre` into `image`, in place.

    >>> image = np.zeros((9, 9, 3), np.uint8)
    >>> draw_shape(image, "square", (4, 4), 2, (255, 0, 0))
    >>> int((image[..., 0] > 0).sum())
    25
    """
    import cv2

    cx, cy = centre
    if name == "circle":
        cv2.circle(image, (cx, cy), radius, colour, -1)
    elif name == "square":
        cv2.rectangle(image, (cx - radius, cy - radius), (cx + radius, cy + radius), colour, -1)
    elif name == "triangle":
        points = np.array([[cx, cy - radius], [cx - radius, cy + radius], [cx + radius, cy + radius]], np.int32)
        cv2.fillPoly(image, [points], colour)
    else:
        raise ValueError(f"Unknown shape {name!r}; the shapes are {', '.join(SHAPE_CLASSES)}.")
