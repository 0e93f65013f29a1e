"""Loading annotated images: letterboxing, box clean-up, bad images, splits and the bundled sample."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.datasets import resolve_data
from solutions.core.errors import DataError
from solutions.object_detection.annotations import clean_boxes, letterbox
from solutions.object_detection.data import (
    load_detection_examples, make_shape_scenes, read_annotations, split_detection_examples,
)
from tests.object_detection.conftest import voc_xml, write_coco, write_yolo


def test_formats_are_recognised_from_the_path(voc_folder, tmp_path):
    assert len(read_annotations(voc_folder)[0]) == 24
    coco_file = write_coco(tmp_path / "coco")
    assert len(read_annotations(coco_file)[0]) == 6
    assert len(read_annotations(coco_file.parent)[0]) == 6
    write_yolo(tmp_path / "yolo")
    assert len(read_annotations(tmp_path / "yolo")[0]) == 8
    with pytest.raises(DataError, match="Unsupported detection data"):
        read_annotations(tmp_path / "yolo" / "images" / "train" / "img0.png")


def test_letterboxed_boxes_follow_the_resized_image():
    image = np.zeros((100, 200, 3), np.uint8)
    image[20:60, 40:120] = 255
    canvas, scale = letterbox(image, (64, 64))
    assert scale == 64 / 200 and canvas.shape == (64, 64, 3)
    x1, y1, x2, y2 = np.array([40, 20, 120, 60]) * scale
    inside = canvas[int(np.ceil(y1)):int(y2), int(np.ceil(x1)):int(x2)]
    assert inside.size and inside.min() > 200
    assert canvas[40:, :, 0].max() == 114  # padding below the 32 rows of content


def test_zero_area_boxes_are_dropped_and_outside_boxes_clipped_and_counted(voc_folder):
    xml = voc_folder / "Annotations" / "scene_000.xml"
    xml.write_text(voc_xml("scene_000.png", [[10, 10, 10, 30], [50, 40, 90, 70], [5, 5, 20, 20]],
                           ["circle", "square", "circle"]))
    examples = load_detection_examples(resolve_data(str(voc_folder)), (64, 64))
    index = list(examples.ids).index("JPEGImages/scene_000.png")
    assert list(examples.labels[index]) == ["square", "circle"]
    assert examples.targets[index].boxes[0].tolist() == [50, 40, 64, 64] and examples.targets[index].clipped == 1
    assert ("JPEGImages/scene_000.png#0", "zero-area box") in examples.dropped
    splits = split_detection_examples(examples, 0.1, 0.2, 0)
    assert any("1 box reached past its image's border and was clipped" in note for note in splits.summary()["notes"])
    assert splits.summary()["dropped"]["by_reason"] == {"zero-area box": 1}


def test_clean_boxes_drops_boxes_entirely_outside():
    kept = clean_boxes(np.array([[70, 70, 90, 90]], np.float32), ("a",), 64, 64, "img")
    assert len(kept.boxes) == 0 and kept.dropped == (("img#0", "box entirely outside the image"),)


def test_missing_image_is_an_error_or_dropped_and_counted(voc_folder):
    (voc_folder / "JPEGImages" / "scene_003.png").unlink()
    with pytest.raises(DataError, match="1 image could not be read: JPEGImages/scene_003.png: annotation .*scene_003.xml "
                                        "names an image that does not exist.*on_bad_image=skip"):
        load_detection_examples(resolve_data(str(voc_folder)), (64, 64))
    examples = load_detection_examples(resolve_data(str(voc_folder)), (64, 64), on_bad_image="skip")
    assert len(examples) == 23
    assert any("does not exist" in reason for _, reason in examples.dropped)


def test_undecodable_image_is_an_error(voc_folder):
    (voc_folder / "JPEGImages" / "scene_005.png").write_bytes(b"not an image at all")
    with pytest.raises(DataError, match="scene_005.png: image cannot be decoded"):
        load_detection_examples(resolve_data(str(voc_folder)), (64, 64))


def test_class_in_validation_never_seen_in_training_is_an_error(voc_folder):
    val_id = (voc_folder / "ImageSets" / "Main" / "val.txt").read_text().split()[0]
    (voc_folder / "Annotations" / f"{val_id}.xml").write_text(voc_xml(f"{val_id}.png", [[5, 5, 30, 30]], ["hexagon"]))
    examples = load_detection_examples(resolve_data(str(voc_folder)), (64, 64))
    with pytest.raises(DataError, match="The val split has label never seen in training: 'hexagon'"):
        split_detection_examples(examples, 0.1, 0.2, 0)


def test_given_splits_are_kept_and_missing_ones_carved_at_random(voc_folder, tmp_path):
    examples = load_detection_examples(resolve_data(str(voc_folder)), (64, 64))
    splits = split_detection_examples(examples, 0.1, 0.2, 0)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (16, 4, 4)
    assert splits.class_names == ("circle", "square", "triangle")
    carved = split_detection_examples(load_detection_examples(resolve_data(str(write_coco(tmp_path / "c", n_images=10))), (64, 64)), 0.1, 0.2, 1)
    assert (len(carved.train), len(carved.val), len(carved.test)) == (7, 1, 2)
    again = split_detection_examples(load_detection_examples(resolve_data(str(tmp_path / "c" / "train.json")), (64, 64)), 0.1, 0.2, 1)
    assert list(carved.test.ids) == list(again.test.ids)


def test_sample_generator_is_seeded_and_boxes_enclose_the_shapes():
    images, boxes, labels = make_shape_scenes(n_images=4, size=96, seed=7)
    again, _, _ = make_shape_scenes(n_images=4, size=96, seed=7)
    assert np.array_equal(images, again)
    for image, image_boxes in zip(images, boxes):
        for x1, y1, x2, y2 in image_boxes.astype(int):
            assert image[y1:y2, x1:x2].max() >= 120  # the shape's colour is inside its box
    assert resolve_data("shape_scenes").generator["name"] == "shape_scenes"
