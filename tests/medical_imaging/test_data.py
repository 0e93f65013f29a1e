"""Loading medical images in every layout, and refusing mixed or inconsistent sets with clear messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solutions.core.datasets import DataSource, resolve_data
from solutions.core.errors import DataError
from solutions.core.splits import split_examples
from solutions.medical_imaging.data import load_medical_examples, make_chest_phantoms
from solutions.medical_imaging.dicom import write_dicom
from tests.conftest import write_png


def load(path, size=None, **config):
    source = resolve_data(str(path))
    return load_medical_examples(DataSource(source.spec, source.name, source.path, config), size)


def dicom_folder(root, n_patients=4, modality="CR"):
    rng = np.random.default_rng(0)
    for p in range(n_patients):
        for label in ("normal", "pneumonia"):
            pixels = rng.integers(0, 4096, (24, 20)).astype(np.uint16)
            write_dicom(root / label / f"p{p}_{label}.dcm", pixels, Modality=modality, PatientID=f"P{p}",
                        RescaleSlope=1, RescaleIntercept=0, WindowCenter=2048, WindowWidth=4096)
    return root


def test_dicom_folder_per_class_takes_patient_ids_from_the_tags(tmp_path):
    loaded = load(dicom_folder(tmp_path))
    examples = loaded.examples
    assert examples.x.shape == (8, 24, 20, 1) and examples.x.dtype == np.uint8
    assert sorted(set(examples.groups)) == ["P0", "P1", "P2", "P3"]
    assert loaded.modalities == ("CR",)


def test_mixed_modalities_are_refused_naming_examples(tmp_path):
    dicom_folder(tmp_path, 2, "CR")
    write_dicom(tmp_path / "normal" / "ct.dcm", np.zeros((24, 20), np.uint16), Modality="CT", PatientID="P9")
    with pytest.raises(DataError, match=r"mix 2 DICOM modalities.*CR: 4 files, e\.g\. .*p0_normal\.dcm.*CT: 1 file, e\.g\. .*ct\.dcm"):
        load(tmp_path)


def test_gray_mixed_with_colour_is_refused_but_gray_stored_as_rgb_is_gray(tmp_path):
    gray_as_rgb = np.repeat(np.full((16, 16, 1), 90, np.uint8), 3, axis=2)
    write_png(tmp_path / "a" / "gray_rgb.png", gray_as_rgb)
    write_png(tmp_path / "b" / "gray.png", np.full((16, 16, 1), 30, np.uint8))
    assert load(tmp_path).examples.x.shape == (2, 16, 16, 1)
    colour = np.zeros((16, 16, 3), np.uint8)
    colour[..., 0] = 200
    write_png(tmp_path / "b" / "colour.png", colour)
    with pytest.raises(DataError, match=r"mix 2 channel counts.*1-channel \(gray\).*3-channel \(colour\): 1 file, e\.g\. .*colour\.png"):
        load(tmp_path)


def test_different_sizes_need_an_image_size(tmp_path):
    write_png(tmp_path / "a" / "big.png", np.zeros((40, 40, 1), np.uint8))
    write_png(tmp_path / "b" / "small.png", np.zeros((20, 20, 1), np.uint8))
    with pytest.raises(DataError, match=r"mix 2 image sizes.*--set image_size=\[224,224\]"):
        load(tmp_path)
    assert load(tmp_path, size=(32, 32)).examples.x.shape == (2, 32, 32, 1)


def test_a_dicom_without_pixel_data_stops_loading_and_names_the_file(tmp_path):
    dicom_folder(tmp_path, 2)
    write_dicom(tmp_path / "normal" / "sr.dcm", np.zeros((2, 2), np.uint8), PixelData=None, Modality="CR", PatientID="P0")
    with pytest.raises(DataError, match=r"1 of 5 files could not be read: normal/sr\.dcm \(DICOM file without pixel data"):
        load(tmp_path)


def test_csv_with_patient_ids_and_multi_label_columns(tmp_path):
    rows = []
    for i in range(6):
        write_png(tmp_path / "img" / f"{i}.png", np.full((12, 12, 1), 20 * i, np.uint8))
        rows.append({"path": f"img/{i}.png", "effusion": i % 2, "nodule": int(i > 2), "patient_id": f"P{i // 2}"})
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    examples = load(tmp_path / "labels.csv", label=["effusion", "nodule"]).examples
    assert examples.label_names == ("effusion", "nodule")
    assert examples.labels.tolist() == [[0, 0], [1, 0], [0, 0], [1, 1], [0, 1], [1, 1]]
    assert examples.groups.tolist() == ["P0", "P0", "P1", "P1", "P2", "P2"]


def test_csv_with_pipe_separated_findings_is_multi_label(tmp_path):
    for i in range(3):
        write_png(tmp_path / f"{i}.png", np.zeros((8, 8, 1), np.uint8))
    pd.DataFrame({"image": ["0.png", "1.png", "2.png"], "label": ["Effusion|Nodule", "", "Nodule"]}).to_csv(tmp_path / "l.csv", index=False)
    examples = load(tmp_path / "l.csv").examples
    assert examples.label_names == ("Effusion", "Nodule")
    assert examples.labels.tolist() == [[1, 1], [0, 0], [0, 1]]


def test_csv_naming_images_that_do_not_exist_lists_them(tmp_path):
    write_png(tmp_path / "here.png", np.zeros((8, 8, 1), np.uint8))
    pd.DataFrame({"path": ["here.png", "gone.dcm"], "label": ["a", "b"]}).to_csv(tmp_path / "l.csv", index=False)
    with pytest.raises(DataError, match=r"names 1 image file that does not exist, for example: .*gone\.dcm"):
        load(tmp_path / "l.csv")


def test_patient_shared_across_given_splits_is_refused(tmp_path):
    rows = []
    for i in range(12):
        write_png(tmp_path / f"{i}.png", np.full((8, 8, 1), i, np.uint8))
        rows.append({"path": f"{i}.png", "label": "ab"[i % 2], "patient_id": f"P{i // 2}",
                     "split": "test" if i in (3, 10, 11) else "train"})
    pd.DataFrame(rows).to_csv(tmp_path / "l.csv", index=False)
    examples = load(tmp_path / "l.csv").examples
    with pytest.raises(DataError, match=r"1 group id \(e\.g\. a patient\) appears in more than one of the given splits: 'P1' in test and train"):
        split_examples(examples, validation_fraction=0.1, test_fraction=0.2, seed=0, min_per_class=1)


@pytest.mark.parametrize("labels, task", [
    (lambda rng, n: rng.integers(0, 2, (n, 1)), "binary"),
    (lambda rng, n: rng.integers(0, 4, (n, 1)), "multi-class"),
    (lambda rng, n: rng.integers(0, 2, (n, 14)), "multi-label"),
])
def test_medmnist_npz_of_every_2d_kind(tmp_path, labels, task):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 10), ("val", 4), ("test", 6)):
        arrays[f"{split}_images"] = rng.integers(0, 255, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = labels(rng, n)
    np.savez(tmp_path / "med.npz", **arrays)
    examples = load(tmp_path / "med.npz").examples
    assert examples.x.shape == (20, 28, 28, 1) and list(examples.given_split).count("val") == 4
    if task == "multi-label":
        assert examples.labels.shape == (20, 14) and examples.label_names[0] == "label_0"
    else:
        assert examples.labels.ndim == 1


def test_rgb_medmnist_and_class_names_from_the_config(tmp_path):
    np.savez(tmp_path / "derma.npz", train_images=np.zeros((4, 28, 28, 3), np.uint8), train_labels=np.array([[0], [1], [2], [1]]))
    examples = load(tmp_path / "derma.npz", class_names=["a", "b", "c"]).examples
    assert examples.x.shape == (4, 28, 28, 3) and examples.labels.tolist() == ["a", "b", "c", "b"]


def test_npz_missing_expected_keys_lists_the_keys_found(tmp_path):
    np.savez(tmp_path / "bad.npz", train_images=np.zeros((2, 8, 8)), val_images=np.zeros((2, 8, 8)), val_labels=np.zeros((2, 1)))
    with pytest.raises(DataError, match="has train_images without train_labels. Keys found: train_images, val_images, val_labels"):
        load(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", pixels=np.zeros((2, 8, 8)))
    with pytest.raises(DataError, match="Keys found: pixels"):
        load(tmp_path / "other.npz")


def test_phantoms_are_seeded_and_grouped_by_patient():
    one, two = make_chest_phantoms(n_patients=4, seed=3), make_chest_phantoms(n_patients=4, seed=3)
    assert np.array_equal(one["images"], two["images"])
    assert one["patients"].tolist() == ["patient000", "patient000", "patient001", "patient001"] + [f"patient00{p}" for p in (2, 2, 3, 3)]
    multi = make_chest_phantoms(n_patients=20, seed=0, multi_label=True)
    assert multi["labels"].shape == (40, 3) and 0 < multi["labels"].mean() < 1
