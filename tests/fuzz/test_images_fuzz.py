"""Fuzzed image bytes: truncated, overwritten or garbage files in every format OpenCV writes.

`decode_image` returns (H, W, 1 or 3) uint8 pixels or raises its ImageDecodeError (which the
folder loaders turn into skipped files or a DataError); the folder and CSV loaders of
image_classification either load or raise a SolutionsError.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, strategies as st

from solutions.core.datasets import resolve_data
from solutions.imaging.decode import ImageDecodeError, decode_image
from solutions.image_classification.data import load_image_examples
from tests.fuzz import loads_or_refuses, mutated, refused, scratch

FORMATS = [".png", ".jpg", ".bmp", ".tiff", ".webp"]


@st.composite
def image_files(draw) -> tuple[str, bytes]:
    """(suffix, bytes): a small image encoded by OpenCV, then perhaps broken; or bytes that are no image."""
    import cv2

    suffix = draw(st.sampled_from(FORMATS))
    if draw(st.integers(0, 5)) == 0:
        junk = draw(st.sampled_from([b"", b"\xff\xd8", b"\xff\xd8\xff\xd9", b"\x89PNG\r\n\x1a\n", b"BM", b"II*\x00",
                                     b"RIFF\x00\x00\x00\x00WEBP"]))
        return suffix, junk + draw(st.binary(max_size=64))
    height, width = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    depth = np.uint16 if suffix in (".png", ".tiff") and draw(st.booleans()) else np.uint8
    shape = (height, width) if channels is None else (height, width, channels)
    seed = draw(st.integers(0, 2**16))
    image = np.random.default_rng(seed).integers(0, np.iinfo(depth).max, shape, endpoint=True).astype(depth)
    try:
        ok, encoded = cv2.imencode(suffix, image)
    except cv2.error:  # a combination this OpenCV build does not write
        ok = False
    if not ok:
        return suffix, b""
    return suffix, mutated(draw, encoded.tobytes())


@given(file=image_files())
def test_decode_image_returns_pixels_or_raises_its_decode_error(file):
    _, data = file
    image = loads_or_refuses(decode_image, data, "fuzz", allowed=(ImageDecodeError,))
    if not refused(image):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] in (1, 3) and image.size > 0


@given(files=st.lists(image_files(), min_size=1, max_size=4), on_corrupt=st.sampled_from(["skip", "error"]),
       channels=st.sampled_from(["auto", "gray", "rgb"]))
def test_image_folder_loads_or_raises_a_data_error(files, on_corrupt, channels):
    with scratch() as folder:
        root = folder / "images"
        for i, (suffix, data) in enumerate(files):
            path = root / ("cats" if i % 2 else "dogs") / f"{i}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        found = loads_or_refuses(load_image_examples, resolve_data(str(root)), (16, 16), channels, on_corrupt)
        if not refused(found):
            assert found.x.shape[1:3] == (16, 16) and len(found.x) == len(found.labels) == len(found.ids)


CSV_CELLS = st.sampled_from(["0.png", "1.jpg", "missing.png", "", "cats", "dogs", "train", "val", "nope", "é", '"', "a,b"])


@given(files=st.lists(image_files(), min_size=1, max_size=3),
       header=st.lists(st.sampled_from(["path", "file", "label", "class", "split", "other", ""]), min_size=1, max_size=4),
       rows=st.lists(st.lists(CSV_CELLS, max_size=5), max_size=5),
       latin1=st.booleans())
def test_image_csv_layout_loads_or_raises_a_data_error(files, header, rows, latin1):
    with scratch() as folder:
        for i, (suffix, data) in enumerate(files):
            (folder / f"{i}{suffix}").write_bytes(data)
        text = "\n".join([",".join(header)] + [",".join(row) for row in rows])
        (folder / "list.csv").write_bytes(text.encode("latin-1" if latin1 else "utf-8", errors="replace"))
        loads_or_refuses(load_image_examples, resolve_data(str(folder / "list.csv")), (16, 16), "auto", "skip")
