"""What the detection head should output at each location: FCOS-style anchor-free targets.

The head predicts, at every location of a stride-8 grid, one score per class, the
distances (left, top, right, bottom) from the location to the sides of its box in
strides, and a centre-ness score. A location is a positive for a box when it lies
inside the box and within `center_radius` strides of its centre (the smallest such
box wins); a box too small to cover any location takes the one nearest its centre.
"""

from __future__ import annotations

import numpy as np


def grid_locations(image_size: tuple[int, int], stride: int) -> np.ndarray:
    """(L, 2) pixel centres (x, y) of the grid cells, row by row.

    >>> grid_locations((16, 24), 8).tolist()
    [[4.0, 4.0], [12.0, 4.0], [20.0, 4.0], [4.0, 12.0], [12.0, 12.0], [20.0, 12.0]]
    """
    height, width = image_size[0] // stride, image_size[1] // stride
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    return np.stack([(xs.reshape(-1) + 0.5) * stride, (ys.reshape(-1) + 0.5) * stride], axis=1).astype(np.float32)


def encode_targets(boxes, classes, n_classes: int, image_size: tuple[int, int], stride: int, center_radius: float):
    """Targets (B, L, n_classes + 5) for padded boxes (B, M, 4) and classes (B, M) (-1 = padding).

    Per location: one-hot class (all zero for background), distances l, t, r, b in
    strides (zero for background) and the centre-ness target.
    """
    import tensorflow as tf

    boxes = tf.cast(boxes, tf.float32)
    classes = tf.cast(classes, tf.int32)
    locations = tf.constant(grid_locations(image_size, stride))
    n_locations = locations.shape[0]
    cx, cy = locations[None, :, None, 0], locations[None, :, None, 1]  # (1, L, 1)
    x1, y1, x2, y2 = (boxes[:, None, :, i] for i in range(4))  # (B, 1, M)
    ltrb = tf.stack([cx - x1, cy - y1, x2 - cx, y2 - cy], axis=-1)  # (B, L, M, 4)
    valid = classes[:, None, :] >= 0
    inside = tf.reduce_min(ltrb, axis=-1) > 0
    box_cx, box_cy = (x1 + x2) / 2, (y1 + y2) / 2
    radius = center_radius * stride
    near = (tf.abs(cx - box_cx) <= radius) & (tf.abs(cy - box_cy) <= radius)
    candidate = inside & near & valid  # (B, L, M)
    # boxes without any candidate location take the location nearest their centre
    distance = tf.abs(cx - box_cx) + tf.abs(cy - box_cy)  # (B, L, M)
    nearest = tf.one_hot(tf.argmin(distance, axis=1), n_locations, axis=1) > 0.5  # (B, L, M)
    orphan = valid & ~tf.reduce_any(candidate, axis=1, keepdims=True)
    candidate = candidate | (nearest & orphan)
    area = (x2 - x1) * (y2 - y1)  # (B, 1, M)
    masked_area = tf.where(candidate, area, tf.fill(tf.shape(candidate), np.float32(np.inf)))
    assigned = tf.argmin(masked_area, axis=-1, output_type=tf.int32)  # (B, L)
    positive = tf.reduce_any(candidate, axis=-1)  # (B, L)
    positive_f = tf.cast(positive, tf.float32)[..., None]
    chosen = tf.maximum(tf.gather(ltrb, assigned, axis=2, batch_dims=2), 0.01 * stride)  # (B, L, 4)
    chosen_class = tf.gather(classes, assigned, axis=1, batch_dims=1)  # (B, L)
    one_hot = tf.one_hot(tf.maximum(chosen_class, 0), n_classes) * positive_f
    left, top, right, bottom = tf.unstack(chosen, axis=-1)
    centerness = tf.sqrt((tf.minimum(left, right) / tf.maximum(left, right)) * (tf.minimum(top, bottom) / tf.maximum(top, bottom)))
    return tf.concat([one_hot, chosen / stride * positive_f, centerness[..., None] * positive_f], axis=-1)
