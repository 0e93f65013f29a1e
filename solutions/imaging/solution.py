"""What every image-classifying solution shares on top of Solution: its custom layers and example pixels.

Image classification and medical imaging both subclass ImageSolution (object
detection has its own model layers and inputs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core.solution import Solution


class ImageSolution(Solution):
    """A Solution whose model takes raw (N, H, W, C) pixels and may use imaging.layers."""

    def custom_objects(self) -> dict[str, Any]:
        from solutions.imaging.layers import image_custom_objects

        return image_custom_objects()

    def example_inputs(self, schema: dict[str, Any], n: int = 4) -> np.ndarray:
        """Random pixels of the schema's size and channels, 0..255 as float32 (for export checks)."""
        height, width = schema["image_size"]
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (n, height, width, int(schema["channels"]))).astype(np.float32)
