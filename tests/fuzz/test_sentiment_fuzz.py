"""Fuzzed sentiment files: CSV, TSV, JSON Lines, line files and class folders with odd encodings and columns.

`load_text_examples` (reading, then cleaning) either gives Examples or raises a SolutionsError,
under every on_decode_error policy.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from solutions.core.datasets import resolve_data
from solutions.sentiment.data import load_text_examples
from tests.fuzz import encode_lines, loads_or_refuses, refused, scratch

TEXTS = st.one_of(st.sampled_from(["great film", "awful", "", " ", "naïve café", "😀 good", "a,b", '"quoted"', "tab\there",
                                   "bad\x00byte", "great film"]),
                  st.text(max_size=12))
LABELS = st.sampled_from(["pos", "neg", "1", "0", "1.0", "", "NaN", "5", " pos ", "neutral"])
COLUMNS = ["text", "label", "sentence", "review", "split", "id", "sentiment", "stars", ""]
ENCODINGS = st.sampled_from(["utf-8", "utf-8", "latin-1", "mixed", "utf-8-sig", "utf-16"])
JSON_VALUES = st.one_of(TEXTS, LABELS, st.none(), st.integers(-2, 5), st.floats(allow_nan=True, allow_infinity=True),
                        st.just([1, "pos"]), st.just({"a": 1}), st.booleans())


def clean_cell(value: str, separator: str) -> str:
    return value.replace("\n", " ").replace("\r", " ") if separator else value


@st.composite
def table_files(draw):
    """(file name, bytes, --text, --label) of a CSV, TSV or JSON Lines file."""
    kind = draw(st.sampled_from(["csv", "tsv", "jsonl"]))
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=4))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        width = draw(st.integers(max(0, len(header) - 1), len(header) + 1))  # ragged now and then
        row = []
        for column in (header + ["extra"])[:width]:
            if column == "split":
                row.append(draw(st.sampled_from(["train", "val", "test", "dev", "other", ""])))
            elif column in ("label", "sentiment", "stars"):
                row.append(draw(LABELS))
            else:
                row.append(draw(TEXTS))
        rows.append(row)
    if kind == "jsonl":
        lines = []
        for row in rows:
            if draw(st.integers(0, 9)) == 0:
                lines.append(draw(st.sampled_from(["[1, 2]", "{broken", '"text"', "", "null"])))
                continue
            record = {column: (draw(JSON_VALUES) if draw(st.integers(0, 4)) == 0 else value)
                      for column, value in zip(header + ["extra"], row)}
            lines.append(json.dumps(record, allow_nan=True, ensure_ascii=draw(st.booleans())))
    else:
        separator = "\t" if kind == "tsv" else ","
        lines = [separator.join(header)] + [separator.join(clean_cell(c, separator) for c in row) for row in rows]
    text_option = draw(st.sampled_from([None, None, "text", "review", "nope"]))
    label_option = draw(st.sampled_from([None, None, "label", "stars", "nope"]))
    return f"reviews.{kind}", encode_lines(lines, draw(ENCODINGS)), text_option, label_option


@st.composite
def line_files(draw):
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        sentence = draw(TEXTS).replace("\n", " ").replace("\r", " ")
        separator = draw(st.sampled_from(["\t", "\t", " ", "\t\t", ""]))
        lines.append(f"{sentence}{separator}{draw(LABELS)}")
    name = draw(st.sampled_from(["sentences.txt", "sentences.tsv"]))
    return name, encode_lines(lines, draw(ENCODINGS), draw(st.sampled_from(["\n", "\r\n"])))


def recipe_for(policy: str, duplicates: str, label_map: tuple[str, ...]):
    from solutions.sentiment import SentimentSolution

    return SentimentSolution(recipe="quick", on_decode_error=policy, duplicates=duplicates,
                             label_map=label_map).resolve_recipe()


POLICIES = st.sampled_from(["error", "skip", "replace"])
DUPLICATES = st.sampled_from(["drop", "keep"])
LABEL_MAPS = st.sampled_from([(), (), ("1=negative", "5=positive"), ("pos=positive", "neg=negative")])


def check_loaded(found) -> None:
    # Examples may be empty (every text a duplicate with conflicting labels): `split` then raises a DataError.
    if not refused(found):
        assert len(found.x) == len(found.labels) == len(found.ids)
        assert all(isinstance(label, str) for label in found.labels)


@given(file=table_files(), policy=POLICIES, duplicates=DUPLICATES, label_map=LABEL_MAPS)
def test_sentiment_tables_load_or_raise_a_data_error(file, policy, duplicates, label_map):
    name, data, text, label = file
    with scratch() as folder:
        (folder / name).write_bytes(data)
        source = resolve_data(str(folder / name), text=text, label=label)
        check_loaded(loads_or_refuses(load_text_examples, source, recipe_for(policy, duplicates, label_map)))


@given(file=line_files(), policy=POLICIES, duplicates=DUPLICATES)
def test_sentiment_line_files_load_or_raise_a_data_error(file, policy, duplicates):
    name, data = file
    with scratch() as folder:
        (folder / name).write_bytes(data)
        check_loaded(loads_or_refuses(load_text_examples, resolve_data(str(folder / name)),
                                      recipe_for(policy, duplicates, ())))


@given(files=st.lists(st.tuples(st.sampled_from(["pos", "neg", "train/pos", "train/neg", "test/pos", "unsup", "_x"]),
                                TEXTS, ENCODINGS), min_size=1, max_size=5),
       policy=POLICIES)
def test_sentiment_class_folders_load_or_raise_a_data_error(files, policy):
    with scratch() as folder:
        root = folder / "reviews"
        for i, (where, text, encoding) in enumerate(files):
            (root / where).mkdir(parents=True, exist_ok=True)
            (root / where / f"{i}.txt").write_bytes(encode_lines([text], encoding))
        check_loaded(loads_or_refuses(load_text_examples, resolve_data(str(root)), recipe_for(policy, "drop", ())))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".txt"])
@given(data=st.binary(max_size=200))
def test_sentiment_files_of_arbitrary_bytes(suffix, data):
    with scratch() as folder:
        (folder / f"x{suffix}").write_bytes(data)
        check_loaded(loads_or_refuses(load_text_examples, resolve_data(str(folder / f"x{suffix}")),
                                      recipe_for("replace", "drop", ())))
