"""Tables: what each column is (label, identifiers, time, typed features), the labels, and the feature schema.

Everything here works on pandas DataFrames and knows no domain. A tabular
domain finds its label column with `solutions.core.layout.find_label_column`,
sorts the other columns with `infer_layout`, turns the label into two classes
with `binary_labels`, and summarises the training rows into a JSON-ready
`feature_schema` that prediction checks rows against. Reading files is in
`solutions.tables.reading`, rows -> model inputs in `solutions.tables.inputs`,
the Keras side (preprocessing layers inside the model) in `solutions.tables.model`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from solutions.core.errors import DataError, did_you_mean
from solutions.core.layout import listed_names
from solutions.core.wording import plural

MISSING_TOKEN = "(missing)"
FLOAT32_MAX = float(np.finfo(np.float32).max)  # about 3.4e38: beyond it a number becomes inf inside the model
_log = logging.getLogger(__name__)  # warnings: one line each on stderr (logging's last-resort handler)
MIN_ROWS_FOR_IDENTIFIER = 20
TEXT_IN_NUMBERS_SHARE = 0.9


# ------------------------------------------------------------------ columns
def column_list(value: Any) -> tuple[str, ...]:
    """A column option (None, "a", "a,b" or a list) as a tuple of names.

    >>> column_list("id, ref")
    ('id', 'ref')
    """
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(v) for v in value)


def check_columns_exist(columns: list[str], wanted: tuple[str, ...], option: str, where: str) -> None:
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise DataError(f"{where} has no column {', '.join(map(repr, missing))} (named by {option}). "
                        f"Columns found: {listed_names(columns)}." + did_you_mean(missing[0], columns))


@dataclass(frozen=True)
class TableLayout:
    """What each column of a table is: label, identifiers, time, numeric or categorical features.

    `notes` says what was decided without being asked (an identifier found
    because its values are unique per row, a column ignored, a column left
    out because it is entirely missing or a single value: those are also in
    `dropped`, with why).
    """

    label: str | None
    ids: tuple[str, ...]
    time: str | None
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    notes: tuple[str, ...] = ()
    dropped: tuple[tuple[str, str], ...] = ()  # (column, why): left out of the features, nothing to learn

    @property
    def features(self) -> tuple[str, ...]:
        return self.numeric + self.categorical


def infer_layout(frame, *, label: str | None, ids: tuple[str, ...] = (), time: str | None = None,
                 categorical: tuple[str, ...] = (), ignore: tuple[str, ...] = (), where: str = "the table") -> TableLayout:
    """Sort the columns of `frame` into label, ids, time and typed features.

    Identifiers are the `ids` given plus columns whose values are unique per
    row and look like keys (text, or whole numbers forming a run like 1..n).
    Numeric columns are those pandas reads as numbers; text columns are
    categorical, except a text column that is mostly numbers, which is an
    error naming it. A column that is entirely missing, and a numeric column
    with a single value and no missing cell, carry nothing to learn: they are
    left out of the features, each with a note and a warning naming it (see
    `unusable_columns`); none left is an error.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"ref": [f"r{i}" for i in range(30)], "amount": [2.5 * i for i in range(30)], "kind": ["a", "b"] * 15})
    >>> layout = infer_layout(frame, label=None)
    >>> layout.ids, layout.numeric, layout.categorical
    (('ref',), ('amount',), ('kind',))
    """
    import pandas as pd

    columns = [str(c) for c in frame.columns]
    check_columns_exist(columns, tuple(ids), "--id", where)
    check_columns_exist(columns, tuple(categorical), "categorical_columns", where)
    check_columns_exist(columns, tuple(ignore), "ignore_columns", where)
    if time:
        check_columns_exist(columns, (time,), "--time", where)
    taken = {label, time, *ids, *ignore} - {None}
    notes = [f"{c}: ignored (recipe ignore_columns)" for c in ignore]
    found_ids = list(ids)
    numeric, categorical_found = [], []
    unusable = unusable_columns(frame, [c for c in columns if c not in taken], categorical)
    for column in columns:
        if column in taken or column in unusable:
            continue
        values = frame[column]
        if _looks_like_identifier(column, values):
            found_ids.append(column)
            notes.append(f"{column}: unique per row, treated as an identifier (kept in outputs, not a feature)")
            continue
        if column in categorical:
            categorical_found.append(column)
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            numeric.append(column)
        else:
            check_not_numbers_with_text(values, column, where)
            categorical_found.append(column)
    layout = TableLayout(label=label, ids=tuple(found_ids), time=time, numeric=tuple(numeric),
                         categorical=tuple(categorical_found), notes=tuple(notes))
    return without_columns(layout, unusable, where, columns)


def unusable_columns(frame, columns, categorical=(), part: str = "the data") -> dict[str, str]:
    """The columns of `frame` with nothing to learn from, each with why: entirely missing, or (a column of
    numbers, not one of the `categorical` ones) the same value in every row. A single value beside missing
    cells is kept: its missing indicator carries the signal; so is an infinite one, for the range check
    to name. `part` ends the reasons ("the data", "the training split").

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"flat": [7, 7, 7], "blank": [None] * 3, "flag": [1, None, 1], "x": [1, 2, 3]})
    >>> unusable_columns(frame, frame.columns)
    {'flat': 'has the same value (7) in every row of the data', 'blank': 'is entirely missing in the data'}
    """
    import pandas as pd

    found = {}
    for column in columns:
        values = frame[column]
        if values.isna().all():
            found[str(column)] = f"is entirely missing in {part}"
            continue
        is_number = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
        if is_number and column not in categorical and not values.isna().any():
            distinct = values.unique()
            if len(distinct) == 1 and np.isfinite(float(distinct[0])):
                found[str(column)] = f"has the same value ({_number_text(distinct[0])}) in every row of {part}"
    return found


def _number_text(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


def without_columns(layout: TableLayout, unusable: dict[str, str], where: str,
                    columns: list[str] | None = None) -> TableLayout:
    """`layout` without the `unusable` features (column -> why, from `unusable_columns`), each noted and
    warned about (one line on stderr); a DataError naming them when no feature is left."""
    numeric = tuple(c for c in layout.numeric if c not in unusable)
    categorical = tuple(c for c in layout.categorical if c not in unusable)
    if not numeric and not categorical:
        shown = f"columns: {listed_names(columns)}" if columns is not None else f"features: {listed_names(layout.features)}"
        dropped = "; ".join(f"{c!r} {why}" for c, why in unusable.items())
        raise DataError(f"{where} has no feature columns left after the label, identifier and time columns ({shown})"
                        + (f". Left out as they carry nothing to learn: {dropped}. Add columns whose values vary"
                           if dropped else "") + ".")
    notes = list(layout.notes)
    for column, why in unusable.items():
        notes.append(f"{column} {why}: left out of the features (nothing to learn, ignored at prediction)")
        _log.warning(f"ksol: warning: {where}: column {column!r} {why}, so it is not used as a feature "
                     "(noted in the report's Data section).")
    return dataclasses.replace(layout, numeric=numeric, categorical=categorical, notes=tuple(notes),
                               dropped=layout.dropped + tuple(unusable.items()))


def _looks_like_identifier(name: str, values) -> bool:
    import pandas as pd

    n = len(values)
    if n < MIN_ROWS_FOR_IDENTIFIER or values.isna().any() or values.nunique() != n:
        return False
    if pd.api.types.is_float_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_integer_dtype(values):
        span = int(values.max()) - int(values.min()) + 1
        lowered = name.lower()
        return span == n or lowered == "id" or lowered.endswith(("_id", "id", "number", "_no", "key"))
    return not _mostly_numbers(values)


def _mostly_numbers(values) -> bool:
    import pandas as pd

    present = values.dropna()
    if present.empty:
        return False
    parsed = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    return bool(parsed.notna().mean() >= TEXT_IN_NUMBERS_SHARE)


def check_not_numbers_with_text(values, column: str, where: str) -> None:
    """A text column whose values are mostly numbers holds stray text: a DataError naming it."""
    import pandas as pd

    present = values.dropna()
    if present.empty:
        return
    parsed = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    share = parsed.notna().mean()
    if TEXT_IN_NUMBERS_SHARE <= share < 1:
        bad = present[parsed.isna()].astype(str).unique()[:5]
        raise DataError(f"{where}: numeric column {column!r} holds text in {plural(int(parsed.isna().sum()), 'row')}, "
                        f"for example {', '.join(map(repr, bad))}. Fix or blank those cells, or list {column!r} "
                        "in the recipe's categorical_columns if it really is a category.")


def missing_counts(frame, columns: tuple[str, ...]) -> dict[str, int]:
    """Missing cells per column, for the columns that have any."""
    counts = frame[list(columns)].isna().sum()
    return {str(c): int(n) for c, n in counts.items() if n}


def check_missing(frame, columns: tuple[str, ...], policy: str, where: str) -> dict[str, int]:
    """Missing cells per column; with policy "error" any missing cell is a DataError listing them."""
    counts = missing_counts(frame, columns)
    if counts and policy == "error":
        listed = ", ".join(f"{c} ({n})" for c, n in list(counts.items())[:10])
        raise DataError(f"{where} has missing values in {plural(len(counts), 'column')}: {listed}. "
                        "Fill them in, or set --set missing=impute to impute them (median or a missing category, "
                        "with an indicator the model sees).")
    return counts


# ------------------------------------------------------------------- labels
def labels_as_text(values) -> np.ndarray:
    """Label values as text, whole floats without their ".0" (1.0 -> "1").

    >>> labels_as_text([1.0, 0, "yes"]).tolist()
    ['1', '0', 'yes']
    """
    out = []
    for v in values:
        if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
            v = int(v)
        out.append(str(v))
    return np.asarray(out, dtype=object)


def binary_labels(values, positive: Any | None, column: str, where: str) -> tuple[np.ndarray, str]:
    """Raw label values as text and the positive value; anything but two classes is a DataError.

    Without `positive`, 0/1, false/true and no/yes labels need no option;
    other pairs need --positive.

    >>> labels, positive = binary_labels([0, 1, 0], None, "Class", "data")
    >>> labels.tolist(), positive
    (['0', '1', '0'], '1')
    """
    labels = labels_as_text(values)
    distinct = sorted(set(labels.tolist()))
    if len(distinct) > 2:
        shown = ", ".join(map(repr, distinct[:8])) + (", ..." if len(distinct) > 8 else "")
        raise DataError(f"{where}: label column {column!r} has {len(distinct)} values ({shown}); a binary label "
                        "needs exactly two. Pick another --label, or map the values to two classes first.")
    if positive is not None:
        wanted = labels_as_text([positive])[0]
        if wanted not in distinct:
            raise DataError(f"{where}: --positive {positive!r} is not a value of label column {column!r} "
                            f"(values: {', '.join(map(repr, distinct))}).")
        return labels, wanted
    lowered = {v.lower(): v for v in distinct}
    for negative_name, positive_name in (("0", "1"), ("false", "true"), ("no", "yes"), ("-1", "1")):
        if set(lowered) <= {negative_name, positive_name}:
            return labels, lowered.get(positive_name, positive_name)
    raise DataError(f"{where}: label column {column!r} has values {', '.join(map(repr, distinct))}; say which one "
                    "is the positive (bad) class with --positive VALUE.")


# ------------------------------------------------------------------- schema
def feature_schema(frame, layout: TableLayout, min_count: int = 1, where: str = "The training split") -> dict[str, Any]:
    """What the model needs to know about the training rows, as JSON-ready values.

    Numeric columns: median (the fill for missing cells and the reference
    value), mean and standard deviation (for Normalization), whether any was
    missing (an indicator is added then). Categorical columns: the vocabulary
    seen in training at least `min_count` times (most frequent first; rarer
    values share the out-of-vocabulary bucket with unseen ones) and the mode.
    `dropped_columns`: the columns left out of the features, with why. A
    column spread so widely that its variance overflows float32 is a DataError.
    """
    numeric = []
    for column in layout.numeric:
        values = frame[column].astype("float64")
        present = values.dropna()
        median = float(present.median()) if len(present) else 0.0
        std = float(present.std(ddof=0)) if len(present) > 1 else 1.0
        if not std <= math.sqrt(FLOAT32_MAX):  # also inf or NaN: Normalization keeps the variance in float32
            raise DataError(f"{where}: numeric column {column!r} spreads too widely for the model's float32 "
                            f"arithmetic (standard deviation {std:.3g}: its square, the variance, must stay below "
                            f"{FLOAT32_MAX:.3g}). Rescale the column (divide it by 1e6, say) or take its logarithm.")
        numeric.append({"name": column, "median": median, "mean": float(present.mean()) if len(present) else 0.0,
                        "std": std if std > 1e-12 else 1.0, "missing": bool(values.isna().any()),
                        "min": float(present.min()) if len(present) else 0.0,
                        "max": float(present.max()) if len(present) else 0.0})
    categorical = []
    for column in layout.categorical:
        counts = categorical_text(frame[column]).value_counts()
        vocabulary = [str(v) for v, n in counts.items() if n >= min_count] or [str(counts.index[0])]
        categorical.append({"name": column, "vocabulary": vocabulary, "mode": vocabulary[0]})
    return {"label": layout.label, "ids": list(layout.ids), "time": layout.time,
            "numeric": numeric, "categorical": categorical,
            "dropped_columns": [{"name": c, "why": why} for c, why in layout.dropped]}


def reference_record(schema: dict[str, Any]) -> dict[str, Any]:
    """The typical training row: medians of numeric columns, modes of categorical ones."""
    record: dict[str, Any] = {c["name"]: c["median"] for c in schema["numeric"]}
    record.update({c["name"]: c["mode"] for c in schema["categorical"]})
    return record


def feature_names(schema: dict[str, Any]) -> list[str]:
    return [c["name"] for c in schema["numeric"]] + [c["name"] for c in schema["categorical"]]


def categorical_text(values):
    """Categorical values as text with missing cells as "(missing)" (whole floats lose their ".0")."""
    import pandas as pd

    series = pd.Series(values)
    if pd.api.types.is_float_dtype(series):
        text = pd.Series(labels_as_text(series.to_numpy()), index=series.index)
    else:
        text = series.astype(str)
    return text.where(series.notna(), MISSING_TOKEN).astype(object)


# --------------------------------------------------------------------- time
def time_values(values, column: str, where: str) -> np.ndarray:
    """A time column as sortable numbers: numbers as they are, dates and times as nanoseconds."""
    import pandas as pd

    series = pd.Series(values)
    if series.isna().any():
        raise DataError(f"{where}: time column {column!r} has {plural(int(series.isna().sum()), 'missing value')}; "
                        "every row needs a time for an out-of-time split.")
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=np.float64)
    try:
        parsed = pd.to_datetime(series, errors="raise")
    except (ValueError, TypeError):
        raise DataError(f"{where}: time column {column!r} holds values that are neither numbers nor dates, "
                        f"for example {str(series.iloc[0])!r}.") from None
    return parsed.astype("int64").to_numpy(dtype=np.float64)


def time_value(value: Any, column: str) -> float:
    """One time given in a recipe (a number or a date) as the number `time_values` compares."""
    import pandas as pd

    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        return float(pd.Timestamp(value).value)
    except (ValueError, TypeError):
        raise DataError(f"test_start {value!r} for time column {column!r} is neither a number nor a date.") from None
