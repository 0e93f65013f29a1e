"""COCO JSON: where a COCO annotation file is parsed, and where ground truth and results are written in it.

    {"images": [{"id", "file_name", "width", "height"}],
     "annotations": [{"id", "image_id", "category_id", "bbox": [x, y, w, h], "iscrowd"}],
     "categories": [{"id", "name"}]}

A folder may hold one JSON per split (train/val/test in the file or folder name,
as in instances_train2017.json or a Roboflow export's train/_annotations.coco.json);
image files are looked for beside the JSON, in images/ and in images/<split>/.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from solutions.core.errors import DataError
from solutions.object_detection.annotations import ImageAnnotation

SPLIT_WORDS = (("train", "train"), ("valid", "val"), ("val", "val"), ("test", "test"))


def split_of(name: str) -> str | None:
    """The split a file or folder name stands for, or None.

    >>> split_of("instances_val2017"), split_of("train"), split_of("cells")
    ('val', 'train', None)
    """
    lowered = name.lower()
    return next((split for word, split in SPLIT_WORDS if word in lowered), None)


def find_coco_files(folder: Path) -> list[tuple[Path, str | None]]:
    """COCO JSON files in `folder`, folder/annotations/ or folder/<split>/, each with its split."""
    candidates = sorted(folder.glob("*.json")) + sorted((folder / "annotations").glob("*.json"))
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and split_of(p.name)):
        candidates += sorted(sub.glob("*.json"))
    found = []
    for path in candidates:
        split = split_of(path.stem) or (split_of(path.parent.name) if path.parent != folder else None)
        found.append((path, split))
    if len(found) > 1 and any(split is None for _, split in found):
        unnamed = [str(p) for p, s in found if s is None]
        raise DataError(f"{folder} holds several JSON files and cannot tell the split of {', '.join(unnamed[:3])}. "
                        "Name each file after its split (train, val, test), or pass one JSON file.")
    return found


def read_json_file(path: Path) -> Any:
    """Parse a JSON file; malformed JSON is a DataError naming the file, line and column."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}, line {error.lineno}, column {error.colno}: not valid JSON ({error.msg}). "
                        "Fix the file or export it again.") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text ({error}); a COCO annotation file is JSON text.") from None


def load_coco(path: Path, split: str | None = None) -> list[ImageAnnotation]:
    """Every image of a COCO annotation file with its boxes (crowd regions and orphan annotations dropped).

    >>> import tempfile, pathlib, json
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "train.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png"}],
    ...     "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [2, 4, 10, 20]}],
    ...     "categories": [{"id": 3, "name": "cell"}]}))
    >>> found = load_coco(folder / "train.json", "train")
    >>> found[0].labels, found[0].boxes.tolist()
    (('cell',), [[2.0, 4.0, 12.0, 24.0]])
    """
    data = read_json_file(path)
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations", "categories")):
        keys = ", ".join(sorted(data)) if isinstance(data, dict) else type(data).__name__
        raise DataError(f"{path} is not a COCO annotation file: it needs lists `images`, `annotations` and "
                        f"`categories`. Found: {keys}.")
    try:
        categories = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        images = {int(i["id"]): str(i["file_name"]) for i in data["images"]}
    except (KeyError, TypeError, ValueError, OverflowError) as error:  # OverflowError: an id of Infinity
        raise DataError(f"{path}: every category needs an integer `id` and a `name`, and every image an integer "
                        f"`id` and a `file_name` ({type(error).__name__}: {error}).") from None
    boxes: dict[int, list[list[float]]] = {i: [] for i in images}
    labels: dict[int, list[str]] = {i: [] for i in images}
    dropped: dict[int, list[tuple[str, str]]] = {i: [] for i in images}
    orphans = []
    for number, ann in enumerate(data["annotations"]):
        where = f"{path}: annotation {ann.get('id', number) if isinstance(ann, dict) else number}"
        try:
            image_id, category = int(ann["image_id"]), int(ann["category_id"])
            x, y, w, h = (float(v) for v in ann["bbox"])
        except (KeyError, TypeError, ValueError, OverflowError):
            raise DataError(f"{where} needs an integer `image_id` and `category_id` and a `bbox` of four numbers "
                            f"[x, y, width, height]. Received: {str(ann)[:200]}.") from None
        if category not in categories:
            raise DataError(f"{where} has category_id {category}, which `categories` does not define "
                            f"(defined: {sorted(categories)}).")
        if image_id not in images:
            orphans.append((f"{path.name}:annotation {ann.get('id', number)}", "annotation names an image id not in `images`"))
            continue
        if ann.get("iscrowd"):
            dropped[image_id].append((f"{images[image_id]}:annotation {ann.get('id', number)}", "crowd region (iscrowd=1)"))
            continue
        boxes[image_id].append([x, y, x + w, y + h])
        labels[image_id].append(categories[category])
    folders = image_folders(path, split)
    result = []
    for position, (image_id, file_name) in enumerate(images.items()):
        extra = tuple(orphans) if position == 0 else ()
        result.append(ImageAnnotation(
            image=locate_image(file_name, folders), boxes=np.asarray(boxes[image_id], np.float32).reshape(-1, 4),
            labels=tuple(labels[image_id]), split=split, source=str(path), dropped=tuple(dropped[image_id]) + extra))
    if not result and orphans:
        raise DataError(f"{path} has annotations but no `images`.")
    return result


def image_folders(path: Path, split: str | None) -> list[Path]:
    folders = [path.parent, path.parent / "images", path.parent.parent / "images"]
    if split:
        folders += [path.parent / "images" / split, path.parent.parent / "images" / split, path.parent.parent / split]
    return folders


def locate_image(file_name: str, folders: list[Path]) -> Path:
    """The first folder holding `file_name`; the first candidate when none does (reported as missing later)."""
    for folder in folders:
        try:
            if (folder / file_name).is_file():
                return folder / file_name
        except OSError:  # a name the file system refuses (too long, say): reported later as a missing image
            continue
    return folders[0] / file_name


def coco_ground_truth(image_ids: list[int], boxes: list[np.ndarray], classes: list[np.ndarray],
                      sizes: list[tuple[int, int]], class_names: list[str]) -> dict[str, Any]:
    """A COCO ground-truth dict (category id = class index + 1) for pycocotools' COCO()."""
    annotations = []
    for image_id, image_boxes, image_classes in zip(image_ids, boxes, classes):
        for box, cls in zip(np.asarray(image_boxes, float).reshape(-1, 4), np.asarray(image_classes).reshape(-1)):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            annotations.append({"id": len(annotations) + 1, "image_id": int(image_id), "category_id": int(cls) + 1,
                                "bbox": [float(box[0]), float(box[1]), w, h], "area": w * h, "iscrowd": 0})
    return {
        "images": [{"id": int(i), "width": int(w), "height": int(h)} for i, (w, h) in zip(image_ids, sizes)],
        "annotations": annotations,
        "categories": [{"id": k + 1, "name": name} for k, name in enumerate(class_names)],
    }


def coco_results(image_ids: list[int], detections: list[np.ndarray], class_names: list[str] | None = None,
                 file_names: list[str] | None = None) -> list[dict[str, Any]]:
    """Detections as a COCO results list: {"image_id", "category_id", "bbox": [x, y, w, h], "score"}.

    `detections` holds one (n, 6) array per image: x1, y1, x2, y2, score, class index.
    With class_names or file_names, each result also names its category or image file.

    >>> coco_results([7], [np.array([[1, 2, 11, 22, 0.9, 0]])], ["cell"])
    [{'image_id': 7, 'category_id': 1, 'bbox': [1.0, 2.0, 10.0, 20.0], 'score': 0.9, 'category_name': 'cell'}]
    """
    results = []
    for position, (image_id, image_detections) in enumerate(zip(image_ids, detections)):
        for x1, y1, x2, y2, score, cls in np.asarray(image_detections, float).reshape(-1, 6).tolist():
            entry = {"image_id": int(image_id), "category_id": int(cls) + 1,
                     "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)], "score": round(score, 5)}
            if class_names is not None:
                entry["category_name"] = class_names[int(cls)]
            if file_names is not None:
                entry["file_name"] = file_names[position]
            results.append(entry)
    return results
