"""What every image-classifying solution shares on top of Solution: its custom layers, example pixels and
transfer learning on cached backbone features (extend_model, imaging.transfer).

Image classification and medical imaging both subclass ImageSolution (object
detection has its own model layers and inputs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core.solution import Solution


class ImageSolution(Solution):
    """A Solution whose model takes raw (N, H, W, C) pixels and may use imaging.layers."""

    def check_before_fit(self, recipe) -> None:
        """A transfer recipe's weights path exists and its image size suits the backbone, before data is read."""
        if getattr(recipe, "model", None) == "transfer":
            from solutions.imaging.backbones import check_transfer_recipe

            check_transfer_recipe(recipe)

    def extend_model(self, model, splits, schema: dict[str, Any], recipe, trainer):
        """Transfer learning with pretrained weights trains here, on cached activations (imaging.transfer); the
        notes name the backbone and the weights file with its sha256 (recorded in the run's manifest)."""
        from solutions.imaging.transfer import train_transfer

        return train_transfer(model, splits, recipe, trainer,
                              lambda split, training: self.make_dataset(split, schema, recipe, training),
                              lambda: self.loss_and_metrics(schema, recipe))

    def custom_objects(self) -> dict[str, Any]:
        from solutions.imaging.layers import image_custom_objects

        return image_custom_objects()

    def example_inputs(self, schema: dict[str, Any], n: int = 4) -> np.ndarray:
        """Random pixels of the schema's size and channels, 0..255 as float32 (for export checks)."""
        height, width = schema["image_size"]
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (n, height, width, int(schema["channels"]))).astype(np.float32)
