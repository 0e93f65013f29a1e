"""keras-solutions: applied deep-learning solutions on Keras 3.

The registry below is a literal table; modules load only when a solution is used,
so `ksol list` stays fast.

>>> "image_classification" in list_solutions()
True
"""

from __future__ import annotations

import importlib

from solutions.core.errors import UsageError, did_you_mean

__version__ = "0.1.0"

SOLUTIONS: dict[str, str] = {
    "fraud_detection": "solutions.fraud_detection.solution:FraudDetectionSolution",
    "credit_scoring": "solutions.credit_scoring.solution:CreditScoringSolution",
    "image_classification": "solutions.image_classification.solution:ImageClassificationSolution",
    "medical_imaging": "solutions.medical_imaging.solution:MedicalImagingSolution",
    "object_detection": "solutions.object_detection.solution:ObjectDetectionSolution",
    "sentiment": "solutions.sentiment.solution:SentimentSolution",
}


def list_solutions() -> list[str]:
    return sorted(SOLUTIONS)


def get_solution(name: str):
    """The Solution class registered under `name`.

    >>> get_solution("image_classification").__name__
    'ImageClassificationSolution'
    """
    if name not in SOLUTIONS:
        raise UsageError(
            f"Unknown solution {name!r}. Known solutions: {', '.join(list_solutions())}." + did_you_mean(name, SOLUTIONS)
        )
    module_name, class_name = SOLUTIONS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)

