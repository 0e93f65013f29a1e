"""Image files to pixel arrays: decode, convert channels, resize, in parallel.

Shared by every domain that reads images. OpenCV decodes (it releases the GIL,
so a thread pool decodes on all cores); arrays are RGB or single-channel uint8.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_image_files(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, in a stable order."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and is_image_file(p))


class ImageDecodeError(Exception):
    """A file could not be read as an image; the message says why."""


class _QuietOpenCV:
    """OpenCV's own log lines ([ WARN:0@...], [ERROR:0@...]) kept off stderr while decoding: the toolkit
    says itself which files could not be read, and why. Nested and concurrent uses (the decoding
    threads) share one silence; OpenCV's previous level comes back when the last one ends."""

    def __init__(self):
        self._lock, self._depth, self._saved = threading.Lock(), 0, None

    @contextlib.contextmanager
    def __call__(self):
        import cv2

        with self._lock:
            if self._depth == 0:
                self._saved = cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    cv2.utils.logging.setLogLevel(self._saved)


quiet_opencv = _QuietOpenCV()


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode encoded image bytes to an RGB (H, W, 3) or gray (H, W, 1) uint8 array.

    Truncated JPEGs are rejected (OpenCV would return them half grey).
    """
    import cv2

    if not data:
        raise ImageDecodeError("empty file")
    if data[:2] == b"\xff\xd8" and data.rstrip(b"\x00")[-2:] != b"\xff\xd9":
        raise ImageDecodeError("truncated JPEG (no end-of-image marker)")
    with quiet_opencv():
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageDecodeError("not a decodable image")
    if image.dtype == np.uint16:
        image = (image / 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 2:
        return image[:, :, None]
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    if image.shape[2] == 1:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Convert an (H, W, C) uint8 image to 1 (gray) or 3 (RGB) channels."""
    import cv2

    if image.shape[2] == channels:
        return image
    if channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
    return np.repeat(image, 3, axis=2)


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to (height, width), area interpolation when shrinking, keeping (H, W, C)."""
    import cv2

    height, width = size
    if image.shape[:2] == (height, width):
        return image
    shrinking = image.shape[0] > height or image.shape[1] > width
    resized = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return resized.reshape(height, width, image.shape[2])


@dataclass(frozen=True)
class DecodedImages:
    """Pixels of the files that decoded, and the reason for each that did not."""

    pixels: np.ndarray
    kept: np.ndarray
    failures: tuple[tuple[str, str], ...]


def read_images(
    paths: list[Path], size: tuple[int, int], channels: int, workers: int | None = None
) -> DecodedImages:
    """Decode, convert and resize image files in parallel.

    Returns a (N_ok, H, W, C) uint8 array, the indices of `paths` that decoded,
    and (path, reason) for those that did not.
    """
    def load(path: Path):
        try:
            with open(path, "rb") as handle:
                image = decode_image(handle.read(), str(path))
            return resize_image(to_channels(image, channels), size), None
        except (ImageDecodeError, OSError) as error:
            return None, str(error)

    workers = workers or min(8, (os.cpu_count() or 2) * 2)
    with quiet_opencv(), ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(load, paths))
    kept = [i for i, (image, _) in enumerate(results) if image is not None]
    failures = tuple((str(paths[i]), error) for i, (image, error) in enumerate(results) if image is None)
    pixels = np.stack([results[i][0] for i in kept]) if kept else np.zeros((0, *size, channels), np.uint8)
    return DecodedImages(pixels=pixels, kept=np.asarray(kept, dtype=np.int64), failures=failures)


def count_channels(paths: list[Path], sample: int = 64) -> int:
    """3 if any of the first `sample` decodable images has colour, else 1."""
    for path in paths[:sample]:
        try:
            image = decode_image(Path(path).read_bytes())
        except (ImageDecodeError, OSError):
            continue
        if image.shape[2] == 3 and not (
            np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2])
        ):
            return 3
    return 1
