"""Read annotated images in the formats users have, split them, and make the bundled sample.

Formats (the parsers live in voc.py, coco.py and yolo.py): a Pascal VOC folder, a COCO
JSON file or a folder of per-split COCO files, a YOLO data YAML (or the folder holding
it), or an archive of any of these; a dataset config may name the format with
`format: voc | coco | yolo`. Every image is decoded and letterboxed to the recipe's
size; boxes are clipped to their image, zero-area boxes dropped, and both counted.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource, is_archive, run_generator, unpack_archive
from solutions.core.errors import DataError
from solutions.imaging.decode import ImageDecodeError, decode_image, list_image_files, to_channels
from solutions.imaging.shapes import SHAPE_CLASSES, draw_shape
from solutions.core.solution import InputChunk
from solutions.core.splits import SPLIT_NAMES, Examples, Split, Splits, encode_labels, label_names
from solutions.core.wording import agree, plural
from solutions.object_detection import coco, voc, yolo
from solutions.object_detection.annotations import ImageAnnotation, ImageBoxes, clean_boxes, letterbox

FORMATS = ("voc", "coco", "yolo")


def load_detection_examples(source: DataSource, image_size: tuple[int, int], on_bad_image: str = "error",
                            max_boxes: int = 100) -> Examples:
    """Annotated images from any supported layout as Examples of letterboxed (N, H, W, 3) uint8 pixels.

    `labels` holds each image's class names; `targets` an ImageBoxes per image
    (boxes in original pixels and the letterbox scale).
    """
    if source.generator:
        return generated_examples(source.generator, image_size)
    path = source.path
    if is_archive(path):
        path = unpack_archive(path)
    annotations, root = read_annotations(path, source.config.get("format"))
    if not annotations:
        raise DataError(f"No annotated images were found in {path}.")
    return decode_examples(annotations, root, tuple(image_size), on_bad_image, max_boxes)


def read_annotations(path: Path, format: str | None = None) -> tuple[list[ImageAnnotation], Path]:
    """Parse the annotations at `path` (format detected unless given); returns them and the data root."""
    if format is not None and format not in FORMATS:
        raise DataError(f"Dataset `format` must be one of {', '.join(FORMATS)}. Received: format={format!r}.")
    path = Path(path)
    if path.is_dir():
        inner = [p for p in path.iterdir() if not p.name.startswith(".")]
        if len(inner) == 1 and inner[0].is_dir() and format is None and not voc.is_voc_folder(path):
            return read_annotations(inner[0])  # an archive's single top folder
        if format == "voc" or (format is None and voc.is_voc_folder(path)):
            return voc.load_voc(path), path
        data_yaml = yolo.find_data_yaml(path)
        if format == "yolo" or (format is None and data_yaml is not None):
            if data_yaml is None:
                raise DataError(f"{path} has no data.yaml; a YOLO dataset needs its data YAML (train, val, names).")
            return yolo.load_yolo(data_yaml), path
        files = coco.find_coco_files(path)
        if format == "coco" or (format is None and files):
            if not files:
                raise DataError(f"{path} holds no COCO .json annotation file.")
            return [a for file, split in files for a in coco.load_coco(file, split)], path
    elif path.suffix.lower() == ".json" and format in (None, "coco"):
        return coco.load_coco(path, None), path.parent
    elif path.suffix.lower() in (".yaml", ".yml") and format in (None, "yolo"):
        return yolo.load_yolo(path), path.parent
    raise DataError(
        f"Unsupported detection data: {path}. Pass a Pascal VOC folder (Annotations/, JPEGImages/, "
        "ImageSets/Main/), a COCO .json file or a folder of them, or a folder holding a YOLO data.yaml."
    )


def decode_examples(annotations: list[ImageAnnotation], root: Path, size: tuple[int, int], on_bad_image: str,
                    max_boxes: int) -> Examples:
    """Decode and letterbox every annotated image, then clip and filter its boxes."""
    def load(annotation: ImageAnnotation):
        try:
            with open(annotation.image, "rb") as handle:
                image = decode_image(handle.read(), str(annotation.image))
        except FileNotFoundError:
            return None, f"annotation {annotation.source} names an image that does not exist"
        except (ImageDecodeError, OSError) as error:
            return None, f"image cannot be decoded: {error}"
        return image, None

    workers = min(8, (os.cpu_count() or 2) * 2)
    bad, pixels, labels, ids, given, targets, dropped = [], [], [], [], [], [], []
    with ThreadPoolExecutor(workers) as pool:
        for annotation, (image, problem) in zip(annotations, pool.map(load, annotations)):
            image_id = _relative(annotation.image, root)
            dropped.extend(annotation.dropped)
            if image is None:
                bad.append((image_id, problem))
                continue
            height, width = image.shape[:2]
            boxes = annotation.boxes * np.float32([width, height, width, height]) if annotation.normalized else annotation.boxes
            kept = clean_boxes(boxes, annotation.labels, width, height, image_id)
            if len(kept.boxes) > max_boxes:
                raise DataError(f"{annotation.source} has {plural(len(kept.boxes), 'box')}, more than max_boxes={max_boxes}. "
                                f"Raise the limit with --set max_boxes={len(kept.boxes)}.")
            dropped.extend(kept.dropped)
            canvas, scale = letterbox(to_channels(image, 3), size)
            pixels.append(canvas)
            labels.append(np.asarray(kept.labels, dtype=object))
            ids.append(image_id)
            given.append(annotation.split)
            targets.append(ImageBoxes(kept.boxes, width, height, scale, kept.clipped))
    if bad and on_bad_image == "error":
        listed = "; ".join(f"{i}: {why}" for i, why in bad[:10])
        raise DataError(f"{plural(len(bad), 'image')} could not be read: {listed}. Fix or remove those annotations, or pass "
                        "--set on_bad_image=skip to drop those images (they are counted in the report).")
    dropped.extend(bad)
    if not pixels:
        raise DataError(f"None of the {plural(len(annotations), 'annotated image')} could be read; first problem: {bad[0][1] if bad else '?'}.")
    given_split = np.asarray(given, dtype=object) if all(g is not None for g in given) else None
    return Examples(x=np.stack(pixels), labels=_object_array(labels), ids=np.asarray(ids, dtype=object),
                    given_split=given_split, dropped=tuple(dropped), targets=targets)


def _object_array(items: list) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _relative(file: Path, root: Path) -> str:
    try:
        return str(Path(file).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(file)


# ----------------------------------------------------------------- splits
def split_detection_examples(examples: Examples, validation_fraction: float, test_fraction: float, seed: int) -> Splits:
    """Train / validation / test splits of images: the data's own splits, else seeded random ones.

    Class names come from the training split; a class in validation or test that
    training never saw is a DataError. Class counts in the summary are objects.
    """
    if len(examples) == 0:
        raise DataError("No annotated images were found. Check the data path and its layout.")
    given = examples.given_split if examples.given_split is not None else np.full(len(examples), "train", dtype=object)
    parts = {name: np.flatnonzero(given == name) for name in SPLIT_NAMES}
    rng = np.random.default_rng(seed)
    notes = []
    if len(parts["test"]) == 0:
        parts["train"], parts["test"] = _carve(parts["train"], test_fraction, rng)
        notes.append(f"test split: {test_fraction:.0%} of the images, random, seed {seed}")
    if len(parts["val"]) == 0:
        fraction = validation_fraction / (1 - test_fraction) if notes else validation_fraction
        parts["train"], parts["val"] = _carve(parts["train"], fraction, rng)
        notes.append(f"validation split: carved from train at random, seed {seed}")
    train_labels = [l for i in parts["train"] for l in examples.labels[i]]
    if not train_labels:
        raise DataError("The training images hold no boxes: a detector needs annotated objects to learn from.")
    class_names = label_names(np.asarray(train_labels, dtype=object))
    splits = {}
    for name in SPLIT_NAMES:
        index = np.sort(parts[name])
        if len(index) == 0:
            raise DataError(f"The {name} split has no images. Give each split images, or fewer splits to carve from more data.")
        subset = examples.subset(index)
        encoded = [encode_labels(labels, class_names, f"The {name} split") if len(labels) else np.zeros(0, np.int64)
                   for labels in subset.labels]
        splits[name] = Split(name, subset.x, _object_array(encoded), subset.ids, subset.targets)
    clipped = sum(t.clipped for t in examples.targets)
    notes.append(f"Class counts are objects (boxes); images: {', '.join(f'{n} {len(splits[n])}' for n in SPLIT_NAMES)}.")
    notes.append(f"{plural(clipped, 'box')} reached past {agree(clipped, 'its', 'their')} image's border and "
                 f"{agree(clipped, 'was', 'were')} clipped to it." if clipped
                 else "No box reached past its image's border.")
    return Splits(train=splits["train"], val=splits["val"], test=splits["test"], class_names=class_names,
                  dropped=examples.dropped, notes=tuple(notes))


def _carve(index: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if len(index) < 3:
        raise DataError(f"Only {plural(len(index), 'image')} to split into train, validation and test; add images.")
    shuffled = rng.permutation(index)
    n = min(len(index) - 1, max(1, round(fraction * len(index))))
    return shuffled[n:], shuffled[:n]


def padded_boxes(split: Split, max_boxes: int) -> tuple[np.ndarray, np.ndarray]:
    """Letterboxed boxes (N, max_boxes, 4) and class indices (N, max_boxes), padded with class -1."""
    boxes = np.zeros((len(split), max_boxes, 4), np.float32)
    classes = np.full((len(split), max_boxes), -1, np.int32)
    for i, (target, y) in enumerate(zip(split.targets, split.y)):
        n = len(y)
        boxes[i, :n] = target.boxes * target.scale
        classes[i, :n] = y
    return boxes, classes


# ---------------------------------------------------------- the sample


def make_shape_scenes(n_images: int = 48, size: int = 128, max_objects: int = 3, seed: int = 0):
    """A seeded sample of scenes with 1-`max_objects` coloured shapes each, and their boxes.

    Returns (images (N, size, size, 3) uint8, boxes: list of (n, 4) x1 y1 x2 y2 arrays,
    labels: list of class-name tuples).

    >>> images, boxes, labels = make_shape_scenes(n_images=2, size=64, seed=0)
    >>> images.shape, len(boxes[0]) == len(labels[0]), set(labels[0]) <= set(SHAPE_CLASSES)
    ((2, 64, 64, 3), True, True)
    """
    rng = np.random.default_rng(seed)
    images, all_boxes, all_labels = [], [], []
    for _ in range(n_images):
        background = rng.integers(0, 90, 3)
        image = np.clip(background + rng.normal(0, 10, (size, size, 3)), 0, 255).astype(np.uint8)
        boxes, labels = [], []
        for _ in range(int(rng.integers(1, max_objects + 1))):
            for _attempt in range(20):
                radius = int(rng.integers(size // 12, size // 5))
                cx, cy = (int(v) for v in rng.integers(radius + 1, size - radius - 1, 2))
                box = [cx - radius, cy - radius, cx + radius + 1, cy + radius + 1]
                if all(box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1] for b in boxes):
                    break
            else:
                continue
            name = SHAPE_CLASSES[int(rng.integers(0, len(SHAPE_CLASSES)))]
            colour = tuple(int(c) for c in rng.integers(120, 256, 3))
            draw_shape(image, name, (cx, cy), radius, colour)
            boxes.append(box)
            labels.append(name)
        images.append(image)
        all_boxes.append(np.asarray(boxes, np.float32).reshape(-1, 4))
        all_labels.append(tuple(labels))
    return np.stack(images), all_boxes, all_labels


def generated_examples(generator: dict[str, Any], image_size: tuple[int, int]) -> Examples:
    name = generator.get("name")
    if name != "shape_scenes":
        raise DataError(f"Unknown detection generator {name!r}; the object_detection generator is 'shape_scenes'.")
    images, boxes, labels = run_generator(make_shape_scenes, generator)
    pixels, targets = [], []
    for image, image_boxes in zip(images, boxes):
        canvas, scale = letterbox(image, tuple(image_size))
        pixels.append(canvas)
        targets.append(ImageBoxes(image_boxes, image.shape[1], image.shape[0], scale))
    ids = np.asarray([f"shape_scenes[{i}]" for i in range(len(images))], dtype=object)
    return Examples(x=np.stack(pixels), labels=_object_array([np.asarray(l, dtype=object) for l in labels]),
                    ids=ids, targets=targets)


# ------------------------------------------------------------- predict
def iter_detection_inputs(inputs: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
    """Chunks of letterboxed images from a folder, image files, or an (N, H, W, 3) array.

    `meta` holds an ImageBoxes (no boxes) per image: original size and letterbox scale.
    """
    size = tuple(schema["image_size"])
    if isinstance(inputs, np.ndarray):
        images = inputs if inputs.ndim == 4 else inputs[None]
        for start in range(0, len(images), chunk_size):
            batch = images[start:start + chunk_size]
            ids = [f"array[{i}]" for i in range(start, start + len(batch))]
            yield _chunk(ids, [np.asarray(img, np.uint8) for img in batch], size, ())
        return
    files = prediction_files(inputs)
    for start in range(0, len(files), chunk_size):
        batch = files[start:start + chunk_size]
        decoded, failures = [], []
        for file in batch:
            try:
                decoded.append((str(file), decode_image(Path(file).read_bytes(), str(file))))
            except (ImageDecodeError, OSError) as error:
                failures.append((str(file), str(error)))
        yield _chunk([i for i, _ in decoded], [img for _, img in decoded], size, tuple(failures))


def _chunk(ids: list[str], images: list[np.ndarray], size: tuple[int, int], failures) -> InputChunk:
    pixels, meta = [], []
    for image in images:
        canvas, scale = letterbox(to_channels(image, 3), size)
        pixels.append(canvas)
        meta.append(ImageBoxes(np.zeros((0, 4), np.float32), image.shape[1], image.shape[0], scale))
    x = np.stack(pixels) if pixels else np.zeros((0, *size, 3), np.uint8)
    return InputChunk(ids=ids, x=x, failures=failures, meta=meta)


def prediction_files(inputs: Any) -> list[Path]:
    """Expand a folder, image files, or a list of these into image paths."""
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = list_image_files(path)
            if not found:
                raise DataError(f"No image files in {path}. Pass a folder of images or image files.")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"Input not found: {path}. Pass a folder of images or image files.")
    return files
