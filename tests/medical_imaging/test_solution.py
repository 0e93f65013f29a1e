"""The medical-imaging solution end to end: DICOM with patients, multi-label, reload, predict, TTA."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from solutions.medical_imaging import MedicalImagingSolution
from solutions.medical_imaging.data import make_chest_phantoms
from solutions.medical_imaging.dicom import write_dicom
from solutions.medical_imaging.model import tta_variants

FAST = {"epochs": 2}


@pytest.fixture(scope="module")
def dicom_study(tmp_path_factory):
    """Phantom radiographs as 12-bit MONOCHROME1 DICOM files, a folder per class, two images per patient."""
    root = tmp_path_factory.mktemp("dicom_study")
    sample = make_chest_phantoms(n_patients=24, images_per_patient=2, size=32, seed=5)
    for image, label, patient, name in zip(sample["images"], sample["labels"], sample["patients"], sample["ids"]):
        stored = (4095 - image.astype(np.uint16) * 16)  # MONOCHROME1: high values are dark
        write_dicom(root / label / f"{name.replace('/', '_')}.dcm", stored, Modality="CR", PatientID=patient,
                    PhotometricInterpretation="MONOCHROME1", RescaleSlope=1, RescaleIntercept=0,
                    WindowCenter=2048, WindowWidth=4096)
    return root


@pytest.fixture(scope="module")
def fitted(dicom_study):
    return MedicalImagingSolution(recipe="quick", **FAST).fit(str(dicom_study), progress=False)


def test_dicom_study_is_split_by_patient_and_the_report_says_it_was_checked(fitted):
    splits = fitted.splits_
    patients = [set(s.groups) for s in (splits.train, splits.val, splits.test)]
    assert not (patients[0] & patients[1]) and not (patients[0] & patients[2]) and not (patients[1] & patients[2])
    report = fitted.evaluate()
    text = {s.title: s for s in report.sections}["Patient-level split"].data["text"]
    assert text.startswith("Split by patient: 24 patients") and "Checked: no patient id appears in more than one split" in text
    assert fitted.schema_["modalities"] == ["CR"] and 0 <= fitted.decision_.thresholds["pneumonia"] <= 1
    assert report.primary_metric == "auc" and {"sensitivity", "specificity", "expected_calibration_error"} <= set(report.metrics)


def test_reloaded_run_evaluates_new_data_and_predicts_dicom_files(fitted, dicom_study, tmp_path):
    fitted.evaluate()
    fitted.save(tmp_path)
    loaded = MedicalImagingSolution.load(tmp_path)
    report = loaded.evaluate(str(dicom_study))
    text = {s.title: s for s in report.sections}["Patient-level split"].data["text"]
    assert "cannot be checked here" in text
    rows = loaded.predict(str(dicom_study / "pneumonia"))
    assert len(rows) == 24 and list(rows.columns) == ["file", "prediction", "p_normal", "p_pneumonia"]
    write_dicom(tmp_path / "ct.dcm", np.zeros((32, 32), np.uint16), Modality="CT")
    rows = loaded.predict([str(tmp_path / "ct.dcm"), str(sorted((dicom_study / "normal").iterdir())[0])])
    assert len(rows) == 1 and "modality CT; the model was trained on CR" in rows.attrs["failures"][0][1]


def test_test_time_augmentation_averages_the_shifted_predictions(fitted):
    x = fitted.splits_.test.x[:4].astype(np.float32)
    plain = fitted.predict_scores(x)
    fitted._recipe = dataclasses.replace(fitted._recipe, tta=True)
    try:
        averaged = fitted.predict_scores(x)
    finally:
        fitted._recipe = dataclasses.replace(fitted._recipe, tta=False)
    expected = np.mean([fitted.model_.predict(v, verbose=0) for v in tta_variants(x)], axis=0)
    assert np.allclose(averaged, expected, atol=1e-5) and not np.allclose(averaged, plain)


def test_multi_label_sample_trains_with_sigmoid_outputs_and_macro_auc():
    solution = MedicalImagingSolution(recipe="quick", **FAST).fit("chest_phantoms_multilabel", progress=False)
    assert solution.schema_["task"] == "multilabel"
    assert set(solution.decision_.thresholds) == {"opacity", "effusion", "cardiomegaly"}
    report = solution.evaluate()
    sections = {s.title: s for s in report.sections}
    assert [row[0] for row in sections["Per-class AUC, sensitivity and specificity"].data["rows"]] == ["opacity", "effusion", "cardiomegaly"]
    assert "Confusion matrix at the operating point" not in sections
    scores = solution.predict_scores(solution.splits_.test.x)
    assert scores.shape[1] == 3 and not np.allclose(scores.sum(axis=1), 1)
