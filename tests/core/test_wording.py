"""Counts in messages: the singular for exactly one ("1 image", not "1 images"), in every message that counts."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.errors import DataError
from solutions.core.report_frame import data_summary_section
from solutions.core.solution import _failure_hint
from solutions.core.splits import Examples, split_examples
from solutions.core.wording import agree, plural, skipped_text


def test_plural_and_agree():
    assert [plural(n, "image") for n in (0, 1, 2)] == ["0 images", "1 image", "2 images"]
    assert plural(1, "group id") == "1 group id" and plural(3, "box") == "3 boxes" and plural(2, "entry") == "2 entries"
    assert agree(1, "was", "were") == "was" and agree(2, "was", "were") == "were"


def summary(dropped):
    return {"splits": {"train": {"size": 3, "classes": {"a": 3}}}, "dropped": dropped}


def test_the_data_section_says_1_input_was_dropped_and_names_every_dropped_file():
    one = data_summary_section(summary({"count": 1, "by_reason": {"unreadable file: empty file": 1},
                                        "examples": [["normal/x.png", "unreadable file: empty file"]]}))
    assert "1 input was dropped: normal/x.png (unreadable file: empty file)" in one.note
    many = [[f"img{i}.jpg", "unreadable image: not a decodable image"] for i in range(20)]
    note = data_summary_section(summary({"count": 25, "by_reason": {"unreadable image: not a decodable image": 25},
                                         "examples": many})).note
    assert note.startswith("25 inputs were dropped (unreadable image: not a decodable image: 25); the first 20: img0.jpg (")
    assert "img19.jpg" in note
    assert "No inputs were dropped" in data_summary_section(summary({"count": 0})).note


def test_failure_hint_and_the_skipped_line_count_in_the_singular_for_one():
    assert _failure_hint([("a.png", "empty file")]) == " 1 input could not be read: a.png: empty file."
    assert skipped_text(1, [("x.dcm", "unreadable file: DICOM file without pixel data")]) == \
        "skipped 1 unreadable file: x.dcm (DICOM file without pixel data)"
    assert skipped_text(4, [("a", "unreadable image: empty file"), ("b", "unreadable image: truncated JPEG")], shown=1) == \
        "skipped 4 unreadable images: a (empty file) and 3 more"


def test_one_group_in_two_given_splits_is_said_in_the_singular():
    examples = Examples(x=np.zeros((4, 1)), labels=np.array(["a", "b", "a", "b"]), ids=np.arange(4).astype(str),
                        given_split=np.array(["train", "train", "test", "test"], dtype=object),
                        groups=np.array(["P1", "P2", "P1", "P3"], dtype=object))
    with pytest.raises(DataError, match=r"^1 group id \(e\.g\. a patient\) appears in more than one of the given splits"):
        split_examples(examples, validation_fraction=0.2, test_fraction=0.2, seed=0, min_per_class=1)
