"""Bad medical input on the command line: exit 2 with a message that names what was wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solutions.cli import main
from solutions.medical_imaging.dicom import write_dicom
from tests.conftest import write_png


def train(capsys, data, *extra):
    code = main(["--quiet", "train", "medical_imaging", "--data", str(data), "--recipe", "quick", "--set", "epochs=1", *extra])
    return code, capsys.readouterr().err


def cr_folder(root, n=3):
    for i in range(n):
        for label in ("normal", "pneumonia"):
            write_dicom(root / label / f"{label}{i}.dcm", np.full((16, 16), 100 * i, np.uint16), Modality="CR", PatientID=f"P{i}")
    return root


def test_dicom_without_pixel_data(tmp_path, capsys):
    cr_folder(tmp_path)
    write_dicom(tmp_path / "normal" / "structured_report.dcm", np.zeros((2, 2), np.uint8), PixelData=None, Modality="SR", PatientID="P0")
    code, err = train(capsys, tmp_path, "--out", str(tmp_path / "run"))
    assert code == 2 and "DICOM file without pixel data" in err and "structured_report.dcm" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_mixed_modalities_name_examples_of_each(tmp_path, capsys):
    cr_folder(tmp_path)
    write_dicom(tmp_path / "pneumonia" / "head_ct.dcm", np.zeros((16, 16), np.uint16), Modality="CT", PatientID="P7")
    code, err = train(capsys, tmp_path)
    assert code == 2 and "mix 2 DICOM modalities" in err and "CR: 6 files" in err and "head_ct.dcm" in err


def test_mixed_channel_counts(tmp_path, capsys):
    write_png(tmp_path / "a" / "gray.png", np.full((16, 16, 1), 40, np.uint8))
    write_png(tmp_path / "b" / "colour.png", np.dstack([np.full((16, 16), v, np.uint8) for v in (200, 10, 10)]))
    code, err = train(capsys, tmp_path)
    assert code == 2 and "mix 2 channel counts" in err and "colour.png" in err and "gray.png" in err


def test_patient_in_two_given_splits(tmp_path, capsys):
    rows = []
    for i in range(20):
        write_png(tmp_path / f"{i}.png", np.full((16, 16, 1), 10 * i, np.uint8))
        rows.append({"path": f"{i}.png", "label": "ab"[i % 2], "patient_id": f"P{i // 2}", "split": "test" if i == 5 else "train"})
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    code, err = train(capsys, tmp_path / "labels.csv")
    assert code == 2 and "'P2' in test and train" in err


def test_label_file_naming_missing_images(tmp_path, capsys):
    write_png(tmp_path / "here.png", np.zeros((16, 16, 1), np.uint8))
    pd.DataFrame({"path": ["here.png", "scans/missing.dcm"], "label": ["a", "b"]}).to_csv(tmp_path / "labels.csv", index=False)
    code, err = train(capsys, tmp_path / "labels.csv")
    assert code == 2 and "1 image file that does not exist" in err and "missing.dcm" in err


def test_npz_missing_expected_keys_lists_the_keys(tmp_path, capsys):
    np.savez(tmp_path / "scans.npz", train_images=np.zeros((4, 8, 8), np.uint8), test_images=np.zeros((2, 8, 8), np.uint8))
    code, err = train(capsys, tmp_path / "scans.npz")
    assert code == 2 and "Keys found: test_images, train_images" in err


@pytest.mark.parametrize("override, message", [
    ("window_center=40", "set together with window_center"),
    ("flip=sideways", "Recipe key `flip` must be one of"),
    ("image_size=[28]", "[] (the data's own size) or [height, width]"),
])
def test_bad_recipe_values(tmp_path, capsys, override, message):
    code, err = train(capsys, "chest_phantoms", "--set", override)
    assert code == 2 and message in err
