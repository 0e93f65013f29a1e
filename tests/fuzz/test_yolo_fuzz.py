"""Fuzzed YOLO: label lines with wrong column counts and odd numbers, odd data YAMLs, undecodable bytes.

`read_label_file`, `load_yolo` and the detection loader on a YOLO folder either load or raise a SolutionsError.
"""

from __future__ import annotations

from hypothesis import example, given, strategies as st

from solutions.core.datasets import resolve_data
from solutions.object_detection.data import load_detection_examples
from solutions.object_detection.yolo import load_yolo, read_label_file
from tests.fuzz import loads_or_refuses, mutated, png_bytes, refused, scratch

FIELD = st.one_of(
    st.integers(0, 3).map(str),
    st.floats(0, 1).map(lambda v: f"{v:.4f}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["-1", "1.0", "2.5", "abc", "1e999", "", "0x1", "１"]),
)
NAMES = st.sampled_from([
    ["cat", "dog"], ["cat"], [], "cat", None, {0: "cat", 1: "dog"}, {0: "cat", 2: "dog"}, {"a": "cat"},
    {None: "cat"}, {1.5: "cat"}, {0: None}, [None, 3], {"0": "cat", "1": "dog"}, 7,
])
ENTRIES = st.sampled_from(["images/train", "images/train", "images/val", "nope", "", None, ["images/train", "images/val"],
                           5, {"x": 1}, "images/train/a.png", "list.txt", "images"])


@st.composite
def label_files(draw) -> bytes:
    lines = [" ".join(draw(st.lists(FIELD, min_size=0, max_size=9))) for _ in range(draw(st.integers(0, 4)))]
    data = "\n".join(lines).encode()
    if draw(st.integers(0, 5)) == 0:
        data += draw(st.sampled_from([b"\n0 0.5 0.5 0.2 0.\xe9", b"\xff\xfe0\x00", b"\n\x00"]))
    return data


@st.composite
def data_yamls(draw) -> bytes:
    import yaml

    data = {}
    for key, strategy in (("names", NAMES), ("train", ENTRIES), ("val", ENTRIES), ("test", ENTRIES),
                          ("path", st.sampled_from([".", "nope", None, "", 3]))):
        if draw(st.integers(0, 3)):
            data[key] = draw(strategy)
    if draw(st.integers(0, 9)) == 0:
        data = draw(st.sampled_from([[data], "names", None]))
    return mutated(draw, yaml.safe_dump(data).encode("utf-8"), keep_weight=6)


@given(data=label_files(), names=st.sampled_from([["cat"], ["cat", "dog", "bird"]]))
@example(data=b"0 0.5 0.5 0.2 0.\xe9", names=["cat"])  # found: UnicodeDecodeError
def test_read_label_file_reads_or_raises_a_data_error(data, names):
    with scratch() as folder:
        (folder / "a.txt").write_bytes(data)
        found = loads_or_refuses(read_label_file, folder / "a.txt", names)
        if not refused(found):
            boxes, labels = found
            assert boxes.shape == (len(labels), 4) and set(labels) <= set(names)


@given(yaml_data=data_yamls(), labels=st.lists(label_files(), min_size=1, max_size=2),
       on_bad_image=st.sampled_from(["error", "skip"]))
@example(yaml_data=b"\x80 {}\n", labels=[b""], on_bad_image="error")  # found: UnicodeDecodeError
@example(yaml_data=b"names: {null: cat}\ntrain: images/train\n", labels=[b""], on_bad_image="error")  # found: TypeError
def test_yolo_folder_loads_or_raises_a_data_error(yaml_data, labels, on_bad_image):
    with scratch() as folder:
        (folder / "data.yaml").write_bytes(yaml_data)
        for split in ("train", "val"):
            (folder / "images" / split).mkdir(parents=True)
            (folder / "labels" / split).mkdir(parents=True)
        (folder / "images/train/a.png").write_bytes(png_bytes())
        (folder / "images/val/b.png").write_bytes(png_bytes(40, 20))
        (folder / "labels/train/a.txt").write_bytes(labels[0])
        (folder / "labels/val/b.txt").write_bytes(labels[-1])
        (folder / "list.txt").write_bytes(b"images/train/a.png\nimages/missing.png\n")
        loads_or_refuses(load_yolo, folder / "data.yaml")
        found = loads_or_refuses(load_detection_examples, resolve_data(str(folder)), (32, 32), on_bad_image)
        if not refused(found):
            assert found.x.shape[1:] == (32, 32, 3)
