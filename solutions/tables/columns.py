"""Tables: read CSV and Parquet, find the label, identifier and time columns, type the features.

Everything here works on pandas DataFrames and knows no domain. A tabular
domain reads a table with `read_table`, resolves its columns with
`infer_layout`, turns the label into two classes with `binary_labels`,
summarises the training rows into a JSON-ready `feature_schema`, and at
prediction time turns rows (a DataFrame, or one dict) into model inputs with
`frame_to_inputs` / `record_to_inputs`, which check the schema and name any
missing column. The Keras side (preprocessing layers inside the model) is in
`solutions.tables.model`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from solutions.core.errors import DataError

TABLE_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
LABEL_NAMES = ("label", "target", "class", "y")
MISSING_TOKEN = "(missing)"
MIN_ROWS_FOR_IDENTIFIER = 20
TEXT_IN_NUMBERS_SHARE = 0.9


# ---------------------------------------------------------------- reading
def table_format(path: Path) -> str:
    """"csv", "tsv" or "parquet" from the file name, or a DataError naming the supported suffixes.

    >>> table_format(Path("claims.parquet"))
    'parquet'
    """
    fmt = TABLE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise DataError(f"Unsupported table file: {path}. Pass a CSV (.csv, .tsv, .txt) or Parquet (.parquet) file.")
    return fmt


def read_table(path: Path, **read_options: Any):
    """The whole table at `path` as a DataFrame; an empty or unreadable file is a DataError."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"Table not found: {path}.")
    fmt = table_format(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes). Pass a table with a header row and at least one data row.")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path, **_parquet_engine())
        else:
            frame = pd.read_csv(path, sep="\t" if fmt == "tsv" else read_options.pop("sep", ","), **read_options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as error:
        raise DataError(f"Could not read {path} as {fmt.upper()}: {error}.") from None
    if frame.empty:
        raise DataError(f"{path} has no data rows (columns: {', '.join(map(str, frame.columns)) or 'none'}). "
                        "Pass a table with at least one data row.")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def iter_table_chunks(path: Path, chunk_size: int, *, columns: list[str] | None = None,
                      string_columns: tuple[str, ...] = ()) -> Iterator[Any]:
    """DataFrames of at most `chunk_size` rows, read lazily so memory stays bounded.

    CSV through pandas' `read_csv(chunksize=...)`, Parquet through pyarrow's
    record batches. `string_columns` are read as text (categorical codes such
    as "01" keep their leading zeros).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError(f"Input not found: {path}. Pass an existing CSV or Parquet file.")
    fmt = table_format(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes). Pass a table with a header row and at least one data row.")
    if fmt == "parquet":
        parquet = _pyarrow_parquet()
        handle = parquet.ParquetFile(path)
        present = set(handle.schema_arrow.names)
        wanted = None if columns is None else [c for c in columns if c in present]
        for batch in handle.iter_batches(batch_size=chunk_size, columns=wanted):
            frame = batch.to_pandas()
            for column in string_columns:
                if column in frame:
                    frame[column] = frame[column].astype("string").astype(object)
            yield frame
        return
    usecols = None if columns is None else (lambda c: c in set(columns))
    try:
        reader = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", chunksize=chunk_size, usecols=usecols,
                             dtype={c: str for c in string_columns}, low_memory=False)
        for frame in reader:
            yield frame
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"Could not read {path} as {fmt.upper()}: {error}.") from None


def _parquet_engine() -> dict[str, Any]:
    _pyarrow_parquet()
    return {"engine": "pyarrow"}


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as parquet
    except ImportError:
        raise DataError("Reading Parquet files needs pyarrow: pip install pyarrow") from None
    return parquet


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


def resolve_label_column(columns: list[str], label: str | None, where: str) -> str:
    """The label column: `label` if given, else one literally named label/target/class/y (any case).

    >>> resolve_label_column(["Time", "V1", "Amount", "Class"], None, "data.csv")
    'Class'
    """
    if label:
        if label not in columns:
            raise DataError(f"{where} has no label column {label!r}. Columns found: {_listed(columns)}."
                            + _did_you_mean(label, columns) + " Pass --label with one of them.")
        return label
    found = [c for c in columns if c.lower() in LABEL_NAMES]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise DataError(f"{where} has several columns that could be the label ({', '.join(found)}). "
                        "Pass --label COLUMN to say which.")
    raise DataError(f"{where} has no label column: none is named label, target, class or y. "
                    f"Columns found: {_listed(columns)}. Pass --label COLUMN.")


def check_columns_exist(columns: list[str], wanted: tuple[str, ...], option: str, where: str) -> None:
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise DataError(f"{where} has no column {', '.join(map(repr, missing))} (named by {option}). "
                        f"Columns found: {_listed(columns)}." + _did_you_mean(missing[0], columns))


@dataclass(frozen=True)
class TableLayout:
    """What each column of a table is: label, identifiers, time, numeric or categorical features.

    `notes` says what was decided without being asked (an identifier found
    because its values are unique per row, a column ignored).
    """

    label: str | None
    ids: tuple[str, ...]
    time: str | None
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    notes: tuple[str, ...] = ()

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
    error naming it. A column that is entirely missing is an error.

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
    empty = [c for c in columns if c not in taken and frame[c].isna().all()]
    if empty:
        raise DataError(f"{where}: column{'s' if len(empty) > 1 else ''} {', '.join(map(repr, empty))} "
                        f"{'are' if len(empty) > 1 else 'is'} entirely missing. Drop {'them' if len(empty) > 1 else 'it'} "
                        "from the table or list them in the recipe's ignore_columns.")
    for column in columns:
        if column in taken:
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
    if not numeric and not categorical_found:
        raise DataError(f"{where} has no feature columns left after the label, identifier and time columns "
                        f"(columns: {_listed(columns)}).")
    return TableLayout(label=label, ids=tuple(found_ids), time=time, numeric=tuple(numeric),
                       categorical=tuple(categorical_found), notes=tuple(notes))


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
        raise DataError(f"{where}: numeric column {column!r} holds text in {int(parsed.isna().sum())} rows, "
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
        raise DataError(f"{where} has missing values in {len(counts)} column{'s' if len(counts) > 1 else ''}: {listed}. "
                        "Fill them in, or set --set missing=impute to impute them (median or a missing category, "
                        "with an indicator the model sees).")
    return counts


# ------------------------------------------------------------------- labels
def label_text(values) -> np.ndarray:
    """Label values as text, whole floats without their ".0" (1.0 -> "1").

    >>> label_text([1.0, 0, "yes"]).tolist()
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
    labels = label_text(values)
    distinct = sorted(set(labels.tolist()))
    if len(distinct) > 2:
        shown = ", ".join(map(repr, distinct[:8])) + (", ..." if len(distinct) > 8 else "")
        raise DataError(f"{where}: label column {column!r} has {len(distinct)} values ({shown}); a binary label "
                        "needs exactly two. Pick another --label, or map the values to two classes first.")
    if positive is not None:
        wanted = label_text([positive])[0]
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
def feature_schema(frame, layout: TableLayout, min_count: int = 1) -> dict[str, Any]:
    """What the model needs to know about the training rows, as JSON-ready values.

    Numeric columns: median (the fill for missing cells and the reference
    value), mean and standard deviation (for Normalization), whether any was
    missing (an indicator is added then). Categorical columns: the vocabulary
    seen in training at least `min_count` times (most frequent first; rarer
    values share the out-of-vocabulary bucket with unseen ones) and the mode.
    """
    numeric = []
    for column in layout.numeric:
        values = frame[column].astype("float64")
        present = values.dropna()
        median = float(present.median()) if len(present) else 0.0
        std = float(present.std(ddof=0)) if len(present) > 1 else 1.0
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
            "numeric": numeric, "categorical": categorical}


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
        text = pd.Series(label_text(series.to_numpy()), index=series.index)
    else:
        text = series.astype(str)
    return text.where(series.notna(), MISSING_TOKEN).astype(object)


# -------------------------------------------------------------- model inputs
def frame_to_inputs(frame, schema: dict[str, Any], where: str, missing: str = "impute") -> dict[str, np.ndarray]:
    """Model inputs (one (n, 1) array per feature column) from a DataFrame, checked against the schema.

    A column the model needs but the rows lack is a DataError naming it; text
    in a numeric column is a DataError naming the column and the values.
    """
    import pandas as pd

    needed = feature_names(schema)
    missing_columns = [c for c in needed if c not in frame.columns]
    if missing_columns:
        raise DataError(f"{where} lacks column{'s' if len(missing_columns) > 1 else ''} "
                        f"{', '.join(map(repr, missing_columns))} that the model was trained on. "
                        f"Columns the model needs: {_listed(needed)}.")
    inputs: dict[str, np.ndarray] = {}
    for spec in schema["numeric"]:
        column = spec["name"]
        values = frame[column]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            parsed = pd.to_numeric(values.astype(object).where(values.notna(), None), errors="coerce")
            bad = values.notna() & parsed.isna()
            if bad.any():
                shown = ", ".join(map(repr, values[bad].astype(str).unique()[:5]))
                raise DataError(f"{where}: numeric column {column!r} holds text in {int(bad.sum())} rows, "
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
        raise DataError(f"{where} lacks column{'s' if len(missing_columns) > 1 else ''} "
                        f"{', '.join(map(repr, missing_columns))} that the model was trained on. "
                        f"Columns the model needs: {_listed(needed)}.")
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


def time_values(values, column: str, where: str) -> np.ndarray:
    """A time column as sortable numbers: numbers as they are, dates and times as nanoseconds."""
    import pandas as pd

    series = pd.Series(values)
    if series.isna().any():
        raise DataError(f"{where}: time column {column!r} has {int(series.isna().sum())} missing values; "
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


def _listed(columns) -> str:
    columns = [str(c) for c in columns]
    return ", ".join(columns[:40]) + (f", ... ({len(columns)} in all)" if len(columns) > 40 else "")


def _did_you_mean(name: str, columns) -> str:
    from solutions.core.errors import did_you_mean

    return did_you_mean(name, columns)
