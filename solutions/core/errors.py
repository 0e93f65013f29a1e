"""Errors a user can act on.

Every user mistake (bad path, bad recipe key, bad data) raises a `SolutionsError`
whose message says what was wrong, what was received and how to fix it. The
command line turns these into exit status 2 and a one-paragraph message; any
other exception is a bug (exit status 1).
"""

from __future__ import annotations


class SolutionsError(Exception):
    """Base class for errors caused by the user's input, not by a bug."""

    kind = "error"


class UsageError(SolutionsError):
    """A command or function was called the wrong way (unknown solution, missing run)."""

    kind = "usage error"


class ConfigError(SolutionsError):
    """A recipe, preset, override or dataset config is invalid."""

    kind = "config error"


class DataError(SolutionsError):
    """The data cannot be used: missing files, corrupt content, bad labels."""

    kind = "data error"


class NotFittedError(UsageError):
    """A solution was used before `fit` (or `load`)."""


class FolderInUseError(UsageError):
    """Another process is writing the folder (a run directory, a batch output folder): see core.runs.run_lock."""


class DiskFullError(SolutionsError):
    """The disk (or the user's quota) is full: a file could not be written. Files written before are intact."""

    kind = "disk full"


def did_you_mean(received: str, known) -> str:
    """Return ' Did you mean "x"?' for the closest known name, or ''.

    >>> did_you_mean("epohcs", ["epochs", "seed"])
    ' Did you mean "epochs"?'
    """
    import difflib

    matches = difflib.get_close_matches(str(received), [str(k) for k in known], n=1, cutoff=0.6)
    return f' Did you mean "{matches[0]}"?' if matches else ""
