"""Labelled images in the layouts users have: a folder per class, a CSV of paths, a .npz of arrays.

Shared by the image domains. These functions find files and labels (and, where
the data has them, given splits and group ids such as patient ids); decoding
the pixels is left to the domain (imaging.decode for PNG and JPEG). Every
problem a user can fix is a DataError naming what was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from solutions.core.errors import DataError
from solutions.core.layout import class_folders, find_label_column, given_splits
from solutions.imaging.decode import IMAGE_SUFFIXES, count_channels, resize_image, to_channels
from solutions.core.solution import InputChunk
from solutions.core.splits import SPLIT_NAMES, Examples
from solutions.core.wording import agree, plural

PATH_COLUMNS = ("path", "file", "filename", "image", "image_path")
MULTI_LABEL_SEPARATOR = "|"


@dataclass(frozen=True)
class LabelledFiles:
    """Image files with their labels, as a layout listed them.

    `labels` is (N,) raw labels, or an (N, K) 0/1 matrix for multi-label data
    whose columns are `label_names`. `given_split` and `groups` (patient ids,
    say) are per file, or None when the layout has none.
    """

    files: list[Path]
    labels: np.ndarray
    given_split: np.ndarray | None = None
    groups: np.ndarray | None = None
    label_names: tuple[str, ...] | None = None


def has_suffix(path: Path, suffixes: Iterable[str]) -> bool:
    return path.suffix.lower() in tuple(suffixes) and not path.name.startswith(".")


def list_files(folder: Path, suffixes: Iterable[str] = IMAGE_SUFFIXES) -> list[Path]:
    """Files under `folder` with one of `suffixes`, recursively, in a stable order."""
    suffixes = tuple(suffixes)
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and has_suffix(p, suffixes))


def relative_id(file: Path, root: Path) -> str:
    """`file` relative to `root` when it lies under it, else the path as given."""
    try:
        return str(Path(file).relative_to(root))
    except ValueError:
        return str(file)


def resolve_channels(channels: str | int, files: list[Path]) -> int:
    """1 or 3 from a recipe's `channels` ("auto", "gray", "rgb", 1 or 3)."""
    if channels in (1, 3):
        return int(channels)
    if channels == "gray":
        return 1
    if channels == "rgb":
        return 3
    return count_channels(files)


def folder_layout(root: Path, suffixes: Iterable[str] = IMAGE_SUFFIXES) -> LabelledFiles:
    """A folder per class, optionally under train/ val/ test/ (or one archive top folder above them)."""
    suffixes = tuple(suffixes)
    layout = class_folders(root, lambda folder: any(p.is_file() and has_suffix(p, suffixes) for p in folder.iterdir()),
                           without_train="classes")
    files, labels, given = [], [], []
    for split, class_dir in layout.folders:
        for file in list_files(class_dir, suffixes):
            files.append(file), labels.append(class_dir.name), given.append(split)
    if layout.has_splits:
        if not files:
            raise DataError(f"No images found under {layout.root}/train/<class>/. Put each class's images in its own subfolder.")
        return LabelledFiles(files, np.asarray(labels, dtype=object), np.asarray(given, dtype=object))
    if not files:
        raise DataError(
            f"No images found in {layout.root} (found: {layout.found_text()}). Expected one subfolder per class holding "
            f"image files ({', '.join(s.lstrip('.') for s in suffixes[:6])}), optionally under train/, val/ and test/."
        )
    return LabelledFiles(files, np.asarray(labels, dtype=object))


def csv_layout(path: Path, config: dict[str, Any], *, multi_label: bool = False,
               group_columns: tuple[str, ...] = ()) -> LabelledFiles:
    """A CSV of image paths (relative to the CSV) and labels, with optional `split` and group columns.

    With `multi_label`, the labels may be several 0/1 columns (config `label`
    as a list or "A,B,C") or one column of names joined by "|" ("effusion|nodule",
    empty for none). The group column is config `options.group_column`, or the
    first column named like one of `group_columns` (case-insensitive).
    """
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"Could not read {path} as CSV: {error}.") from None
    if frame.empty:
        raise DataError(f"{path} has no rows. Expected columns path,label with one image per row.")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    listed = ", ".join(columns)
    path_column = config.get("path_column") or next((c for c in PATH_COLUMNS if c in columns), None)
    if path_column is None:
        raise DataError(f"{path} has no image path column (none is named {', '.join(PATH_COLUMNS[:4])}). "
                        f"Columns found: {listed}. Rename the column of image paths to path, or name it with "
                        "`path_column` in the dataset config.")
    label_columns = _label_columns(config.get("label") or "")
    if len(label_columns) <= 1:
        label_columns = [find_label_column(columns, label_columns[0] if label_columns else None, str(path),
                                           several="first", match_case=True)]
    absent = [c for c in [path_column, *label_columns] if c not in columns]
    if absent:
        raise DataError(f"{path} has no column {', '.join(map(repr, absent))}. Columns found: {listed}.")
    if len(label_columns) > 1 and not multi_label:
        raise DataError(f"{path}: this solution takes one label column per image. Received: --label {','.join(label_columns)}.")
    files = [(path.parent / str(p)) for p in frame[path_column]]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DataError(f"{path} names {plural(len(missing), 'image file')} that {agree(len(missing), 'does', 'do')} not exist, "
                        f"for example: {', '.join(missing[:5])}. "
                        "Paths are read relative to the CSV's folder.")
    given = None
    if "split" in columns:
        given = np.asarray(given_splits(frame["split"], str(path)), dtype=object)
    labels, label_names = _csv_labels(path, frame, label_columns, multi_label)
    groups = _csv_groups(path, frame, config, group_columns)
    return LabelledFiles(files, labels, given, groups, label_names)


def _label_columns(spec: Any) -> list[str]:
    if isinstance(spec, (list, tuple)):
        return [str(c).strip() for c in spec]
    return [c.strip() for c in str(spec).split(",") if c.strip()]


def _csv_labels(path: Path, frame, columns: list[str], multi_label: bool) -> tuple[np.ndarray, tuple[str, ...] | None]:
    if len(columns) > 1:
        values = frame[columns]
        allowed = {"0", "1", "0.0", "1.0", "true", "false"}
        bad = sorted({str(v) for v in values.to_numpy().ravel()} - allowed, key=str)
        if bad:
            raise DataError(f"{path}: multi-label columns {', '.join(columns)} must hold 0 or 1. Received values: {bad[:10]}.")
        matrix = values.astype(str).apply(lambda s: s.str.lower().isin(["1", "1.0", "true"])).to_numpy().astype(np.int64)
        return matrix, tuple(columns)
    raw = frame[columns[0]]
    texts = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in raw]
    if multi_label and any(MULTI_LABEL_SEPARATOR in t for t in texts):
        sets = [{part.strip() for part in t.split(MULTI_LABEL_SEPARATOR) if part.strip()} for t in texts]
        names = tuple(sorted(set().union(*sets)))
        matrix = np.asarray([[name in s for name in names] for s in sets], dtype=np.int64)
        return matrix, names
    return np.asarray([str(v) for v in raw], dtype=object), None


def _csv_groups(path: Path, frame, config: dict[str, Any], candidates: tuple[str, ...]) -> np.ndarray | None:
    options = config.get("options") or {}
    column = options.get("group_column") if isinstance(options, dict) else None
    if column is not None and column not in frame.columns:
        raise DataError(f"{path} has no group column {column!r} (options.group_column). Columns found: {', '.join(frame.columns)}.")
    if column is None:
        lowered = {c.lower(): c for c in frame.columns}
        column = next((lowered[c.lower()] for c in candidates if c.lower() in lowered), None)
    if column is None:
        return None
    values = frame[column]
    empty = np.flatnonzero(values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy())
    if len(empty):
        rows = ", ".join(str(i + 2) for i in empty[:10])
        raise DataError(f"{path}: {plural(len(empty), 'row')} {agree(len(empty), 'has', 'have')} no value in the {column!r} "
                        f"column (CSV {agree(len(empty), 'line', 'lines')} {rows}). "
                        "Fill them in, or remove the column to split by image instead of by group.")
    return np.asarray([str(v) for v in values], dtype=object)


def load_npz_examples(path: Path, image_size: tuple[int, int] | None, channels: str | int,
                      class_names: list[str] | None = None, multi_label: bool = False) -> Examples:
    """Images and labels from a .npz: keys x/y, images/labels, or MedMNIST's train_images, val_labels, ...

    Labels of shape (N, K) with K > 1 are multi-label (MedMNIST's ChestMNIST);
    they are accepted only with `multi_label`. `image_size` None keeps the
    arrays' own size.
    """
    import zipfile
    import zlib

    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)  # a truncated or corrupt archive
    try:
        archive = np.load(path, allow_pickle=False)
    except unreadable as error:
        raise DataError(f"Could not read {path} as a NumPy .npz file: {error}.") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{path} holds a single array (a .npy file, shape {np.shape(archive)}), not an .npz archive "
                        "of images and labels. Save both with numpy.savez(path, x=images, y=labels).")

    def read(key: str) -> np.ndarray:
        try:
            return archive[key]
        except unreadable as error:  # object arrays (which need pickle) land here too
            raise DataError(f"Could not read the array {key!r} of {path}: {error}.") from None

    keys = set(archive.files)
    found = ", ".join(sorted(keys)) or "none"
    parts: list[tuple[str | None, np.ndarray, np.ndarray]] = []
    if any(f"{s}_images" in keys or f"{s}_labels" in keys for s in SPLIT_NAMES):
        for split in SPLIT_NAMES:
            pair = (f"{split}_images", f"{split}_labels")
            if (pair[0] in keys) != (pair[1] in keys):
                raise DataError(f"{path} has {pair[0] if pair[0] in keys else pair[1]} without "
                                f"{pair[1] if pair[0] in keys else pair[0]}. Keys found: {found}.")
            if pair[0] in keys:
                parts.append((split, read(pair[0]), read(pair[1])))
        if parts and parts[0][0] != "train":
            raise DataError(f"{path} has no train_images/train_labels. Keys found: {found}.")
    else:
        for x_key, y_key in (("x", "y"), ("images", "labels"), ("X", "y")):
            if x_key in keys and y_key in keys:
                parts.append((None, read(x_key), read(y_key)))
                break
    if not parts:
        raise DataError(f"{path} does not hold images and labels. Keys found: {found}. "
                        "Expected x and y, images and labels, or train_images/train_labels (MedMNIST).")
    images, labels, given = [], [], []
    for split, x, y in parts:
        in_split = f" in the {split} split" if split else ""
        if x.ndim == 0 or y.ndim == 0 or len(x) == 0:
            raise DataError(f"{path} holds no images{in_split}: images of shape {x.shape}, labels of shape {y.shape}. "
                            "Expected (N, H, W[, C]) images and N labels, N >= 1.")
        if len(x) != len(y):
            raise DataError(f"{path}: {plural(len(x), 'image')} but {plural(len(y), 'label')}{f' in the {split} split' if split else ''}.")
        y = np.asarray(y).reshape(len(y), -1)
        if y.shape[1] != 1 and not multi_label:
            raise DataError(f"{path} holds multi-label targets (shape {y.shape}); this solution takes one label per image.")
        try:
            images.append(conform_images(np.asarray(x), image_size, channels))
        except DataError as error:
            raise DataError(f"{path}{in_split}: {error}") from None
        labels.append(y)
        given.extend([split] * len(x))
    image_shapes, label_shapes = {part.shape[1:] for part in images}, {part.shape[1:] for part in labels}
    if len(image_shapes) > 1 or len(label_shapes) > 1:  # MedMNIST splits of different sizes, say
        raise DataError(f"{path}: the splits differ in image shape ({', '.join(map(str, sorted(image_shapes)))}) or "
                        f"label columns ({', '.join(str(s[0]) for s in sorted(label_shapes))}). Give every split the same "
                        "image size and labels, or set image_size.")
    try:
        matrix = np.concatenate(labels)
    except TypeError as error:  # labels of one split are numbers, of another text
        raise DataError(f"{path}: the splits' labels are of different kinds ({error}).") from None
    label_names = None
    if matrix.shape[1] > 1:
        if class_names and len(class_names) != matrix.shape[1]:
            raise DataError(f"{path} has {matrix.shape[1]} label columns but the dataset config names {len(class_names)} "
                            f"classes ({', '.join(map(str, class_names))}). Give one name per column.")
        label_names = tuple(str(c) for c in class_names) if class_names else tuple(f"label_{i}" for i in range(matrix.shape[1]))
        if not (np.issubdtype(matrix.dtype, np.number) or matrix.dtype == bool):
            raise DataError(f"{path}: multi-label targets must be 0/1 numbers. Received dtype {matrix.dtype}.")
        labels_array = matrix.astype(np.int64)
    else:
        labels_array = matrix[:, 0]
        if class_names:
            try:
                labels_array = np.asarray([class_names[int(v)] for v in labels_array], dtype=object)
            except (TypeError, ValueError, IndexError, OverflowError):
                raise DataError(f"{path}: its labels must be indices 0-{len(class_names) - 1} into the dataset config's "
                                f"class_names ({', '.join(map(str, class_names))}). Received values such as "
                                f"{', '.join(map(repr, np.unique(labels_array.astype(str))[:5]))}.") from None
    ids = np.asarray([f"{path.name}[{i}]" for i in range(len(labels_array))], dtype=object)
    return Examples(x=np.concatenate(images), labels=labels_array, ids=ids,
                    given_split=None if given[0] is None else np.asarray(given, dtype=object), label_names=label_names)


def conform_images(x: np.ndarray, image_size: tuple[int, int] | None, channels: str | int) -> np.ndarray:
    """(N, H, W) or (N, H, W, C) arrays to uint8 (N, h, w, c); `image_size` None keeps the size."""
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise DataError(f"Image arrays must have shape (N, H, W) or (N, H, W, C) with C in 1, 3, 4 (2D images; "
                        f"3D volumes are not supported). Received shape {x.shape}.")
    if x.size == 0:
        raise DataError(f"Image arrays must hold at least one pixel per image. Received shape {x.shape}.")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating) or x.dtype == bool):
        raise DataError(f"Image arrays must hold numbers (uint8 0-255, or floats 0-1). Received dtype {x.dtype}.")
    if x.dtype != np.uint8:
        x = np.clip(x * 255 if x.max() <= 1.0 else x, 0, 255).astype(np.uint8)
    if x.shape[-1] == 4:
        x = x[..., :3]
    target = {"gray": 1, "rgb": 3}.get(channels, channels if channels in (1, 3) else x.shape[-1])
    if target == x.shape[-1] and (image_size is None or tuple(image_size) == x.shape[1:3]):
        return x
    size = tuple(image_size) if image_size is not None else x.shape[1:3]
    return np.stack([resize_image(to_channels(img, target), size) for img in x])


def array_chunks(pixels: np.ndarray, chunk_size: int) -> Iterator[InputChunk]:
    """Prediction chunks of an in-memory image array, each image named by its index ("array[7]").

    >>> [chunk.ids for chunk in array_chunks(np.zeros((3, 2, 2, 1), np.uint8), 2)]
    [['array[0]', 'array[1]'], ['array[2]']]
    """
    for start in range(0, len(pixels), chunk_size):
        stop = min(start + chunk_size, len(pixels))
        yield InputChunk(ids=[f"array[{i}]" for i in range(start, stop)], x=pixels[start:stop])


def prediction_files(inputs: Any, suffixes: Iterable[str] = IMAGE_SUFFIXES) -> list[Path]:
    """Expand a folder, image file, text file of paths, or a list of these into image paths."""
    suffixes = tuple(suffixes)
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = list_files(path, suffixes)
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
