"""Head targets: which locations are positives for which box, and what they regress."""

from __future__ import annotations

import numpy as np

from solutions.object_detection.targets import encode_targets, grid_locations


def test_positives_lie_inside_their_box_near_its_centre():
    boxes = np.array([[[8, 8, 40, 40], [0, 0, 0, 0]]], np.float32)
    classes = np.array([[2, -1]], np.int32)
    targets = encode_targets(boxes, classes, 3, (64, 64), 8, 1.5).numpy()[0]
    locations = grid_locations((64, 64), 8)
    positive = targets[:, :3].max(axis=1) > 0
    assert positive.sum() > 0
    assert np.all(targets[positive, 2] == 1) and np.all(targets[positive, :2] == 0)
    centres = locations[positive]
    assert np.all((centres > 8) & (centres < 40))
    assert np.all(np.abs(centres - 24) <= 12)
    assert np.all(targets[~positive] == 0)
    # distances (in strides) point back to the box sides
    decoded = np.column_stack([centres - targets[positive, 3:5] * 8, centres + targets[positive, 5:7] * 8])
    assert np.allclose(decoded, [[8, 8, 40, 40]] * len(decoded), atol=1e-4)
    best = targets[positive, 7].argmax()
    assert np.allclose(centres[best], [20, 20]) or np.allclose(centres[best], [28, 28]) or targets[positive, 7].max() > 0.7


def test_overlapping_boxes_give_shared_locations_to_the_smaller_box():
    boxes = np.array([[[0, 0, 64, 64], [24, 24, 40, 40]]], np.float32)
    targets = encode_targets(boxes, np.array([[0, 1]], np.int32), 2, (64, 64), 8, 10.0).numpy()[0]
    locations = grid_locations((64, 64), 8)
    centre = np.flatnonzero(np.all(locations == [28, 28], axis=1))[0]
    assert targets[centre, 1] == 1 and targets[centre, 0] == 0
    corner = np.flatnonzero(np.all(locations == [4, 4], axis=1))[0]
    assert targets[corner, 0] == 1


def test_a_box_smaller_than_a_cell_still_gets_a_location():
    boxes = np.array([[[9, 9, 12, 12]]], np.float32)
    targets = encode_targets(boxes, np.array([[0]], np.int32), 1, (32, 32), 8, 1.5).numpy()[0]
    assert targets[:, 0].sum() == 1
