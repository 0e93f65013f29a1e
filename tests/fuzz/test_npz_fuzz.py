"""Fuzzed .npz arrays: wrong shapes, dtypes and keys, mismatched splits, broken archives.

`load_npz_examples` either gives Examples or raises a SolutionsError.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import example, given, strategies as st

from solutions.core.errors import DataError
from solutions.imaging.data import load_npz_examples
from tests.fuzz import loads_or_refuses, mutated, refused, scratch

DTYPES = ["uint8", "uint8", "float32", "float64", "int64", "int16", "bool", "complex64", "<U3", "object", "datetime64[D]"]
KEY_SETS = [("x", "y"), ("images", "labels"), ("X", "y"), ("x",), ("y",), ("train_images", "train_labels"),
            ("train_images", "train_labels", "val_images", "val_labels"), ("val_images", "val_labels"),
            ("train_images",), ("train_images", "train_labels", "test_images"), ("a", "b")]


@st.composite
def arrays(draw, image: bool) -> np.ndarray:
    if image:
        shape = draw(st.one_of(
            st.tuples(st.integers(0, 4), st.integers(1, 6), st.integers(1, 6)),
            st.tuples(st.integers(0, 4), st.integers(1, 6), st.integers(1, 6), st.sampled_from([1, 2, 3, 4, 5])),
            st.lists(st.integers(0, 3), max_size=5).map(tuple),
        ))
    else:
        shape = draw(st.one_of(st.tuples(st.integers(0, 4)), st.tuples(st.integers(0, 4), st.integers(1, 3)),
                               st.lists(st.integers(0, 3), max_size=3).map(tuple)))
    dtype = draw(st.sampled_from(DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    values = rng.integers(0, draw(st.sampled_from([2, 3, 256, 1000])), shape)
    if dtype == "object":
        array = np.empty(shape, dtype=object)
        array.flat[:] = [draw(st.sampled_from([1, "a", None, 2.5])) for _ in range(array.size)]
        return array
    if dtype == "datetime64[D]":
        return values.astype("datetime64[D]")
    array = values.astype(dtype)
    if dtype.startswith("float") and array.size and draw(st.booleans()):
        array.flat[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 0.5, -3.0]))
    return array


@st.composite
def npz_files(draw) -> bytes:
    keys = draw(st.sampled_from(KEY_SETS))
    found = {}
    for key in keys:
        found[key] = draw(arrays(image=key in ("x", "X", "a") or key.endswith("images")))
    buffer = io.BytesIO()
    np.savez(buffer, **found)
    return mutated(draw, buffer.getvalue(), keep_weight=8)


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


IMAGES = np.zeros((2, 4, 4), np.uint8)
FOUND = {  # what the fuzzing found (each raised something other than a DataError), kept as explicit examples
    "empty file (EOFError)": b"",
    "not a zip (BadZipFile)": b"PK\x03\x04 truncated",
    "truncated archive (BadZipFile)": npz(x=IMAGES, y=np.zeros(2))[:-30],
    "a .npy file (AttributeError)": npy(IMAGES),
    "object labels (ValueError: allow_pickle)": npz(x=IMAGES, y=np.array([1, "a"], dtype=object)),
    "scalar labels (TypeError: len)": npz(x=IMAGES, y=np.array(3)),
    "no images (ValueError: reshape)": npz(x=np.zeros((0, 4, 4), np.uint8), y=np.zeros(0)),
    "text images (TypeError)": npz(x=np.full((2, 4, 4), "1"), y=np.zeros(2)),
    "empty float images (ValueError: max)": npz(x=np.zeros((2, 0, 4), np.float32), y=np.zeros(2)),
    "splits of two sizes (ValueError: concatenate)": npz(train_images=IMAGES, train_labels=np.zeros(2),
                                                          val_images=np.zeros((1, 5, 5), np.uint8), val_labels=np.zeros(1)),
    "labels past class_names (IndexError)": npz(x=IMAGES, y=np.array([0, 7])),
    "text labels with class_names (ValueError)": npz(x=IMAGES, y=np.array(["a", "b"])),
}


@given(data=npz_files(), image_size=st.sampled_from([None, (8, 8)]), channels=st.sampled_from(["auto", "gray", "rgb", 1, 3]),
       class_names=st.sampled_from([None, None, ["a", "b"], ["a", "b", "c"]]), multi_label=st.booleans())
@example(data=FOUND["empty file (EOFError)"], image_size=None, channels="auto", class_names=None, multi_label=False)
def test_load_npz_examples_loads_or_raises_a_data_error(data, image_size, channels, class_names, multi_label):
    with scratch() as folder:
        path = folder / "data.npz"
        path.write_bytes(data)
        found = loads_or_refuses(load_npz_examples, path, image_size, channels, class_names, multi_label)
        if not refused(found):
            assert found.x.dtype == np.uint8 and found.x.ndim == 4 and len(found.x) == len(found.labels)


@given(data=st.binary(max_size=200))
def test_load_npz_examples_on_arbitrary_bytes(data):
    with scratch() as folder:
        path = folder / "data.npz"
        path.write_bytes(b"PK\x03\x04" + data if data[:1] == b"P" else data)
        loads_or_refuses(load_npz_examples, path, None, "auto")


@pytest.mark.parametrize("case", sorted(FOUND))
def test_what_the_npz_fuzzing_found_is_a_data_error(case):
    with scratch() as folder:
        path = folder / "data.npz"
        path.write_bytes(FOUND[case])
        with pytest.raises(DataError) as error:
            load_npz_examples(path, None, "auto", ["a", "b"])
        assert str(path) in str(error.value)
