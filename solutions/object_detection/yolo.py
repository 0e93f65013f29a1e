"""YOLO txt labels with their data YAML: where a YOLO dataset is parsed.

    data.yaml:  path: .  (optional root, relative to the YAML)
                train: images/train   (a folder, a .txt list of images, or a list of these)
                val: images/val
                test: images/test     (optional)
                names: [RBC, WBC, Platelets]   (or {0: RBC, 1: WBC, ...})
    labels:     images/train/a.jpg -> labels/train/a.txt, one object per line:
                "class x_center y_center width height", normalised to [0, 1] by the image size
                (a polygon "class x1 y1 x2 y2 ..." counts as its bounding box). No file: no objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from solutions.core.errors import DataError
from solutions.imaging.decode import is_image_file, list_image_files
from solutions.object_detection.annotations import ImageAnnotation

YAML_SPLITS = (("train", "train"), ("val", "val"), ("test", "test"))


def find_data_yaml(folder: Path) -> Path | None:
    """data.yaml (or the only *.yaml holding `names`) in `folder`."""
    for name in ("data.yaml", "data.yml", "dataset.yaml"):
        if (folder / name).is_file():
            return folder / name
    found = [p for p in sorted(folder.glob("*.y*ml")) if "names" in _read_yaml(p)]
    return found[0] if len(found) == 1 else None


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise DataError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', error)}).") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text ({error}); re-save the data YAML as UTF-8.") from None
    return data if isinstance(data, dict) else {}


def class_names_of(data: dict[str, Any], path: Path) -> list[str]:
    names = data.get("names")
    if isinstance(names, dict):
        try:
            ordered = sorted((int(k), str(v)) for k, v in names.items())
        except (TypeError, ValueError):  # a key that is no number, such as null
            raise DataError(f"{path}: `names` must map class indices (0, 1, ...) to names. Received: {names}.") from None
        if [k for k, _ in ordered] != list(range(len(ordered))):
            raise DataError(f"{path}: `names` must number the classes 0, 1, 2, ... without gaps. Received: {names}.")
        return [v for _, v in ordered]
    if isinstance(names, list) and names:
        return [str(v) for v in names]
    raise DataError(f"{path} has no `names` list of class names. Add e.g. `names: [cat, dog]`.")


def load_yolo(yaml_path: Path) -> list[ImageAnnotation]:
    """Every image of the splits the data YAML names, with its normalised boxes.

    Raises DataError for a split pointing at a missing folder or list, label lines
    that are not "class x y w h" numbers (file and line), and unknown class indices.
    """
    yaml_path = Path(yaml_path)
    data = _read_yaml(yaml_path)
    names = class_names_of(data, yaml_path)
    root = (yaml_path.parent / str(data.get("path") or ".")).resolve()
    if not root.is_dir():
        raise DataError(f"{yaml_path}: `path: {data.get('path')}` points at {root}, which is not a folder.")
    if not data.get("train"):
        raise DataError(f"{yaml_path} has no `train:` entry naming the training images.")
    result = []
    for key, split in YAML_SPLITS:
        entries = data.get(key)
        if not entries:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            for image in _images_of(root, str(entry), yaml_path, key):
                boxes, labels = read_label_file(label_path(image), names)
                result.append(ImageAnnotation(image=image, boxes=boxes, labels=labels, split=split,
                                              source=str(label_path(image)), normalized=True))
    return result


def _images_of(root: Path, entry: str, yaml_path: Path, key: str) -> list[Path]:
    path = (root / entry).resolve()
    if path.is_dir():
        images = list_image_files(path)
        if not images:
            raise DataError(f"{yaml_path}: `{key}: {entry}` is the folder {path}, which holds no images.")
        return images
    if path.is_file() and path.suffix == ".txt":
        lines = [l.strip() for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
        return [(path.parent / l).resolve() if not Path(l).is_absolute() else Path(l) for l in lines]
    if path.is_file() and is_image_file(path):
        return [path]
    raise DataError(f"{yaml_path}: `{key}: {entry}` points at {path}, which does not exist. "
                    f"Paths are read relative to {root} (the YAML's folder, or its `path:`).")


def label_path(image: Path) -> Path:
    """images/.../a.jpg -> labels/.../a.txt (the last `images` folder in the path becomes `labels`)."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_label_file(path: Path, names: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Normalised (x1, y1, x2, y2) boxes and class names of one label file; no file means no objects."""
    if not path.is_file():
        return np.zeros((0, 4), np.float32), ()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text ({error}); a YOLO label file holds lines of "
                        "\"class x_center y_center width height\" numbers.") from None
    boxes, labels = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            values = [float(v) for v in fields]
        except ValueError:
            raise DataError(f"{path}, line {number}: expected numbers \"class x_center y_center width height\". "
                            f"Received: {line.strip()[:80]!r}.") from None
        if len(values) == 5:
            cls, x, y, w, h = values
            box = [x - w / 2, y - h / 2, x + w / 2, y + h / 2]
        elif len(values) >= 7 and len(values) % 2 == 1:
            cls, xs, ys = values[0], values[1::2], values[2::2]
            box = [min(xs), min(ys), max(xs), max(ys)]
        else:
            raise DataError(f"{path}, line {number}: expected 5 numbers \"class x_center y_center width height\" "
                            f"(or a polygon), found {len(values)}.")
        if not cls.is_integer() or not 0 <= cls < len(names):
            raise DataError(f"{path}, line {number}: class {fields[0]} is not an index into the data YAML's "
                            f"{len(names)} names (0-{len(names) - 1}).")
        boxes.append(box)
        labels.append(names[int(cls)])
    return np.asarray(boxes, np.float32).reshape(-1, 4), tuple(labels)
