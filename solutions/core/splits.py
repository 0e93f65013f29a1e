"""Labelled examples and their train / validation / test split.

A domain loader returns `Examples`: inputs in the domain's own form (an array
of images, a list of texts, a DataFrame), their raw labels, an id per example,
and, when the data came already split, which split each example belongs to.
Everything about splitting and label checks lives here, so every domain splits
the same way: seeded and stratified.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from solutions.core.errors import DataError

SPLIT_NAMES = ("train", "val", "test")


def take(x: Any, index: np.ndarray) -> Any:
    """Select rows of an array, a DataFrame or a list by integer positions."""
    if isinstance(x, np.ndarray):
        return x[index]
    if hasattr(x, "iloc"):
        return x.iloc[index].reset_index(drop=True)
    return [x[i] for i in index]


@dataclass(frozen=True)
class Examples:
    """Labelled examples as a domain loaded them.

    `labels` holds raw label values (strings or numbers as found in the data);
    `given_split`, when not None, holds "train", "val" or "test" per example.
    `dropped` lists (id, reason) for inputs the loader skipped.
    """

    x: Any
    labels: np.ndarray
    ids: np.ndarray
    given_split: np.ndarray | None = None
    dropped: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> "Examples":
        return Examples(
            x=take(self.x, index),
            labels=self.labels[index],
            ids=self.ids[index],
            given_split=None if self.given_split is None else self.given_split[index],
            dropped=self.dropped,
        )


@dataclass(frozen=True)
class Split:
    """One split with labels encoded as class indices into `class_names`."""

    name: str
    x: Any
    y: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Splits:
    train: Split
    val: Split
    test: Split
    class_names: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        """Sizes and class balance of each split, and what the loader dropped."""
        per_split = {}
        for split in (self.train, self.val, self.test):
            counts = np.bincount(split.y, minlength=len(self.class_names))
            per_split[split.name] = {
                "size": int(len(split)),
                "classes": {name: int(count) for name, count in zip(self.class_names, counts)},
            }
        reasons = Counter(reason for _, reason in self.dropped)
        return {
            "splits": per_split,
            "class_names": list(self.class_names),
            "dropped": {"count": len(self.dropped), "by_reason": dict(reasons), "examples": [list(d) for d in self.dropped[:20]]},
            "notes": list(self.notes),
        }


def label_names(labels: np.ndarray) -> tuple[str, ...]:
    """Sorted distinct labels as strings (numbers sort numerically)."""
    values = np.unique(labels)
    return tuple(str(v) for v in values)


def encode_labels(labels: np.ndarray, class_names: tuple[str, ...], where: str) -> np.ndarray:
    """Map raw labels to indices into `class_names`; unknown labels are a DataError."""
    index = {name: i for i, name in enumerate(class_names)}
    as_text = np.asarray([str(v) for v in labels])
    unknown = sorted(str(v) for v in set(as_text) - set(index))
    if unknown:
        raise DataError(
            f"{where} has label{'s' if len(unknown) > 1 else ''} never seen in training: {', '.join(map(repr, unknown[:10]))}. "
            f"Known classes: {', '.join(map(repr, class_names))}. Remove those examples or retrain with them."
        )
    return np.asarray([index[v] for v in as_text], dtype=np.int64)


def check_classes(labels: np.ndarray, min_per_class: int, what: str = "examples") -> None:
    """Reject empty data, a single class, or a class with fewer than `min_per_class` examples."""
    if len(labels) == 0:
        raise DataError(f"No labelled {what} were found. Check the data path and its layout.")
    counts = Counter(str(v) for v in labels)
    if len(counts) < 2:
        only = next(iter(counts))
        raise DataError(
            f"Only one class was found ({only!r}, {counts[only]} {what}). "
            "A classifier needs at least two classes: add examples of another class."
        )
    small = {name: n for name, n in counts.items() if n < min_per_class}
    if small:
        listed = ", ".join(f"{name!r} has {n}" for name, n in sorted(small.items()))
        raise DataError(
            f"Too few {what} in some classes: {listed}; each class needs at least {min_per_class} "
            "to be split into train, validation and test. Add examples or remove the class."
        )


def split_examples(
    examples: Examples,
    *,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    min_per_class: int = 5,
) -> Splits:
    """Split examples into train / val / test, stratified by label and seeded.

    Splits the data already came with are kept; a missing validation split is
    carved from train, and a missing test split too.
    """
    from sklearn.model_selection import train_test_split

    if len(examples) == 0:
        raise DataError("No labelled examples were found. Check the data path and its layout.")
    given = examples.given_split
    if given is None:
        given = np.full(len(examples), "train", dtype=object)
    unknown = sorted(set(given) - set(SPLIT_NAMES))
    if unknown:
        raise DataError(f"Unknown split names {unknown}; use train, val and test.")
    train_index = np.flatnonzero(given == "train")
    check_classes(examples.labels[train_index], min_per_class)
    class_names = label_names(examples.labels[train_index])
    parts = {name: np.flatnonzero(given == name) for name in SPLIT_NAMES}
    notes = []
    rng_seed = int(seed)
    carved_test = len(parts["test"]) == 0
    if carved_test:
        parts["train"], parts["test"] = train_test_split(
            parts["train"], test_size=test_fraction, random_state=rng_seed,
            stratify=examples.labels[parts["train"]],
        )
        notes.append(f"test split: {test_fraction:.0%} of the data, stratified, seed {seed}")
    if len(parts["val"]) == 0:
        parts["train"], parts["val"] = train_test_split(
            parts["train"], test_size=validation_fraction / (1 - test_fraction) if carved_test else validation_fraction,
            random_state=rng_seed, stratify=examples.labels[parts["train"]],
        )
        notes.append(f"validation split: carved from train, stratified, seed {seed}")
    splits = {}
    for name in SPLIT_NAMES:
        index = np.sort(parts[name])
        subset = examples.subset(index)
        splits[name] = Split(
            name=name,
            x=subset.x,
            y=encode_labels(subset.labels, class_names, f"The {name} split"),
            ids=subset.ids,
        )
    return Splits(
        train=splits["train"], val=splits["val"], test=splits["test"],
        class_names=class_names, dropped=examples.dropped, notes=tuple(notes),
    )
