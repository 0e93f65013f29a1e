"""Small labelled text files in the layouts sentiment users have."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from solutions.sentiment.sample import make_reviews


def write_csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def reviews_csv(tmp_path_factory) -> Path:
    """A CSV of 80 generated reviews with columns `body` (text) and `verdict` (label)."""
    texts, labels = make_reviews(n_per_class=40, seed=3)
    path = tmp_path_factory.mktemp("reviews_csv") / "reviews.csv"
    return write_csv(path, [{"id": f"r{i}", "body": t, "verdict": l} for i, (t, l) in enumerate(zip(texts, labels))])
