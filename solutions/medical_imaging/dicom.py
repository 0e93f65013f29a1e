"""DICOM files to 8-bit pixels: rescale slope and intercept, windowing, MONOCHROME1 inverted.

Stored values (often 12 or 16 bit) stay in floating point through the
modality LUT (rescale slope and intercept, giving Hounsfield units for CT)
and the window; only the windowed result becomes uint8. pydicom is imported
where it is used (pip install pydicom).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

DICOM_SUFFIXES = (".dcm", ".dicom")
PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


class DicomReadError(Exception):
    """A DICOM file could not be turned into an image; the message says why."""


@dataclass(frozen=True)
class DicomImage:
    """A decoded DICOM image: (H, W, C) uint8 pixels and the tags the loader checks."""

    pixels: np.ndarray
    modality: str
    patient_id: str
    window: tuple[float, float] | None


def is_dicom_file(path: Path) -> bool:
    """A .dcm/.dicom file, or any file with the DICOM preamble ("DICM" at byte 128)."""
    path = Path(path)
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def window_to_uint8(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """The DICOM linear VOI window (PS3.3 C.11.2.1.2.1) mapped to 0..255.

    >>> window_to_uint8(np.array([-1000.0, 40.0, 1000.0]), center=40, width=400).tolist()
    [0, 128, 255]
    """
    values = np.asarray(values, dtype=np.float64)
    width = max(float(width), 1.0)
    scaled = ((values - (center - 0.5)) / (width - 1) + 0.5) if width > 1 else (values >= center).astype(np.float64)
    return np.round(np.clip(scaled, 0, 1) * 255).astype(np.uint8)


def tag_window(dataset) -> tuple[float, float] | None:
    """(center, width) from WindowCenter/WindowWidth (the first pair when several are given), else None."""
    center, width = dataset.get("WindowCenter"), dataset.get("WindowWidth")
    if center is None or width is None:
        return None
    first = lambda v: float(v[0]) if hasattr(v, "__len__") and not isinstance(v, (str, bytes)) else float(v)  # noqa: E731
    try:
        return first(center), first(width)
    except (TypeError, ValueError, IndexError):
        return None


def read_dicom(path: Path, window: tuple[float, float] | None = None) -> DicomImage:
    """Read one 2D DICOM file as uint8 pixels.

    Gray images: stored values -> modality LUT (RescaleSlope, RescaleIntercept)
    -> window (`window` if given, else the file's tags, else its full range)
    -> 0..255, inverted for MONOCHROME1. Colour images are scaled to 0..255.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> pixels = np.array([[0, 1000], [2000, 4095]], dtype=np.uint16)
    >>> write_dicom(folder / "a.dcm", pixels, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=0, WindowWidth=2000)
    >>> read_dicom(folder / "a.dcm").pixels[..., 0].tolist()
    [[0, 125], [252, 255]]
    """
    try:
        import pydicom
        from pydicom.errors import InvalidDicomError
        from pydicom.pixels import apply_modality_lut
    except ImportError:
        raise DicomReadError("reading DICOM needs pydicom: pip install pydicom") from None
    try:
        dataset = pydicom.dcmread(str(path))
        for _ in dataset:  # convert every element now, so a malformed one fails here rather than at its first use
            pass
    except (InvalidDicomError, OSError, EOFError, ValueError) as error:
        raise DicomReadError(f"not a readable DICOM file ({error})") from None
    except Exception as error:  # pydicom's parser raises other kinds for broken elements (unknown VR, odd lengths)
        raise DicomReadError(f"not a readable DICOM file ({type(error).__name__}: {error})") from None
    if not any(keyword in dataset for keyword in PIXEL_KEYWORDS):
        kind = str(dataset.get("SOPClassUID", "")) or "unknown SOP class"
        raise DicomReadError(f"DICOM file without pixel data ({kind}); remove it from the image set")
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise DicomReadError(f"multi-frame DICOM ({frames} frames); only 2D single-frame images are supported")
    try:
        stored = dataset.pixel_array
    except Exception as error:  # pydicom raises several kinds for compressed data without a decoder
        raise DicomReadError(f"pixel data could not be decoded ({type(error).__name__}: {error}); compressed transfer "
                             "syntaxes need a decoder plugin: pip install pylibjpeg pylibjpeg-libjpeg") from None
    samples = int(dataset.get("SamplesPerPixel", 1) or 1)
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    modality = str(dataset.get("Modality", "") or "")
    patient = str(dataset.get("PatientID", "") or "").strip()
    if samples == 1:
        if stored.ndim != 2:  # more pixel data than Rows x Columns, read as several frames
            raise DicomReadError(f"unsupported pixel layout: 1 sample per pixel, array shape {stored.shape}")
        values = np.asarray(apply_modality_lut(stored, dataset), dtype=np.float64)
        used = window or tag_window(dataset)
        if used is None:
            low, high = float(values.min()), float(values.max())
            used = ((low + high + 1) / 2, max(high - low + 1, 1.0))
        pixels = window_to_uint8(values, *used)
        if photometric == "MONOCHROME1":
            pixels = 255 - pixels
        return DicomImage(pixels[:, :, None], modality, patient, used)
    if stored.ndim != 3 or stored.shape[-1] != 3:
        raise DicomReadError(f"unsupported pixel layout: {samples} samples per pixel, array shape {stored.shape}")
    if stored.dtype != np.uint8:
        top = float(2 ** int(dataset.get("BitsStored", 16)) - 1)
        stored = np.round(np.clip(stored.astype(np.float64) / top, 0, 1) * 255).astype(np.uint8)
    return DicomImage(np.ascontiguousarray(stored), modality, patient, None)


def write_dicom(path: Path, pixels: np.ndarray, **tags) -> None:
    """Write a minimal uncompressed DICOM file (for tests and examples).

    `pixels`: (H, W) uint8/uint16/int16, or (H, W, 3) uint8 for RGB. Other
    keyword arguments set tags by keyword (Modality="CT", PatientID="p1",
    RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=40, WindowWidth=400,
    PhotometricInterpretation="MONOCHROME1"); `PixelData=None` leaves the image out.
    """
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    pixels = np.asarray(pixels)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = "OT"
    dataset.PatientID = ""
    dataset.Rows, dataset.Columns = int(pixels.shape[0]), int(pixels.shape[1])
    colour = pixels.ndim == 3
    dataset.SamplesPerPixel = 3 if colour else 1
    dataset.PhotometricInterpretation = "RGB" if colour else "MONOCHROME2"
    if colour:
        dataset.PlanarConfiguration = 0
    bits = pixels.dtype.itemsize * 8
    dataset.BitsAllocated = bits
    dataset.BitsStored = bits
    dataset.HighBit = bits - 1
    dataset.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    dataset.PixelData = np.ascontiguousarray(pixels).tobytes()
    for keyword, value in tags.items():
        if keyword == "PixelData" and value is None:
            del dataset.PixelData
        else:
            setattr(dataset, keyword, value)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    dataset.save_as(str(path), enforce_file_format=True)
