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
from solutions.core.wording import agree, plural

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
    A label may also be an array of labels (one per object in an example);
    `targets`, when not None, holds per-example extras a domain trains on
    beyond the labels (coordinates of those objects, say), as a list or an array.
    Multi-label data has `labels` as an (N, K) 0/1 matrix whose columns are
    `label_names`. `groups`, when not None, holds a group id per example
    (the person or device several examples came from, say): splits never put
    one group in two splits.
    `found` holds what the loader learned about the data beyond the examples (a table's
    column layout, say); it travels on to the Splits, so `split` and `make_schema` read it.
    """

    x: Any
    labels: np.ndarray
    ids: np.ndarray
    given_split: np.ndarray | None = None
    dropped: tuple[tuple[str, str], ...] = ()
    targets: Any = None
    groups: np.ndarray | None = None
    label_names: tuple[str, ...] | None = None
    found: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> "Examples":
        return Examples(
            x=take(self.x, index),
            labels=self.labels[index],
            ids=self.ids[index],
            given_split=None if self.given_split is None else self.given_split[index],
            dropped=self.dropped,
            targets=None if self.targets is None else take(self.targets, index),
            groups=None if self.groups is None else self.groups[index],
            label_names=self.label_names,
            found=self.found,
        )


@dataclass(frozen=True)
class Split:
    """One split with labels encoded as class indices into `class_names`.

    `y` holds one index per example, or (multi-object data) an object array
    holding an index array per example, or (multi-label data) an (N, K) 0/1
    matrix; `targets` carries Examples.targets and `groups` Examples.groups.
    """

    name: str
    x: Any
    y: np.ndarray
    ids: np.ndarray
    targets: Any = None
    groups: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def class_counts(self, n_classes: int) -> np.ndarray:
        """How often each class occurs: examples per class, or objects per class for multi-object labels."""
        return count_classes(self.y, n_classes)


@dataclass(frozen=True)
class Splits:
    train: Split
    val: Split
    test: Split
    class_names: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    found: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Sizes and class balance of each split, and what the loader dropped."""
        per_split = {}
        for split in (self.train, self.val, self.test):
            counts = split.class_counts(len(self.class_names))
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


def count_classes(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Occurrences of each class index in `y`, flat or an object array of index arrays.

    >>> count_classes(np.array([0, 2, 2]), 3).tolist()
    [1, 0, 2]
    >>> count_classes(np.array([np.array([0, 0]), np.array([], int)], dtype=object), 2).tolist()
    [2, 0]
    >>> count_classes(np.array([[1, 0], [1, 1]]), 2).tolist()  # a multi-label matrix: positives per class
    [2, 1]
    """
    y = np.asarray(y)
    if is_label_matrix(y):
        return y.sum(axis=0).astype(np.int64)
    if y.dtype == object:
        parts = [np.asarray(v, dtype=np.int64).reshape(-1) for v in y]
        y = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return np.bincount(y.astype(np.int64), minlength=n_classes)


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


def is_label_matrix(labels: np.ndarray) -> bool:
    """True for multi-label targets: a 2-D numeric (N, K) 0/1 matrix."""
    labels = np.asarray(labels)
    return labels.ndim == 2 and labels.dtype != object


def encode_example_labels(examples: Examples, class_names: tuple[str, ...], where: str) -> np.ndarray:
    """Labels as the model's targets: class indices, or a label matrix with columns in `class_names` order."""
    if not is_label_matrix(examples.labels):
        return encode_labels(examples.labels, class_names, where)
    names = tuple(examples.label_names or ())
    missing = [c for c in class_names if c not in names]
    if missing:
        raise DataError(f"{where} has no label column for {', '.join(map(repr, missing[:10]))}. "
                        f"Label columns found: {', '.join(map(repr, names)) or 'none'}; the model was trained on "
                        f"{', '.join(map(repr, class_names))}.")
    matrix = np.asarray(examples.labels)[:, [names.index(c) for c in class_names]]
    if not np.isin(matrix, (0, 1)).all():
        raise DataError(f"{where}: multi-label targets must be 0 or 1. Received values: {sorted(set(np.unique(matrix).tolist()) - {0, 1})[:10]}.")
    return matrix.astype(np.int64)


def check_label_matrix(matrix: np.ndarray, names: tuple[str, ...] | None, min_per_class: int) -> tuple[str, ...]:
    """Check a multi-label training matrix and return its class names.

    Each label needs at least `min_per_class` positive examples to be learnt and evaluated.
    """
    if names is None or len(names) != matrix.shape[1]:
        raise DataError(f"Multi-label targets of shape {matrix.shape} need one name per column. Received: {names}.")
    if len(matrix) == 0:
        raise DataError("No labelled examples were found. Check the data path and its layout.")
    positives = matrix.sum(axis=0)
    small = {name: int(n) for name, n in zip(names, positives) if n < min_per_class}
    if small:
        listed = ", ".join(f"{name!r} has {n}" for name, n in small.items())
        raise DataError(f"Too few positive examples for some labels: {listed}; each label needs at least {min_per_class} "
                        "in the training data. Add examples or remove the label column.")
    return tuple(str(n) for n in names)


def shared_groups(groups: np.ndarray, split_of: np.ndarray) -> dict[str, list[str]]:
    """Group ids found in more than one split, each with the splits it is in (empty when none is)."""
    seen: dict[str, set[str]] = {}
    for group, split in zip(groups, split_of):
        seen.setdefault(str(group), set()).add(str(split))
    return {g: sorted(s) for g, s in seen.items() if len(s) > 1}


def _carve(index: np.ndarray, fraction: float, examples: Examples, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Split `index` into (rest, carved): stratified by label where labels allow it, grouped when groups exist."""
    from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, train_test_split

    labels = examples.labels[index]
    matrix = is_label_matrix(labels)
    if examples.groups is None:
        rest, carved = train_test_split(index, test_size=fraction, random_state=seed, stratify=None if matrix else labels)
        return rest, carved, "random (multi-label)" if matrix else "stratified"
    groups = examples.groups[index]
    n_groups = len(set(groups))
    n_splits = max(2, int(round(1 / fraction)))
    if n_groups < n_splits:
        raise DataError(f"Only {n_groups} distinct groups (e.g. patients) are left to carve a {fraction:.0%} split from; "
                        f"a grouped split needs at least {n_splits}. Add data, or give the splits yourself.")
    if matrix:
        splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        rest, carved = next(splitter.split(index, groups=groups))
        how = "grouped, random (multi-label)"
    else:
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        rest, carved = next(splitter.split(index, [str(v) for v in labels], groups=groups))
        how = "stratified and grouped"
    return index[rest], index[carved], how


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
    carved from train, and a missing test split too. With `examples.groups`
    (the source each example came from), no group may be in two given splits, and carved splits
    keep each group whole (StratifiedGroupKFold; GroupShuffleSplit for
    multi-label data); the result is checked and noted.
    """
    if len(examples) == 0:
        raise DataError("No labelled examples were found. Check the data path and its layout.")
    given = examples.given_split
    if given is None:
        given = np.full(len(examples), "train", dtype=object)
    unknown = sorted(set(given) - set(SPLIT_NAMES))
    if unknown:
        raise DataError(f"Unknown split names {unknown}; use train, val and test.")
    if examples.groups is not None:
        shared = shared_groups(examples.groups, given)
        if shared:
            listed = "; ".join(f"{g!r} in {' and '.join(s)}" for g, s in list(shared.items())[:5])
            raise DataError(f"{plural(len(shared), 'group id')} (e.g. {agree(len(shared), 'a patient', 'patients')}) "
                            f"{agree(len(shared), 'appears', 'appear')} in more than one of the given splits: {listed}. "
                            "Each patient's images must all be in one split, or test results are optimistic: "
                            "move them, or drop the split column to let the toolkit split by group.")
    train_index = np.flatnonzero(given == "train")
    if is_label_matrix(examples.labels):
        class_names = check_label_matrix(np.asarray(examples.labels)[train_index], examples.label_names, min_per_class)
    else:
        check_classes(examples.labels[train_index], min_per_class)
        class_names = label_names(examples.labels[train_index])
    parts = {name: np.flatnonzero(given == name) for name in SPLIT_NAMES}
    notes = []
    rng_seed = int(seed)
    carved_test = len(parts["test"]) == 0
    if carved_test:
        parts["train"], parts["test"], how = _carve(parts["train"], test_fraction, examples, rng_seed)
        notes.append(f"test split: {test_fraction:.0%} of the data, {how}, seed {seed}")
    if len(parts["val"]) == 0:
        fraction = validation_fraction / (1 - test_fraction) if carved_test else validation_fraction
        parts["train"], parts["val"], how = _carve(parts["train"], fraction, examples, rng_seed)
        notes.append(f"validation split: carved from train, {how}, seed {seed}")
    splits = {}
    for name in SPLIT_NAMES:
        index = np.sort(parts[name])
        subset = examples.subset(index)
        splits[name] = Split(
            name=name,
            x=subset.x,
            y=encode_example_labels(subset, class_names, f"The {name} split"),
            ids=subset.ids,
            targets=subset.targets,
            groups=subset.groups,
        )
    if examples.groups is not None:
        split_of = np.concatenate([np.full(len(parts[n]), n, dtype=object) for n in SPLIT_NAMES])
        order = np.concatenate([parts[n] for n in SPLIT_NAMES])
        if shared_groups(examples.groups[order], split_of):
            raise RuntimeError("A grouped split put one group in two splits; this is a bug.")
        notes.append(f"grouped split checked: none of the {plural(len(set(examples.groups)), 'group id')} appears in more than one split")
    return Splits(
        train=splits["train"], val=splits["val"], test=splits["test"],
        class_names=class_names, dropped=examples.dropped, notes=tuple(notes), found=examples.found,
    )


def time_ordered_split(times: np.ndarray, *, validation_fraction: float, test_fraction: float,
                       test_start: float | None = None) -> np.ndarray:
    """"train", "val" or "test" per example by time: train on the past, test on the future.

    The test split is every example at or after `test_start`, or else the latest
    `test_fraction` of the examples (ties at the boundary go to test). The
    validation split is the latest `validation_fraction` of what is left, so the
    model is also chosen on data later than it trained on. Ties keep file order.

    >>> time_ordered_split(np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), validation_fraction=0.2, test_fraction=0.3).tolist()
    ['train', 'train', 'train', 'train', 'train', 'val', 'val', 'test', 'test', 'test']
    """
    times = np.asarray(times, dtype=np.float64)
    n = len(times)
    if n == 0:
        raise DataError("No examples to split by time.")
    order = np.argsort(times, kind="stable")
    if test_start is None:
        n_test = max(1, int(round(test_fraction * n)))
        boundary = times[order[n - n_test]]
    else:
        boundary = float(test_start)
    is_test = times >= boundary
    names = np.full(n, "train", dtype=object)
    names[is_test] = "test"
    earlier = order[~is_test[order]]
    if len(earlier) == 0 or not is_test.any():
        first, last = times[order[0]], times[order[-1]]
        raise DataError(f"The out-of-time split left no {'training' if len(earlier) == 0 else 'test'} examples: "
                        f"the test split starts at {boundary:g} and the times run from {first:g} to {last:g}. "
                        "Choose a test_start inside that range.")
    n_val = max(1, int(round(validation_fraction * n)))
    if n_val >= len(earlier):
        raise DataError(f"Only {plural(len(earlier), 'example')} {agree(len(earlier), 'comes', 'come')} before the test split, too few for a validation split "
                        f"of {n_val}. Choose a later test_start or a smaller validation_fraction.")
    names[earlier[len(earlier) - n_val:]] = "val"
    return names
