"""Loading labelled images from every supported layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solutions.core.datasets import resolve_data
from solutions.core.errors import DataError
from solutions.image_classification.data import load_image_examples, make_shapes, prediction_files
from tests.conftest import write_png


def load(path, size=(16, 16), channels="auto", **config):
    source = resolve_data(str(path))
    return load_image_examples(source.__class__(source.spec, source.name, source.path, config), size, channels)


def test_folder_per_class_with_split_subfolders_keeps_the_splits(tmp_path):
    images, labels = make_shapes(n_per_class=3, seed=2)
    for i, (image, label) in enumerate(zip(images, labels)):
        split = "test" if i < 3 else "train"
        write_png(tmp_path / split / label / f"{i}.png", image)
    examples = load(tmp_path)
    assert examples.x.shape == (9, 16, 16, 3)
    assert sorted(set(examples.given_split)) == ["test", "train"]
    assert (examples.given_split == "test").sum() == 3


def test_mixed_sizes_are_resized_and_gray_images_stay_gray(tmp_path):
    write_png(tmp_path / "a" / "big.png", np.full((64, 48, 1), 200, np.uint8))
    write_png(tmp_path / "b" / "small.png", np.full((10, 12, 1), 20, np.uint8))
    examples = load(tmp_path, size=(24, 24))
    assert examples.x.shape == (2, 24, 24, 1)
    assert load(tmp_path, size=(24, 24), channels="rgb").x.shape == (2, 24, 24, 3)


def test_csv_of_paths_and_labels_relative_to_the_csv(tmp_path):
    images, labels = make_shapes(n_per_class=2, seed=3)
    rows = []
    for i, (image, label) in enumerate(zip(images, labels)):
        write_png(tmp_path / "img" / f"{i}.png", image)
        rows.append({"path": f"img/{i}.png", "label": label})
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    examples = load(tmp_path / "labels.csv")
    assert list(examples.labels) == list(labels)


def test_csv_without_a_label_column_lists_the_columns(tmp_path):
    pd.DataFrame({"path": ["a.png"], "kind": ["x"]}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(DataError, match="no label column: none is named label, target, class or y. Columns found: path, kind.*--label"):
        load(tmp_path / "labels.csv")


def test_csv_naming_missing_images_lists_them(tmp_path):
    pd.DataFrame({"path": ["gone.png"], "label": ["x"]}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(DataError, match="names 1 image file that does not exist.*gone.png"):
        load(tmp_path / "labels.csv")


def test_npz_in_medmnist_layout_keeps_official_splits(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {f"{s}_images": rng.integers(0, 255, (n, 28, 28), dtype=np.uint8) for s, n in (("train", 6), ("val", 2), ("test", 3))}
    arrays.update({f"{s}_labels": rng.integers(0, 2, (n, 1)) for s, n in (("train", 6), ("val", 2), ("test", 3))})
    np.savez(tmp_path / "data.npz", **arrays)
    examples = load(tmp_path / "data.npz", size=(28, 28))
    assert examples.x.shape == (11, 28, 28, 1)
    assert list(examples.given_split).count("val") == 2


def test_npz_without_expected_keys_lists_the_keys_found(tmp_path):
    np.savez(tmp_path / "data.npz", pixels=np.zeros((2, 4, 4)), classes=np.zeros(2))
    with pytest.raises(DataError, match="Keys found: classes, pixels"):
        load(tmp_path / "data.npz")


def test_prediction_inputs_expand_folders_and_text_lists(tmp_path, shapes_folder):
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(str(p) for p in sorted((shapes_folder / "circle").iterdir())[:3]))
    assert len(prediction_files([shapes_folder / "square", listing])) == 23
    with pytest.raises(DataError, match="Input not found"):
        prediction_files(tmp_path / "nothing.png")
