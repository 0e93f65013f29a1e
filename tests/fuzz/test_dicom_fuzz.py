"""Fuzzed DICOM: odd tags (windows, rescale, frames, bits, photometric), pixel data that does not fit, broken bytes.

`read_dicom` returns a DicomImage or raises its DicomReadError (which the medical loader
turns into skipped files or a DataError); `load_medical_examples` on a folder of such
files either loads or raises a SolutionsError.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, reject, strategies as st

from solutions.core.datasets import resolve_data
from solutions.medical_imaging.data import load_medical_examples
from solutions.medical_imaging.dicom import DicomReadError, read_dicom, write_dicom
from tests.fuzz import loads_or_refuses, mutated, refused, scratch

pytestmark = pytest.mark.filterwarnings("ignore")  # pydicom warns about every invalid tag value it is given

NUMBERS = st.one_of(st.integers(-5000, 5000), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, 1, -1, 1e308, "40", "abc", "", None]))
TAGS = {
    "WindowCenter": NUMBERS | st.lists(NUMBERS.filter(lambda v: v is not None), max_size=3),
    "WindowWidth": NUMBERS | st.lists(NUMBERS.filter(lambda v: v is not None), max_size=3),
    "RescaleSlope": NUMBERS,
    "RescaleIntercept": NUMBERS,
    "NumberOfFrames": st.sampled_from([0, 1, 2, 5, "", None, "x"]),
    "SamplesPerPixel": st.sampled_from([1, 3, 4, 0, 2]),
    "BitsStored": st.sampled_from([1, 4, 8, 12, 16, 17, 32, 0]),
    "BitsAllocated": st.sampled_from([1, 8, 16, 32, 12]),
    "HighBit": st.sampled_from([0, 7, 11, 15, 31]),
    "PixelRepresentation": st.sampled_from([0, 1, 2]),
    "PhotometricInterpretation": st.sampled_from(["MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "PALETTE COLOR",
                                                  "", "weird", "monochrome1"]),
    "Rows": st.sampled_from([0, 1, 3, 4, 8, 300]),
    "Columns": st.sampled_from([0, 1, 3, 4, 8, 300]),
    "Modality": st.sampled_from(["", "CT", "MR", "é", "CT\\MR"]),
    "PatientID": st.sampled_from(["", " ", "p1", "é", "p" * 80]),
    "PlanarConfiguration": st.sampled_from([0, 1, 2]),
}


FIXED_UID = "1.2.826.0.1.3680043.8.498.1"


@st.composite
def dicom_specs(draw):
    kind = draw(st.sampled_from(["uint8", "uint16", "int16", "rgb"]))
    height, width = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    if kind == "rgb":
        pixels = rng.integers(0, 256, (height, width, 3)).astype(np.uint8)
    else:
        info = np.iinfo(kind)
        pixels = rng.integers(info.min, info.max, (height, width), endpoint=True).astype(kind)
    keys = draw(st.lists(st.sampled_from(sorted(TAGS)), unique=True, max_size=4))
    tags = {key: draw(TAGS[key]) for key in keys}
    if draw(st.integers(0, 9)) == 0:
        tags["PixelData"] = draw(st.sampled_from([None, b"", b"\x00" * 3]))
    return pixels, tags


def write_fuzzed(path, spec, draw) -> None:
    pixels, tags = spec
    try:
        with mock.patch("pydicom.uid.generate_uid", return_value=FIXED_UID):  # the same bytes on every replay
            write_dicom(path, pixels, **tags)
    except Exception:  # pydicom refused to write this combination: not a file a reader can meet
        reject()
    path.write_bytes(mutated(draw, path.read_bytes(), keep_weight=4))


@given(spec=dicom_specs(), data=st.data())
def test_read_dicom_reads_or_raises_its_read_error(spec, data):
    with scratch() as folder:
        path = folder / "x.dcm"
        write_fuzzed(path, spec, data.draw)
        image = loads_or_refuses(read_dicom, path, allowed=(DicomReadError,))
        if not refused(image):
            assert image.pixels.dtype == np.uint8 and image.pixels.ndim == 3 and image.pixels.shape[2] in (1, 3)


@given(spec=dicom_specs(), data=st.data(), image_size=st.sampled_from([None, (8, 8)]),
       on_corrupt=st.sampled_from(["skip", "error"]), window=st.sampled_from([None, (40.0, 400.0), (0.0, 0.0)]))
def test_medical_folder_of_odd_dicom_loads_or_raises_a_data_error(spec, data, image_size, on_corrupt, window):
    with scratch() as folder:
        root = folder / "scans"
        write_fuzzed(root / "a" / "x.dcm", spec, data.draw)
        write_dicom(root / "b" / "y.dcm", np.arange(16, dtype=np.uint16).reshape(4, 4), Modality="CT", PatientID="p2")
        found = loads_or_refuses(load_medical_examples, resolve_data(str(root)), image_size, window, on_corrupt)
        if not refused(found):
            assert found.examples.x.dtype == np.uint8 and len(found.examples.x) == len(found.examples.labels)


def test_what_the_dicom_fuzzing_found_is_a_read_error_and_a_skipped_file():
    """Each of these escaped read_dicom as another exception (and so broke the medical loader) before."""
    with scratch() as folder:
        good = folder / "good.dcm"
        with mock.patch("pydicom.uid.generate_uid", return_value=FIXED_UID):
            write_dicom(good, np.zeros((2, 2), np.uint8), PatientID="p1")
        data = good.read_bytes()
        patient = data.index(b"\x10\x00\x20\x00LO")
        broken = {
            "unknown VR (NotImplementedError)": data[:patient + 4] + b"L\x00" + data[patient + 6:],
            "odd meta length (BytesLengthException)": data[:133] + b"\x00" + data[133:],
        }
        for name, content in broken.items():
            (folder / "scans" / "a").mkdir(parents=True, exist_ok=True)
            path = folder / "scans" / "a" / "x.dcm"
            path.write_bytes(content)
            with pytest.raises(DicomReadError, match="not a readable DICOM"):
                read_dicom(path)
        write_dicom(folder / "frames.dcm", np.array([[217]], np.uint8), PixelData=b"\x00\x00\x00")
        with pytest.raises(DicomReadError, match="unsupported pixel layout"):  # was read as a (4, 1, 1, 1) image
            read_dicom(folder / "frames.dcm")
        write_dicom(folder / "scans" / "b" / "y.dcm", np.zeros((2, 2), np.uint8), PatientID="p2")
        loaded = load_medical_examples(resolve_data(str(folder / "scans")), None, None, "skip")
        assert len(loaded.examples.x) == 1 and "not a readable DICOM" in loaded.examples.dropped[0][1]
