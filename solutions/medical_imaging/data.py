"""Medical images in the layouts users have, checked, and the bundled sample.

Layouts: a folder per class (optionally under train/ val/ test/) of DICOM,
PNG or JPEG files; a CSV of path, label(s), optional split and patient id; a
MedMNIST-style .npz (binary, multi-class or multi-label labels); or an archive
of these. Patient ids come from the CSV or, for DICOM, the PatientID tag.

One set must be one kind of image: files of different DICOM modalities, or
gray mixed with colour, are a DataError naming examples of each.
"""

from __future__ import annotations

import os
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource, is_archive, run_generator, unpack_archive
from solutions.core.errors import DataError
from solutions.imaging.data import (
    LabelledFiles, array_chunks, conform_images, csv_layout, folder_layout, load_npz_examples, prediction_files,
    relative_id,
)
from solutions.imaging.decode import IMAGE_SUFFIXES, ImageDecodeError, decode_image, resize_image
from solutions.core.solution import InputChunk
from solutions.core.splits import Examples
from solutions.core.wording import agree, plural
from solutions.medical_imaging.dicom import DICOM_SUFFIXES, DicomReadError, is_dicom_file, read_dicom

MEDICAL_SUFFIXES = IMAGE_SUFFIXES + DICOM_SUFFIXES
PATIENT_COLUMNS = ("patient_id", "patientid", "patient", "subject_id", "subject")
MAX_AUTO_SIZE = 256


@dataclass(frozen=True)
class MedicalImages:
    """Decoded files: pixels of those that decoded (uint8, N x H x W x C), their positions, and failures."""

    pixels: np.ndarray
    kept: np.ndarray
    failures: tuple[tuple[str, str], ...]
    modalities: tuple[str, ...]
    patient_ids: tuple[str, ...]


@dataclass(frozen=True)
class MedicalData:
    """Loaded examples and the DICOM modalities among them (empty for PNG, JPEG and arrays)."""

    examples: Examples
    modalities: tuple[str, ...] = ()


def load_medical_examples(source: DataSource, image_size: tuple[int, int] | None,
                          window: tuple[float, float] | None = None, on_corrupt: str = "error",
                          channels: int | None = None) -> MedicalData:
    """Labelled medical images from any supported layout as Examples of (N, H, W, C) uint8 pixels.

    `image_size` None keeps the data's own size (every image must share it);
    `channels` (from a trained model's schema) is enforced when given.
    """
    if source.generator:
        return MedicalData(_generated(source.generator, image_size))
    path = source.path
    if is_archive(path):
        path = unpack_archive(path)
    if path.is_dir():
        listing = folder_layout(path, MEDICAL_SUFFIXES)
    elif path.suffix.lower() == ".csv":
        listing = csv_layout(path, source.config, multi_label=True, group_columns=PATIENT_COLUMNS)
    elif path.suffix.lower() == ".npz":
        examples = load_npz_examples(path, image_size, "auto", source.config.get("class_names"), multi_label=True)
        _check_channels_match(examples.x.shape[-1], channels, f"{path}")
        return MedicalData(examples)
    else:
        raise DataError(
            f"Unsupported medical image data: {path}. Pass a folder with one subfolder per class (DICOM, PNG or "
            "JPEG files), a CSV with path and label columns (and optionally patient_id and split), a MedMNIST-style "
            ".npz, or an archive of these."
        )
    return _examples_from_files(listing, path, image_size, window, on_corrupt, channels)


def _examples_from_files(listing: LabelledFiles, root: Path, image_size, window, on_corrupt: str,
                         channels: int | None) -> MedicalData:
    decoded = read_medical_files(listing.files, image_size, window)
    if decoded.failures and on_corrupt == "error":
        listed = "; ".join(f"{relative_id(Path(p), root)} ({why})" for p, why in decoded.failures[:10])
        raise DataError(f"{len(decoded.failures)} of {len(listing.files)} files could not be read: {listed}. "
                        "Remove or replace them, or pass --set on_corrupt=skip to leave them out (they are counted in the report).")
    kept = decoded.kept
    ids = np.asarray([relative_id(f, root) for f in listing.files], dtype=object)[kept]
    _check_channels_match(decoded.pixels.shape[-1], channels, str(root))
    groups = None if listing.groups is None else listing.groups[kept]
    if groups is None and any(decoded.patient_ids):
        missing = [str(ids[i]) for i, patient in enumerate(decoded.patient_ids) if not patient]
        if missing:
            raise DataError(f"{plural(len(decoded.patient_ids) - len(missing), 'DICOM file')} "
                            f"{agree(len(decoded.patient_ids) - len(missing), 'has', 'have')} a PatientID but {len(missing)} "
                            f"{agree(len(missing), 'does', 'do')} not "
                            f"(e.g. {', '.join(missing[:3])}), so the split cannot keep patients apart. Give every file a "
                            "PatientID, or list the files in a CSV with a patient_id column.")
        groups = np.asarray(decoded.patient_ids, dtype=object)
    examples = Examples(
        x=decoded.pixels, labels=listing.labels[kept], ids=ids,
        given_split=None if listing.given_split is None else listing.given_split[kept],
        dropped=tuple((relative_id(Path(p), root), f"unreadable file: {why}") for p, why in decoded.failures),
        groups=groups, label_names=listing.label_names,
    )
    return MedicalData(examples, decoded.modalities)


def _check_channels_match(found: int, expected: int | None, where: str) -> None:
    if expected is not None and found != expected:
        kinds = {1: "gray (1 channel)", 3: "colour (3 channels)"}
        raise DataError(f"{where} holds {kinds.get(found, found)} images, but the model was trained on "
                        f"{kinds.get(expected, expected)} images. Use images of the kind the model was trained on.")


def read_medical_files(files: list[Path], image_size: tuple[int, int] | None,
                       window: tuple[float, float] | None = None, workers: int | None = None) -> MedicalImages:
    """Decode DICOM, PNG and JPEG files in parallel and check they form one set.

    Gray images stored as RGB (equal channels) count as gray. Raises DataError
    when the files mix DICOM modalities, gray and colour, or (with
    `image_size` None) sizes; unreadable files are returned as failures.
    """
    def load(path: Path):
        try:
            if is_dicom_file(path):
                image = read_dicom(path, window)
                pixels, modality, patient = image.pixels, image.modality, image.patient_id
            else:
                with open(path, "rb") as handle:
                    pixels = decode_image(handle.read(), str(path))
                modality, patient = "", ""
            if pixels.shape[2] == 3 and np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 1], pixels[..., 2]):
                pixels = pixels[..., :1]
            native = pixels.shape[:2]
            if image_size is not None:
                pixels = resize_image(pixels, tuple(image_size))
            return pixels, native, modality, patient, None
        except (DicomReadError, ImageDecodeError, OSError) as error:
            return None, None, "", "", str(error)

    workers = workers or min(8, (os.cpu_count() or 2) * 2)
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(load, files))
    kept = [i for i, r in enumerate(results) if r[0] is not None]
    failures = tuple((str(files[i]), r[4]) for i, r in enumerate(results) if r[0] is None)
    _check_uniform({i: results[i][2] for i in kept if results[i][2]}, files, "DICOM modalities",
                   "Train one model per modality: put each modality's images in their own set.")
    _check_uniform({i: f"{results[i][0].shape[2]}-channel ({'gray' if results[i][0].shape[2] == 1 else 'colour'})" for i in kept},
                   files, "channel counts", "Convert the images to one kind (all gray or all colour) first.")
    if image_size is None:
        sizes = {i: f"{results[i][1][0]}x{results[i][1][1]}" for i in kept}
        _check_uniform(sizes, files, "image sizes", "Set a common size, e.g. --set image_size=[224,224].")
        if kept and max(results[kept[0]][1]) > MAX_AUTO_SIZE:
            raise DataError(f"The images are {sizes[kept[0]]} pixels; the data's own size is used only up to "
                            f"{MAX_AUTO_SIZE} a side. Set a size, e.g. --set image_size=[224,224].")
    if kept:
        pixels = np.stack([results[i][0] for i in kept])
    else:
        size = tuple(image_size) if image_size is not None else (0, 0)
        pixels = np.zeros((0, *size, 1), np.uint8)
    return MedicalImages(pixels=pixels, kept=np.asarray(kept, dtype=np.int64), failures=failures,
                         modalities=tuple(sorted({results[i][2] for i in kept if results[i][2]})),
                         patient_ids=tuple(results[i][3] for i in kept))


def _check_uniform(values: dict[int, str], files: list[Path], what: str, fix: str) -> None:
    """DataError when `values` (file position -> kind) holds more than one kind, with example files of each."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for i, kind in values.items():
        by_kind[kind].append(str(files[i]))
    if len(by_kind) > 1:
        listed = "; ".join(f"{kind}: {plural(len(paths), 'file')}, e.g. {', '.join(paths[:2])}" for kind, paths in sorted(by_kind.items()))
        raise DataError(f"The images mix {len(by_kind)} {what} in one set ({listed}). {fix}")


def iter_prediction_inputs(inputs: Any, schema: dict[str, Any], chunk_size: int,
                           window: tuple[float, float] | None = None) -> Iterator[InputChunk]:
    """Chunks of decoded images from files (DICOM, PNG, JPEG), folders, .txt lists of paths, or an array."""
    size, channels = tuple(schema["image_size"]), int(schema["channels"])
    if isinstance(inputs, np.ndarray):
        yield from array_chunks(conform_images(inputs, size, channels), chunk_size)
        return
    files = prediction_files(inputs, MEDICAL_SUFFIXES)
    modalities = set(schema.get("modalities") or [])
    for start in range(0, len(files), chunk_size):
        batch = files[start:start + chunk_size]
        results = [_read_one_for_prediction(f, size, channels, window, modalities) for f in batch]
        kept = [i for i, (pixels, _) in enumerate(results) if pixels is not None]
        failures = tuple((str(batch[i]), why) for i, (pixels, why) in enumerate(results) if pixels is None)
        x = np.stack([results[i][0] for i in kept]) if kept else np.zeros((0, *size, channels), np.uint8)
        yield InputChunk(ids=[str(batch[i]) for i in kept], x=x, failures=failures)


def _read_one_for_prediction(path: Path, size, channels: int, window, modalities: set[str]):
    """One file for prediction, or (None, reason) when it is unreadable or not the kind the model was trained on."""
    try:
        decoded = read_medical_files([path], size, window, workers=1)
    except DataError as error:
        return None, str(error)
    if not len(decoded.kept):
        return None, decoded.failures[0][1]
    pixels = decoded.pixels[0]
    if pixels.shape[2] != channels:
        return None, f"{pixels.shape[2]}-channel image; the model takes {channels}-channel images"
    if modalities and decoded.modalities and decoded.modalities[0] not in modalities:
        return None, f"modality {decoded.modalities[0]}; the model was trained on {', '.join(sorted(modalities))}"
    return pixels, None


# ------------------------------------------------------------------ the bundled sample
PHANTOM_FINDINGS = ("opacity", "effusion", "cardiomegaly")


def _generated(generator: dict[str, Any], image_size: tuple[int, int] | None) -> Examples:
    name = generator.get("name")
    if name != "chest_phantoms":
        raise DataError(f"Unknown medical imaging generator {name!r}; the medical_imaging generator is 'chest_phantoms'.")
    sample = run_generator(make_chest_phantoms, generator)
    pixels = conform_images(sample["images"], image_size, 1)
    return Examples(x=pixels, labels=sample["labels"], ids=sample["ids"], groups=sample["patients"],
                    label_names=sample["label_names"])


def make_chest_phantoms(n_patients: int = 60, images_per_patient: int = 2, size: int = 32, seed: int = 0,
                        multi_label: bool = False) -> dict[str, Any]:
    """A seeded sample of synthetic chest-radiograph-like images, several per patient.

    A bright thorax with two dark lung fields, a spine and a heart shadow;
    "pneumonia" images carry a blurred opacity in one lung. With `multi_label`,
    each image has any of opacity, effusion (fluid filling a lung base) and
    cardiomegaly (an enlarged heart) as an (N, 3) 0/1 matrix. A patient's
    images share the patient's findings and anatomy (and differ in position
    and noise), so splitting by image would leak patients across splits.

    >>> sample = make_chest_phantoms(n_patients=3, images_per_patient=2, size=32, seed=0)
    >>> sample["images"].shape, sorted(set(sample["labels"])), len(set(sample["patients"]))
    ((6, 32, 32), ['normal', 'pneumonia'], 3)
    """
    import cv2

    rng = np.random.default_rng(seed)
    images, labels, patients, ids = [], [], [], []
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for p in range(n_patients):
        findings = rng.random(3) < (0.35 if multi_label else 0.0)
        if not multi_label:
            findings[0] = p % 2 == 1
        lung_w, lung_h = rng.uniform(0.15, 0.19), rng.uniform(0.28, 0.34)
        side = int(rng.integers(0, 2))
        for i in range(images_per_patient):
            dx, dy = rng.normal(0, 0.02, 2)
            body = np.exp(-(((xx - 0.5 - dx) / 0.42) ** 2 + ((yy - 0.55 - dy) / 0.55) ** 2) ** 2)
            image = 40 + 150 * body
            for cx in (0.32, 0.68):
                lung = (((xx - cx - dx) / lung_w) ** 2 + ((yy - 0.5 - dy) / lung_h) ** 2) < 1
                image = np.where(lung, image - 90, image)
            image += 60 * (np.abs(xx - 0.5 - dx) < 0.04)  # spine
            heart = 0.13 if findings[2] else 0.085
            image += 70 * ((((xx - 0.55 - dx) / (heart * 1.3)) ** 2 + ((yy - 0.62 - dy) / heart) ** 2) < 1)
            lung_x = (0.32, 0.68)[side] + dx
            if findings[0]:
                ox, oy = lung_x + rng.normal(0, 0.04), 0.45 + dy + rng.normal(0, 0.06)
                image += 75 * np.exp(-(((xx - ox) ** 2 + (yy - oy) ** 2) / (2 * 0.06 ** 2)))
            if findings[1]:
                base = ((np.abs(xx - lung_x) < lung_w) & (yy > 0.5 + dy + lung_h * 0.45))
                image += 65 * base
            # Noise before the blur, as a detector's blur correlates it: pixel-level white noise would make
            # the interpolation of rotation augmentation a visible change of image statistics.
            image = cv2.GaussianBlur((image + rng.normal(0, 10, image.shape)).astype(np.float32), (0, 0), size / 32)
            image = np.clip(image, 0, 255).astype(np.uint8)
            images.append(image)
            patients.append(f"patient{p:03d}")
            ids.append(f"patient{p:03d}/image{i}")
            labels.append(findings.astype(np.int64) if multi_label else ("pneumonia" if findings[0] else "normal"))
    return {
        "images": np.stack(images),
        "labels": np.stack(labels) if multi_label else np.asarray(labels, dtype=object),
        "patients": np.asarray(patients, dtype=object),
        "ids": np.asarray(ids, dtype=object),
        "label_names": PHANTOM_FINDINGS if multi_label else None,
    }
