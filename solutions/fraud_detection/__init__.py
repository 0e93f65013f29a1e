"""Fraud detection: rare positives, asymmetric costs, alert thresholds and scoring of large files."""

from solutions.fraud_detection.solution import FraudDetectionSolution

__all__ = ["FraudDetectionSolution"]
