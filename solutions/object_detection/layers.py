"""DetectionDecoder: the Keras layer that turns raw head outputs into boxes, with non-maximum suppression."""

from __future__ import annotations

import keras

from solutions.object_detection.targets import grid_locations

MAX_LOG_DISTANCE = 6.0  # distances are exp(raw) strides; clipping keeps exp finite early in training


@keras.saving.register_keras_serializable(package="ksol")
class DetectionDecoder(keras.layers.Layer):
    """Raw head outputs (L, n_classes + 5) -> (max_detections, 6) after per-class non-maximum suppression.

    Rows are x1, y1, x2, y2 (input pixels), score, class index, best first; rows past
    the last detection are zero. A location's score for a class is
    sqrt(sigmoid(class logit) * sigmoid(centre-ness logit)), as in FCOS.
    """

    def __init__(self, n_classes, image_size, stride, max_detections=100, iou_threshold=0.5,
                 score_threshold=0.01, **kwargs):
        super().__init__(**kwargs)
        self.n_classes, self.image_size, self.stride = int(n_classes), tuple(int(v) for v in image_size), int(stride)
        self.max_detections, self.iou_threshold = int(max_detections), float(iou_threshold)
        self.score_threshold = float(score_threshold)

    def call(self, raw):
        import tensorflow as tf

        raw = tf.cast(raw, tf.float32)
        c = self.n_classes
        locations = tf.constant(grid_locations(self.image_size, self.stride))
        distances = tf.exp(tf.clip_by_value(raw[..., c:c + 4], -MAX_LOG_DISTANCE, MAX_LOG_DISTANCE)) * self.stride
        scores = tf.sqrt(tf.sigmoid(raw[..., :c]) * tf.sigmoid(raw[..., c + 4:c + 5]))
        height, width = float(self.image_size[0]), float(self.image_size[1])
        x1 = tf.clip_by_value(locations[:, 0] - distances[..., 0], 0, width)
        y1 = tf.clip_by_value(locations[:, 1] - distances[..., 1], 0, height)
        x2 = tf.clip_by_value(locations[:, 0] + distances[..., 2], 0, width)
        y2 = tf.clip_by_value(locations[:, 1] + distances[..., 3], 0, height)
        boxes = tf.stack([y1, x1, y2, x2], axis=-1)[:, :, None, :]
        nms = tf.image.combined_non_max_suppression(
            boxes, scores, max_output_size_per_class=self.max_detections, max_total_size=self.max_detections,
            iou_threshold=self.iou_threshold, score_threshold=self.score_threshold, clip_boxes=False)
        top, left, bottom, right = tf.unstack(nms.nmsed_boxes, axis=-1)
        return tf.stack([left, top, right, bottom, nms.nmsed_scores, nms.nmsed_classes], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.max_detections, 6)

    def get_config(self):
        return {**super().get_config(), "n_classes": self.n_classes, "image_size": list(self.image_size),
                "stride": self.stride, "max_detections": self.max_detections,
                "iou_threshold": self.iou_threshold, "score_threshold": self.score_threshold}
