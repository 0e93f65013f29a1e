"""Keras layers for image models that Keras itself lacks, registered so saved models load with safe_mode on.

A model using them loads with `custom_objects=image_custom_objects()` (or once
this module is imported).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ksol")
class RandomAffine(keras.layers.Layer):
    """Random rotation, shift, zoom (and allowed flips) of a batch of images in ONE resampling.

    Keras' RandomRotation, RandomTranslation and RandomZoom each resample the
    image, and in a row they blur it: a network trained on thrice-interpolated
    images then sees sharper ones at inference, and its batch-norm statistics
    no longer fit. One affine resampling blurs once, and `probability` < 1
    leaves some images untouched (exactly: the identity transform samples on
    the pixel grid). Inactive unless called with training=True.

    Unlike Keras' own augmentation layers, a call without `training` (as
    exporters and plain `model(x)` make) leaves the images alone.

    rotation: maximum angle in degrees (+-); shift: maximum translation as a
    fraction of height and width (+-); zoom: maximum scale change (+-, 0.1 is
    0.9x to 1.1x); flip: "none", "horizontal", "vertical" or "both" (each
    allowed flip with probability 1/2, for every image); fill_mode: how
    borders are filled ("reflect", "nearest", "constant").

    >>> import numpy as np
    >>> layer = RandomAffine(rotation=10, shift=0.1, zoom=0.1, seed=1)
    >>> images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 1)).astype("float32")
    >>> bool(np.array_equal(np.asarray(layer(images)), images)), np.asarray(layer(images, training=True)).shape
    (True, (2, 16, 16, 1))
    """

    def __init__(self, rotation: float = 0.0, shift: float = 0.0, zoom: float = 0.0, probability: float = 1.0,
                 flip: str = "none", fill_mode: str = "reflect", seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        for name, value, high in (("rotation", rotation, 180), ("shift", shift, 1), ("zoom", zoom, 1), ("probability", probability, 1)):
            if not 0 <= value <= high:
                raise ValueError(f"`{name}` must be between 0 and {high}. Received: {name}={value}.")
        if fill_mode not in ("reflect", "nearest", "constant", "wrap", "mirror"):
            raise ValueError(f'`fill_mode` must be one of "reflect", "nearest", "constant", "wrap", "mirror". Received: fill_mode={fill_mode!r}.')
        if flip not in ("none", "horizontal", "vertical", "both"):
            raise ValueError(f'`flip` must be one of "none", "horizontal", "vertical", "both". Received: flip={flip!r}.')
        self.rotation, self.shift, self.zoom, self.probability = float(rotation), float(shift), float(zoom), float(probability)
        self.flip, self.fill_mode, self.seed = flip, fill_mode, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        shape = ops.shape(images)
        batch = shape[0]
        height, width = ops.cast(shape[1], "float32"), ops.cast(shape[2], "float32")

        def uniform(limit):
            return keras.random.uniform((batch,), -limit, limit, seed=self.seed_generator)

        apply = ops.cast(keras.random.uniform((batch,), 0, 1, seed=self.seed_generator) < self.probability, "float32")
        angle = uniform(self.rotation * math.pi / 180) * apply
        scale = 1 + uniform(self.zoom) * apply
        tx, ty = uniform(self.shift) * width * apply, uniform(self.shift) * height * apply
        fx, fy = self._flip_sign("horizontal", batch), self._flip_sign("vertical", batch)
        # The transform maps each output pixel (x, y) to the input point it samples: a flip, a rotation by
        # `angle` and a zoom by `scale` about the image centre, then a shift by (tx, ty).
        cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
        cx, cy = (width - 1) / 2, (height - 1) / 2
        a0, a1, b0, b1 = fx * cos, -fx * sin, fy * sin, fy * cos
        zeros = ops.zeros_like(cos)
        transform = ops.stack([a0, a1, cx - a0 * cx - a1 * cy - fx * tx,
                               b0, b1, cy - b0 * cx - b1 * cy - fy * ty, zeros, zeros], axis=1)
        return ops.image.affine_transform(images, transform, interpolation="bilinear", fill_mode=self.fill_mode)

    def _flip_sign(self, axis: str, batch):
        if self.flip not in (axis, "both"):
            return ops.ones((batch,))
        return ops.where(keras.random.uniform((batch,), 0, 1, seed=self.seed_generator) < 0.5, -1.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rotation": self.rotation, "shift": self.shift, "zoom": self.zoom,
                "probability": self.probability, "flip": self.flip, "fill_mode": self.fill_mode, "seed": self.seed}


@keras.saving.register_keras_serializable(package="ksol")
class RandomImageContrast(keras.layers.Layer):
    """Scale each image's contrast about its mean by a random factor in [1 - factor, 1 + factor], clipped to 0..255.

    Like RandomAffine, inactive unless called with training=True (Keras'
    RandomContrast is active when `training` is left out).

    >>> import numpy as np
    >>> x = np.array([[[[0.0], [100.0]]]], dtype="float32")
    >>> np.asarray(RandomImageContrast(0.5, seed=0)(x)).ravel().tolist()
    [0.0, 100.0]
    """

    def __init__(self, factor: float = 0.0, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if not 0 <= factor < 1:
            raise ValueError(f"`factor` must be in [0, 1). Received: factor={factor}.")
        self.factor, self.seed = float(factor), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        batch = ops.shape(images)[0]
        factor = keras.random.uniform((batch, 1, 1, 1), 1 - self.factor, 1 + self.factor, seed=self.seed_generator)
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        return ops.clip((images - mean) * factor + mean, 0.0, 255.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}


@keras.saving.register_keras_serializable(package="ksol")
class TrainingOnly(keras.layers.Wrapper):
    """Run the wrapped (augmentation) layer only when called with training=True; otherwise pass inputs through.

    Keras' own random layers (RandomFlip, RandomTranslation, ...) augment when a
    model is called without `training`, as a plain `model(x)` on a loaded
    model.keras does. Wrapped in this layer they stay inactive there, as under
    `predict`; `fit` still trains with them.

    >>> import numpy as np
    >>> flip = TrainingOnly(keras.layers.RandomFlip("horizontal", seed=0))
    >>> x = np.arange(8, dtype="float32").reshape(1, 2, 4, 1)
    >>> bool(np.array_equal(np.asarray(flip(x)), x))
    True
    """

    def call(self, inputs, training=None):
        return self.layer(inputs, training=True) if training else inputs

    def compute_output_shape(self, input_shape):
        return input_shape


def image_custom_objects() -> dict[str, Any]:
    """The layers of this module by registered name, for keras.saving.load_model(custom_objects=...)."""
    return {"ksol>RandomAffine": RandomAffine, "ksol>RandomImageContrast": RandomImageContrast,
            "ksol>TrainingOnly": TrainingOnly}
