"""What a sentiment report shows: accuracy and macro-F1 with intervals, per-class scores,
confusion matrix, calibration, the most confident mistakes with their text, token
attributions by occlusion, text lengths, and the baselines trained on the same split."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from solutions.core import metrics as M
from solutions.core.report import (
    Section, confusion_matrix_section, highlighted_text_section, lines_section, metric_entry, table_section,
)
from solutions.core.evaluation import Comparison
from solutions.core.solution import Evaluation
from solutions.core.splits import Split
from solutions.core.wording import plural
from solutions.sentiment import baselines

N_MISTAKES = 10
N_ATTRIBUTIONS = 4
MAX_ATTRIBUTION_WORDS = 250
SNIPPET_CHARS = 400
VADER_MAX_TRAIN = 2000


def classification_metrics(y: np.ndarray, probabilities: np.ndarray, n_classes: int, seed: int) -> dict:
    """Accuracy and macro-F1 with 95% bootstrap intervals, and the expected calibration error."""
    predicted = probabilities.argmax(axis=1)
    return {
        "accuracy": metric_entry(M.bootstrap_interval(M.accuracy, y, predicted, seed=seed)),
        "macro_f1": metric_entry(M.bootstrap_interval(lambda a, b: M.macro_f1(a, b, n_classes), y, predicted, seed=seed)),
        "expected_calibration_error": metric_entry(M.expected_calibration_error(y, probabilities)),
    }


def evaluate_sentiment(split: Split, probabilities: np.ndarray, train: Split | None, class_names: tuple[str, ...],
                       score: Callable[[list[str]], np.ndarray], max_length: int | None, seed: int,
                       notes: dict[str, Any] | None = None) -> Evaluation:
    """The report's metrics, sections and baselines; `score` maps raw texts to probabilities (for occlusion);
    `notes` (what, value), such as the word vectors the embedding started from, become a "Training notes" table."""
    import pandas as pd

    n = len(class_names)
    y, predicted = split.y, probabilities.argmax(axis=1)
    metrics = classification_metrics(y, probabilities, n, seed)
    baseline_metrics, baseline_predictions = {}, {}
    if train is not None:
        majority = M.majority_class_predictions(train.y, len(y))
        baseline_metrics["majority class"] = {"accuracy": metric_entry(M.accuracy(y, majority)),
                                              "macro_f1": metric_entry(M.macro_f1(y, majority, n))}
        tfidf = baselines.tfidf_logistic_regression(train.x, train.y, split.x, n, seed)
        baseline_metrics["TF-IDF + logistic regression"] = classification_metrics(y, tfidf, n, seed)
        vader_index = _sample(train.y, VADER_MAX_TRAIN, seed)
        vader = baselines.vader_logistic_regression(train.x[vader_index], train.y[vader_index], split.x, n, seed)
        baseline_metrics["VADER lexicon + logistic regression"] = classification_metrics(y, vader, n, seed)
        baseline_predictions = {"majority class": majority, "TF-IDF + logistic regression": tfidf.argmax(axis=1),
                                "VADER lexicon + logistic regression": vader.argmax(axis=1)}
    per_class = M.per_class_scores(y, predicted, class_names)
    sections = [
        table_section("Per-class scores", ["class", "precision", "recall", "f1", "support"],
                      [[r["class"], r["precision"], r["recall"], r["f1"], r["support"]] for r in per_class]),
        confusion_matrix_section("Confusion matrix", M.confusion(y, predicted, n), class_names,
                                 "Rows: true class; columns: predicted class; colour: share of the row."),
        calibration_section(y, probabilities),
        mistakes_section(split, probabilities, class_names),
        attribution_section(split, probabilities, class_names, score, seed),
        length_section(split.x, max_length),
    ]
    if notes:
        sections.append(table_section("Training notes", ["what", "value"], [[k, v] for k, v in notes.items()]))
    predictions = pd.DataFrame({"id": split.ids, "true": [class_names[i] for i in y],
                                "predicted": [class_names[i] for i in predicted], "probability": probabilities.max(axis=1)})
    for j, name in enumerate(class_names):
        predictions[f"p_{name}"] = probabilities[:, j]
    return Evaluation(metrics=metrics, sections=sections, primary_metric="accuracy", baselines=baseline_metrics,
                      predictions=predictions, comparison=Comparison(M.accuracy, y, predicted, baseline_predictions, seed=seed))


def _sample(y: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Positions of at most `limit` examples, a seeded sample (all when there are fewer)."""
    if len(y) <= limit:
        return np.arange(len(y))
    return np.sort(np.random.default_rng(seed).choice(len(y), size=limit, replace=False))


def calibration_section(y: np.ndarray, probabilities: np.ndarray) -> Section:
    """Reliability diagram of the top-class confidence: how often the model is right at each confidence."""
    correct = probabilities.argmax(axis=1) == y
    bins = M.reliability_bins(correct, probabilities.max(axis=1), n_bins=10)
    series = [{"name": "model", "x": bins["predicted"], "y": bins["observed"], "marker": "o"},
              {"name": "perfect calibration", "x": [0.0, 1.0], "y": [0.0, 1.0], "style": "--"}]
    return lines_section("Calibration (reliability diagram)", series, "confidence of the predicted class",
                         "share correct",
                         f"Ten equal-width confidence bins; points below the diagonal are over-confident. "
                         f"Texts per bin: {', '.join(str(int(c)) for c in bins['count'])}.")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The start of a text on one line, with an ellipsis when cut.

    >>> snippet("a  b\\nc", 10), snippet("abcdef", 3)
    ('a b c', 'abc…')
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def mistakes_section(split: Split, probabilities: np.ndarray, class_names: tuple[str, ...]) -> Section:
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != split.y)
    worst = wrong[np.argsort(-probabilities[wrong].max(axis=1), kind="stable")][:N_MISTAKES]
    rows = [[str(split.ids[i]), class_names[split.y[i]], class_names[predicted[i]], float(probabilities[i].max()),
             snippet(split.x[i])] for i in worst]
    note = (f"The {plural(len(rows), 'wrong prediction')} the model was surest of ({plural(len(wrong), 'mistake')} in all); "
            f"texts cut at {SNIPPET_CHARS} characters.") if len(wrong) else "No mistakes on this split."
    return table_section("Most confident mistakes", ["id", "true", "predicted", "confidence", "text"], rows, note)


def occlusion_attributions(words: list[str], target: int, score: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Each word's attribution: the drop in the target class's probability when that word is removed.

    >>> toy = lambda texts: np.array([[1 - ("good" in t.split()) * 0.8, ("good" in t.split()) * 0.8 + 0.1] for t in texts])
    >>> occlusion_attributions(["a", "good", "film"], 1, toy).round(2).tolist()
    [0.0, 0.8, 0.0]
    """
    variants = [" ".join(words)] + [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))]
    probabilities = np.asarray(score(variants))
    return probabilities[0, target] - probabilities[1:, target]


def attribution_section(split: Split, probabilities: np.ndarray, class_names: tuple[str, ...],
                        score: Callable[[list[str]], np.ndarray], seed: int) -> Section:
    """Occlusion attributions for a few test texts: two mistakes (when any) and correct ones."""
    predicted = probabilities.argmax(axis=1)
    rng = np.random.default_rng(seed)
    wrong, right = np.flatnonzero(predicted != split.y), np.flatnonzero(predicted == split.y)
    chosen = list(rng.permutation(wrong)[:2]) + list(rng.permutation(right)[:N_ATTRIBUTIONS])
    chosen = chosen[:N_ATTRIBUTIONS]
    items = []
    cut = False
    for i in chosen:
        words = str(split.x[i]).split()
        cut |= len(words) > MAX_ATTRIBUTION_WORDS
        words = words[:MAX_ATTRIBUTION_WORDS]
        if not words:
            continue
        drops = occlusion_attributions(words, int(predicted[i]), score)
        peak = np.abs(drops).max()
        weights = drops / peak if peak > 0 else drops
        caption = (f"{split.ids[i]}: predicted {class_names[predicted[i]]} ({probabilities[i].max():.2f}), "
                   f"true {class_names[split.y[i]]}")
        items.append((caption, words, weights.tolist()))
    note = ("Occlusion: each word is removed in turn and the drop in the predicted class's probability is its weight, "
            "scaled so the strongest word of each text is ±1. Green words support the prediction, red ones speak "
            "against it.")
    if cut:
        note += f" Long texts are shown and occluded up to their first {MAX_ATTRIBUTION_WORDS} words."
    return highlighted_text_section("Token attributions", items, note)


def length_section(texts, max_length: int | None) -> Section:
    """Text lengths in words, and how many texts a sequence model's window cuts."""
    lengths = np.asarray([len(str(t).split()) for t in texts])
    rows = [["texts", len(lengths)], ["median words", float(np.median(lengths))],
            ["95th percentile words", float(np.percentile(lengths, 95))], ["longest", int(lengths.max())]]
    note = "Words split on whitespace."
    if max_length:
        longer = float(np.mean(lengths > max_length))
        rows.append([f"share longer than max_length ({max_length})", longer])
        note += " Texts longer than max_length are cut by the recipe's truncation policy, or read in chunks (chunks > 1)."
    return table_section("Text lengths (test split)", ["statistic", "value"], rows, note)
