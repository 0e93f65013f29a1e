"""Reading tables, resolving columns, labels and schema checks (tables.columns)."""

import numpy as np
import pandas as pd
import pytest

from solutions.core.errors import DataError
from solutions.core.splits import time_ordered_split
from solutions.tables.columns import (
    binary_labels, check_missing, feature_schema, frame_to_inputs, infer_layout, iter_table_chunks, read_table,
    record_to_inputs, resolve_label_column,
)


def table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"ref": [f"r{i}" for i in range(n)], "amount": rng.random(n) * 100,
                         "kind": rng.choice(["a", "b", "c"], n), "label": rng.integers(0, 2, n)})


def test_csv_and_parquet_read_the_same(tmp_path):
    frame = table()
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    a, b = read_table(tmp_path / "t.csv"), read_table(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_chunks_are_bounded_and_cover_every_row(tmp_path):
    table(n=103).to_csv(tmp_path / "t.csv", index=False)
    table(n=103).to_parquet(tmp_path / "t.parquet")
    for name in ("t.csv", "t.parquet"):
        sizes = [len(c) for c in iter_table_chunks(tmp_path / name, 25, string_columns=("kind",))]
        assert max(sizes) <= 25 and sum(sizes) == 103


@pytest.mark.parametrize("content, message", [(b"", "is empty"), (b"a,b\n", "has no data rows")])
def test_empty_tables_are_rejected(tmp_path, content, message):
    (tmp_path / "e.csv").write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_table(tmp_path / "e.csv")


def test_label_is_found_by_name_in_any_case_or_asked_for():
    assert resolve_label_column(["Time", "V1", "Amount", "Class"], None, "x") == "Class"
    assert resolve_label_column(["a", "fraud"], "fraud", "x") == "fraud"
    with pytest.raises(DataError, match="no label column.*Columns found: a, b.*--label"):
        resolve_label_column(["a", "b"], None, "x")
    with pytest.raises(DataError, match="no label column 'fruad'.*Did you mean \"fraud\""):
        resolve_label_column(["a", "fraud"], "fruad", "x")


def test_layout_finds_identifiers_types_and_keeps_given_ids():
    frame = table()
    frame["policy"] = np.arange(1, 41)  # whole numbers 1..n: an identifier
    frame["code"] = np.random.default_rng(1).integers(0, 3, 40)
    layout = infer_layout(frame, label="label", categorical=("code",))
    assert layout.ids == ("ref", "policy")
    assert layout.numeric == ("amount",) and layout.categorical == ("kind", "code")
    assert any("ref: unique per row" in note for note in layout.notes)


def test_numeric_column_with_text_and_empty_column_are_errors_naming_them():
    frame = table()
    frame["amount"] = frame["amount"].astype(object)
    frame.loc[3, "amount"] = "n/a?"
    with pytest.raises(DataError, match="numeric column 'amount' holds text in 1 rows, for example 'n/a\\?'"):
        infer_layout(frame, label="label")
    frame = table()
    frame["blank"] = np.nan
    with pytest.raises(DataError, match="'blank' is entirely missing"):
        infer_layout(frame, label="label")


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


def test_inputs_check_the_schema_and_name_missing_columns():
    frame = table()
    frame.loc[0, "amount"] = np.nan
    layout = infer_layout(frame, label="label")
    schema = feature_schema(frame, layout)
    assert schema["numeric"][0]["missing"] is True
    inputs = frame_to_inputs(frame, schema, "rows")
    assert inputs["amount"].shape == (40, 1) and np.isnan(inputs["amount"][0, 0])
    assert inputs["kind"].dtype == object
    with pytest.raises(DataError, match="lacks column 'kind'"):
        frame_to_inputs(frame.drop(columns=["kind"]), schema, "rows")
    bad = frame.astype({"amount": object})
    bad.loc[5, "amount"] = "lots"
    with pytest.raises(DataError, match="numeric column 'amount' holds text in 1 rows, for example 'lots'"):
        frame_to_inputs(bad, schema, "rows")
    with pytest.raises(DataError, match="missing values in amount \\(1\\)"):
        frame_to_inputs(frame, schema, "rows", missing="error")
    one = record_to_inputs({"amount": None, "kind": "zzz"}, schema)
    assert np.isnan(one["amount"][0, 0]) and one["kind"][0, 0] == "zzz"
    with pytest.raises(DataError, match="holds text 'x'"):
        record_to_inputs({"amount": "x", "kind": "a"}, schema)


def test_time_split_tests_on_the_future():
    times = np.array([1994] * 6 + [1995] * 6 + [1996] * 4)
    names = time_ordered_split(times, validation_fraction=0.2, test_fraction=0.2, test_start=1996)
    assert (names[times == 1996] == "test").all()
    assert (names == "val").sum() == 3 and set(np.flatnonzero(names == "val")) <= set(np.flatnonzero(times == 1995))
    with pytest.raises(DataError, match="no test examples"):
        time_ordered_split(times, validation_fraction=0.2, test_fraction=0.2, test_start=2000)
