"""Small annotated datasets written in the layouts users have: Pascal VOC, COCO JSON, YOLO."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_png


def voc_xml(filename: str, boxes, labels, width: int = 64, height: int = 64) -> str:
    objects = "".join(
        f"<object><name>{label}</name><difficult>0</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
        f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>" for b, label in zip(boxes, labels))
    return (f"<annotation><folder>JPEGImages</folder><filename>{filename}</filename><size><width>{width}</width>"
            f"<height>{height}</height><depth>3</depth></size>{objects}</annotation>")


def write_voc(root: Path, n_images: int = 24, size: int = 64, seed: int = 3, splits=(16, 4, 4)) -> Path:
    """The seeded shape scenes as a Pascal VOC folder with ImageSets/Main/{train,val,test}.txt."""
    from solutions.object_detection.data import make_shape_scenes

    images, boxes, labels = make_shape_scenes(n_images=n_images, size=size, seed=seed)
    ids = []
    for i, (image, image_boxes, image_labels) in enumerate(zip(images, boxes, labels)):
        name = f"scene_{i:03d}"
        write_png(root / "JPEGImages" / f"{name}.png", image)
        (root / "Annotations").mkdir(parents=True, exist_ok=True)
        (root / "Annotations" / f"{name}.xml").write_text(voc_xml(f"{name}.png", image_boxes.astype(int).tolist(), image_labels, size, size))
        ids.append(name)
    (root / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
    start = 0
    for split, n in zip(("train", "val", "test"), splits):
        (root / "ImageSets" / "Main" / f"{split}.txt").write_text("\n".join(ids[start:start + n]) + "\n")
        start += n
    return root


@pytest.fixture()
def voc_folder(tmp_path) -> Path:
    return write_voc(tmp_path / "voc")


@pytest.fixture(scope="session")
def shared_voc_folder(tmp_path_factory) -> Path:
    return write_voc(tmp_path_factory.mktemp("voc_shared") / "voc")


def write_coco(root: Path, n_images: int = 6, size: int = 64, seed: int = 4) -> Path:
    """The shape scenes as images/ plus one COCO JSON file (train.json)."""
    from solutions.object_detection.data import SHAPE_CLASSES, make_shape_scenes

    images, boxes, labels = make_shape_scenes(n_images=n_images, size=size, seed=seed)
    data = {"images": [], "annotations": [], "categories": [{"id": 10 + k, "name": n} for k, n in enumerate(SHAPE_CLASSES)]}
    for i, (image, image_boxes, image_labels) in enumerate(zip(images, boxes, labels)):
        write_png(root / "images" / f"img{i}.png", image)
        data["images"].append({"id": i + 1, "file_name": f"img{i}.png", "width": size, "height": size})
        for box, label in zip(image_boxes, image_labels):
            data["annotations"].append({"id": len(data["annotations"]) + 1, "image_id": i + 1,
                                        "category_id": 10 + SHAPE_CLASSES.index(label), "iscrowd": 0,
                                        "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]})
    (root / "train.json").write_text(json.dumps(data, indent=1))
    return root / "train.json"


def write_yolo(root: Path, n_images: int = 8, size: int = 64, seed: int = 5) -> Path:
    """The shape scenes as a YOLO dataset: images/{train,val}, labels/{train,val}, data.yaml."""
    from solutions.object_detection.data import SHAPE_CLASSES, make_shape_scenes

    images, boxes, labels = make_shape_scenes(n_images=n_images, size=size, seed=seed)
    for i, (image, image_boxes, image_labels) in enumerate(zip(images, boxes, labels)):
        split = "train" if i < n_images - 2 else "val"
        write_png(root / "images" / split / f"img{i}.png", image)
        lines = []
        for box, label in zip(image_boxes, image_labels):
            cx, cy = (box[0] + box[2]) / 2 / size, (box[1] + box[3]) / 2 / size
            w, h = (box[2] - box[0]) / size, (box[3] - box[1]) / size
            lines.append(f"{SHAPE_CLASSES.index(label)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split / f"img{i}.txt").write_text("\n".join(lines) + "\n")
    (root / "data.yaml").write_text(f"path: .\ntrain: images/train\nval: images/val\nnames: {list(SHAPE_CLASSES)}\n")
    return root / "data.yaml"


def scene_arrays(n: int = 2, size: int = 64, seed: int = 0):
    from solutions.object_detection.data import make_shape_scenes

    return make_shape_scenes(n_images=n, size=size, seed=seed)


def assert_boxes_close(a, b, atol=1e-4):
    assert np.allclose(np.asarray(a, float), np.asarray(b, float), atol=atol), (a, b)
