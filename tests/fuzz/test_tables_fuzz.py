"""Fuzzed tables: ragged rows, mixed encodings, empty cells, a missing or one-class label column.

`read_table_file` and the table solutions' `load_examples` (then `split`) either
give a table or raise a SolutionsError; anything else is a loader bug.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, strategies as st

from solutions.core.datasets import resolve_data
from solutions.tables.reading import iter_table_chunks, read_table_file
from tests.fuzz import encode_lines, loads_or_refuses, refused, scratch

WORDS = ["", " ", "NA", "null", "nan", "inf", "-inf", "1e999", "yes", "no", "true", "0", "1", "-1", "2", "a", "b",
         "café", "Zürich", "€", "日本", '"', '""', "'", "a,b", "x\ty", "1.5", "-0.0", "0x1F", "12/31/2020", "#"]
CELL = st.one_of(
    st.sampled_from(WORDS),
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="abcé€ 01.,;\"-", max_size=6),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8", "latin-1", "mixed", "utf-8-sig", "utf-16"])
LABEL_NAMES = ["label", "target", "Class", "y", "outcome", "is_fraud"]
LABEL_VALUES = {
    "binary": ["0", "1"], "yes_no": ["no", "yes"], "one_class": ["1"], "three": ["0", "1", "2"],
    "text_pair": ["good", "bad"], "words": ["cat", "dog"], "blank_mix": ["0", "1", ""], "empty": [""],
}


def separator(suffix: str) -> str:
    return "\t" if suffix == ".tsv" else ","


@st.composite
def raw_tables(draw):
    """Header and rows of arbitrary cells, rows of any length (ragged), in any encoding."""
    suffix = draw(st.sampled_from([".csv", ".tsv", ".txt"]))
    header = draw(st.lists(st.sampled_from(LABEL_NAMES + ["a", "b", "", "a", "amount", "id"]), min_size=1, max_size=5))
    width = len(header)
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=width + 2), max_size=12))
    lines = [separator(suffix).join(header)] + [separator(suffix).join(row) for row in rows]
    return suffix, encode_lines(lines, draw(ENCODINGS), draw(st.sampled_from(["\n", "\r\n"])))


@st.composite
def labelled_tables(draw):
    """A table close to a usable one (a label, numeric and text features), then broken in a few ways."""
    suffix = draw(st.sampled_from([".csv", ".csv", ".tsv"]))
    n = draw(st.integers(0, 40))
    label_name = draw(st.sampled_from(LABEL_NAMES))
    label_values = LABEL_VALUES[draw(st.sampled_from(sorted(LABEL_VALUES)))]
    has_label = draw(st.booleans()) or draw(st.booleans())
    kinds = draw(st.lists(st.sampled_from(["numeric", "text", "mixed", "empty", "key", "sparse"]), max_size=4))
    columns = ([label_name] if has_label else []) + [f"f{i}_{kind}" for i, kind in enumerate(kinds)]
    if not columns:
        columns = ["only"]
    rows = []
    for r in range(n):
        row = [draw(st.sampled_from(label_values))] if has_label else []
        for kind in kinds:
            if kind == "numeric":
                row.append(str(draw(st.integers(-1000, 1000))))
            elif kind == "text":
                row.append(draw(st.sampled_from(["a", "b", "c", "é", "€"])))
            elif kind == "mixed":
                row.append(draw(st.sampled_from([str(r), str(r + 0.5), "n/a"] if r % 7 else ["oops"])))
            elif kind == "empty":
                row.append("")
            elif kind == "key":
                row.append(f"k{r}")
            else:
                row.append(draw(st.sampled_from(["", "", "3", "x"])))
        if draw(st.integers(0, 9)) == 0:  # ragged: a cell too few or too many
            row = row[:-1] if row and draw(st.booleans()) else row + ["extra"]
        rows.append(row)
    if not columns == ["only"]:
        lines = [separator(suffix).join(columns)] + [separator(suffix).join(row) for row in rows]
    else:
        lines = ["only"] + ["1"] * n
    option = draw(st.sampled_from([None, None, label_name, "no_such_column"]))
    extra = {"id": draw(st.sampled_from([None, None, columns[-1], "nope"])),
             "time": draw(st.sampled_from([None, None, None, columns[-1], "nope"]))}
    return suffix, encode_lines(lines, draw(ENCODINGS)), option, extra


@given(table=raw_tables())
def test_read_table_file_reads_or_raises_a_data_error(table):
    suffix, data = table
    with scratch() as folder:
        path = folder / f"t{suffix}"
        path.write_bytes(data)
        frame = loads_or_refuses(read_table_file, path)
        if not refused(frame):
            assert len(frame) >= 1 and all(isinstance(c, str) for c in frame.columns)


@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".tsv", ".parquet"]))
def test_read_table_file_on_arbitrary_bytes(data, suffix):
    with scratch() as folder:
        path = folder / f"t{suffix}"
        path.write_bytes(data)
        loads_or_refuses(read_table_file, path)


@given(table=raw_tables(), chunk_size=st.sampled_from([1, 3, 1000]))
def test_iter_table_chunks_reads_or_raises_a_data_error(table, chunk_size):
    suffix, data = table
    with scratch() as folder:
        path = folder / f"t{suffix}"
        path.write_bytes(data)
        chunks = loads_or_refuses(lambda: list(iter_table_chunks(path, chunk_size, string_columns=("a",))))
        if not refused(chunks):
            assert all(len(chunk) <= chunk_size for chunk in chunks)


@pytest.fixture(scope="module")
def table_solutions():
    from solutions.credit_scoring import CreditScoringSolution
    from solutions.fraud_detection import FraudDetectionSolution

    found = []
    for cls in (FraudDetectionSolution, CreditScoringSolution):
        solution = cls(recipe="quick")
        found.append((solution, solution.resolve_recipe()))
    return found


def load_and_split(solution, recipe, path, label, **options):
    source = loads_or_refuses(resolve_data, str(path), label=label, **options)
    if refused(source):
        return source
    examples = loads_or_refuses(solution.load_examples, source, recipe, None)
    if refused(examples):
        return examples
    assert len(examples.labels) == len(examples.x) == len(examples.ids)
    return loads_or_refuses(solution.split, examples, recipe)


@given(table=labelled_tables())
def test_table_solutions_load_examples_and_split(table_solutions, table):
    suffix, data, label, options = table
    with scratch() as folder:
        path = folder / f"table{suffix}"
        path.write_bytes(data)
        for solution, recipe in table_solutions:
            load_and_split(solution, recipe, path, label, **options)


@given(table=raw_tables(), label=st.sampled_from([None, "label", "a"]))
def test_table_solutions_on_raw_tables(table_solutions, table, label):
    suffix, data = table
    with scratch() as folder:
        path = folder / f"table{suffix}"
        path.write_bytes(data)
        for solution, recipe in table_solutions:
            load_and_split(solution, recipe, path, label)


GERMAN_ROW = "A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1".split()


@st.composite
def german_files(draw):
    """german.data rows (20 coded attributes and the class), with fields dropped, added or replaced."""
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        row = list(GERMAN_ROW)
        row[-1] = draw(st.sampled_from(["1", "2"]))
        for _ in range(draw(st.integers(0, 2))):
            position = draw(st.integers(0, len(row) - 1))
            change = draw(st.sampled_from(["drop", "add", "replace"]))
            if change == "drop":
                row.pop(position)
            elif change == "add":
                row.insert(position, draw(CELL) or "x")
            else:
                row[position] = draw(st.sampled_from(["A99", "x", "1.5", "-3", "nan", "é", "3"]))
        lines.append(" ".join(row))
    return encode_lines(lines, draw(ENCODINGS))


@given(data=german_files())
@example(data=" ".join(["A11", "nan"] + GERMAN_ROW[2:]).encode())  # found: a missing number raised IntCastingNaNError
@example(data=(" ".join(GERMAN_ROW) + "\n" + " ".join(GERMAN_ROW[:-2])).encode())  # a short row
def test_credit_scoring_reads_german_files_or_raises_a_data_error(table_solutions, data):
    solution, recipe = table_solutions[1]
    with scratch() as folder:
        path = folder / "german.data"
        path.write_bytes(data)
        load_and_split(solution, recipe, path, "credit_risk")
