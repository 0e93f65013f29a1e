"""Image classification: folders, CSVs or arrays of images in, a trained CNN and its report out."""

from solutions.image_classification.solution import ImageClassificationSolution

__all__ = ["ImageClassificationSolution"]
