"""Sentiment: read labelled texts, as they are, from every raw format users have (not yet cleaned).

Formats: a table (CSV, TSV or JSON Lines) with a text and a label column
(--text, --label; found by name when not given) and an optional `split` column;
a folder per class of .txt files (pos/, neg/, ...), optionally under train/
val/ test/ (the aclImdb and review_polarity layouts; aclImdb's unlabelled
unsup/ is skipped), also inside a .tar.gz or .zip archive; a line file of
`sentence<TAB>label` lines (.txt, or a .tsv without a header); a folder of one
file per class, one text a line, the class being the file's suffix
(`class_files`: rt-polarity.pos and rt-polarity.neg, Pang & Lee's sentence
polarity data). Every file is decoded as UTF-8 under the recipe's
on_decode_error policy, except that a class_files dataset config may name its
`options: {encoding: ...}` (rt-polarity is Windows-1252). The result is
`RawTexts`, which `solutions.sentiment.cleaning` turns into examples.
"""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from solutions.core.datasets import DataSource, is_archive, unpack_archive
from solutions.core.errors import DataError
from solutions.core.layout import LABEL_COLUMNS, class_folders, find_column, find_label_column, given_splits
from solutions.core.wording import plural

TEXT_COLUMNS = ("text", "sentence", "review", "content", "document", "tweet")
UNLABELLED_FOLDERS = ("unsup",)
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
FORMATS = ("csv", "tsv", "jsonl", "lines", "folder", "class_files")
# Suffixes that name a kind of file rather than a class, so a folder of them is no class_files layout.
DOCUMENT_SUFFIXES = frozenset({"", ".txt", ".md", ".rst", ".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".yaml", ".yml",
                               ".html", ".pdf", ".gz", ".tgz", ".zip", ".tar", ".py", ".sh"})


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
    """The text of the file at `path` and its lines with bad bytes, as `decode_utf8` gives them."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"Could not read {path}: {error}.") from None
    return decode_utf8(data, str(path), policy)


# ------------------------------------------------------------------ formats
def detect_format(path: Path, config: dict[str, Any]) -> str:
    """The layout of `path`: the config's `format`, else from the folder or file suffix."""
    given = config.get("format")
    if given:
        if given not in FORMATS:
            raise DataError(f"Dataset `format` must be one of {', '.join(FORMATS)}. Received: format={given!r}.")
        return given
    if path.is_dir():
        return "class_files" if class_files(path) else "folder"
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return "lines"
    if suffix == ".tsv" and not tsv_has_header(path, config):
        return "lines"
    if suffix in TABLE_SUFFIXES:
        return TABLE_SUFFIXES[suffix]
    raise DataError(
        f"Unsupported text data: {path}. Pass a CSV, TSV or JSON Lines file (.csv, .tsv, .jsonl) with text and "
        "label columns, a .txt file of `sentence<TAB>label` lines, a folder with one subfolder of .txt files per "
        "class (pos/, neg/, optionally under train/ and test/), or a .tar.gz/.zip archive of such a folder."
    )


def tsv_has_header(path: Path, config: dict[str, Any]) -> bool:
    """Whether the first line of a .tsv names a text or label column (a table), or is data (a line file)."""
    with open(path, "rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace").rstrip("\r\n")
    fields = [f.strip() for f in first.split("\t")]
    names = {config.get("text"), config.get("label"), *LABEL_COLUMNS, *TEXT_COLUMNS} - {None}
    return any(f in names for f in fields)


def read_raw_texts(source: DataSource, policy: str) -> RawTexts:
    """Texts and raw labels from any supported format (not yet cleaned)."""
    path = source.path
    if path is None:
        raise DataError(f"Dataset {source.name!r} has neither a path nor a generator.")
    if is_archive(path):
        path = unpack_archive(path)
    kind = detect_format(path, source.config)
    if kind == "folder":
        return _folder_layout(path, policy)
    if kind == "class_files":
        return _class_files_layout(path, source.config, policy)
    if kind == "lines":
        return _line_file(path, policy)
    return _table_file(path, kind, source.config, policy)


def _text_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".txt")


def _folder_layout(root: Path, policy: str) -> RawTexts:
    layout = class_folders(root, lambda folder: bool(_text_files(folder)), skip_prefixes=(".", "_"),
                           without_train="error", what="texts")
    root = layout.root  # an archive's single top folder (txt_sentoken/, aclImdb/) is stepped into
    texts, labels, ids, given, dropped = [], [], [], [], []
    for split, class_dir in layout.folders:
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
        raise DataError(
            f"No .txt files found in {root} (found: {layout.found_text()}). Expected one subfolder of .txt files per "
            "class (pos/, neg/, ...), optionally under train/ and test/."
        )
    return RawTexts(texts, labels, ids, given if layout.has_splits else None, dropped)


def class_files(root: Path) -> list[tuple[str, Path]]:
    """The (class, file) pairs of a class_files layout in `root`, or [] when it is none: no subfolders (an
    archive's single top folder is stepped into) and two or more files `<stem>.<class>` sharing one stem.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("rt-polarity.pos", "rt-polarity.neg"):
    ...     _ = (root / name).write_text("a line\\n")
    >>> [(label, file.name) for label, file in class_files(root)]
    [('neg', 'rt-polarity.neg'), ('pos', 'rt-polarity.pos')]
    """
    entries = [p for p in sorted(Path(root).iterdir()) if not p.name.startswith((".", "_"))]
    folders = [p for p in entries if p.is_dir()]
    if len(folders) == 1 and len(entries) == 1:
        return class_files(folders[0])
    files = [p for p in entries if p.is_file() and p.suffix.lower() not in DOCUMENT_SUFFIXES]
    if folders or len(files) < 2 or len({p.stem for p in files}) != 1:
        return []
    return [(p.suffix[1:], p) for p in files]


def _class_files_layout(root: Path, config: dict[str, Any], policy: str) -> RawTexts:
    pairs = class_files(root)
    if not pairs:
        found = ", ".join(p.name for p in sorted(root.iterdir())[:10]) or "nothing"
        raise DataError(f"{root} is no class_files layout (found: {found}). Expected two or more files named "
                        "<name>.<class> (rt-polarity.pos, rt-polarity.neg), one text a line, and no subfolders.")
    encoding = _encoding(config)
    texts, labels, ids, dropped = [], [], [], []
    for label, file in pairs:
        if encoding is None:
            text, bad = read_text_file(file, policy)
        else:
            text, bad = _decode_as(file, encoding), []
        bad_lines = set(bad)
        lines = text.split("\n")  # "\n" only: str.splitlines() also breaks at U+0085 and U+2028
        if lines and lines[-1] == "":
            lines.pop()
        for number, line in enumerate(lines, start=1):
            name = f"{file.name}:{number}"
            if skipped_for_bytes(name, number in bad_lines, policy, dropped):
                continue
            texts.append(line.rstrip("\r")), labels.append(label), ids.append(name)
    return RawTexts(texts, labels, ids, None, dropped)


def _encoding(config: dict[str, Any]) -> str | None:
    """The dataset config's `options.encoding` (checked to be a codec), or None for UTF-8 under on_decode_error."""
    options = config.get("options") or {}
    encoding = options.get("encoding") if isinstance(options, dict) else None
    if encoding is None or codecs.lookup("utf-8").name == _codec_name(encoding):
        return None
    return encoding


def _codec_name(encoding: Any) -> str:
    try:
        return codecs.lookup(str(encoding)).name
    except LookupError:
        raise DataError(f"Dataset option `encoding` must be a Python codec name such as utf-8, cp1252 or latin-1. "
                        f"Received: encoding={encoding!r}.") from None


def _decode_as(path: Path, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"Could not read {path}: {error}.") from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DataError(f"{path} is not valid {encoding}: line {line} has the byte 0x{data[error.start]:02x}. "
                        "Set the dataset config's options: {encoding: ...} to the file's encoding.") from None


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
        if skipped_for_bytes(name, number in bad_lines, policy, dropped):
            continue
        sentence, tab, label = line.rpartition("\t")
        if not tab:
            raise DataError(
                f"{path} line {number} has no TAB: {line[:60]!r}. A line file holds one `sentence<TAB>label` per line; "
                "for a table with a header use .csv, .tsv or .jsonl."
            )
        texts.append(sentence), labels.append(label.strip()), ids.append(name)
    return RawTexts(texts, labels, ids, None, dropped)


def _table_file(path: Path, kind: str, config: dict[str, Any], policy: str) -> RawTexts:
    frame, bad_lines = read_text_table(path, kind, policy)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    text_column = find_column(columns, config.get("text"), TEXT_COLUMNS, where=str(path), what="text", flag="--text",
                              several="first")
    label_column = find_label_column(columns, config.get("label"), str(path), several="first")
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
    texts = ["" if is_missing(v) else str(v) for v in frame[text_column]]
    if texts and not any(t.strip() for t in texts):
        raise DataError(f"The text column {text_column!r} of {path} is empty in every row ({plural(len(texts), 'row')}). "
                        f"Columns found: {', '.join(columns)}; pass the column that holds the text with --text.")
    given = None
    if "split" in columns and "split" not in (text_column, label_column):
        given = given_splits(frame["split"], str(path))
    ids = [_row_id(frame, i, id_column, path) for i in range(len(frame))]
    return RawTexts(texts, list(frame[label_column]), ids, given, dropped)


def read_text_table(path: Path, kind: str, policy: str = "error"):
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


def _row_id(frame, i: int, id_column: str | None, path: Path) -> str:
    return str(frame[id_column].iloc[i]) if id_column else f"{path.name}:{i + 1}"


def is_missing(value: Any) -> bool:
    """Whether a cell is empty: None, or NaN (what pandas reads for a blank cell)."""
    return value is None or (isinstance(value, float) and np.isnan(value))


def skipped_for_bytes(name: str, undecodable: bool, policy: str, dropped: list[tuple[str, str]]) -> bool:
    """Record a line whose bytes were not UTF-8 in `dropped`; True when the decode policy skips it."""
    if not undecodable:
        return False
    if policy == "skip":
        dropped.append((name, "not valid UTF-8"))
        return True
    dropped.append((name, "undecodable bytes replaced, kept"))
    return False
