"""Sentiment: clean raw texts into examples, counting everything dropped and why.

`clean_examples` drops rows with an empty or whitespace-only text or a missing
label, maps labels through the recipe's label_map, and resolves repeated texts
(duplicates=drop keeps the first copy and drops texts seen with conflicting
labels; duplicates=keep keeps them all and notes them). Rows dropped while
reading (undecodable bytes) are carried along, so the report lists them all.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from solutions.core.errors import DataError
from solutions.core.splits import Examples
from solutions.core.wording import plural
from solutions.sentiment.reading import RawTexts, is_missing
from solutions.sentiment.recipe import SentimentRecipe


def cell_label_text(value: Any) -> str | None:
    """A raw label as text: integral floats lose their ".0"; missing values are None.

    >>> [cell_label_text(v) for v in (1, 2.0, " pos ", None, float("nan"))]
    ['1', '2', 'pos', None, None]
    """
    if is_missing(value):
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
        label = cell_label_text(label)
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
        raise DataError(f"{where} has no usable texts: every row was empty or unlabelled ({plural(len(raw.texts), 'row')} read).")
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
