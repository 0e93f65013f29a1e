"""InputChunk: one chunk of raw prediction inputs, as a domain's `read_inputs` hook yields them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InputChunk:
    """A chunk of raw inputs for prediction: ids, model inputs, and inputs that could not be read.

    `meta` holds what a domain needs to map outputs back to the inputs (an image's
    original size and resize factor, say).
    """

    ids: list[str]
    x: Any
    failures: tuple[tuple[str, str], ...] = ()
    meta: Any = None
