"""Medical imaging: DICOM, PNG, JPEG or MedMNIST images in, a CNN, its operating point and a clinical-style report out."""

from solutions.medical_imaging.solution import MedicalImagingSolution

__all__ = ["MedicalImagingSolution"]
