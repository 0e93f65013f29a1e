"""Pascal VOC parsing: boxes, splits, and the errors a broken VOC folder gets."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.errors import DataError
from solutions.object_detection.voc import load_voc, parse_voc_xml
from tests.object_detection.conftest import voc_xml


def test_voc_folder_reads_every_image_with_its_split_and_boxes(voc_folder):
    found = load_voc(voc_folder)
    assert len(found) == 24
    assert [a.split for a in found].count("train") == 16 and [a.split for a in found].count("test") == 4
    first = next(a for a in found if a.image.name == "scene_000.png")
    assert first.image.is_file() and len(first.labels) == len(first.boxes) >= 1
    assert np.all(first.boxes[:, 2] > first.boxes[:, 0])


def test_malformed_xml_names_the_file_and_line(tmp_path):
    (tmp_path / "bad.xml").write_text("<annotation>\n<filename>a.jpg</filename>\n<object><name>x</name>\n</annotation>")
    with pytest.raises(DataError, match=r"bad\.xml, line 4, column \d+: not well-formed XML"):
        parse_voc_xml(tmp_path / "bad.xml", tmp_path)


def test_object_without_numeric_box_is_a_clear_error(tmp_path):
    (tmp_path / "a.xml").write_text(voc_xml("a.jpg", [["1", "2", "three", "4"]], ["cat"]))
    with pytest.raises(DataError, match=r"object 1 \('cat'\) has no complete <bndbox>"):
        parse_voc_xml(tmp_path / "a.xml", tmp_path)


def test_split_file_naming_a_missing_annotation_is_an_error(voc_folder):
    (voc_folder / "ImageSets" / "Main" / "test.txt").write_text("scene_020\nno_such_image\n")
    with pytest.raises(DataError, match="lists 1 ids with no annotation file.*no_such_image"):
        load_voc(voc_folder)


def test_a_folder_without_split_files_takes_every_annotation(voc_folder):
    import shutil

    shutil.rmtree(voc_folder / "ImageSets")
    found = load_voc(voc_folder)
    assert len(found) == 24 and all(a.split is None for a in found)
