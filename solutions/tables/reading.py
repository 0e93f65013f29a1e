"""Tables: read a CSV, TSV or Parquet file whole, or lazily in chunks of bounded size.

A tabular domain reads its training table with `read_table_file` (every
column named by text, an empty or unreadable file a DataError naming it) and
streams large prediction inputs with `iter_table_chunks`; `table_format`
tells the formats apart by suffix. What the columns mean is decided in
`solutions.tables.columns`; turning rows into model inputs in
`solutions.tables.inputs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from solutions.core.errors import DataError

TABLE_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: Path) -> str:
    """"csv", "tsv" or "parquet" from the file name, or a DataError naming the supported suffixes.

    >>> table_format(Path("claims.parquet"))
    'parquet'
    """
    fmt = TABLE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise DataError(f"Unsupported table file: {path}. Pass a CSV (.csv, .tsv, .txt) or Parquet (.parquet) file.")
    return fmt


def _checked_table_format(path: Path, not_found: str) -> str:
    """The format of an existing, non-empty table file; a DataError (`not_found`, or empty) otherwise."""
    if not path.is_file():
        raise DataError(not_found)
    fmt = table_format(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty (0 bytes). Pass a table with a header row and at least one data row.")
    return fmt


def read_table_file(path: Path, **read_options: Any):
    """The whole table at `path` as a DataFrame; an empty or unreadable file is a DataError."""
    import pandas as pd

    path = Path(path)
    fmt = _checked_table_format(path, f"Table not found: {path}.")
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
    fmt = _checked_table_format(path, f"Input not found: {path}. Pass an existing CSV or Parquet file.")
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
