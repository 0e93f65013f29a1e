"""DetectionLoss: focal loss on class scores, GIoU loss on boxes, cross-entropy on centre-ness (FCOS)."""

from __future__ import annotations

import keras
from keras import ops

from solutions.object_detection.layers import MAX_LOG_DISTANCE


@keras.saving.register_keras_serializable(package="ksol")
class DetectionLoss(keras.losses.Loss):
    """The detector's training loss, normalised by the number of positive locations in the batch.

    y_true and y_pred are (B, L, n_classes + 5): classes, 4 box distances in strides,
    centre-ness (targets from targets.encode_targets; predictions are logits and
    log-distances). The box loss is weighted by the centre-ness target.
    """

    def __init__(self, n_classes, alpha=0.25, gamma=2.0, box_weight=2.0, name="detection_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.n_classes, self.alpha, self.gamma, self.box_weight = int(n_classes), float(alpha), float(gamma), float(box_weight)

    def call(self, y_true, y_pred):
        c = self.n_classes
        y_pred = ops.cast(y_pred, "float32")
        cls_true, box_true, ctr_true = y_true[..., :c], y_true[..., c:c + 4], y_true[..., c + 4]
        cls_logit, ctr_logit = y_pred[..., :c], y_pred[..., c + 4]
        box_pred = ops.exp(ops.clip(y_pred[..., c:c + 4], -MAX_LOG_DISTANCE, MAX_LOG_DISTANCE))
        positive = ops.cast(ops.max(cls_true, axis=-1) > 0, "float32")
        n_positive = ops.maximum(ops.sum(positive), 1.0)
        probability = ops.sigmoid(cls_logit)
        cross_entropy = ops.maximum(cls_logit, 0) - cls_logit * cls_true + ops.log1p(ops.exp(-ops.abs(cls_logit)))
        p_true = cls_true * probability + (1 - cls_true) * (1 - probability)
        alpha = cls_true * self.alpha + (1 - cls_true) * (1 - self.alpha)
        focal = ops.sum(alpha * ops.power(1 - p_true, self.gamma) * cross_entropy) / n_positive
        weight = ctr_true * positive
        giou = generalized_iou(box_true, box_pred)
        box = ops.sum(weight * (1 - giou)) / ops.maximum(ops.sum(weight), 1e-6)
        ctr_ce = ops.maximum(ctr_logit, 0) - ctr_logit * ctr_true + ops.log1p(ops.exp(-ops.abs(ctr_logit)))
        centerness = ops.sum(positive * ctr_ce) / n_positive
        return focal + self.box_weight * box + centerness

    def get_config(self):
        return {**super().get_config(), "n_classes": self.n_classes, "alpha": self.alpha, "gamma": self.gamma,
                "box_weight": self.box_weight}


def generalized_iou(true_ltrb, pred_ltrb):
    """GIoU of boxes given as distances (l, t, r, b) from the same point.

    >>> import numpy as np
    >>> float(generalized_iou(np.array([[1., 1., 1., 1.]]), np.array([[1., 1., 1., 1.]]))[0])
    1.0
    >>> round(float(generalized_iou(np.array([[1., 1., 1., 1.]]), np.array([[2., 2., 2., 2.]]))[0]), 4)
    0.25
    """
    tl, tt, tr, tb = (true_ltrb[..., i] for i in range(4))
    pl, pt, pr, pb = (pred_ltrb[..., i] for i in range(4))
    true_area = (tl + tr) * (tt + tb)
    pred_area = (pl + pr) * (pt + pb)
    inter = (ops.minimum(tl, pl) + ops.minimum(tr, pr)) * (ops.minimum(tt, pt) + ops.minimum(tb, pb))
    union = true_area + pred_area - inter
    iou = inter / ops.maximum(union, 1e-6)
    enclosing = (ops.maximum(tl, pl) + ops.maximum(tr, pr)) * (ops.maximum(tt, pt) + ops.maximum(tb, pb))
    return iou - (enclosing - union) / ops.maximum(enclosing, 1e-6)
