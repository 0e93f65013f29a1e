"""Pretrained word vectors (GloVe's text format) for the embedding of the sentiment sequence models.

A GloVe file holds one word a line, `word v1 ... vD`, separated by single spaces (glove.6B.50d.txt:
400,000 lines of 50 values). The word2vec / fastText text format (.vec) is the same after a first
line `count D`, which is read as a header. A few words of glove.840B hold spaces (". . ."); a line
with more fields than D + 1 whose extra leading fields are not numbers is such a word.

The file is streamed once, line by line: every line's length is checked, but only the lines of the
words asked for (the model's vocabulary) are parsed and kept, so memory is bounded by the vocabulary,
not by the file (glove.840B.300d is 5.6 GB). The file's SHA-256 is computed in the same pass.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from solutions.core.errors import ConfigError, DataError
from solutions.core.wording import plural

KEY = "embedding_weights"
FORMAT = "`word v1 ... vD` per line, GloVe's text format (e.g. glove.6B.100d.txt, unpacked from glove.6B.zip)"
COMPRESSED_SUFFIXES = (".zip", ".gz", ".bz2", ".xz", ".7z")
PADDING, OOV = "", "[UNK]"


@dataclass(frozen=True)
class WordVectors:
    """The vectors a word-vector file holds for the words asked for.

    `vectors` maps each asked word that was found to its vector (float32, `dimension` values); a
    word is found under its own spelling or, failing that, as the lower-case form of a file word
    (`lowercase` lists those). `rows` counts the file's word lines; `sha256` is the file's digest.
    """

    path: Path
    dimension: int
    vectors: dict[str, np.ndarray]
    rows: int
    sha256: str
    lowercase: tuple[str, ...] = field(default=())


def check_vectors_file(value: str | Path) -> Path:
    """The path of the word-vector file `value` names, or a ConfigError saying why it is none.

    >>> check_vectors_file("/no/such/glove.txt")
    Traceback (most recent call last):
    ...
    solutions.core.errors.ConfigError: Recipe key `embedding_weights` names no file: /no/such/glove.txt does not exist. Pass the path of a word-vector file, `word v1 ... vD` per line, GloVe's text format (e.g. glove.6B.100d.txt, unpacked from glove.6B.zip). Received: embedding_weights='/no/such/glove.txt'.
    """
    path = Path(value).expanduser()
    received = f"Received: {KEY}={str(value)!r}."
    if not path.exists():
        why = f"{path} does not exist"
    elif path.is_dir():
        why = f"{path} is a folder"
    elif path.name.lower().endswith(COMPRESSED_SUFFIXES):
        why = f"{path} is compressed; unpack it first (GloVe's zip holds one .txt file per dimension)"
    else:
        return path
    raise ConfigError(f"Recipe key `{KEY}` names no file: {why}. Pass the path of a word-vector file, {FORMAT}. {received}")


def vector_dimension(value: str | Path) -> int:
    """The number of values per word in the word-vector file `value` (read from its first lines only).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tiny.txt"
    >>> _ = path.write_text("the 0.1 0.2 0.3\\nfilm 0.4 0.5 0.6\\n")
    >>> vector_dimension(path)
    3
    """
    path = check_vectors_file(value)
    for line in _lines(path, hashlib.sha256()):
        if line.header is not None:
            return line.header
        return line.count
    raise _empty(path)


def read_word_vectors(value: str | Path, words: Iterable[str]) -> WordVectors:
    """The vectors of `words` in the word-vector file `value`, streamed once (see the module docstring).

    A word is looked up under its own spelling, else as the lower-case form of a file word ("Paris"
    in a cased file gives "paris"); the first line of a spelling wins (GloVe's files are ordered by
    frequency). DataError when the file is empty, its rows differ in length, a kept row holds a
    non-number, or none of `words` is in it.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tiny.txt"
    >>> _ = path.write_text("the 1 0\\nFilm 0 1\\nbad 1 1\\n")
    >>> found = read_word_vectors(path, ["film", "the", "plot"])
    >>> sorted(found.vectors), found.lowercase, found.vectors["film"].tolist()
    (['film', 'the'], ('film',), [0.0, 1.0])
    """
    path = check_vectors_file(value)
    asked = [w for w in words if w not in (PADDING, OOV)]
    wanted = set(asked)
    digest = hashlib.sha256()
    exact: dict[str, np.ndarray] = {}
    lowered: dict[str, np.ndarray] = {}
    dimension, rows, first = None, 0, ""
    for line in _lines(path, digest):
        if line.header is not None:
            dimension, first = line.header, f"its header (line {line.number}) says {line.header}"
            continue
        if dimension is None:
            dimension, first = line.count, f"line {line.number} has {line.count}"
        word, values = line.word, line.values
        if line.count != dimension:
            word, values = _word_with_spaces(path, line, dimension, first)
        rows += 1
        if word in wanted:
            if word not in exact:
                exact[word] = _parse(path, line.number, word, values)
        elif word.lower() in wanted:
            key = word.lower()
            if key not in exact and key not in lowered:
                lowered[key] = _parse(path, line.number, word, values)
    if dimension is None:
        raise _empty(path)
    if rows == 0:
        raise DataError(f"{path} holds a header line and no word vectors. Expected {FORMAT}.")
    lowercase = tuple(sorted(k for k in lowered if k not in exact))
    vectors = {**{k: lowered[k] for k in lowercase}, **exact}
    if wanted and not vectors:
        shown = ", ".join(repr(w) for w in asked[:8])
        raise DataError(
            f"None of the {plural(len(wanted), 'vocabulary word')} of the training split is in {path} "
            f"({plural(rows, 'word')} read; the vocabulary's first words: {shown}). Check that it is a word-vector file for "
            f"this language and tokenisation, {FORMAT}; or train without it: --set {KEY}=none."
        )
    return WordVectors(path, dimension, vectors, rows, digest.hexdigest(), lowercase)


def build_embedding_matrix(vocabulary: Sequence[str], vectors: WordVectors, rows: int, seed: int) -> np.ndarray:
    """A (rows, dimension) embedding matrix for a TextVectorization `vocabulary` (index 0 padding, 1 OOV).

    Row i holds the file's vector of vocabulary[i]. Words not in the file, the OOV row and the rows
    past the vocabulary get fresh random rows, normal with the standard deviation of the vectors
    found (Kim 2014 gives unknown words the variance of the pretrained ones), seeded; the padding
    row is zeros.

    >>> found = WordVectors(Path("v.txt"), 2, {"film": np.array([1.0, 2.0], np.float32)}, 1, "")
    >>> matrix = build_embedding_matrix(["", "[UNK]", "film", "plot"], found, 5, seed=0)
    >>> matrix.shape, matrix[0].tolist(), matrix[2].tolist()
    ((5, 2), [0.0, 0.0], [1.0, 2.0])
    """
    if len(vocabulary) > rows:
        raise ValueError(f"`rows` must be at least the vocabulary size ({len(vocabulary)}). Received: rows={rows}.")
    found = np.stack(list(vectors.vectors.values())) if vectors.vectors else np.zeros((1, vectors.dimension))
    scale = float(found.std()) or 0.1
    matrix = np.random.default_rng(seed).normal(0.0, scale, (rows, vectors.dimension)).astype(np.float32)
    matrix[0] = 0.0
    for index, word in enumerate(vocabulary):
        vector = vectors.vectors.get(word) if index >= 2 else None
        if vector is not None:
            matrix[index] = vector
    return matrix


# ------------------------------------------------------------------ reading
@dataclass(frozen=True)
class _Line:
    number: int
    word: str
    values: str  # the text after the word
    count: int  # how many values `values` holds
    header: int | None = None  # the dimension a word2vec / fastText header line `count D` gives


def _lines(path: Path, digest) -> Iterator[_Line]:
    """The non-blank lines of `path`, split into word and values, each raw line fed to `digest`."""
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise ConfigError(f"Recipe key `{KEY}`: could not read {path}: {error}.") from None
    with handle:
        first = True
        for number, raw in enumerate(handle, start=1):
            digest.update(raw)
            line = raw.decode("utf-8", errors="replace").rstrip()
            if first:
                line = line.lstrip("\ufeff")
            if not line:
                continue
            word, _, values = line.partition(" ")
            count = values.count(" ") + 1 if values else 0
            if first:
                first = False
                if count == 1 and word.isascii() and word.isdigit() and _is_count(values):
                    yield _Line(number, word, values, count, header=int(values))
                    continue
                if count == 0:
                    raise DataError(f"{path} line {number} holds a word ({word[:40]!r}) and no values. Expected {FORMAT}.")
            yield _Line(number, word, values, count)


def _word_with_spaces(path: Path, line: _Line, dimension: int, first: str) -> tuple[str, str]:
    """(word, values) of a line with more fields than the file's rows: a word holding spaces (glove.840B's
    ". . ."), when its extra leading fields are not numbers; else the DataError of rows of different lengths."""
    extra = line.count - dimension
    fields = line.values.split(" ")
    if extra > 0 and not any(_is_number(f) for f in fields[:extra]):
        return " ".join([line.word, *fields[:extra]]), " ".join(fields[extra:])
    raise DataError(
        f"Rows of different lengths in {path}: line {line.number} ({line.word[:40]!r}) has {plural(line.count, 'value')} "
        f"after its word; {first}. Every line must be `word v1 ... vD` with the same D; remove or "
        "repair that line (a truncated download or a concatenation of two files does this)."
    )


def _parse(path: Path, number: int, word: str, values: str) -> np.ndarray:
    fields = values.split(" ")
    try:
        vector = np.asarray(fields, dtype=np.float32)
    except ValueError:
        bad = next(f for f in fields if not _is_number(f))
        raise DataError(f"{path} line {number} ({word[:40]!r}): {bad[:40]!r} is not a number. Expected "
                        f"{FORMAT}, values separated by single spaces.") from None
    if not np.all(np.isfinite(vector)):
        bad = next(f for f in fields if not math.isfinite(float(f)))
        raise DataError(f"{path} line {number} ({word[:40]!r}): {bad!r} is not a finite number. Every value of a "
                        "word vector must be finite.")
    return vector


def _is_count(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) > 0


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _empty(path: Path) -> DataError:
    return DataError(f"{path} is empty: it holds no word vectors. Expected {FORMAT}.")
