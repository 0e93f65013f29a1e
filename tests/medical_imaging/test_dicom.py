"""DICOM decoding: rescale, windowing from tags or the recipe, MONOCHROME1, 16-bit precision, bad files."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.medical_imaging.dicom import DicomReadError, is_dicom_file, read_dicom, window_to_uint8, write_dicom

CT = dict(Modality="CT", PatientID="p1", RescaleSlope=1, RescaleIntercept=-1024)


def test_rescale_then_window_from_the_file_tags(tmp_path):
    # stored 1064 -> 40 HU (the window centre) -> mid grey; stored 0 -> -1024 HU -> black
    write_dicom(tmp_path / "a.dcm", np.array([[0, 1064], [1264, 4000]], np.uint16), **CT, WindowCenter=40, WindowWidth=400)
    image = read_dicom(tmp_path / "a.dcm")
    assert image.pixels.shape == (2, 2, 1) and image.pixels.dtype == np.uint8
    assert image.pixels[..., 0].tolist() == [[0, 128], [255, 255]]
    assert (image.modality, image.patient_id, image.window) == ("CT", "p1", (40.0, 400.0))


def test_recipe_window_overrides_the_tags(tmp_path):
    write_dicom(tmp_path / "a.dcm", np.array([[0, 1064], [1264, 4000]], np.uint16), **CT, WindowCenter=40, WindowWidth=400)
    lung = read_dicom(tmp_path / "a.dcm", window=(-600.0, 1500.0)).pixels[..., 0]
    assert lung[0, 1] > 128 and lung[1, 0] == 255 and lung[0, 0] > 0  # 40 HU is bright in a lung window


def test_sixteen_bit_detail_survives_until_the_window(tmp_path):
    # Values 1 apart in 16 bit would merge if the image were cut to 8 bit before a narrow window.
    stored = np.array([[30000, 30004], [30008, 30012]], np.uint16)
    write_dicom(tmp_path / "a.dcm", stored, Modality="MR", WindowCenter=30006, WindowWidth=16)
    pixels = read_dicom(tmp_path / "a.dcm").pixels[..., 0]
    assert len(np.unique(pixels)) == 4 and pixels[0, 0] < pixels[0, 1] < pixels[1, 0] < pixels[1, 1]


def test_monochrome1_is_inverted(tmp_path):
    stored = np.array([[0, 100], [200, 255]], np.uint8)
    write_dicom(tmp_path / "m2.dcm", stored, Modality="CR")
    write_dicom(tmp_path / "m1.dcm", stored, Modality="CR", PhotometricInterpretation="MONOCHROME1")
    normal, inverted = read_dicom(tmp_path / "m2.dcm").pixels, read_dicom(tmp_path / "m1.dcm").pixels
    assert np.array_equal(inverted, 255 - normal)
    assert normal[0, 0, 0] == 0 and normal[1, 1, 0] == 255  # no tags: the full range is the window


def test_signed_pixels_and_colour_images(tmp_path):
    write_dicom(tmp_path / "s.dcm", np.array([[-1000, 0], [500, 1000]], np.int16), Modality="CT")
    assert read_dicom(tmp_path / "s.dcm").pixels[..., 0].tolist()[0][0] == 0
    rgb = np.random.default_rng(0).integers(0, 256, (4, 5, 3)).astype(np.uint8)
    write_dicom(tmp_path / "c.dcm", rgb, Modality="XC")
    assert np.array_equal(read_dicom(tmp_path / "c.dcm").pixels, rgb)


def test_a_dicom_without_pixel_data_is_refused_with_the_reason(tmp_path):
    write_dicom(tmp_path / "report.dcm", np.zeros((2, 2), np.uint8), PixelData=None)
    with pytest.raises(DicomReadError, match="without pixel data"):
        read_dicom(tmp_path / "report.dcm")


def test_non_dicom_and_multi_frame_files_are_refused(tmp_path):
    (tmp_path / "x.dcm").write_bytes(b"not dicom at all")
    with pytest.raises(DicomReadError, match="not a readable DICOM"):
        read_dicom(tmp_path / "x.dcm")
    write_dicom(tmp_path / "cine.dcm", np.zeros((2, 2, 2), np.uint8)[..., 0], NumberOfFrames=3)
    with pytest.raises(DicomReadError, match="multi-frame"):
        read_dicom(tmp_path / "cine.dcm")


def test_dicom_is_recognised_by_its_preamble_without_a_suffix(tmp_path):
    write_dicom(tmp_path / "IM0001", np.zeros((2, 2), np.uint8))
    (tmp_path / "notes.txt").write_text("hello")
    assert is_dicom_file(tmp_path / "IM0001") and not is_dicom_file(tmp_path / "notes.txt")


def test_window_formula_clips_and_centres():
    assert window_to_uint8(np.array([-200.0, 40.0, 280.0]), 40, 400).tolist() == [0, 128, 255]
