"""Tables: turn rows (a DataFrame, or one dict) into the model's inputs, checked against the training schema.

`frame_to_inputs` and `record_to_inputs` give one (n, 1) array per feature
column, in the types the model's preprocessing layers expect (float32 numbers
with NaN for missing cells, categories as text with "(missing)"); a column the
model needs but the rows lack, or text in a numeric column, is a DataError
naming it. `take_inputs` selects rows of such inputs. The schema itself is made
by `solutions.tables.columns.feature_schema`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from solutions.core.errors import DataError
from solutions.core.layout import listed_names
from solutions.core.wording import plural
from solutions.tables.columns import MISSING_TOKEN, categorical_text, feature_names

SOURCE_ATTR = "ksol_source"  # DataFrame.attrs key: the file the rows were read from, for messages


def frame_to_inputs(frame, schema: dict[str, Any], where: str, missing: str = "impute") -> dict[str, np.ndarray]:
    """Model inputs (one (n, 1) array per feature column) from a DataFrame, checked against the schema.

    A column the model needs but the rows lack is a DataError naming it; text
    in a numeric column is a DataError naming the column and the values.
    """
    import pandas as pd

    needed = feature_names(schema)
    missing_columns = [c for c in needed if c not in frame.columns]
    if missing_columns:
        raise lacks_columns(where, missing_columns, list(frame.columns), needed)
    inputs: dict[str, np.ndarray] = {}
    for spec in schema["numeric"]:
        column = spec["name"]
        values = frame[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            parsed = pd.to_numeric(values.astype(object).where(values.notna(), None), errors="coerce")
            bad = values.notna() & parsed.isna()
            if bad.any():
                shown = ", ".join(map(repr, values[bad].astype(str).unique()[:5]))
                raise DataError(f"{where}: numeric column {column!r} holds text in {plural(int(bad.sum()), 'row')}, "
                                f"for example {shown}. The model was trained on numbers there.")
            values = parsed
        inputs[column] = values.to_numpy(dtype=np.float32, na_value=np.nan).reshape(-1, 1)
    for spec in schema["categorical"]:
        inputs[spec["name"]] = categorical_text(frame[spec["name"]]).to_numpy(dtype=object).reshape(-1, 1)
    if missing == "error":
        _reject_missing(inputs, schema, where)
    return inputs


def record_to_inputs(record: dict[str, Any], schema: dict[str, Any], where: str = "The row",
                     missing: str = "impute") -> dict[str, np.ndarray]:
    """Model inputs for one row given as a dict of column -> value, without pandas (fast)."""
    if not isinstance(record, dict):
        raise DataError(f"{where} must be a JSON object of column: value. Received: {type(record).__name__}.")
    needed = feature_names(schema)
    missing_columns = [c for c in needed if c not in record]
    if missing_columns:
        raise lacks_columns(where, missing_columns, list(record), needed)
    inputs: dict[str, np.ndarray] = {}
    for spec in schema["numeric"]:
        value = record[spec["name"]]
        if value is None or value == "":
            number = math.nan
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise DataError(f"{where}: numeric column {spec['name']!r} holds text {value!r}. "
                                "The model was trained on numbers there.") from None
        inputs[spec["name"]] = np.asarray([[number]], dtype=np.float32)
    for spec in schema["categorical"]:
        value = record[spec["name"]]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            text = MISSING_TOKEN
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        else:
            text = str(value)
        inputs[spec["name"]] = np.asarray([[text]], dtype=object)
    if missing == "error":
        _reject_missing(inputs, schema, where)
    return inputs


def lacks_columns(where: str, missing: list[str], found: list[Any], needed: list[str]) -> DataError:
    """The error for inputs (a file, the rows, one row) without columns the model was trained on.

    >>> print(lacks_columns("new.csv", ["amount"], ["hour"], ["amount", "hour"]))
    new.csv lacks column 'amount', which the model was trained on; columns found: hour. Add it (the model needs: amount, hour).
    """
    several = len(missing) > 1
    return DataError(f"{where} lacks column{'s' if several else ''} {', '.join(map(repr, missing))}, which the model was "
                     f"trained on; columns found: {listed_names(found) or 'none'}. Add {'them' if several else 'it'} "
                     f"(the model needs: {listed_names(needed)}).")


def _reject_missing(inputs: dict[str, np.ndarray], schema: dict[str, Any], where: str) -> None:
    counts = {c["name"]: int(np.isnan(inputs[c["name"]]).sum()) for c in schema["numeric"]}
    counts.update({c["name"]: int((inputs[c["name"]] == MISSING_TOKEN).sum()) for c in schema["categorical"]})
    counts = {c: n for c, n in counts.items() if n}
    if counts:
        listed = ", ".join(f"{c} ({n})" for c, n in list(counts.items())[:10])
        raise DataError(f"{where} has missing values in {listed}, and the model was trained with missing=error. "
                        "Fill them in, or retrain with --set missing=impute.")


def take_inputs(inputs: dict[str, np.ndarray], index) -> dict[str, np.ndarray]:
    """The rows `index` of every input array."""
    return {k: v[index] for k, v in inputs.items()}
