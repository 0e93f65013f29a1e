"""The tf.data input pipeline: letterboxed pixels and padded boxes -> augmented batches with head targets."""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core.splits import Split
from solutions.object_detection.augment import augment_image
from solutions.object_detection.data import padded_boxes
from solutions.object_detection.recipe import STRIDE, DetectionRecipe
from solutions.object_detection.targets import encode_targets


def detection_dataset(split: Split, schema: dict[str, Any], recipe: DetectionRecipe, training: bool):
    """Batches of (float32 pixels, targets (B, L, n_classes + 5)); shuffled and augmented when training.

    Augmentation draws come from a seeded tf.data random stream that changes every
    epoch, so runs with the same seed see the same batches.
    """
    import tensorflow as tf

    size = tuple(schema["image_size"])
    n_classes = len(schema["class_names"])
    most = max([1] + [len(y) for y in split.y])
    boxes, classes = padded_boxes(split, most)
    dataset = tf.data.Dataset.from_tensor_slices((split.x, boxes, classes))
    if training:
        dataset = dataset.shuffle(len(split), seed=recipe.seed, reshuffle_each_iteration=True)
        seeds = tf.data.Dataset.random(seed=recipe.seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip((dataset, seeds))

        def augment(item, draw):
            image, image_boxes, image_classes = item
            seed = tf.stack([draw, tf.constant(recipe.seed, tf.int64)])
            return augment_image(tf.cast(image, tf.float32), image_boxes, image_classes, seed, size,
                                 recipe.flip, recipe.scale_jitter, recipe.color_jitter)

        dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = dataset.map(lambda image, b, c: (tf.cast(image, tf.float32), b, c), num_parallel_calls=tf.data.AUTOTUNE)

    def encode(images, batch_boxes, batch_classes):
        return images, encode_targets(batch_boxes, batch_classes, n_classes, size, int(schema.get("stride", STRIDE)),
                                      recipe.center_radius)

    return dataset.batch(recipe.batch_size).map(encode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def mean_and_std(pixels: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of uint8 pixels, in [0, 1] units (computed in chunks)."""
    total = np.zeros(3)
    squares = np.zeros(3)
    count = 0
    for start in range(0, len(pixels), 64):
        chunk = pixels[start:start + 64].astype(np.float64) / 255
        total += chunk.sum(axis=(0, 1, 2))
        squares += (chunk ** 2).sum(axis=(0, 1, 2))
        count += chunk.shape[0] * chunk.shape[1] * chunk.shape[2]
    mean = total / max(count, 1)
    std = np.sqrt(np.maximum(squares / max(count, 1) - mean ** 2, 1e-6))
    return mean.tolist(), np.maximum(std, 1e-3).tolist()
