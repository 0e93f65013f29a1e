"""COCO JSON: parsing, the errors of a broken file, and the results format written for pycocotools."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solutions.core.errors import DataError
from solutions.object_detection.coco import coco_results, find_coco_files, load_coco
from tests.object_detection.conftest import write_coco


def test_coco_file_reads_images_boxes_and_category_names(tmp_path):
    path = write_coco(tmp_path)
    data = json.loads(path.read_text())
    found = load_coco(path, "train")
    assert len(found) == 6 and all(a.image.is_file() for a in found)
    first = data["annotations"][0]
    x, y, w, h = first["bbox"]
    image = next(a for a in found if a.image.name == "img0.png")
    assert np.allclose(image.boxes[0], [x, y, x + w, y + h])
    assert set(l for a in found for l in a.labels) <= {"circle", "square", "triangle"}


def test_malformed_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "train.json"
    path.write_text('{"images": [],\n "annotations": [\n  {"id": 1,}\n ]}')
    with pytest.raises(DataError, match=r"train\.json, line 3, column \d+: not valid JSON"):
        load_coco(path)


def test_orphan_and_crowd_annotations_are_dropped_and_counted(tmp_path):
    path = write_coco(tmp_path)
    data = json.loads(path.read_text())
    data["annotations"].append({"id": 99, "image_id": 1234, "category_id": 10, "bbox": [1, 1, 5, 5]})
    data["annotations"][0]["iscrowd"] = 1
    path.write_text(json.dumps(data))
    found = load_coco(path)
    reasons = [reason for a in found for _, reason in a.dropped]
    assert reasons.count("annotation names an image id not in `images`") == 1
    assert reasons.count("crowd region (iscrowd=1)") == 1


def test_unknown_category_is_an_error(tmp_path):
    path = write_coco(tmp_path)
    data = json.loads(path.read_text())
    data["annotations"][0]["category_id"] = 77
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="category_id 77, which `categories` does not define"):
        load_coco(path)


def test_split_files_are_found_by_name(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / split).mkdir()
        (tmp_path / split / "_annotations.coco.json").write_text("{}")
    assert sorted(s for _, s in find_coco_files(tmp_path)) == ["test", "train", "val"]


def test_results_are_coco_format_xywh_with_one_based_categories():
    results = coco_results([3], [np.array([[10, 20, 40, 60, 0.5, 2]])], ["a", "b", "c"], ["x.png"])
    assert results == [{"image_id": 3, "category_id": 3, "bbox": [10.0, 20.0, 30.0, 40.0], "score": 0.5,
                        "category_name": "c", "file_name": "x.png"}]
