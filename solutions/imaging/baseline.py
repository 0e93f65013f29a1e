"""The classical image baseline: logistic regression on downscaled pixels."""

from __future__ import annotations

import numpy as np

BASELINE_SIZE = (16, 16)
MAX_TRAIN = 20_000


def downscaled_features(images: np.ndarray) -> np.ndarray:
    """Each image shrunk to 16x16 (area interpolation), flattened, scaled to [0, 1]."""
    from solutions.imaging.decode import resize_image

    return np.stack([resize_image(img, BASELINE_SIZE).reshape(-1) for img in images]).astype(np.float32) / 255


def logistic_regression_baseline(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, seed: int = 0) -> np.ndarray:
    """Class probabilities of a standardised logistic regression on downscaled pixels.

    `train_y` holds class indices, or an (N, K) 0/1 matrix for multi-label data
    (one logistic regression per label; each column is then P(label)).
    Trained on at most 20,000 training images (a sample) to stay fast.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    multi_label = np.ndim(train_y) == 2
    if len(train_y) > MAX_TRAIN:
        index, _ = train_test_split(np.arange(len(train_y)), train_size=MAX_TRAIN, random_state=seed,
                                    stratify=None if multi_label else train_y)
        train_x, train_y = train_x[index], train_y[index]
    classifier = LogisticRegression(max_iter=300, C=0.1)
    model = make_pipeline(StandardScaler(), OneVsRestClassifier(classifier) if multi_label else classifier)
    model.fit(downscaled_features(train_x), train_y)
    if multi_label:
        return model.predict_proba(downscaled_features(test_x))
    probabilities = np.zeros((len(test_x), int(train_y.max()) + 1))
    probabilities[:, model.classes_] = model.predict_proba(downscaled_features(test_x))
    return probabilities
