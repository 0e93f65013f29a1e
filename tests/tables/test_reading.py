"""Reading CSV and Parquet tables whole and in chunks (tables.reading)."""

import pandas as pd
import pytest

from solutions.core.errors import DataError
from solutions.tables.reading import iter_table_chunks, read_table_file
from tests.tables.conftest import table


def test_csv_and_parquet_read_the_same(tmp_path):
    frame = table()
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    a, b = read_table_file(tmp_path / "t.csv"), read_table_file(tmp_path / "t.parquet")
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
        read_table_file(tmp_path / "e.csv")
