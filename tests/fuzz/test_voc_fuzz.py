"""Fuzzed Pascal VOC: annotations with missing, empty or wrong-typed fields, broken XML, odd split files.

`parse_voc_xml` and the detection loader on a VOC folder either load or raise a SolutionsError.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from hypothesis import example, given, strategies as st

from solutions.core.datasets import resolve_data
from solutions.object_detection.data import load_detection_examples
from solutions.object_detection.voc import parse_voc_xml
from tests.fuzz import loads_or_refuses, mutated, png_bytes, refused, scratch

NUMBER_TEXT = st.one_of(
    st.integers(-40, 80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "abc", "1,5", "1e999", "0x10", "None", "12.5.3", "-0"]),
)
FILENAMES = [None, "", "a.png", " a.png ", "missing.jpg", "../a.png", "sub/a.png", "a" * 300 + ".png", "é.png", "."]


def element(tag: str, text: str | None) -> str:
    return "" if text is None else f"<{tag}>{escape(text)}</{tag}>"


@st.composite
def voc_object(draw) -> str:
    parts = [element("name", draw(st.sampled_from([None, "", "  ", "cat", "dog", "é", "<b>"])))]
    box = draw(st.sampled_from(["full", "full", "partial", "none", "empty", "text"]))
    if box == "empty":
        parts.append("<bndbox/>")
    elif box == "text":
        parts.append(element("bndbox", draw(NUMBER_TEXT)))
    elif box != "none":
        tags = ["xmin", "ymin", "xmax", "ymax"]
        if box == "partial":
            tags = draw(st.lists(st.sampled_from(tags), max_size=4))
        parts.append("<bndbox>" + "".join(element(t, draw(NUMBER_TEXT)) for t in tags) + "</bndbox>")
    for extra in draw(st.lists(st.sampled_from(["difficult", "truncated", "pose"]), max_size=2)):
        parts.append(element(extra, draw(NUMBER_TEXT)))
    return "<object>" + "".join(parts) + "</object>"


@st.composite
def voc_xml(draw) -> bytes:
    root = draw(st.sampled_from(["annotation", "annotation", "annotation", "annotations", "doc"]))
    body = element("filename", draw(st.sampled_from(FILENAMES)))
    if draw(st.booleans()):
        body += "<size>" + "".join(element(t, draw(NUMBER_TEXT)) for t in ("width", "height", "depth")) + "</size>"
    body += "".join(draw(st.lists(voc_object(), max_size=4)))
    text = f"<{root}>{body}</{root}>"
    encoding = draw(st.sampled_from(["utf-8", "latin-1"]))
    if encoding == "latin-1" and draw(st.booleans()):
        text = '<?xml version="1.0" encoding="ISO-8859-1"?>' + text
    return mutated(draw, text.encode(encoding, errors="replace"))


@st.composite
def voc_folders(draw):
    """{relative path: bytes} of a VOC folder: annotations, images (some missing or garbage), split files."""
    files = {}
    ids = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=0, max_size=3, unique=True))
    for image_id in ids:
        files[f"Annotations/{image_id}.xml"] = draw(voc_xml())
        image = draw(st.sampled_from(["png", "png", "none", "garbage", "empty"]))
        if image != "none":
            files[f"JPEGImages/{image_id}.png"] = {"png": png_bytes(), "garbage": b"\x89PNG\r\n junk", "empty": b""}[image]
    if draw(st.booleans()):
        listed = draw(st.lists(st.sampled_from(ids + ["zz", "", "a 1", "b -1"]), max_size=4))
        split = draw(st.sampled_from(["train", "val", "test", "trainval"]))
        data = "\n".join(listed).encode()
        if draw(st.booleans()):
            data += b"\n\xe9t\xe9"
        files[f"ImageSets/Main/{split}.txt"] = data
    return files


@given(data=voc_xml())
@example(data=b"<annotation><filename>" + b"a" * 300 + b".png</filename></annotation>")  # found: OSError (name too long)
def test_parse_voc_xml_parses_or_raises_a_data_error(data):
    with scratch() as folder:
        (folder / "x.xml").write_bytes(data)
        found = loads_or_refuses(parse_voc_xml, folder / "x.xml", folder)
        if not refused(found):
            assert found.boxes.shape == (len(found.labels), 4)


@given(files=voc_folders(), on_bad_image=st.sampled_from(["error", "skip"]))
@example(files={"Annotations/a.xml": b"<annotation/>", "ImageSets/Main/train.txt": b"a\n\xe9t\xe9"},
         on_bad_image="error")  # found: UnicodeDecodeError from a latin-1 split file
@example(files={"Annotations/a.xml": b"<annotation><filename>" + b"a" * 300 + b".png</filename></annotation>"},
         on_bad_image="skip")
def test_voc_folder_loads_or_raises_a_data_error(files, on_bad_image):
    with scratch() as folder:
        root = folder / "voc"
        (root / "Annotations").mkdir(parents=True)
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        source = resolve_data(str(root))
        found = loads_or_refuses(load_detection_examples, source, (32, 32), on_bad_image)
        if not refused(found):
            assert found.x.shape[1:] == (32, 32, 3) and len(found.targets) == len(found.x)
