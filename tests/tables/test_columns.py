"""Column layouts, labels, missing values and time splits of tables (tables.columns)."""

import numpy as np
import pytest

from solutions.core.errors import DataError
from solutions.core.splits import time_ordered_split
from solutions.tables.columns import binary_labels, check_missing, infer_layout
from tests.tables.conftest import table


def test_layout_finds_identifiers_types_and_keeps_given_ids():
    frame = table()
    frame["policy"] = np.arange(1, 41)  # whole numbers 1..n: an identifier
    frame["code"] = np.random.default_rng(1).integers(0, 3, 40)
    layout = infer_layout(frame, label="label", categorical=("code",))
    assert layout.ids == ("ref", "policy")
    assert layout.numeric == ("amount",) and layout.categorical == ("kind", "code")
    assert any("ref: unique per row" in note for note in layout.notes)


def test_numeric_column_with_text_is_an_error_naming_it_and_an_empty_column_is_left_out():
    frame = table()
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[3, "amount"] = "n/a?"
    with pytest.raises(DataError, match="numeric column 'amount' holds text in 1 row, for example 'n/a\\?'"):
        infer_layout(frame, label="label")
    frame = table()
    frame["blank"] = np.nan  # left out of the features with a note (tests/tables/test_bad_columns.py)
    layout = infer_layout(frame, label="label")
    assert "blank" not in layout.features and dict(layout.dropped) == {"blank": "is entirely missing in the data"}


def test_missing_values_are_counted_or_rejected():
    frame = table()
    frame.loc[[1, 2], "amount"] = np.nan
    assert check_missing(frame, ("amount", "kind"), "impute", "x") == {"amount": 2}
    with pytest.raises(DataError, match="missing values in 1 column: amount \\(2\\).*missing=impute"):
        check_missing(frame, ("amount", "kind"), "error", "x")


def test_binary_labels():
    assert binary_labels(["no", "yes", "no"], None, "y", "x")[1] == "yes"
    labels, positive = binary_labels([1.0, 2.0], 2, "y", "x")
    assert labels.tolist() == ["1", "2"] and positive == "2"
    with pytest.raises(DataError, match="has 3 values.*needs exactly two"):
        binary_labels(["a", "b", "c"], None, "y", "x")
    with pytest.raises(DataError, match="--positive VALUE"):
        binary_labels(["cat", "dog"], None, "y", "x")
    with pytest.raises(DataError, match="--positive 'x' is not a value"):
        binary_labels(["cat", "dog"], "x", "y", "x")


def test_time_split_tests_on_the_future():
    times = np.array([1994] * 6 + [1995] * 6 + [1996] * 4)
    names = time_ordered_split(times, validation_fraction=0.2, test_fraction=0.2, test_start=1996)
    assert (names[times == 1996] == "test").all()
    assert (names == "val").sum() == 3 and set(np.flatnonzero(names == "val")) <= set(np.flatnonzero(times == 1995))
    with pytest.raises(DataError, match="no test examples"):
        time_ordered_split(times, validation_fraction=0.2, test_fraction=0.2, test_start=2000)
