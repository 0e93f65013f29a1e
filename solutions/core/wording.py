"""Words for messages: counts with the noun in the singular for exactly one, and what was skipped.

Every message that counts things says "1 image", "2 images" through `plural`, and
verbs that agree with a count through `agree`.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence


def plural(n: int, noun: str, many: str | None = None, *, thousands: bool = False) -> str:
    """The count and the noun, singular for exactly one (`many` for irregular plurals); `thousands`
    writes the count with separators (1,234).

    >>> plural(1, "image"), plural(2, "image"), plural(2, "box"), plural(0, "group id"), plural(1234, "byte", thousands=True)
    ('1 image', '2 images', '2 boxes', '0 group ids', '1,234 bytes')
    """
    n = int(n)
    return (f"{n:,}" if thousands else str(n)) + f" {noun if n == 1 else many or plural_of(noun)}"


def agree(n: int, one: str, many: str) -> str:
    """The word that agrees with the count `n`.

    >>> agree(1, "was", "were"), agree(3, "was", "were")
    ('was', 'were')
    """
    return one if int(n) == 1 else many


def plural_of(noun: str) -> str:
    """The plural of a regular English noun (the last word of `noun`).

    >>> plural_of("row"), plural_of("box"), plural_of("entry"), plural_of("unreadable image")
    ('rows', 'boxes', 'entries', 'unreadable images')
    """
    if noun.endswith(("s", "x", "z", "sh", "ch")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return noun[:-1] + "ies"
    return noun + "s"


def skipped_text(count: int, examples: Sequence[Sequence[str]], reasons: Iterable[str] = (), shown: int = 3) -> str:
    """One sentence on the inputs a loader skipped, naming the first `shown` of them.

    `examples` are (id, reason) pairs, the first of `count`; `reasons` every distinct reason when
    known. Reasons of the form "<kind>: <why>" that share one <kind> name the kind of input.

    >>> skipped_text(1, [("bad.jpg", "unreadable image: not a decodable image")])
    'skipped 1 unreadable image: bad.jpg (not a decodable image)'
    >>> skipped_text(5, [("a", "missing label"), ("b", "empty text")], shown=2)
    'skipped 5 inputs: a (missing label), b (empty text) and 3 more'
    """
    reasons = list(reasons) or [str(reason) for _, reason in examples]
    kinds = {reason.split(": ", 1)[0] for reason in reasons}
    kind = kinds.pop() if len(kinds) == 1 and all(": " in reason for reason in reasons) else None

    def why(reason: str) -> str:
        return reason.split(": ", 1)[1] if kind is not None and ": " in reason else reason

    listed = ", ".join(f"{name} ({why(str(reason))})" for name, reason in list(examples)[:shown])
    more = int(count) - min(shown, len(examples))
    return (f"skipped {plural(count, kind or 'input')}" + (f": {listed}" if listed else "")
            + (f" and {more} more" if more > 0 and listed else ""))


def listed_pairs(pairs: Iterable[Sequence[Any]], limit: int = 20) -> str:
    """(name, reason) pairs for a message: 'a (why), b (why)', the first `limit` of them.

    >>> listed_pairs([("a.jpg", "empty file"), ("b.jpg", "truncated JPEG")])
    'a.jpg (empty file), b.jpg (truncated JPEG)'
    """
    return ", ".join(f"{name} ({reason})" for name, reason in list(pairs)[:limit])
