"""The baselines a practitioner tries first, trained on the same training split:
TF-IDF + logistic regression (scikit-learn) and the VADER lexicon (vaderSentiment)."""

from __future__ import annotations

import numpy as np

from solutions.core.errors import ConfigError

TFIDF_C = 10.0


def tfidf_logistic_regression(train_texts, train_y: np.ndarray, test_texts, n_classes: int, seed: int = 0) -> np.ndarray:
    """Class probabilities of logistic regression (C=10) on sublinear TF-IDF of unigrams and bigrams.

    >>> p = tfidf_logistic_regression(["good", "bad", "good fun", "bad day"], np.array([1, 0, 1, 0]), ["good"], 2)
    >>> int(p.argmax())
    1
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                          LogisticRegression(C=TFIDF_C, max_iter=2000, random_state=seed))
    model.fit([str(t) for t in train_texts], train_y)
    return _full_probabilities(model, [str(t) for t in test_texts], n_classes)


def vader_scores(texts) -> np.ndarray:
    """VADER's (negative, neutral, positive, compound) scores of each text, shape (n, 4)."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        raise ConfigError("The VADER baseline needs vaderSentiment: pip install vaderSentiment") from None
    analyzer = SentimentIntensityAnalyzer()
    rows = [analyzer.polarity_scores(str(t)) for t in texts]
    return np.asarray([[r["neg"], r["neu"], r["pos"], r["compound"]] for r in rows], dtype=np.float64)


def vader_logistic_regression(train_texts, train_y: np.ndarray, test_texts, n_classes: int, seed: int = 0) -> np.ndarray:
    """Class probabilities from VADER's lexicon scores, mapped to the classes by a logistic
    regression fitted on the training split (so any label set works: polarity, 3 classes, stars)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=1000, random_state=seed).fit(vader_scores(train_texts), train_y)
    return _full_probabilities(model, vader_scores(test_texts), n_classes)


def _full_probabilities(model, x, n_classes: int) -> np.ndarray:
    probabilities = np.zeros((len(x), n_classes))
    probabilities[:, model.classes_] = model.predict_proba(x)
    return probabilities
