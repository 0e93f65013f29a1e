"""NLTK text normalisation applied before the model, the same way in training and prediction.

It cannot live inside the model: TextVectorization's standardisation must be a serialisable
TensorFlow function, and NLTK's tokenisers are Python. The mode is saved in schema.json
(`normalize`) and `normalize_texts` is applied by the solution before every call of the model.
Nothing here needs NLTK data downloads.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import numpy as np

MODES = ("none", "tweet", "negation", "tweet_negation")
WORD_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"


@lru_cache(maxsize=None)
def _tweet_tokenizer():
    from nltk.tokenize import TweetTokenizer

    return TweetTokenizer(preserve_case=False, reduce_len=True, strip_handles=True)


@lru_cache(maxsize=None)
def _word_tokenizer():
    from nltk.tokenize import RegexpTokenizer

    return RegexpTokenizer(WORD_PATTERN)


def normalize_text(text: str, mode: str) -> str:
    """One text normalised by `mode` (see the module docstring), tokens joined by spaces.

    >>> normalize_text("@ann Sooooo GOOD :-) #win", "tweet")
    'sooo good :-) #win'
    >>> normalize_text("I didn't like it. Great cast", "negation")
    "i didn't like_NEG it_NEG . great cast"
    """
    if mode == "none":
        return text
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of {MODES}. Received: mode={mode!r}.")
    if mode.startswith("tweet"):
        tokens = _tweet_tokenizer().tokenize(text)
    else:
        tokens = _word_tokenizer().tokenize(text.lower())
    if mode.endswith("negation"):
        from nltk.sentiment.util import mark_negation

        tokens = mark_negation(tokens)
    return " ".join(tokens)


def normalize_texts(texts: Iterable[str], mode: str) -> np.ndarray:
    """`normalize_text` over many texts, as an object array (unchanged when mode is "none")."""
    if mode == "none":
        return np.asarray(list(texts) if not isinstance(texts, np.ndarray) else texts, dtype=object)
    return np.asarray([normalize_text(str(t), mode) for t in texts], dtype=object)
