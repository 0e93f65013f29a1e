"""Draw boxes on images with OpenCV: predictions in their class colour with a score, truth as thin green boxes."""

from __future__ import annotations

import numpy as np

TRUTH_COLOUR = (40, 220, 40)
PALETTE = ((230, 25, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230),
           (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40), (128, 0, 0), (0, 0, 128))


def class_colour(k: int) -> tuple[int, int, int]:
    return PALETTE[int(k) % len(PALETTE)]


def draw_boxes(image: np.ndarray, detections: np.ndarray, class_names: list[str],
               truth_boxes: np.ndarray | None = None, max_side: int | None = None) -> np.ndarray:
    """A copy of RGB `image` with true boxes (thin, green) and detections (x1, y1, x2, y2, score, class).

    `max_side` shrinks the result (boxes drawn after shrinking, so lines stay crisp).

    >>> canvas = draw_boxes(np.zeros((40, 40, 3), np.uint8), np.array([[5, 5, 30, 30, 0.9, 0]]), ["cell"])
    >>> canvas.shape, bool(canvas.any())
    ((40, 40, 3), True)
    """
    import cv2

    factor = 1.0
    if max_side and max(image.shape[:2]) > max_side:
        factor = max_side / max(image.shape[:2])
        image = cv2.resize(image, (round(image.shape[1] * factor), round(image.shape[0] * factor)), interpolation=cv2.INTER_AREA)
    canvas = np.ascontiguousarray(image.copy())
    if canvas.shape[2] == 1:
        canvas = np.repeat(canvas, 3, axis=2)
    thickness = max(1, round(max(canvas.shape[:2]) / 300))
    for box in np.asarray(truth_boxes if truth_boxes is not None else np.zeros((0, 4))).reshape(-1, 4) * factor:
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), TRUTH_COLOUR, 1)
    font_scale = max(0.3, max(canvas.shape[:2]) / 1000)
    for x1, y1, x2, y2, score, k in np.asarray(detections, float).reshape(-1, 6):
        colour = class_colour(int(k))
        p1, p2 = (int(round(x1 * factor)), int(round(y1 * factor))), (int(round(x2 * factor)), int(round(y2 * factor)))
        cv2.rectangle(canvas, p1, p2, colour, thickness + 1)
        label = f"{class_names[int(k)]} {score:.2f}"
        (w, h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        top = max(p1[1], h + base)
        cv2.rectangle(canvas, (p1[0], top - h - base), (p1[0] + w, top), colour, -1)
        cv2.putText(canvas, label, (p1[0], top - base), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas
