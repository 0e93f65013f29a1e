"""Read labelled images in the layouts users have, and make the bundled sample.

Layouts: a folder per class (optionally under train/ val/ test/), a CSV of
path,label (optional split column), a .npz of arrays, or an archive of any of
these. Images of any size are resized; unreadable ones are skipped and counted
or, with on_corrupt="error", listed in a DataError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource, is_archive, unpack_archive
from solutions.core.errors import DataError
from solutions.core.images import count_channels, is_image_file, list_image_files, read_images, resize_image, to_channels
from solutions.core.solution import InputChunk
from solutions.core.splits import SPLIT_NAMES, Examples

SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val", "test": "test", "testing": "test"}
PATH_COLUMNS = ("path", "file", "filename", "image", "image_path")
LABEL_COLUMNS = ("label", "target", "class", "y")


def load_image_examples(source: DataSource, image_size: tuple[int, int], channels: str | int,
                        on_corrupt: str = "skip") -> Examples:
    """Load labelled images from any supported layout as Examples of (N, H, W, C) uint8 pixels."""
    if source.generator:
        return _generated(source.generator, image_size, channels)
    path = source.path
    if is_archive(path):
        path = unpack_archive(path)
    if path.is_dir():
        files, labels, given = _folder_layout(path)
    elif path.suffix.lower() == ".csv":
        files, labels, given = _csv_layout(path, source.config)
    elif path.suffix.lower() == ".npz":
        return load_npz_examples(path, image_size, channels, source.config.get("class_names"))
    else:
        raise DataError(
            f"Unsupported image data: {path}. Pass a folder with one subfolder per class, a CSV with "
            "path and label columns, a .npz with images and labels, or an archive of these."
        )
    n_channels = _resolve_channels(channels, files)
    decoded = read_images(files, tuple(image_size), n_channels)
    if decoded.failures and on_corrupt == "error":
        listed = "; ".join(f"{p} ({why})" for p, why in decoded.failures[:20])
        raise DataError(f"{len(decoded.failures)} images could not be read: {listed}. "
                        "Remove or replace them, or set --set on_corrupt=skip to skip them.")
    kept = decoded.kept
    ids = np.asarray([_relative(f, path) for f in files], dtype=object)
    return Examples(
        x=decoded.pixels, labels=np.asarray(labels, dtype=object)[kept], ids=ids[kept],
        given_split=None if given is None else np.asarray(given, dtype=object)[kept],
        dropped=tuple((_relative(Path(p), path), f"unreadable image: {why}") for p, why in decoded.failures),
    )


def _relative(file: Path, root: Path) -> str:
    try:
        return str(Path(file).relative_to(root))
    except ValueError:
        return str(file)


def _resolve_channels(channels: str | int, files: list[Path]) -> int:
    if channels in (1, 3):
        return int(channels)
    if channels == "gray":
        return 1
    if channels == "rgb":
        return 3
    return count_channels(files)


def _class_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _folder_layout(root: Path) -> tuple[list[Path], list[str], list[str] | None]:
    subfolders = _class_folders(root)
    loose = [p for p in root.iterdir() if p.is_file() and is_image_file(p)]
    if len(subfolders) == 1 and not loose and _class_folders(subfolders[0]):
        return _folder_layout(subfolders[0])  # an archive's single top folder
    split_folders = {SPLIT_ALIASES[p.name.lower()]: p for p in subfolders if p.name.lower() in SPLIT_ALIASES}
    files, labels, given = [], [], []
    if split_folders and "train" in split_folders:
        for split, folder in split_folders.items():
            for class_dir in _class_folders(folder):
                for file in list_image_files(class_dir):
                    files.append(file), labels.append(class_dir.name), given.append(split)
        if not files:
            raise DataError(f"No images found under {root}/train/<class>/. Put each class's images in its own subfolder.")
        return files, labels, given
    for class_dir in subfolders:
        for file in list_image_files(class_dir):
            files.append(file), labels.append(class_dir.name)
    if not files:
        found = ", ".join(p.name for p in subfolders[:10]) or "no subfolders"
        raise DataError(
            f"No images found in {root} (found: {found}). Expected one subfolder per class holding image files "
            f"({', '.join(s.lstrip('.') for s in ('.png', '.jpg', '.jpeg', '.bmp', '.tif'))}), optionally under train/, val/ and test/."
        )
    return files, labels, None


def _csv_layout(path: Path, config: dict[str, Any]) -> tuple[list[Path], list[str], list[str] | None]:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"Could not read {path} as CSV: {error}.") from None
    if frame.empty:
        raise DataError(f"{path} has no rows. Expected columns path,label with one image per row.")
    columns = list(frame.columns)
    path_column = config.get("path_column") or next((c for c in PATH_COLUMNS if c in columns), None)
    label_column = config.get("label") or next((c for c in LABEL_COLUMNS if c in columns), None)
    if path_column is None or label_column is None:
        missing = "an image path column (path, file, filename, image)" if path_column is None else "a label column (label, target, class, y)"
        raise DataError(f"{path} has no {missing}. Columns found: {', '.join(map(str, columns))}. "
                        "Rename the columns or pass --label COLUMN.")
    if label_column not in columns:
        raise DataError(f"{path} has no column {label_column!r}. Columns found: {', '.join(map(str, columns))}.")
    files = [(path.parent / str(p)) for p in frame[path_column]]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DataError(f"{path} names {len(missing)} image files that do not exist, for example: {', '.join(missing[:5])}. "
                        "Paths are read relative to the CSV's folder.")
    given = None
    if "split" in columns:
        given = [SPLIT_ALIASES.get(str(s).lower(), str(s)) for s in frame["split"]]
        bad = sorted(set(given) - set(SPLIT_NAMES))
        if bad:
            raise DataError(f"{path} column `split` holds {bad}; allowed values are train, val and test.")
    return files, [str(v) for v in frame[label_column]], given


def load_npz_examples(path: Path, image_size: tuple[int, int], channels: str | int,
                      class_names: list[str] | None = None) -> Examples:
    """Images and labels from a .npz: keys x/y, images/labels, or MedMNIST's train_images, val_labels, ..."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise DataError(f"Could not read {path} as a NumPy .npz file: {error}.") from None
    keys = set(archive.files)
    parts: list[tuple[str | None, np.ndarray, np.ndarray]] = []
    if {"train_images", "train_labels"} <= keys:
        for split in SPLIT_NAMES:
            if f"{split}_images" in keys and f"{split}_labels" in keys:
                parts.append((split, archive[f"{split}_images"], archive[f"{split}_labels"]))
    else:
        for x_key, y_key in (("x", "y"), ("images", "labels"), ("X", "y")):
            if x_key in keys and y_key in keys:
                parts.append((None, archive[x_key], archive[y_key]))
                break
    if not parts:
        raise DataError(f"{path} does not hold images and labels. Keys found: {', '.join(sorted(keys)) or 'none'}. "
                        "Expected x and y, images and labels, or train_images/train_labels (MedMNIST).")
    images, labels, given = [], [], []
    for split, x, y in parts:
        y = np.asarray(y).reshape(len(y), -1)
        if y.shape[1] != 1:
            raise DataError(f"{path} holds multi-label targets (shape {y.shape}); image_classification takes one label per image.")
        images.append(_conform(np.asarray(x), image_size, channels))
        labels.append(y[:, 0])
        given.extend([split] * len(x))
    labels_array = np.concatenate(labels)
    if class_names:
        labels_array = np.asarray([class_names[int(v)] for v in labels_array], dtype=object)
    ids = np.asarray([f"{path.name}[{i}]" for i in range(len(labels_array))], dtype=object)
    return Examples(x=np.concatenate(images), labels=labels_array, ids=ids,
                    given_split=None if given[0] is None else np.asarray(given, dtype=object))


def _conform(x: np.ndarray, image_size: tuple[int, int], channels: str | int) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) arrays to uint8 (N, h, w, c) at the recipe's size."""
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise DataError(f"Image arrays must have shape (N, H, W) or (N, H, W, C) with C in 1, 3, 4. Received shape {x.shape}.")
    if x.dtype != np.uint8:
        x = np.clip(x * 255 if x.max() <= 1.0 else x, 0, 255).astype(np.uint8)
    if x.shape[-1] == 4:
        x = x[..., :3]
    target = {"gray": 1, "rgb": 3}.get(channels, channels if channels in (1, 3) else x.shape[-1])
    return np.stack([resize_image(to_channels(img, target), tuple(image_size)) for img in x])


def _generated(generator: dict[str, Any], image_size: tuple[int, int], channels: str | int) -> Examples:
    name = generator.get("name")
    if name != "shapes":
        raise DataError(f"Unknown image generator {name!r}; the image_classification generator is 'shapes'.")
    options = {k: v for k, v in generator.items() if k != "name"}
    images, labels = make_shapes(**options)
    images = _conform(images, image_size, channels if channels != "auto" else 3)
    ids = np.asarray([f"shapes[{i}]" for i in range(len(labels))], dtype=object)
    return Examples(x=images, labels=labels, ids=ids)


SHAPE_CLASSES = ("circle", "square", "triangle")


def make_shapes(n_per_class: int = 40, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of coloured circles, squares and triangles on noisy backgrounds.

    >>> images, labels = make_shapes(n_per_class=2, size=32, seed=0)
    >>> images.shape, sorted(set(labels))
    ((6, 32, 32, 3), ['circle', 'square', 'triangle'])
    """
    import cv2

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n_per_class):
        for name in SHAPE_CLASSES:
            background = rng.integers(0, 80, 3)
            image = np.clip(background + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)
            colour = tuple(int(c) for c in rng.integers(120, 256, 3))
            radius = int(rng.integers(size // 5, size // 3))
            cx, cy = (int(v) for v in rng.integers(radius + 1, size - radius - 1, 2))
            if name == "circle":
                cv2.circle(image, (cx, cy), radius, colour, -1)
            elif name == "square":
                cv2.rectangle(image, (cx - radius, cy - radius), (cx + radius, cy + radius), colour, -1)
            else:
                points = np.array([[cx, cy - radius], [cx - radius, cy + radius], [cx + radius, cy + radius]], np.int32)
                cv2.fillPoly(image, [points], colour)
            images.append(image)
            labels.append(name)
    return np.stack(images), np.asarray(labels, dtype=object)


def iter_prediction_inputs(inputs: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
    """Chunks of decoded images from a folder, an image file, a text file of paths, a list of paths, or an array."""
    size, channels = tuple(schema["image_size"]), int(schema["channels"])
    if isinstance(inputs, np.ndarray):
        pixels = _conform(inputs, size, channels)
        for start in range(0, len(pixels), chunk_size):
            ids = [f"array[{i}]" for i in range(start, min(start + chunk_size, len(pixels)))]
            yield InputChunk(ids=ids, x=pixels[start:start + chunk_size])
        return
    files = prediction_files(inputs)
    for start in range(0, len(files), chunk_size):
        batch = files[start:start + chunk_size]
        decoded = read_images(batch, size, channels)
        yield InputChunk(ids=[str(batch[i]) for i in decoded.kept], x=decoded.pixels, failures=decoded.failures)


def prediction_files(inputs: Any) -> list[Path]:
    """Expand a folder, image file, text file of paths, or a list of these into image paths."""
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = list_image_files(path)
            if not found:
                raise DataError(f"No image files in {path}. Pass a folder of images, image files, or a .txt list of paths.")
            files.extend(found)
        elif path.is_file() and path.suffix.lower() == ".txt":
            listed = [Path(line.strip()) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            files.extend(p if p.is_absolute() else path.parent / p for p in listed)
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"Input not found: {path}. Pass existing image files, folders of images, or a .txt list of paths.")
    return files
