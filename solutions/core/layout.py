"""Where the labels and given splits are in the layouts users have: class folders and label columns.

Text and image domains both read a folder per class, optionally under split
folders (train/ val/ test/ or an alias such as validation/ or dev/), and
tables whose label column is given with --label or found by its literal name
(label, target, class or y); a table may also have a `split` column. This
module only finds those folders, split names and columns: which files count
and how they are read stays with the caller. Every problem a user can fix is a
DataError (exit 2) naming what was received and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

from solutions.core.errors import DataError, did_you_mean
from solutions.core.splits import SPLIT_NAMES

SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val",
                 "dev": "val", "test": "test", "testing": "test"}
LABEL_COLUMNS = ("label", "target", "class", "y")
MAX_LISTED = 40


def split_name(name: Any) -> str | None:
    """The split ("train", "val" or "test") a folder name or `split` cell stands for, or None.

    >>> split_name("Validation"), split_name(" dev "), split_name("cats")
    ('val', 'val', None)
    """
    return SPLIT_ALIASES.get(str(name).strip().lower())


def given_splits(values: Iterable[Any], where: str) -> list[str]:
    """The values of a table's `split` column as train/val/test; any other value is a DataError.

    >>> given_splits(["train", "Validation", "test"], "data.csv")
    ['train', 'val', 'test']
    """
    splits = [split_name(v) or str(v) for v in values]
    unknown = sorted(set(splits) - set(SPLIT_NAMES))
    if unknown:
        raise DataError(f"{where} column `split` holds {unknown}; allowed values are train, val and test "
                        "(also written training, valid, validation, dev or testing).")
    return splits


# ------------------------------------------------------------------ class folders
def subfolders(folder: Path, skip_prefixes: tuple[str, ...] = (".",)) -> list[Path]:
    """The folders directly in `folder`, sorted, without those whose name starts with `skip_prefixes`."""
    return sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith(skip_prefixes))


@dataclass(frozen=True)
class ClassFolders:
    """The class folders of a folder-per-class layout, each with its given split.

    `root` is the folder the layout starts in (an archive's single top folder
    already stepped into); `folders` lists (split, class folder) pairs, split
    None when the layout has no split folders (`has_splits` False); `found`
    names root's subfolders for messages.
    """

    root: Path
    folders: tuple[tuple[str | None, Path], ...]
    found: tuple[str, ...]
    has_splits: bool = False

    def found_text(self) -> str:
        """Root's subfolders for a message: "a, b, c" (the first ten) or "no subfolders"."""
        return ", ".join(self.found[:10]) or "no subfolders"


def class_folders(root: Path, holds_files: Callable[[Path], bool], *, skip_prefixes: tuple[str, ...] = (".",),
                  without_train: Literal["error", "classes"] = "error", what: str = "files") -> ClassFolders:
    """One folder per class under `root`, optionally under train/ val/ test/ (or their aliases).

    A root holding a single folder and no files of its own (`holds_files`
    says) is an archive's top folder: the layout starts inside it. When some
    subfolders are split folders, only those are read and their subfolders are
    the classes. Split folders without a train/ folder are an error naming them
    (`without_train="error"`), or ordinary class folders (`"classes"`).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("top/train/cat", "top/train/dog", "top/validation/cat"):
    ...     (root / name).mkdir(parents=True)
    >>> layout = class_folders(root, lambda folder: False)
    >>> layout.root.name, [(split, folder.name) for split, folder in layout.folders]
    ('top', [('train', 'cat'), ('train', 'dog'), ('val', 'cat')])
    """
    root = Path(root)
    folders = subfolders(root, skip_prefixes)
    if len(folders) == 1 and not holds_files(root) and subfolders(folders[0], skip_prefixes):
        return class_folders(folders[0], holds_files, skip_prefixes=skip_prefixes, without_train=without_train,
                             what=what)
    splits = {split_name(p.name): p for p in folders if split_name(p.name)}
    found = tuple(p.name for p in folders)
    if splits and "train" not in splits and without_train == "error":
        raise DataError(f"{root} has {', '.join(p.name + '/' for p in splits.values())} but no train/ folder. "
                        f"Put the training {what} under train/<class>/.")
    if splits and "train" in splits:
        pairs = tuple((split, class_dir) for split, folder in splits.items()
                      for class_dir in subfolders(folder, skip_prefixes))
        return ClassFolders(root, pairs, found, has_splits=True)
    return ClassFolders(root, tuple((None, class_dir) for class_dir in folders), found)


# ------------------------------------------------------------------ label columns
def listed_names(names: Iterable[Any]) -> str:
    """Names for a message, the first 40 and a count after them.

    >>> listed_names(["a", "b"])
    'a, b'
    """
    names = [str(n) for n in names]
    return ", ".join(names[:MAX_LISTED]) + (f", ... ({len(names)} in all)" if len(names) > MAX_LISTED else "")


def _or_list(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def find_column(columns: list[str], given: str | None, known: tuple[str, ...], *, where: str, what: str = "label",
                flag: str = "--label", several: Literal["error", "first"] = "error", match_case: bool = False) -> str:
    """The column `given`, else the one literally named one of `known` (lower-case names; any case unless `match_case`).

    With several such columns, `several="error"` asks which (the rule for
    --label in tables), `"first"` takes the earliest name in `known`. A given
    column that is absent, or no column found, is a DataError listing the
    columns and saying which option names the column.

    >>> find_column(["Time", "V1", "Amount", "Class"], None, LABEL_COLUMNS, where="data.csv")
    'Class'
    >>> find_column(["body", "label", "y"], None, LABEL_COLUMNS, where="t.csv", several="first")
    'label'
    """
    if given is not None:
        if given not in columns:
            raise DataError(f"{where} has no {what} column {given!r}. Columns found: {listed_names(columns)}."
                            + did_you_mean(given, columns) + f" Pass one of them with {flag} COLUMN.")
        return given
    if several == "first":
        by_name = {c: c for c in columns} if match_case else {c.lower(): c for c in columns}
        found = [by_name[name] for name in known if name in by_name][:1]
    else:
        found = [c for c in columns if (c if match_case else c.lower()) in known]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise DataError(f"{where} has several columns that could be the {what} ({', '.join(found)}). "
                        f"Pass {flag} COLUMN to say which.")
    raise DataError(f"{where} has no {what} column: none is named {_or_list(known)}. "
                    f"Columns found: {listed_names(columns)}. Pass the {what} column with {flag} COLUMN, "
                    f"or rename it to {known[0]}.")


def find_label_column(columns: list[str], given: str | None, where: str, *,
                      several: Literal["error", "first"] = "error", match_case: bool = False) -> str:
    """The label column: `given` (--label) if set, else the one named label, target, class or y.

    >>> find_label_column(["Time", "V1", "Amount", "Class"], None, "data.csv")
    'Class'
    >>> find_label_column(["a", "b"], None, "data.csv")
    Traceback (most recent call last):
    ...
    solutions.core.errors.DataError: data.csv has no label column: none is named label, target, class or y. \
Columns found: a, b. Pass the label column with --label COLUMN, or rename it to label.
    """
    return find_column(columns, given, LABEL_COLUMNS, where=where, several=several, match_case=match_case)
