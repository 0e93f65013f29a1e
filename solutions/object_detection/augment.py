"""Box-aware augmentation in TensorFlow ops: flips, zoom with crop or pad, colour.

Every random draw is stateless and comes from the `seed` passed in, so the same
recipe seed gives the same augmented batches. Geometry is one affine warp of the
image (ImageProjectiveTransformV3) and the same map applied to the box corners;
boxes that lose more than 65% of their area to the border (or shrink below 2 px)
are dropped from that sample.
"""

from __future__ import annotations

FILL = 114.0
MIN_VISIBLE = 0.35


def augment_image(image, boxes, classes, seed, image_size: tuple[int, int], flip: str, scale_jitter: float,
                  color_jitter: float):
    """Augment one letterboxed image (H, W, 3) float32 in 0-255 with its boxes (M, 4) and classes (M,)."""
    import tensorflow as tf

    height, width = float(image_size[0]), float(image_size[1])
    seeds = tf.random.experimental.stateless_split(seed, 9)
    uniform = lambda i, low=0.0, high=1.0: tf.random.stateless_uniform([], seeds[i], low, high)  # noqa: E731
    scale = uniform(0, 1 - scale_jitter, 1 + scale_jitter) if scale_jitter else tf.constant(1.0)
    free_x, free_y = width - scale * width, height - scale * height
    shift_x = uniform(1, 0.0, 1.0) * free_x  # zoom out: place inside; zoom in: crop (free < 0)
    shift_y = uniform(2, 0.0, 1.0) * free_y
    flip_x = uniform(3) < 0.5 if flip in ("horizontal", "both") else tf.constant(False)
    flip_y = uniform(4) < 0.5 if flip == "both" else tf.constant(False)
    sign_x, sign_y = tf.where(flip_x, -1.0, 1.0), tf.where(flip_y, -1.0, 1.0)
    base_x, base_y = tf.where(flip_x, width, 0.0), tf.where(flip_y, height, 0.0)
    # output u = base + sign * (scale * u_in + shift) in continuous coordinates (pixel i covers [i, i + 1]);
    # the warp needs the inverse in pixel indices: i_in = sign / scale * i_out + ((0.5 - base) * sign - shift) / scale - 0.5
    a0, b1 = sign_x / scale, sign_y / scale
    a2 = ((0.5 - base_x) * sign_x - shift_x) / scale - 0.5
    b2 = ((0.5 - base_y) * sign_y - shift_y) / scale - 0.5
    transform = tf.stack([a0, 0.0, a2, 0.0, b1, b2, 0.0, 0.0])[None]
    image = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transform, output_shape=tf.constant(image_size, tf.int32),
        fill_value=FILL, interpolation="BILINEAR", fill_mode="CONSTANT")[0]
    x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
    xa, xb = base_x + sign_x * (scale * x1 + shift_x), base_x + sign_x * (scale * x2 + shift_x)
    ya, yb = base_y + sign_y * (scale * y1 + shift_y), base_y + sign_y * (scale * y2 + shift_y)
    moved = tf.stack([tf.minimum(xa, xb), tf.minimum(ya, yb), tf.maximum(xa, xb), tf.maximum(ya, yb)], axis=-1)
    clipped = tf.stack([tf.clip_by_value(moved[:, 0], 0, width), tf.clip_by_value(moved[:, 1], 0, height),
                        tf.clip_by_value(moved[:, 2], 0, width), tf.clip_by_value(moved[:, 3], 0, height)], axis=-1)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    visible = area(clipped) / tf.maximum(area(moved), 1e-6)
    keep = (classes >= 0) & (visible >= MIN_VISIBLE) & (clipped[:, 2] - clipped[:, 0] >= 2) & (clipped[:, 3] - clipped[:, 1] >= 2)
    boxes = tf.where(keep[:, None], clipped, 0.0)
    classes = tf.where(keep, classes, -1)
    if color_jitter:
        pixels = image / 255.0
        pixels = tf.image.stateless_random_brightness(pixels, 0.4 * color_jitter, seeds[5])
        pixels = tf.image.stateless_random_contrast(pixels, 1 - color_jitter, 1 + color_jitter, seeds[6])
        pixels = tf.image.stateless_random_saturation(tf.clip_by_value(pixels, 0, 1), 1 - color_jitter, 1 + color_jitter, seeds[7])
        pixels = tf.image.stateless_random_hue(pixels, 0.1 * color_jitter, seeds[8])
        image = tf.clip_by_value(pixels, 0, 1) * 255.0
    return image, boxes, classes
