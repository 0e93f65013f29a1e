"""Splits that keep groups (patients) whole, and multi-label targets."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.errors import DataError
from solutions.core.splits import Examples, encode_example_labels, shared_groups, split_examples


def grouped(n_groups=40, per_group=3, seed=0):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"g{i}" for i in range(n_groups)], per_group).astype(object)
    labels = np.repeat(rng.choice(["a", "b"], n_groups, p=[0.7, 0.3]), per_group).astype(object)
    return Examples(x=np.arange(len(labels)), labels=labels, ids=np.arange(len(labels)).astype(str), groups=groups)


def test_carved_splits_never_share_a_group_and_stay_roughly_stratified():
    data = grouped()
    splits = split_examples(data, validation_fraction=0.1, test_fraction=0.2, seed=1)
    parts = {s.name: set(s.groups) for s in (splits.train, splits.val, splits.test)}
    assert not (parts["train"] & parts["test"]) and not (parts["train"] & parts["val"]) and not (parts["val"] & parts["test"])
    assert sum(len(s) for s in (splits.train, splits.val, splits.test)) == 120
    assert 0.15 < len(splits.test) / 120 < 0.25 and 0.15 < np.mean(splits.test.y) < 0.45
    assert any("grouped split checked" in note for note in splits.notes)
    again = split_examples(data, validation_fraction=0.1, test_fraction=0.2, seed=1)
    assert np.array_equal(again.test.x, splits.test.x)


def test_too_few_groups_to_carve_a_split_is_a_data_error():
    data = grouped(n_groups=3, per_group=4)
    data = Examples(x=data.x, labels=np.array(["a", "b"] * 6, dtype=object), ids=data.ids, groups=data.groups)
    with pytest.raises(DataError, match="Only 3 distinct groups"):
        split_examples(data, validation_fraction=0.1, test_fraction=0.2, seed=0, min_per_class=1)


def test_shared_groups_lists_each_group_with_its_splits():
    assert shared_groups(np.array(["p1", "p1", "p2"]), np.array(["train", "test", "test"])) == {"p1": ["test", "train"]}


def test_label_matrix_splits_and_reorders_columns_by_name():
    rng = np.random.default_rng(0)
    labels = (rng.random((60, 3)) < 0.4).astype(int)
    data = Examples(x=np.arange(60), labels=labels, ids=np.arange(60).astype(str), label_names=("c", "a", "b"))
    splits = split_examples(data, validation_fraction=0.1, test_fraction=0.2, seed=0, min_per_class=3)
    assert splits.class_names == ("c", "a", "b") and splits.train.y.shape[1] == 3
    assert splits.summary()["splits"]["train"]["classes"]["a"] == int(splits.train.y[:, 1].sum())
    reordered = encode_example_labels(data, ("a", "b", "c"), "new data")
    assert np.array_equal(reordered, labels[:, [1, 2, 0]])
    with pytest.raises(DataError, match="has no label column for 'd'"):
        encode_example_labels(data, ("a", "d"), "The data x")


def test_a_label_with_too_few_positives_is_named():
    labels = np.zeros((30, 2), int)
    labels[:10, 0] = 1
    labels[:2, 1] = 1
    data = Examples(x=np.arange(30), labels=labels, ids=np.arange(30).astype(str), label_names=("common", "rare"))
    with pytest.raises(DataError, match="'rare' has 2"):
        split_examples(data, validation_fraction=0.1, test_fraction=0.2, seed=0)
