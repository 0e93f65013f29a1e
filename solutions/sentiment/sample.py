"""Sentiment: the seeded generator of the bundled sample of short synthetic movie reviews.

`make_reviews` writes reviews labelled "negative" and "positive" from small
word lists, with negations and a little label noise, so a bag of words learns
it well but not perfectly; `generated_reviews` runs it from a dataset config's
`generator` for `ksol demo` and the tests, which need nothing from outside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core.datasets import run_generator
from solutions.core.errors import DataError
from solutions.sentiment.reading import RawTexts

POSITIVE_WORDS = ("great", "wonderful", "excellent", "moving", "brilliant", "delightful", "superb", "charming", "gripping", "fun")
NEGATIVE_WORDS = ("awful", "boring", "dull", "terrible", "clumsy", "tedious", "bland", "painful", "messy", "weak")
NEUTRAL_WORDS = ("the", "film", "story", "cast", "plot", "director", "scenes", "score", "ending", "dialogue", "camera", "music")
SUBJECTS = ("the acting", "the story", "the soundtrack", "this movie", "the script", "the ending", "the cinematography")


def make_reviews(n_per_class: int = 60, seed: int = 0) -> tuple[list[str], list[str]]:
    """A seeded sample of short synthetic reviews labelled "negative" and "positive".

    Each review mixes neutral filler with words of its polarity, some of the other
    polarity negated ("not boring"), and a little label noise (5%), so a bag of
    words learns it well but not perfectly.

    >>> texts, labels = make_reviews(n_per_class=2, seed=0)
    >>> len(texts), sorted(set(labels))
    (4, ['negative', 'positive'])
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n_per_class):
        for label in ("negative", "positive"):
            own, other = (POSITIVE_WORDS, NEGATIVE_WORDS) if label == "positive" else (NEGATIVE_WORDS, POSITIVE_WORDS)
            parts = []
            for _ in range(int(rng.integers(2, 5))):
                filler = " ".join(rng.choice(NEUTRAL_WORDS, int(rng.integers(2, 6))))
                if rng.random() < 0.3:
                    parts.append(f"{rng.choice(SUBJECTS)} was not {rng.choice(other)} , {filler}")
                else:
                    parts.append(f"{rng.choice(SUBJECTS)} was {rng.choice(own)} , {filler}")
            if rng.random() < 0.05:
                label = "positive" if label == "negative" else "negative"
            texts.append(" . ".join(parts) + " .")
            labels.append(label)
    return texts, labels


def generated_reviews(generator: dict[str, Any]) -> RawTexts:
    """The raw texts of a dataset config's `generator` (the "reviews" sample, its options passed on)."""
    name = generator.get("name")
    if name != "reviews":
        raise DataError(f"Unknown text generator {name!r}; the sentiment generator is 'reviews'.")
    texts, labels = run_generator(make_reviews, generator)
    return RawTexts(texts, labels, [f"reviews[{i}]" for i in range(len(texts))], None, [])
