"""Box-aware augmentation: the boxes move with the pixels, and the same seed gives the same result."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from solutions.object_detection.augment import augment_image


def bright_region(image: np.ndarray) -> list[float]:
    rows, cols = np.nonzero(image[..., 0] > 200)
    return [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]


@pytest.mark.parametrize("seed", range(6))
def test_boxes_follow_flips_and_zoom(seed):
    image = np.zeros((64, 96, 3), np.float32)
    image[10:30, 20:50] = 255
    boxes = tf.constant([[20, 10, 50, 30], [0, 0, 0, 0]], tf.float32)
    classes = tf.constant([1, -1], tf.int32)
    out, out_boxes, out_classes = augment_image(tf.constant(image), boxes, classes, tf.constant([seed, 0], tf.int64),
                                                (64, 96), "both", 0.3, 0.0)
    out, out_boxes, out_classes = out.numpy(), out_boxes.numpy(), out_classes.numpy()
    assert out.shape == (64, 96, 3)
    assert out_classes[1] == -1  # padding stays padding
    if out_classes[0] == 1:
        assert np.allclose(out_boxes[0], bright_region(out), atol=1.5), (out_boxes[0], bright_region(out))
    else:  # the zoom pushed most of the box out of the picture
        assert out[..., 0].max() <= 255


def test_same_seed_same_augmentation_and_colour_changes_pixels_only():
    image = tf.constant(np.random.default_rng(0).integers(0, 255, (32, 32, 3)).astype(np.float32))
    boxes, classes = tf.constant([[4, 4, 20, 20]], tf.float32), tf.constant([0], tf.int32)
    seed = tf.constant([3, 1], tf.int64)
    a = augment_image(image, boxes, classes, seed, (32, 32), "none", 0.0, 0.5)
    b = augment_image(image, boxes, classes, seed, (32, 32), "none", 0.0, 0.5)
    assert np.array_equal(a[0].numpy(), b[0].numpy())
    assert not np.allclose(a[0].numpy(), image.numpy(), atol=1.0)
    assert np.allclose(a[1].numpy(), boxes.numpy(), atol=1e-4)
