"""Cross-fitted members: every training row trains all members but one, and validates that one.

With `cross_fit: true` (and `members` >= 2) a table solution pools its training and validation
rows and cuts them into `members` stratified folds. Member i trains on every fold but fold i and is
scored on fold i, so every pooled row has one out-of-fold score, and the validation figures (early
stopping, calibration, the threshold, `validation_score`) are computed on all pooled rows instead
of a holdout of a few per cent. The saved model is the members' mean, as for any member ensemble:
it has seen every pooled row. This is the "cross-validation bagging" of small-data practice
(AutoGluon's bagged models, the out-of-fold predictions of stacking).

The members still train in one `fit` (tables.ensemble): the per-member targets say who learns from
which row. `member_targets` puts the label where a member learns from (training) or is scored on
(validation) a row and -1 elsewhere; `MemberLoss` and `MemberMeanAUC` skip the -1 cells.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from solutions.core.errors import DataError
from solutions.core.splits import Split, Splits
from solutions.core.wording import plural

NOT_SEEN = -1.0


def fold_of_rows(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A stratified fold index (0 to folds - 1) per row, seeded."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    fewest = int(np.bincount(y, minlength=2).min())
    if fewest < folds:
        raise DataError(f"cross_fit cuts the training and validation rows into {folds} folds (one per member), but one "
                        f"class has only {plural(fewest, 'row')} there: each fold needs one of each. "
                        f"Set members to at most {max(fewest, 2)}, or cross_fit=false.")
    fold = np.empty(len(y), dtype=np.int64)
    for k, (_, held) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)):
        fold[held] = k
    return fold


def member_targets(y: np.ndarray, fold: np.ndarray, folds: int, held_out: bool) -> np.ndarray:
    """(n, folds) float32 targets: the label in the cells of the members that learn from the row
    (`held_out` False: every member but the row's fold) or are scored on it (True: that one), -1 elsewhere.

    >>> member_targets(np.array([1, 0, 1]), np.array([0, 1, 0]), 2, held_out=True).tolist()
    [[1.0, -1.0], [-1.0, 0.0], [1.0, -1.0]]
    >>> member_targets(np.array([1, 0, 1]), np.array([0, 1, 0]), 2, held_out=False).tolist()
    [[-1.0, 1.0], [0.0, -1.0], [-1.0, 1.0]]
    """
    own = np.arange(folds)[None, :] == np.asarray(fold)[:, None]
    seen = own if held_out else ~own
    return np.where(seen, np.asarray(y, dtype=np.float32)[:, None], NOT_SEEN).astype(np.float32)


def cross_fit_splits(splits: Splits, folds: int, seed: int) -> Splits:
    """The splits with training and validation pooled: `train` and `val` hold the same rows, their
    `targets` the member targets of training and of out-of-fold scoring; the test split is untouched."""
    train, val = splits.train, splits.val
    x = _concat(train.x, val.x)
    y = np.concatenate([train.y, val.y])
    ids = np.concatenate([train.ids, val.ids])
    fold = fold_of_rows(y, folds, seed)
    pooled = lambda name, held_out: Split(name, x, y, ids, targets=member_targets(y, fold, folds, held_out))  # noqa: E731
    note = (f"cross-fitted members: the {len(train)} training and {len(val)} validation rows pooled and cut into "
            f"{folds} stratified folds; member i trains on the other folds, and every validation figure is out of fold "
            f"(each of the {len(y)} rows scored by the member that did not train on it)")
    return dataclasses.replace(splits, train=pooled("train", False), val=pooled("val", True),
                               notes=tuple(splits.notes) + (note,))


def held_out_members(targets: np.ndarray) -> np.ndarray:
    """(n, members) 0/1 weights of the members that score each row out of fold (validation targets)."""
    return (np.asarray(targets) >= 0).astype(np.float32)


def _concat(a, b):
    import pandas as pd

    if hasattr(a, "iloc"):
        return pd.concat([a, b], ignore_index=True)
    return np.concatenate([a, b])
