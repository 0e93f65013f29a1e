import numpy as np
import pytest

from solutions.core.errors import DataError
from solutions.core.splits import Examples, encode_labels, split_examples


def examples(labels, given=None):
    labels = np.asarray(labels, dtype=object)
    return Examples(x=np.arange(len(labels)), labels=labels, ids=np.asarray([str(i) for i in range(len(labels))]),
                    given_split=None if given is None else np.asarray(given, dtype=object))


def test_split_is_stratified_seeded_and_disjoint():
    data = examples(["a"] * 60 + ["b"] * 40)
    one = split_examples(data, validation_fraction=0.1, test_fraction=0.2, seed=3)
    two = split_examples(data, validation_fraction=0.1, test_fraction=0.2, seed=3)
    assert np.array_equal(one.test.x, two.test.x)
    assert len(one.test) == 20 and len(one.val) == 10 and len(one.train) == 70
    assert set(one.train.x) | set(one.val.x) | set(one.test.x) == set(range(100))
    assert np.bincount(one.test.y).tolist() == [12, 8]


def test_given_splits_are_kept_and_val_is_carved_from_train():
    data = examples(["a", "b"] * 30, given=["train"] * 40 + ["test"] * 20)
    splits = split_examples(data, validation_fraction=0.1, test_fraction=0.2, seed=0)
    assert set(splits.test.x) == set(range(40, 60))
    assert len(splits.val) == 4 and len(splits.train) == 36


@pytest.mark.parametrize("labels, message", [
    ([], "No labelled examples"),
    (["a"] * 10, "Only one class was found \\('a', 10"),
    (["a"] * 10 + ["b"] * 2, "'b' has 2"),
])
def test_unusable_labels_are_rejected(labels, message):
    with pytest.raises(DataError, match=message):
        split_examples(examples(labels), validation_fraction=0.1, test_fraction=0.2, seed=0)


def test_unknown_label_names_it_and_the_known_classes():
    with pytest.raises(DataError, match=r"never seen in training: 'c'.*'a', 'b'"):
        encode_labels(np.array(["a", "c"]), ("a", "b"), "The test data")
