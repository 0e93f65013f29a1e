"""Sentiment: the texts to predict on, from direct texts or files, in chunks of bounded size.

`iter_prediction_texts` reads texts given directly (`TextInputs`, an array or
a pandas Series), a table (CSV, TSV, JSON Lines; the trained text column or
one named like a text column), a text file (one text per line), a folder of
.txt files (one text per file), or a list of such paths, and yields
`InputChunk`s with an id per text; unreadable inputs are DataErrors naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from solutions.core.errors import DataError
from solutions.core.solution import InputChunk
from solutions.sentiment.reading import (
    TABLE_SUFFIXES, TEXT_COLUMNS, is_missing, read_text_file, read_text_table, tsv_has_header,
)


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
        if suffix in TABLE_SUFFIXES and not (suffix == ".tsv" and not tsv_has_header(path, {"text": schema.get("text_column")})):
            frame, _ = read_text_table(path, TABLE_SUFFIXES[suffix], policy)
            columns = [str(c) for c in frame.columns]
            frame.columns = columns
            column = _prediction_text_column(columns, schema.get("text_column"), path)
            texts = ["" if is_missing(v) else str(v) for v in frame[column]]
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
