"""Sentiment analysis: raw texts in (tables, a folder per class, sentence<TAB>label lines), a trained
text classifier with TextVectorization inside and its report out."""

from solutions.sentiment.solution import SentimentSolution

__all__ = ["SentimentSolution"]
