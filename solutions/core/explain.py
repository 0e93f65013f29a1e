"""Explanations: Grad-CAM heatmaps for image models, and their overlays.

Models built by keras-solutions name their last spatial feature map
"features", so Grad-CAM needs no layer search.
"""

from __future__ import annotations

import numpy as np

FEATURE_LAYER = "features"


def grad_cam(model, images: np.ndarray, class_indices: np.ndarray, layer_name: str = FEATURE_LAYER) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) heatmaps in [0, 1], one (h, w) map per image.

    The class score's gradient with respect to the feature map, averaged over
    space, weights the map's channels; the ReLU of the weighted sum is the map.
    """
    import keras
    import tensorflow as tf

    layer = model.get_layer(layer_name)
    inputs = tf.convert_to_tensor(np.asarray(images, dtype="float32"))
    # Differentiate the head alone (feature map -> scores), with no variables watched: a tape through
    # the whole network also computes convolution filter gradients nobody uses, and TF 2.21's oneDNN
    # filter-gradient kernel corrupted the heap there ("free(): invalid next size") on a trained ResNet.
    encoder = keras.Model(model.inputs, layer.output)
    head = keras.Model(layer.output, model.outputs[0])
    features = encoder(inputs, training=False)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(features)
        picked = tf.gather(head(features, training=False), np.asarray(class_indices), axis=1, batch_dims=1)
    gradients = tape.gradient(picked, features)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cams = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1)).numpy()
    peak = cams.reshape(len(cams), -1).max(axis=1).reshape(-1, 1, 1)
    return np.divide(cams, peak, out=np.zeros_like(cams), where=peak > 0)


def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend a [0, 1] heatmap (any size) over an RGB or gray uint8 image; returns RGB uint8."""
    import cv2

    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2 or image.shape[2] == 1:
        image = np.repeat(image.reshape(image.shape[0], image.shape[1], 1), 3, axis=2)
    resized = cv2.resize(heatmap.astype(np.float32), (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    coloured = cv2.applyColorMap(np.uint8(255 * np.clip(resized, 0, 1)), cv2.COLORMAP_JET)
    coloured = cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB)
    return cv2.addWeighted(image, 1 - alpha, coloured, alpha, 0)
