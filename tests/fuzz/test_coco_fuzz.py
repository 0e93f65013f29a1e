"""Fuzzed COCO JSON: missing or wrong-typed fields, odd numbers (huge, infinite, fractional), broken JSON.

`load_coco` and the detection loader on a COCO file either load or raise a SolutionsError.
"""

from __future__ import annotations

import json

from hypothesis import example, given, strategies as st

from solutions.core.datasets import resolve_data
from solutions.object_detection.coco import load_coco
from solutions.object_detection.data import load_detection_examples
from tests.fuzz import loads_or_refuses, mutated, png_bytes, refused, scratch

ODD = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 7, 2.5, 1e300, 2**70, float("inf"), float("-inf"), float("nan"),
                     "", "1", "x", "a.png", [], {}, [1, 2]]),
    st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
ODD_IDS = st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e300, 2.5, "1", "x", None, True, [], -1, 2**70])
FILE_NAMES = st.sampled_from(["a.png", "b.png", "missing.png", "a" * 300, "é.png", "", "../a.png", "sub/a.png"])
BBOX = st.one_of(
    st.lists(st.integers(-10, 40), min_size=4, max_size=4),
    st.lists(st.floats(-10, 40), min_size=4, max_size=4),
    st.lists(st.one_of(st.integers(-10, 40), ODD), min_size=0, max_size=6),
    ODD,
)


@st.composite
def coco_documents(draw) -> bytes:
    """A well-formed COCO document, then a few fields deleted or given odd values, then perhaps its bytes broken."""
    images = [{"id": i + 1, "file_name": draw(FILE_NAMES), "width": 32, "height": 24} for i in range(draw(st.integers(0, 3)))]
    categories = [{"id": k + 1, "name": draw(st.sampled_from(["cell", "", "é"]))} for k in range(draw(st.integers(0, 2)))]
    annotations = [{"id": j + 1, "image_id": draw(st.integers(0, len(images) + 1)), "category_id": draw(st.integers(0, 3)),
                    "bbox": draw(BBOX), "iscrowd": draw(st.sampled_from([0, 0, 1]))} for j in range(draw(st.integers(0, 4)))]
    document = {"images": images, "annotations": annotations, "categories": categories}
    for _ in range(draw(st.integers(0, 3))):
        section = draw(st.sampled_from(["images", "annotations", "categories", "document"]))
        items = document.get(section)
        if section == "document":
            key = draw(st.sampled_from(sorted(document) or ["images"]))
            if draw(st.booleans()):
                document.pop(key, None)
            else:
                document[key] = draw(ODD)
        elif isinstance(items, list) and items:
            position = draw(st.integers(0, len(items) - 1))
            item = items[position]
            if not isinstance(item, dict) or draw(st.integers(0, 5)) == 0:
                items[position] = draw(ODD)
                continue
            key = draw(st.sampled_from(sorted(item) + ["extra"]))
            change = draw(st.sampled_from(["odd id", "odd", "delete"]))
            if change == "delete":
                item.pop(key, None)
            else:
                item[key] = draw(ODD_IDS if change == "odd id" else ODD)
    if draw(st.integers(0, 14)) == 0:
        document = draw(st.sampled_from([[], [document], "images", None, 3]))
    return mutated(draw, json.dumps(document, allow_nan=True).encode("utf-8"), keep_weight=8)


INFINITE_ID = b'{"images": [], "annotations": [], "categories": [{"id": Infinity, "name": "cell"}]}'
LONG_NAME = ('{"images": [{"id": 1, "file_name": "%s"}], "annotations": [], "categories": []}' % ("a" * 300)).encode()


@given(data=coco_documents())
@example(data=INFINITE_ID)  # found: OverflowError
@example(data=b'{"images": [{"id": 1, "file_name": "a.png"}], "categories": [{"id": 1, "name": "c"}], '
              b'"annotations": [{"id": 1, "image_id": -Infinity, "category_id": 1, "bbox": [1, 2, 3, 4]}]}')
@example(data=LONG_NAME)
def test_load_coco_loads_or_raises_a_data_error(data):
    with scratch() as folder:
        (folder / "train.json").write_bytes(data)
        found = loads_or_refuses(load_coco, folder / "train.json", "train")
        if not refused(found):
            assert all(a.boxes.shape == (len(a.labels), 4) for a in found)


@given(data=coco_documents(), on_bad_image=st.sampled_from(["error", "skip"]))
@example(data=INFINITE_ID, on_bad_image="error")
@example(data=LONG_NAME, on_bad_image="skip")  # found: OSError (name too long) while looking for the image
def test_coco_file_loads_as_detection_examples_or_raises_a_data_error(data, on_bad_image):
    with scratch() as folder:
        (folder / "annotations.json").write_bytes(data)
        (folder / "a.png").write_bytes(png_bytes())
        (folder / "b.png").write_bytes(b"not a png")
        found = loads_or_refuses(load_detection_examples, resolve_data(str(folder / "annotations.json")), (32, 32),
                                 on_bad_image)
        if not refused(found):
            assert found.x.shape[1:] == (32, 32, 3)
