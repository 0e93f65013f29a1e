"""Shared fixtures: small generated image data written in the layouts users have."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KSOL_CACHE", str(Path(__file__).resolve().parent.parent / ".pytest-cache-ksol"))


def write_png(path: Path, image: np.ndarray) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    image = image if image.shape[-1] == 1 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    assert cv2.imwrite(str(path), image)
    return path


@pytest.fixture(scope="session")
def shapes_folder(tmp_path_factory) -> Path:
    """A folder per class of 32x32 PNGs (20 per class) from the seeded shapes generator."""
    from solutions.image_classification.data import make_shapes

    root = tmp_path_factory.mktemp("shapes_folder")
    images, labels = make_shapes(n_per_class=20, size=32, seed=1)
    for i, (image, label) in enumerate(zip(images, labels)):
        write_png(root / label / f"{label}_{i:03d}.png", image)
    return root
