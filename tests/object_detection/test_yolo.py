"""YOLO txt labels with their data YAML: parsing and the errors of a broken dataset."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.errors import DataError
from solutions.object_detection.data import decode_examples
from solutions.object_detection.yolo import label_path, load_yolo
from tests.object_detection.conftest import write_yolo


def test_yolo_dataset_reads_splits_and_normalised_boxes(tmp_path):
    found = load_yolo(write_yolo(tmp_path))
    assert [a.split for a in found].count("train") == 6 and [a.split for a in found].count("val") == 2
    assert all(a.normalized and np.all((a.boxes >= 0) & (a.boxes <= 1)) for a in found)
    examples = decode_examples(found, tmp_path, (64, 64), "error", 100)
    assert examples.targets[0].boxes.max() > 1  # scaled to pixels once the image size is known


def test_label_path_swaps_the_images_folder_for_labels(tmp_path):
    assert label_path(tmp_path / "images" / "train" / "a.jpg") == tmp_path / "labels" / "train" / "a.txt"


def test_data_yaml_pointing_at_a_missing_folder_is_an_error(tmp_path):
    path = write_yolo(tmp_path)
    path.write_text("train: images/train\nval: images/nowhere\nnames: [circle, square, triangle]\n")
    with pytest.raises(DataError, match=r"`val: images/nowhere` points at .*nowhere, which does not exist"):
        load_yolo(path)


def test_malformed_label_line_names_the_file_and_line(tmp_path):
    path = write_yolo(tmp_path)
    (tmp_path / "labels" / "train" / "img0.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 oops 0.1 0.1\n")
    with pytest.raises(DataError, match=r"img0\.txt, line 2: expected numbers"):
        load_yolo(path)


def test_class_index_outside_the_names_is_an_error(tmp_path):
    path = write_yolo(tmp_path)
    (tmp_path / "labels" / "train" / "img1.txt").write_text("7 0.5 0.5 0.2 0.2\n")
    with pytest.raises(DataError, match=r"img1\.txt, line 1: class 7 is not an index"):
        load_yolo(path)
