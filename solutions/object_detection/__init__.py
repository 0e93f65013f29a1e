"""Object detection: Pascal VOC, COCO JSON or YOLO annotations in, a trained single-stage detector and its COCO report out."""

from solutions.object_detection.solution import ObjectDetectionSolution

__all__ = ["ObjectDetectionSolution"]
