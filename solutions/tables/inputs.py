"""Tables: turn rows (a DataFrame, or one dict) into the model's inputs, checked against the training schema.

`frame_to_inputs` and `record_to_inputs` give one (n, 1) array per feature
column, in the types the model's preprocessing layers expect (float32 numbers
with NaN for missing cells, categories as text with "(missing)"); a column the
model needs but the rows lack, text in a numeric column, or a number float32
cannot hold (infinite, or |x| > 3.4e38: it would become inf in the model) is a
DataError naming it. `check_numbers_in_range` names such numbers in training
or evaluation data by row; `rows_in_range` sets the rows holding them apart as
failures, so a prediction file is scored without them. `take_inputs` selects
rows of such inputs. The schema itself is made by
`solutions.tables.columns.feature_schema`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from solutions.core.errors import DataError
from solutions.core.layout import listed_names
from solutions.core.wording import plural
from solutions.tables.columns import FLOAT32_MAX, MISSING_TOKEN, categorical_text, feature_names

SOURCE_ATTR = "ksol_source"  # DataFrame.attrs key: the file the rows were read from, for messages


def frame_to_inputs(frame, schema: dict[str, Any], where: str, missing: str = "impute") -> dict[str, np.ndarray]:
    """Model inputs (one (n, 1) array per feature column) from a DataFrame, checked against the schema.

    A column the model needs but the rows lack is a DataError naming it; text
    in a numeric column, or numbers float32 cannot hold, a DataError naming the column and the values.
    """
    needed = feature_names(schema)
    missing_columns = [c for c in needed if c not in frame.columns]
    if missing_columns:
        raise lacks_columns(where, missing_columns, list(frame.columns), needed)
    inputs: dict[str, np.ndarray] = {}
    for spec in schema["numeric"]:
        column = spec["name"]
        values = numeric_values(frame[column], column, where)
        bad = out_of_range(values)
        if bad.any():
            raise out_of_range_error(where, column, values, bad, [f"row {i + 1}" for i in np.flatnonzero(bad)[:5]])
        inputs[column] = values.astype(np.float32).reshape(-1, 1)
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
            except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer beyond float64
                number = math.inf if isinstance(value, int) else None
                if number is None:
                    raise DataError(f"{where}: numeric column {spec['name']!r} holds text {value!r}. "
                                    "The model was trained on numbers there.") from None
            if abs(number) > FLOAT32_MAX:
                raise DataError(f"{where}: numeric column {spec['name']!r} is {value!r}, which the model cannot take: "
                                f"it computes in {RANGE_HINT}. Pass a finite number there, or null for a missing value.")
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


RANGE_HINT = f"float32, which holds finite numbers up to |x| = {FLOAT32_MAX:.3g}"


def numeric_values(values, column: str, where: str) -> np.ndarray:
    """A numeric column as float64 (NaN for missing cells); text that is not a number is a DataError naming it."""
    import pandas as pd

    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        parsed = pd.to_numeric(values.astype(object).where(values.notna(), None), errors="coerce")
        bad = values.notna() & parsed.isna()
        if bad.any():
            shown = ", ".join(map(repr, values[bad].astype(str).unique()[:5]))
            raise DataError(f"{where}: numeric column {column!r} holds text in {plural(int(bad.sum()), 'row')}, "
                            f"for example {shown}. The model was trained on numbers there.")
        values = parsed
    return pd.Series(values).to_numpy(dtype=np.float64, na_value=np.nan)


def out_of_range(values: np.ndarray) -> np.ndarray:
    """True where a number is infinite or beyond float32's range (|x| > 3.4e38); NaN (missing) is not.

    >>> out_of_range(np.array([1.0, np.inf, -1e39, np.nan, 3e38])).tolist()
    [False, True, True, False, False]
    """
    return np.abs(np.asarray(values, dtype=np.float64)) > FLOAT32_MAX


def _value_text(value: float) -> str:
    return repr(float(value)) if math.isinf(value) else f"{value:.6g}"


def out_of_range_error(where: str, column: str, values: np.ndarray, bad: np.ndarray, rows: list[str]) -> DataError:
    """The error for numbers a float32 model cannot take, naming the column, how many rows, the first rows
    (`rows`) and the first value."""
    n = int(bad.sum())
    first = float(values[np.flatnonzero(bad)[0]])
    shown = ", ".join(rows[:5]) + (", ..." if n > 5 else "")
    return DataError(f"{where}: numeric column {column!r} holds numbers the model cannot take in {plural(n, 'row')} "
                     f"({shown}), the first {_value_text(first)}: it computes in {RANGE_HINT}. Fix or blank those "
                     "cells (a blank cell is imputed), or drop those rows.")


def check_numbers_in_range(frame, columns, ids, where: str) -> None:
    """A DataError naming the first numeric column of `columns` with numbers a float32 model cannot take
    (infinite, or |x| > 3.4e38), their count, their first rows (by `ids`, one per row of `frame`) and the
    first value. Columns that are not numbers (text, checked later) or are not in `frame` pass."""
    import pandas as pd

    for column in columns:
        if column not in frame.columns or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = out_of_range(values)
        if bad.any():
            raise out_of_range_error(where, column, values, bad, [str(i) for i in np.asarray(ids)[bad][:5]])


def rows_in_range(frame, ids, schema: dict[str, Any], where: str):
    """(the rows of `frame` whose numbers the model can take, their ids, failures): every other row
    becomes one failure (its id, which column holds which number) instead of failing the whole input.
    Text in a numeric column, or a missing column, is left to `frame_to_inputs` to name."""
    ids = np.asarray(ids, dtype=object)
    bad = np.zeros(len(frame), dtype=bool)
    reasons = np.full(len(frame), "", dtype=object)
    for spec in schema["numeric"]:
        column = spec["name"]
        if column not in frame.columns:
            continue
        try:
            values = numeric_values(frame[column], column, where)
        except DataError:
            continue
        hit = out_of_range(values) & ~bad
        for i in np.flatnonzero(hit):
            reasons[i] = (f"numeric column {column!r} is {_value_text(values[i])}, which the model cannot take "
                          f"(it computes in {RANGE_HINT}): fix or blank the cell")
        bad |= hit
    if not bad.any():
        return frame, ids.tolist(), ()
    failures = tuple((str(i), str(r)) for i, r in zip(ids[bad], reasons[bad]))
    return frame[~bad].reset_index(drop=True), ids[~bad].tolist(), failures


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
