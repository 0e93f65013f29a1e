import numpy as np
import pytest

from solutions.image_classification.metrics import top_k_accuracy


def test_top_k_accuracy():
    probabilities = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.5, 0.4, 0.1]])
    y = np.array([1, 2, 2])
    assert top_k_accuracy(y, probabilities, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(y, probabilities, 2) == pytest.approx(2 / 3)
    assert top_k_accuracy(y, probabilities, 5) == 1.0
