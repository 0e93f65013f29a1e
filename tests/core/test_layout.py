"""Class folders, split names and label columns shared by the text and image layouts (core.layout)."""

from pathlib import Path

import pytest

from solutions.core.errors import DataError
from solutions.core.layout import (
    LABEL_COLUMNS, class_folders, find_column, find_label_column, given_splits, split_name,
)


def make_folders(root: Path, *names: str) -> Path:
    for name in names:
        (root / name).mkdir(parents=True)
    return root


def no_files(folder: Path) -> bool:
    return False


def test_label_is_found_by_name_in_any_case_or_asked_for():
    assert find_label_column(["Time", "V1", "Amount", "Class"], None, "x") == "Class"
    assert find_label_column(["a", "fraud"], "fraud", "x") == "fraud"
    with pytest.raises(DataError, match="no label column.*Columns found: a, b.*--label"):
        find_label_column(["a", "b"], None, "x")
    with pytest.raises(DataError, match="no label column 'fruad'.*Did you mean \"fraud\".*--label"):
        find_label_column(["a", "fraud"], "fruad", "x")


def test_several_label_columns_are_an_error_or_the_first_known_name():
    with pytest.raises(DataError, match="several columns that could be the label \\(y, label\\).*--label COLUMN"):
        find_label_column(["y", "label"], None, "x")
    assert find_label_column(["y", "label"], None, "x", several="first") == "label"
    assert find_label_column(["Label", "y"], None, "x", several="first", match_case=True) == "y"


def test_other_columns_name_their_option():
    columns = ["id", "body", "verdict"]
    with pytest.raises(DataError, match="no text column 'review'. Columns found: id, body, verdict.*--text COLUMN"):
        find_column(columns, "review", ("text",), where="t.csv", what="text", flag="--text")
    with pytest.raises(DataError, match="none is named text or sentence.*--text COLUMN, or rename it to text"):
        find_column(columns, None, ("text", "sentence"), where="t.csv", what="text", flag="--text")


def test_long_column_lists_are_cut_with_a_count():
    columns = [f"c{i}" for i in range(50)]
    with pytest.raises(DataError, match="c39, \\.\\.\\. \\(50 in all\\)"):
        find_label_column(columns, None, "x")
    assert LABEL_COLUMNS == ("label", "target", "class", "y")


def test_split_names_and_their_aliases():
    assert [split_name(n) for n in ("train", "Training", "valid", "dev", "TEST", "cats")] == \
        ["train", "train", "val", "val", "test", None]
    assert given_splits(["training", " Validation", "test"], "x") == ["train", "val", "test"]
    with pytest.raises(DataError, match="column `split` holds \\['holdout'\\]; allowed values are train, val and test"):
        given_splits(["train", "holdout"], "x")


def test_class_folders_flat_and_under_split_folders(tmp_path):
    flat = class_folders(make_folders(tmp_path / "flat", "cat", "dog", ".hidden"), no_files)
    assert [(s, f.name) for s, f in flat.folders] == [(None, "cat"), (None, "dog")] and not flat.has_splits
    split = class_folders(make_folders(tmp_path / "split", "train/cat", "train/dog", "dev/cat", "notes"), no_files)
    assert split.has_splits
    assert [(s, f.name) for s, f in split.folders] == [("val", "cat"), ("train", "cat"), ("train", "dog")]
    assert split.found == ("dev", "notes", "train")


def test_an_archive_top_folder_is_stepped_into_unless_it_holds_files(tmp_path):
    root = make_folders(tmp_path / "a", "aclImdb/train/pos", "aclImdb/test/pos")
    layout = class_folders(root, no_files)
    assert layout.root.name == "aclImdb" and layout.has_splits
    kept = class_folders(root / "aclImdb", lambda folder: True)
    assert kept.root.name == "aclImdb"
    one_class = class_folders(make_folders(tmp_path / "b", "pos"), no_files)
    assert [f.name for _, f in one_class.folders] == ["pos"]


def test_split_folders_without_train_are_an_error_or_classes(tmp_path):
    root = make_folders(tmp_path, "test/pos", "val/pos")
    with pytest.raises(DataError, match="has test/, val/ but no train/ folder. Put the training texts under train/<class>/"):
        class_folders(root, no_files, what="texts")
    layout = class_folders(root, no_files, without_train="classes")
    assert [(s, f.name) for s, f in layout.folders] == [(None, "test"), (None, "val")]


def test_prefixes_to_skip(tmp_path):
    root = make_folders(tmp_path, "__MACOSX", "neg", "pos")
    assert [f.name for _, f in class_folders(root, no_files).folders] == ["__MACOSX", "neg", "pos"]
    assert [f.name for _, f in class_folders(root, no_files, skip_prefixes=(".", "_")).folders] == ["neg", "pos"]
