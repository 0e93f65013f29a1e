"""Pascal VOC: where a VOC folder (Annotations/*.xml, JPEGImages/, ImageSets/Main/*.txt) is parsed.

    root/
      Annotations/<id>.xml          one <annotation> per image: <filename>, <size>, <object>s
      JPEGImages/<filename>         the images
      ImageSets/Main/train.txt      ids of each split (optional; val.txt, test.txt, trainval.txt)
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from solutions.core.errors import DataError
from solutions.imaging.decode import IMAGE_SUFFIXES
from solutions.object_detection.annotations import ImageAnnotation

SPLIT_FILES = {"train": "train", "val": "val", "test": "test"}


def is_voc_folder(path: Path) -> bool:
    return path.is_dir() and (path / "Annotations").is_dir()


def load_voc(root: Path) -> list[ImageAnnotation]:
    """Every annotated image of a VOC folder, with its split when ImageSets/Main names one.

    Raises DataError for malformed XML (file, line and column), objects without a
    name or numeric box, and split files naming annotations that do not exist.
    """
    root = Path(root)
    annotation_dir, image_dir = root / "Annotations", root / "JPEGImages"
    if not annotation_dir.is_dir():
        raise DataError(f"{root} is not a Pascal VOC folder: it has no Annotations/ subfolder. "
                        "Expected Annotations/*.xml, JPEGImages/ and optionally ImageSets/Main/{train,val,test}.txt.")
    splits = read_split_files(root / "ImageSets" / "Main")
    if splits:
        ids = [(image_id, split) for split, names in splits.items() for image_id in names]
        missing = [image_id for image_id, _ in ids if not (annotation_dir / f"{image_id}.xml").is_file()]
        if missing:
            raise DataError(f"{root / 'ImageSets' / 'Main'} lists {len(missing)} ids with no annotation file in "
                            f"{annotation_dir}, for example: {', '.join(missing[:5])}. Fix the split files or add the XML files.")
    else:
        ids = [(p.stem, None) for p in sorted(annotation_dir.glob("*.xml"))]
        if not ids:
            raise DataError(f"No .xml annotation files in {annotation_dir}.")
    return [parse_voc_xml(annotation_dir / f"{image_id}.xml", image_dir, split) for image_id, split in ids]


def read_split_files(folder: Path) -> dict[str, list[str]]:
    """Ids per split from ImageSets/Main/{train,val,test}.txt; trainval.txt stands in for a missing train.txt."""
    if not folder.is_dir():
        return {}
    found: dict[str, list[str]] = {}
    for split, stem in SPLIT_FILES.items():
        path = folder / f"{stem}.txt"
        if path.is_file():
            found[split] = _ids(path)
    if "train" not in found and (folder / "trainval.txt").is_file():
        found["train"] = _ids(folder / "trainval.txt")
        found.pop("val", None)
    return found


def _ids(path: Path) -> list[str]:
    # class-specific split files (aeroplane_train.txt) hold "id  1"; the plain ones hold "id"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text ({error}); a VOC split file lists one image id per line.") from None
    return [line.split()[0] for line in text.splitlines() if line.strip()]


def parse_voc_xml(path: Path, image_dir: Path, split: str | None = None) -> ImageAnnotation:
    """One VOC annotation file.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.xml").write_text("<annotation><filename>a.jpg</filename><object><name>cat</name>"
    ...     "<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object></annotation>")
    >>> found = parse_voc_xml(folder / "a.xml", folder)
    >>> found.image.name, found.labels, found.boxes.tolist()
    ('a.jpg', ('cat',), [[1.0, 2.0, 30.0, 40.0]])
    """
    try:
        tree = ET.parse(path)
    except ET.ParseError as error:
        line, column = error.position
        raise DataError(f"{path}, line {line}, column {column}: not well-formed XML ({error}). "
                        "Fix or remove the file.") from None
    root = tree.getroot()
    if root.tag != "annotation":
        raise DataError(f"{path} is not a Pascal VOC annotation: its root element is <{root.tag}>, expected <annotation>.")
    boxes, labels = [], []
    for number, obj in enumerate(root.findall("object")):
        name = (obj.findtext("name") or "").strip()
        if not name:
            raise DataError(f"{path}: object {number + 1} has no <name>. Every <object> needs a class name.")
        box = obj.find("bndbox")
        try:
            values = [float(box.findtext(tag)) for tag in ("xmin", "ymin", "xmax", "ymax")]  # type: ignore[union-attr]
        except (AttributeError, TypeError, ValueError):
            raise DataError(f"{path}: object {number + 1} ({name!r}) has no complete <bndbox> of numeric "
                            "<xmin>, <ymin>, <xmax>, <ymax>.") from None
        boxes.append(values)
        labels.append(name)
    return ImageAnnotation(image=image_path(root.findtext("filename"), path.stem, image_dir),
                           boxes=np.asarray(boxes, np.float32).reshape(-1, 4), labels=tuple(labels),
                           split=split, source=str(path))


def image_path(filename: str | None, stem: str, image_dir: Path) -> Path:
    """The image an annotation names; by the annotation's own name when <filename> is absent or wrong."""
    if filename and _is_file(image_dir / filename.strip()):
        return image_dir / filename.strip()
    for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
        if _is_file(image_dir / f"{stem}{suffix}"):
            return image_dir / f"{stem}{suffix}"
    return image_dir / (filename.strip() if filename else f"{stem}.jpg")


def _is_file(path: Path) -> bool:
    """Path.is_file, False for a name the file system refuses (too long, say): reported later as a missing image."""
    try:
        return path.is_file()
    except OSError:
        return False
