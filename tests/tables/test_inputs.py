"""Rows (a DataFrame or one dict) -> model inputs, checked against the schema (tables.inputs)."""

import numpy as np
import pytest

from solutions.core.errors import DataError
from solutions.tables.columns import feature_schema, infer_layout
from solutions.tables.inputs import frame_to_inputs, record_to_inputs
from tests.tables.conftest import table


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
    with pytest.raises(DataError, match="numeric column 'amount' holds text in 1 row, for example 'lots'"):
        frame_to_inputs(bad, schema, "rows")
    with pytest.raises(DataError, match="missing values in amount \\(1\\)"):
        frame_to_inputs(frame, schema, "rows", missing="error")
    one = record_to_inputs({"amount": None, "kind": "zzz"}, schema)
    assert np.isnan(one["amount"][0, 0]) and one["kind"][0, 0] == "zzz"
    with pytest.raises(DataError, match="holds text 'x'"):
        record_to_inputs({"amount": "x", "kind": "a"}, schema)
