"""Reading texts in every supported layout, cleaning them, and rejecting bad input clearly."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from solutions.core.datasets import DataSource, resolve_data
from solutions.core.errors import DataError
from solutions.sentiment.data import load_text_examples
from solutions.sentiment.inputs import TextInputs, iter_prediction_texts
from solutions.sentiment.sample import make_reviews
from solutions.sentiment.recipe import SentimentRecipe
from tests.sentiment.conftest import write_csv

RECIPE = SentimentRecipe()


def load(path: Path, recipe: SentimentRecipe = RECIPE, **config):
    return load_text_examples(resolve_data(path, **config), recipe)


def test_csv_with_named_columns(reviews_csv):
    examples = load(reviews_csv, text="body", label="verdict")
    assert len(examples) == 80 and set(examples.labels) == {"negative", "positive"}
    assert examples.x[0].startswith(("the", "this"))


def test_label_column_is_found_by_its_literal_name(tmp_path):
    path = write_csv(tmp_path / "t.csv", [{"text": "good fun", "target": 1}, {"text": "dull", "target": 0}])
    examples = load(path)
    assert list(examples.labels) == ["1", "0"]


def test_missing_label_column_lists_the_columns(reviews_csv):
    with pytest.raises(DataError, match="no label column.*Columns found: id, body, verdict.*--label"):
        load(reviews_csv, text="body")


def test_missing_text_column_names_the_columns(reviews_csv):
    with pytest.raises(DataError, match="no text column 'review'. Columns found: id, body, verdict"):
        load(reviews_csv, text="review", label="verdict")


def test_tsv_and_jsonl(tmp_path):
    tsv = tmp_path / "t.tsv"
    tsv.write_text('sentence\tlabel\na "quoted" joy\tpos\ngrim, bleak\tneg\n', encoding="utf-8")
    assert list(load(tsv).x) == ['a "quoted" joy', "grim, bleak"]
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"text": "great", "label": 2}\n\n{"text": "meh", "label": 1}\n', encoding="utf-8")
    assert list(load(jsonl).labels) == ["2", "1"]
    jsonl.write_text('{"text": "great", "label": 2}\n{"text": broken\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2 is not valid JSON"):
        load(jsonl)


def test_sentence_tab_label_lines(tmp_path):
    path = tmp_path / "sst.txt"
    path.write_text("a gripping film\t1\n\nflat and dull\t0\n", encoding="utf-8")
    examples = load(path)
    assert list(examples.x) == ["a gripping film", "flat and dull"] and list(examples.labels) == ["1", "0"]
    path.write_text("no tab on this line\n", encoding="utf-8")
    with pytest.raises(DataError, match="line 1 has no TAB"):
        load(path)


def _write_folder(root: Path, layout: dict[str, str]) -> Path:
    for name, text in layout.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_aclimdb_layout_keeps_splits_and_skips_unsup(tmp_path):
    root = _write_folder(tmp_path / "aclImdb", {
        "train/pos/1.txt": "loved it", "train/neg/2.txt": "hated it", "train/unsup/3.txt": "no label",
        "test/pos/4.txt": "wonderful", "test/neg/5.txt": "awful",
    })
    examples = load(root)
    assert sorted(examples.labels) == ["neg", "neg", "pos", "pos"]
    assert sorted(examples.given_split) == ["test", "test", "train", "train"]
    assert ("train/unsup", "unlabelled folder skipped") in examples.dropped


def test_review_polarity_layout_inside_a_tar_gz(tmp_path):
    folder = _write_folder(tmp_path / "src", {"poldata.README.2.0": "readme",
                                             "txt_sentoken/pos/cv000_1.txt": "a fine film .\n",
                                             "txt_sentoken/neg/cv000_2.txt": "a dull film .\n"})
    archive = tmp_path / "review_polarity.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)))
    examples = load(archive)
    assert sorted(examples.ids) == ["neg/cv000_2.txt", "pos/cv000_1.txt"]
    assert examples.given_split is None


def test_empty_file_and_all_empty_text_column(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="is empty"):
        load(empty)
    blank = write_csv(tmp_path / "blank.csv", [{"text": "  ", "label": "a"}, {"text": "", "label": "b"}])
    with pytest.raises(DataError, match="text column 'text' of .* is empty in every row"):
        load(blank)


def test_invalid_utf8_names_the_line_or_is_skipped_and_counted(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"text,label\nfine,pos\nbad \xff byte,neg\nalso fine,neg\n")
    with pytest.raises(DataError, match=r"not valid UTF-8: line 3 has the byte 0xff"):
        load(path)
    examples = load(path, SentimentRecipe(on_decode_error="skip"))
    assert list(examples.x) == ["fine", "also fine"]
    assert [reason for _, reason in examples.dropped] == ["not valid UTF-8"]
    kept = load(path, SentimentRecipe(on_decode_error="replace"))
    assert "bad \ufffd byte" in list(kept.x) and len(kept.dropped) == 1


def test_empty_texts_missing_labels_and_duplicates_are_counted(tmp_path):
    rows = [{"text": "good", "label": "pos"}, {"text": "   ", "label": "neg"}, {"text": "fine", "label": ""},
            {"text": "Good", "label": "pos"}, {"text": "odd one", "label": "pos"}, {"text": "odd  one", "label": "neg"},
            {"text": "bad", "label": "neg"}]
    path = write_csv(tmp_path / "d.csv", rows)
    examples = load(path)
    assert list(examples.x) == ["good", "bad"]
    reasons = sorted(reason.split(" [")[0].split(" of ")[0] for _, reason in examples.dropped)
    assert reasons == ["duplicate", "duplicate text with conflicting labels", "duplicate text with conflicting labels",
                       "empty or whitespace-only text", "missing label"]
    kept = load(path, SentimentRecipe(duplicates="keep"))
    assert len(kept) == 5


def test_star_ratings_are_mapped_by_the_recipe(tmp_path):
    path = write_csv(tmp_path / "stars.csv", [{"text": f"review {i}", "label": s} for i, s in enumerate([1, 2, 3, 4, 5])])
    recipe = SentimentRecipe(label_map=("1=negative", "2=negative", "3=neutral", "4=positive", "5=positive"))
    assert list(load(path, recipe).labels) == ["negative", "negative", "neutral", "positive", "positive"]
    with pytest.raises(DataError, match="label_map does not map: '5'"):
        load(path, SentimentRecipe(label_map=("1=negative", "2=negative", "3=neutral", "4=positive")))


def test_generator_is_seeded():
    a, b = make_reviews(n_per_class=5, seed=1), make_reviews(n_per_class=5, seed=1)
    assert a == b and a != make_reviews(n_per_class=5, seed=2)
    examples = load_text_examples(resolve_data("reviews"), RECIPE)
    assert len(examples) > 200 and set(examples.labels) == {"negative", "positive"}


def test_prediction_inputs_from_texts_tables_text_files_and_folders(tmp_path):
    schema = {"text_column": "body"}
    chunks = list(iter_prediction_texts(TextInputs(("one", "two", "three")), schema, chunk_size=2))
    assert [c.ids for c in chunks] == [["text[0]", "text[1]"], ["text[2]"]]
    table = write_csv(tmp_path / "new.csv", [{"body": "x y", "other": 1}, {"body": "z", "other": 2}])
    assert list(next(iter_prediction_texts(table, schema, 10)).x) == ["x y", "z"]
    lines = tmp_path / "new.txt"
    lines.write_text("first text\n\nsecond text\n", encoding="utf-8")
    chunk = next(iter_prediction_texts(lines, schema, 10))
    assert chunk.ids == ["new.txt:1", "new.txt:3"] and list(chunk.x) == ["first text", "second text"]
    folder = _write_folder(tmp_path / "docs", {"a.txt": "alpha", "sub/b.txt": "beta"})
    assert sorted(next(iter_prediction_texts(folder, schema, 10)).x) == ["alpha", "beta"]
    with pytest.raises(DataError, match="Input not found"):
        list(iter_prediction_texts(tmp_path / "missing.csv", schema, 10))
    other = write_csv(tmp_path / "other.csv", [{"a": "x", "b": "y"}])
    with pytest.raises(DataError, match="no text column.*Columns found: a, b"):
        list(iter_prediction_texts(other, schema, 10))
