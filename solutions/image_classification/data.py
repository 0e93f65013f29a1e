"""Read labelled images in the layouts users have, and make the bundled sample.

Layouts (found by imaging.data): a folder per class (optionally under
train/ val/ test/), a CSV of path,label (optional split column), a .npz of
arrays, or an archive of any of these. Images of any size are resized;
unreadable ones are skipped and counted or, with on_corrupt="error", listed
in a DataError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource, is_archive, run_generator, unpack_archive
from solutions.core.errors import DataError
from solutions.imaging.data import (
    array_chunks, conform_images, csv_layout, folder_layout, load_npz_examples, prediction_files, relative_id,
    resolve_channels,
)
from solutions.imaging.decode import read_images
from solutions.imaging.shapes import SHAPE_CLASSES, draw_shape
from solutions.core.solution import InputChunk
from solutions.core.splits import Examples
from solutions.core.wording import plural

__all__ = ["load_image_examples", "make_shapes", "iter_prediction_inputs", "prediction_files", "SHAPE_CLASSES"]


def load_image_examples(source: DataSource, image_size: tuple[int, int], channels: str | int,
                        on_corrupt: str = "skip") -> Examples:
    """Load labelled images from any supported layout as Examples of (N, H, W, C) uint8 pixels."""
    if source.generator:
        return _generated(source.generator, image_size, channels)
    path = source.path
    if is_archive(path):
        path = unpack_archive(path)
    if path.is_dir():
        listing = folder_layout(path)
    elif path.suffix.lower() == ".csv":
        listing = csv_layout(path, source.config)
    elif path.suffix.lower() == ".npz":
        return load_npz_examples(path, image_size, channels, source.config.get("class_names"))
    else:
        raise DataError(
            f"Unsupported image data: {path}. Pass a folder with one subfolder per class, a CSV with "
            "path and label columns, a .npz with images and labels, or an archive of these."
        )
    files = listing.files
    n_channels = resolve_channels(channels, files)
    decoded = read_images(files, tuple(image_size), n_channels)
    if decoded.failures and on_corrupt == "error":
        listed = "; ".join(f"{p} ({why})" for p, why in decoded.failures[:20])
        raise DataError(f"{plural(len(decoded.failures), 'image')} could not be read: {listed}. "
                        "Remove or replace them, or set --set on_corrupt=skip to skip them.")
    kept = decoded.kept
    ids = np.asarray([relative_id(f, path) for f in files], dtype=object)
    return Examples(
        x=decoded.pixels, labels=listing.labels[kept], ids=ids[kept],
        given_split=None if listing.given_split is None else listing.given_split[kept],
        dropped=tuple((relative_id(Path(p), path), f"unreadable image: {why}") for p, why in decoded.failures),
    )


def _generated(generator: dict[str, Any], image_size: tuple[int, int], channels: str | int) -> Examples:
    name = generator.get("name")
    if name != "shapes":
        raise DataError(f"Unknown image generator {name!r}; the image_classification generator is 'shapes'.")
    images, labels = run_generator(make_shapes, generator)
    images = conform_images(images, image_size, channels if channels != "auto" else 3)
    ids = np.asarray([f"shapes[{i}]" for i in range(len(labels))], dtype=object)
    return Examples(x=images, labels=labels, ids=ids)


def make_shapes(n_per_class: int = 40, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded sample of coloured circles, squares and triangles on noisy backgrounds.

    >>> images, labels = make_shapes(n_per_class=2, size=32, seed=0)
    >>> images.shape, sorted(set(labels))
    ((6, 32, 32, 3), ['circle', 'square', 'triangle'])
    """
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n_per_class):
        for name in SHAPE_CLASSES:
            background = rng.integers(0, 80, 3)
            image = np.clip(background + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)
            colour = tuple(int(c) for c in rng.integers(120, 256, 3))
            radius = int(rng.integers(size // 5, size // 3))
            cx, cy = (int(v) for v in rng.integers(radius + 1, size - radius - 1, 2))
            draw_shape(image, name, (cx, cy), radius, colour)
            images.append(image)
            labels.append(name)
    return np.stack(images), np.asarray(labels, dtype=object)


def iter_prediction_inputs(inputs: Any, schema: dict[str, Any], chunk_size: int) -> Iterator[InputChunk]:
    """Chunks of decoded images from a folder, an image file, a text file of paths, a list of paths, or an array."""
    size, channels = tuple(schema["image_size"]), int(schema["channels"])
    if isinstance(inputs, np.ndarray):
        yield from array_chunks(conform_images(inputs, size, channels), chunk_size)
        return
    files = prediction_files(inputs)
    for start in range(0, len(files), chunk_size):
        batch = files[start:start + chunk_size]
        decoded = read_images(batch, size, channels)
        yield InputChunk(ids=[str(batch[i]) for i in decoded.kept], x=decoded.pixels, failures=decoded.failures)
