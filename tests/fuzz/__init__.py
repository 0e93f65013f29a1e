"""Fuzzed loaders: malformed files either load or raise the toolkit's own error, never anything else.

Each test writes its generated files into a fresh `tempfile.TemporaryDirectory`
per example (function-scoped fixtures such as tmp_path are not reset between
Hypothesis examples). The Hypothesis profiles are in conftest.py: "ci" (the
default, 25 examples, derandomized) and "long" (benchmarks/fuzz_loaders.py).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from solutions.core.errors import SolutionsError


def loads_or_refuses(load: Callable[..., Any], *args: Any, allowed: tuple[type[BaseException], ...] = (SolutionsError,),
                     **kwargs: Any) -> Any:
    """`load(*args, **kwargs)`'s result, or the allowed error it raised (which must say something).

    Any other exception propagates, so Hypothesis reports and shrinks it: that is a loader bug.
    """
    try:
        return load(*args, **kwargs)
    except allowed as error:
        assert str(error).strip(), f"{type(error).__name__} raised without a message"
        return error


def refused(value: Any) -> bool:
    return isinstance(value, BaseException)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder for one Hypothesis example."""
    with tempfile.TemporaryDirectory(prefix="ksol-fuzz-") as folder:
        yield Path(folder)


def encode_lines(lines: list[str], encoding: str, newline: str = "\n") -> bytes:
    """Lines joined by `newline` and encoded: "utf-8", "latin-1", "utf-8-sig", "utf-16", or "mixed"
    (odd lines latin-1, even lines UTF-8: latin-1 bytes inside a UTF-8 file)."""
    if encoding == "mixed":
        return newline.encode().join(
            line.encode("latin-1", errors="replace") if i % 2 else line.encode("utf-8") for i, line in enumerate(lines))
    return newline.join(lines).encode(encoding, errors="replace")


def png_bytes(height: int = 24, width: int = 32, channels: int = 3, value: int = 90) -> bytes:
    """A small valid PNG (a flat image with a brighter square, so it is not blank)."""
    import cv2
    import numpy as np

    image = np.full((height, width, channels), value, np.uint8)
    image[height // 4: height // 2, width // 4: width // 2] = 200
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def mutated(draw, data: bytes, keep_weight: int = 2) -> bytes:
    """`data` as written, or broken: truncated, a few bytes overwritten or inserted, or junk appended.

    `draw` is a Hypothesis `st.composite` draw function.
    """
    from hypothesis import strategies as st

    kind = draw(st.sampled_from(["keep"] * keep_weight + ["truncate", "overwrite", "insert", "append"]))
    if kind == "keep" or not data:
        return data
    position = draw(st.integers(0, len(data) - 1))
    if kind == "truncate":
        return data[:position]
    junk = draw(st.binary(min_size=1, max_size=8) | st.sampled_from([b"\xe9", b"\xff\xfe", b"\x00", b"<", b"&", b"\xc3"]))
    if kind == "overwrite":
        return data[:position] + junk + data[position + len(junk):]
    if kind == "insert":
        return data[:position] + junk + data[position:]
    return data + junk
