"""Sentiment: the labelled texts of a data source, read and cleaned, or generated for the bundled sample.

`load_text_examples` is the domain's data hook: it reads any supported format
(`solutions.sentiment.reading`: tables, a folder per class, sentence<TAB>label
lines, archives) or runs the sample generator (`solutions.sentiment.sample`),
then cleans the texts (`solutions.sentiment.cleaning`), counting what it
dropped. Texts to predict on are read by `solutions.sentiment.inputs`.
"""

from __future__ import annotations

from solutions.core.datasets import DataSource
from solutions.core.splits import Examples
from solutions.sentiment.cleaning import clean_examples
from solutions.sentiment.reading import read_raw_texts
from solutions.sentiment.recipe import SentimentRecipe
from solutions.sentiment.sample import generated_reviews


def load_text_examples(source: DataSource, recipe: SentimentRecipe) -> Examples:
    """Labelled texts from any supported layout or the sample generator, cleaned."""
    if source.generator:
        raw = generated_reviews(source.generator)
    else:
        raw = read_raw_texts(source, recipe.on_decode_error)
    return clean_examples(raw, recipe, str(source.path or source.name))
