"""Read labelled texts in the layouts users have, clean them, and make the bundled sample.

Layouts:
- a table: CSV, TSV or JSON Lines with a text column and a label column (--text, --label;
  found by name when not given), optional `split` column of train / val / test;
- a folder per class of .txt files (`pos/`, `neg/`, ...), optionally under `train/` `val/`
  `test/` (the aclImdb and review_polarity layouts; aclImdb's unlabelled `unsup/` is skipped),
  also inside a .tar.gz or .zip archive;
- a line file: one `sentence<TAB>label` per line (.txt, or a .tsv without a header).

Cleaning (counted in the report): rows with an empty or whitespace-only text, a missing label,
or bytes that are not UTF-8 (with on_decode_error=skip), and repeated texts (duplicates=drop).
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from solutions.core.datasets import DataSource, is_archive, run_generator, unpack_archive
from solutions.core.errors import DataError
from solutions.core.solution import InputChunk
from solutions.core.splits import SPLIT_NAMES, Examples
from solutions.sentiment.recipe import SentimentRecipe

LABEL_COLUMNS = ("label", "target", "class", "y")
TEXT_COLUMNS = ("text", "sentence", "review", "content", "document", "tweet")
SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                 "dev": "val", "test": "test", "testing": "test"}
UNLABELLED_FOLDERS = ("unsup",)
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
FORMATS = ("csv", "tsv", "jsonl", "lines", "folder")


@dataclass(frozen=True)
class RawTexts:
    """Texts with labels as read, before cleaning: one entry per row or file."""

    texts: list[str]
    labels: list[Any]
    ids: list[str]
    given_split: list[str] | None
    dropped: list[tuple[str, str]]


# ------------------------------------------------------------------ decoding
def decode_utf8(data: bytes, where: str, policy: str) -> tuple[str, list[int]]:
    """Decode `data` as UTF-8 (a BOM is removed). Returns the text and the 1-based lines with bad bytes.

    policy "error" raises a DataError naming the first bad line; "skip" and "replace" decode
    with U+FFFD in place of the bad bytes and leave it to the caller to drop or keep them.

    >>> decode_utf8("naïve\\n".encode(), "x", "error")
    ('naïve\\n', [])
    >>> decode_utf8(b"ok\\nbad \\xff\\n", "x", "replace")
    ('ok\\nbad \\ufffd\\n', [2])
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        first = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        if policy == "error":
            raise DataError(
                f"{where} is not valid UTF-8: line {first} has the byte 0x{data[error.start]:02x} at column {column}. Re-save the file as UTF-8 "
                "(e.g. iconv -f latin1 -t utf-8), or set --set on_decode_error=skip to drop such rows "
                "(or =replace to keep them with U+FFFD)."
            ) from None
    bad = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
    return data.decode("utf-8", errors="replace"), bad


def read_text_file(path: Path, policy: str) -> tuple[str, list[int]]:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"Could not read {path}: {error}.") from None
    return decode_utf8(data, str(path), policy)


# ------------------------------------------------------------------ layouts
def detect_format(path: Path, config: dict[str, Any]) -> str:
    """The layout of `path`: the config's `format`, else from the folder or file suffix."""
    given = config.get("format")
    if given:
        if given not in FORMATS:
            raise DataError(f"Dataset `format` must be one of {', '.join(FORMATS)}. Received: format={given!r}.")
        return given
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return "lines"
    if suffix == ".tsv" and not _tsv_has_header(path, config):
        return "lines"
    if suffix in TABLE_SUFFIXES:
        return TABLE_SUFFIXES[suffix]
    raise DataError(
        f"Unsupported text data: {path}. Pass a CSV, TSV or JSON Lines file (.csv, .tsv, .jsonl) with text and "
        "label columns, a .txt file of `sentence<TAB>label` lines, a folder with one subfolder of .txt files per "
        "class (pos/, neg/, optionally under train/ and test/), or a .tar.gz/.zip archive of such a folder."
    )


def _tsv_has_header(path: Path, config: dict[str, Any]) -> bool:
    with open(path, "rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace").rstrip("\r\n")
    fields = [f.strip() for f in first.split("\t")]
    names = {config.get("text"), config.get("label"), *LABEL_COLUMNS, *TEXT_COLUMNS} - {None}
    return any(f in names for f in fields)


def read_raw_texts(source: DataSource, policy: str) -> RawTexts:
    """Texts and raw labels from any supported layout (not yet cleaned)."""
    path = source.path
    if path is None:
        raise DataError(f"Dataset {source.name!r} has neither a path nor a generator.")
    if is_archive(path):
        path = unpack_archive(path)
    kind = detect_format(path, source.config)
    if kind == "folder":
        return _folder_layout(path, policy)
    if kind == "lines":
        return _line_file(path, policy)
    return _table_file(path, kind, source.config, policy)


def _class_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _text_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".txt")


def _folder_layout(root: Path, policy: str) -> RawTexts:
    subfolders = _class_folders(root)
    if len(subfolders) == 1 and not _text_files(root) and _class_folders(subfolders[0]):
        return _folder_layout(subfolders[0], policy)  # an archive's single top folder (txt_sentoken/, aclImdb/)
    split_folders = {SPLIT_ALIASES[p.name.lower()]: p for p in subfolders if p.name.lower() in SPLIT_ALIASES}
    texts, labels, ids, given, dropped = [], [], [], [], []
    if split_folders:
        if "train" not in split_folders:
            raise DataError(f"{root} has {', '.join(p.name for p in split_folders.values())}/ but no train/ folder. "
                            "Put the training texts under train/<class>/.")
        parts = [(split, class_dir) for split, folder in split_folders.items() for class_dir in _class_folders(folder)]
    else:
        parts = [(None, class_dir) for class_dir in subfolders]
    for split, class_dir in parts:
        if class_dir.name.lower() in UNLABELLED_FOLDERS:
            dropped.append((str(class_dir.relative_to(root)), "unlabelled folder skipped"))
            continue
        for file in _text_files(class_dir):
            name = str(file.relative_to(root))
            text, bad = read_text_file(file, policy)
            if bad and policy == "skip":
                dropped.append((name, f"not valid UTF-8 (line {bad[0]})"))
                continue
            if bad:
                dropped.append((name, f"undecodable bytes replaced (line {bad[0]}), kept"))
            texts.append(text), labels.append(class_dir.name), ids.append(name), given.append(split)
    if not texts:
        found = ", ".join(p.name for p in subfolders[:10]) or "no subfolders"
        raise DataError(
            f"No .txt files found in {root} (found: {found}). Expected one subfolder of .txt files per class "
            "(pos/, neg/, ...), optionally under train/ and test/."
        )
    return RawTexts(texts, labels, ids, given if split_folders else None, dropped)


def _line_file(path: Path, policy: str) -> RawTexts:
    text, bad = read_text_file(path, policy)
    bad_lines = set(bad)
    texts, labels, ids, dropped = [], [], [], []
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise DataError(f"{path} is empty. Expected one `sentence<TAB>label` per line.")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        name = f"{path.name}:{number}"
        if number in bad_lines:
            if policy == "skip":
                dropped.append((name, "not valid UTF-8"))
                continue
            dropped.append((name, "undecodable bytes replaced, kept"))
        sentence, tab, label = line.rpartition("\t")
        if not tab:
            raise DataError(
                f"{path} line {number} has no TAB: {line[:60]!r}. A line file holds one `sentence<TAB>label` per line; "
                "for a table with a header use .csv, .tsv or .jsonl."
            )
        texts.append(sentence), labels.append(label.strip()), ids.append(name)
    return RawTexts(texts, labels, ids, None, dropped)


def _table_file(path: Path, kind: str, config: dict[str, Any], policy: str) -> RawTexts:
    frame, bad_lines = read_table(path, kind, policy)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    text_column = find_column(columns, config.get("text"), TEXT_COLUMNS, "text", "--text", path)
    label_column = find_column(columns, config.get("label"), LABEL_COLUMNS, "label", "--label", path)
    id_column = config.get("id")
    if id_column is not None and id_column not in columns:
        raise DataError(f"{path} has no id column {id_column!r}. Columns found: {', '.join(columns)}.")
    dropped = []
    if bad_lines:
        bad_rows = np.zeros(len(frame), dtype=bool)
        for column in (text_column, label_column):
            bad_rows |= frame[column].astype(str).str.contains("\ufffd", regex=False).to_numpy()
        for i in np.flatnonzero(bad_rows):
            reason = "not valid UTF-8" if policy == "skip" else "undecodable bytes replaced, kept"
            dropped.append((_row_id(frame, i, id_column, path), reason))
        if policy == "skip":
            frame = frame.loc[~bad_rows].reset_index(drop=True)
    texts = ["" if _missing(v) else str(v) for v in frame[text_column]]
    if texts and not any(t.strip() for t in texts):
        raise DataError(f"The text column {text_column!r} of {path} is empty in every row ({len(texts)} rows). "
                        f"Columns found: {', '.join(columns)}; pass the column that holds the text with --text.")
    given = None
    if "split" in columns and "split" not in (text_column, label_column):
        given = [SPLIT_ALIASES.get(str(s).strip().lower(), str(s)) for s in frame["split"]]
        unknown = sorted(set(given) - set(SPLIT_NAMES))
        if unknown:
            raise DataError(f"{path} column `split` holds {unknown}; allowed values are train, val (or validation) and test.")
    ids = [_row_id(frame, i, id_column, path) for i in range(len(frame))]
    return RawTexts(texts, list(frame[label_column]), ids, given, dropped)


def read_table(path: Path, kind: str, policy: str = "error"):
    """A CSV, TSV or JSON Lines file as a DataFrame of strings, and the lines that held bad bytes."""
    import io

    import pandas as pd

    text, bad_lines = read_text_file(path, policy)
    if not text.strip():
        raise DataError(f"{path} is empty. Expected a header row naming the text and label columns, then one row per text.")
    if kind == "jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"{path} line {number} is not valid JSON ({error.msg}): {line[:60]!r}. "
                                "A JSON Lines file holds one JSON object per line.") from None
            if not isinstance(record, dict):
                raise DataError(f"{path} line {number} is a JSON {type(record).__name__}, not an object with text and label fields.")
            records.append(record)
        return pd.DataFrame.from_records(records), bad_lines
    try:
        frame = pd.read_csv(io.StringIO(text), sep="\t" if kind == "tsv" else ",", dtype=str, keep_default_na=False,
                            na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DataError(f"Could not read {path} as {kind.upper()}: {error}.") from None
    if frame.empty:
        raise DataError(f"{path} has a header ({', '.join(map(str, frame.columns))}) but no rows.")
    return frame, bad_lines


def find_column(columns: list[str], given: str | None, known: tuple[str, ...], what: str, flag: str, path: Path) -> str:
    """The column named `given`, else the first column literally named one of `known`."""
    if given is not None:
        if given not in columns:
            raise DataError(f"{path} has no {what} column {given!r}. Columns found: {', '.join(columns)}. "
                            f"Pass one of them with {flag} COLUMN.")
        return given
    lowered = {c.lower(): c for c in columns}
    for name in known:
        if name in lowered:
            return lowered[name]
    raise DataError(f"{path} has no {what} column: none is named {', '.join(known)}. Columns found: "
                    f"{', '.join(columns)}. Pass the {what} column with {flag} COLUMN.")


def _row_id(frame, i: int, id_column: str | None, path: Path) -> str:
    return str(frame[id_column].iloc[i]) if id_column else f"{path.name}:{i + 1}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


# ------------------------------------------------------------------ cleaning
def label_text(value: Any) -> str | None:
    """A raw label as text: integral floats lose their ".0"; missing values are None.

    >>> [label_text(v) for v in (1, 2.0, " pos ", None, float("nan"))]
    ['1', '2', 'pos', None, None]
    """
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (np.floating,)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    if re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return text or None


def clean_examples(raw: RawTexts, recipe: SentimentRecipe, where: str) -> Examples:
    """Drop empty texts and missing labels, map labels, resolve duplicates; everything dropped is counted."""
    mapping = recipe.label_mapping()
    dropped = list(raw.dropped)
    keep_text, keep_label, keep_id, keep_split = [], [], [], []
    unmapped: Counter = Counter()
    for i, (text, label, name) in enumerate(zip(raw.texts, raw.labels, raw.ids)):
        label = label_text(label)
        if not text.strip():
            dropped.append((name, "empty or whitespace-only text"))
            continue
        if label is None:
            dropped.append((name, "missing label"))
            continue
        if mapping:
            if label not in mapping:
                unmapped[label] += 1
                continue
            label = mapping[label]
        keep_text.append(text), keep_label.append(label), keep_id.append(name)
        keep_split.append(raw.given_split[i] if raw.given_split is not None else None)
    if unmapped:
        listed = ", ".join(f"{k!r} ({n})" for k, n in sorted(unmapped.items()))
        raise DataError(f"{where} has labels that label_map does not map: {listed}. label_map covers "
                        f"{', '.join(map(repr, mapping))}; add them, e.g. --set label_map=[{next(iter(unmapped))}=negative,...].")
    if not keep_text:
        raise DataError(f"{where} has no usable texts: every row was empty or unlabelled ({len(raw.texts)} rows read).")
    keep = _resolve_duplicates(keep_text, keep_label, keep_id, recipe.duplicates, dropped)
    labels = np.asarray([keep_label[i] for i in keep], dtype=object)
    given = None
    if raw.given_split is not None:
        given = np.asarray([keep_split[i] for i in keep], dtype=object)
    return Examples(x=np.asarray([keep_text[i] for i in keep], dtype=object), labels=labels,
                    ids=np.asarray([keep_id[i] for i in keep], dtype=object), given_split=given, dropped=tuple(dropped))


def _resolve_duplicates(texts: list[str], labels: list[str], ids: list[str], policy: str,
                        dropped: list[tuple[str, str]]) -> list[int]:
    """Positions to keep: with "drop", the first copy of each text, and no copy of a conflicting text."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        groups[" ".join(text.split()).lower()].append(i)
    keep = []
    for members in groups.values():
        conflicting = len({labels[i] for i in members}) > 1
        if len(members) == 1:
            keep.append(members[0])
        elif policy == "keep":
            keep.extend(members)
            reason = "duplicate text with conflicting labels, kept" if conflicting else "duplicate text, kept"
            dropped.extend((ids[i], reason) for i in members[1:])
        elif conflicting:
            seen = sorted({labels[i] for i in members})
            dropped.extend((ids[i], f"duplicate text with conflicting labels {seen}") for i in members)
        else:
            keep.append(members[0])
            dropped.extend((ids[i], f"duplicate of {ids[members[0]]}") for i in members[1:])
    return sorted(keep)


def load_text_examples(source: DataSource, recipe: SentimentRecipe) -> Examples:
    """Labelled texts from any supported layout or the sample generator, cleaned."""
    if source.generator:
        raw = _generated(source.generator)
    else:
        raw = read_raw_texts(source, recipe.on_decode_error)
    return clean_examples(raw, recipe, str(source.path or source.name))


# ------------------------------------------------------------------ sample
POSITIVE_WORDS = ("great", "wonderful", "excellent", "moving", "brilliant", "delightful", "superb", "charming", "gripping", "fun")
NEGATIVE_WORDS = ("awful", "boring", "dull", "terrible", "clumsy", "tedious", "bland", "painful", "messy", "weak")
NEUTRAL_WORDS = ("the", "film", "story", "cast", "plot", "director", "scenes", "score", "ending", "dialogue", "camera", "music")
SUBJECTS = ("the acting", "the story", "the soundtrack", "this movie", "the script", "the ending", "the cinematography")


def make_reviews(n_per_class: int = 60, seed: int = 0) -> tuple[list[str], list[str]]:
    """A seeded sample of short synthetic reviews labelled "negative" and "positive".

    Each review mixes neutral filler with words of its polarity, some of the other
    polarity negated ("not boring"), and a little label noise (5%), so a bag of
    words learns it well but not perfectly.

    >>> texts, labels = make_reviews(n_per_class=2, seed=0)
    >>> len(texts), sorted(set(labels))
    (4, ['negative', 'positive'])
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n_per_class):
        for label in ("negative", "positive"):
            own, other = (POSITIVE_WORDS, NEGATIVE_WORDS) if label == "positive" else (NEGATIVE_WORDS, POSITIVE_WORDS)
            parts = []
            for _ in range(int(rng.integers(2, 5))):
                filler = " ".join(rng.choice(NEUTRAL_WORDS, int(rng.integers(2, 6))))
                if rng.random() < 0.3:
                    parts.append(f"{rng.choice(SUBJECTS)} was not {rng.choice(other)} , {filler}")
                else:
                    parts.append(f"{rng.choice(SUBJECTS)} was {rng.choice(own)} , {filler}")
            if rng.random() < 0.05:
                label = "positive" if label == "negative" else "negative"
            texts.append(" . ".join(parts) + " .")
            labels.append(label)
    return texts, labels


def _generated(generator: dict[str, Any]) -> RawTexts:
    name = generator.get("name")
    if name != "reviews":
        raise DataError(f"Unknown text generator {name!r}; the sentiment generator is 'reviews'.")
    texts, labels = run_generator(make_reviews, generator)
    return RawTexts(texts, labels, [f"reviews[{i}]" for i in range(len(texts))], None, [])


# ------------------------------------------------------------------ prediction inputs
@dataclass(frozen=True)
class TextInputs:
    """Texts given directly (ksol predict RUN --text "..."), not paths to read."""

    texts: tuple[str, ...]


def iter_prediction_texts(inputs: Any, schema: dict[str, Any], chunk_size: int,
                          policy: str = "error") -> Iterator[InputChunk]:
    """Chunks of texts from direct texts, a table (CSV, TSV, JSONL), a text file (one text per line),
    a folder of .txt files (one text per file), or a list of such paths."""
    if isinstance(inputs, TextInputs) or isinstance(inputs, np.ndarray) or _is_text_series(inputs):
        texts = list(inputs.texts) if isinstance(inputs, TextInputs) else [str(t) for t in np.asarray(inputs).ravel()]
        yield from _chunks([f"text[{i}]" for i in range(len(texts))], texts, chunk_size)
        return
    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    for item in items:
        path = Path(item)
        if not path.exists():
            raise DataError(f"Input not found: {str(item)!r}. Pass a CSV/TSV/JSONL table, a text file with one text per "
                            "line, a folder of .txt files, or use --text \"...\" for a single text.")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.txt") if p.is_file())
            if not files:
                raise DataError(f"No .txt files in {path}. Pass a folder of .txt files (one text each), a table or a text file.")
            for start in range(0, len(files), chunk_size):
                batch = files[start:start + chunk_size]
                ids, texts, failures = [], [], []
                for file in batch:
                    text, bad = read_text_file(file, policy)
                    if bad and policy == "skip":
                        failures.append((str(file), f"not valid UTF-8 (line {bad[0]})"))
                        continue
                    ids.append(str(file)), texts.append(text)
                yield InputChunk(ids=ids, x=np.asarray(texts, dtype=object), failures=tuple(failures))
            continue
        suffix = path.suffix.lower()
        if suffix in TABLE_SUFFIXES and not (suffix == ".tsv" and not _tsv_has_header(path, {"text": schema.get("text_column")})):
            frame, _ = read_table(path, TABLE_SUFFIXES[suffix], policy)
            columns = [str(c) for c in frame.columns]
            frame.columns = columns
            column = _prediction_text_column(columns, schema.get("text_column"), path)
            texts = ["" if _missing(v) else str(v) for v in frame[column]]
            yield from _chunks([f"{path.name}:{i + 1}" for i in range(len(texts))], texts, chunk_size)
        else:
            text, _ = read_text_file(path, policy)
            lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
            if not lines:
                raise DataError(f"{path} is empty: expected one text per line.")
            yield from _chunks([f"{path.name}:{n}" for n, _ in lines], [line for _, line in lines], chunk_size)


def _is_text_series(inputs: Any) -> bool:
    return hasattr(inputs, "iloc") and getattr(inputs, "ndim", 2) == 1


def _prediction_text_column(columns: list[str], trained: str | None, path: Path) -> str:
    if trained and trained in columns:
        return trained
    lowered = {c.lower(): c for c in columns}
    for name in TEXT_COLUMNS:
        if name in lowered:
            return lowered[name]
    if len(columns) == 1:
        return columns[0]
    raise DataError(f"{path} has no text column: none is named {trained or 'text'} or {', '.join(TEXT_COLUMNS)}. "
                    f"Columns found: {', '.join(columns)}. Rename the text column to `text`.")


def _chunks(ids: list[str], texts: list[str], chunk_size: int) -> Iterator[InputChunk]:
    for start in range(0, len(texts), chunk_size):
        yield InputChunk(ids=ids[start:start + chunk_size], x=np.asarray(texts[start:start + chunk_size], dtype=object))
