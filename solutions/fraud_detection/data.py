"""Fraud data: the seeded sample generator (real tables are read by tables.reading: CSV or Parquet).

Any table with a binary label works: the public credit-card layout (Time,
V1..V28, Amount, Class) needs no options; claims such as fraud_oracle.csv
name their label, identifier and time columns in a dataset config or with
--label, --id and --time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions.core.datasets import run_generator
from solutions.core.errors import DataError

CATEGORIES = ("grocery", "fuel", "restaurant", "travel", "electronics", "online", "jewelry")
RISK = {"grocery": -0.6, "fuel": -0.3, "restaurant": -0.4, "travel": 0.4, "electronics": 0.9, "online": 0.8, "jewelry": 1.4}
COUNTRIES = ("home", "neighbour", "abroad")


def make_transactions(n: int = 2000, fraud_rate: float = 0.05, missing_rate: float = 0.02, seed: int = 0):
    """A seeded table of card transactions with about `fraud_rate` frauds (label column `is_fraud`).

    Columns: transaction_id (unique: an identifier), day, hour, amount,
    merchant_category, country, card_present, account_age_days,
    transactions_24h, is_fraud. Frauds lean to night hours, large amounts,
    risky merchants, abroad, card-not-present, young accounts and bursts;
    `missing_rate` of the amount and account_age_days cells are blank.

    >>> frame = make_transactions(n=500, seed=1)
    >>> frame.shape, bool(0.02 < frame["is_fraud"].mean() < 0.09)
    ((500, 10), True)
    """
    import pandas as pd

    if n < 20 or not 0 < fraud_rate < 0.5:
        raise DataError(f"make_transactions needs n >= 20 and 0 < fraud_rate < 0.5. Received: n={n}, fraud_rate={fraud_rate}.")
    rng = np.random.default_rng(seed)
    hour = rng.integers(0, 24, n)
    amount = np.round(rng.lognormal(3.5, 1.0, n), 2)
    category = rng.choice(CATEGORIES, n, p=[0.25, 0.15, 0.2, 0.08, 0.1, 0.17, 0.05])
    country = rng.choice(COUNTRIES, n, p=[0.8, 0.12, 0.08])
    present = rng.random(n) < 0.6
    age = rng.integers(1, 3000, n)
    burst = rng.poisson(2, n)
    logit = (0.9 * ((hour < 6) | (hour > 22)) + 0.6 * (np.log(amount) - 3.5) + np.vectorize(RISK.get)(category)
             + 1.2 * (country == "abroad") + 0.4 * (country == "neighbour") - 0.9 * present
             - 0.8 * (np.log(age) - 6) / 2 + 0.35 * (burst - 2))
    # choose the intercept that gives the requested fraud rate
    lo, hi = -20.0, 5.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (1 / (1 + np.exp(-(logit + mid)))).mean() < fraud_rate else (lo, mid)
    fraud = rng.random(n) < 1 / (1 + np.exp(-(logit + lo)))
    frame = pd.DataFrame({
        "transaction_id": [f"t{seed:02d}-{i:06d}" for i in range(n)],
        "day": np.sort(rng.integers(1, 31, n)),
        "hour": hour,
        "amount": amount,
        "merchant_category": category,
        "country": country,
        "card_present": np.where(present, "yes", "no"),
        "account_age_days": age.astype(float),
        "transactions_24h": burst,
        "is_fraud": fraud.astype(int),
    })
    for column in ("amount", "account_age_days"):
        frame.loc[rng.random(n) < missing_rate, column] = np.nan
    return frame


GENERATORS = {"transactions": make_transactions}


def generate_table(generator: dict[str, Any]):
    """The DataFrame a dataset config's `generator` describes (name plus the generator's options)."""
    name = generator.get("name")
    if name not in GENERATORS:
        raise DataError(f"Unknown fraud_detection generator {name!r}. Known: {', '.join(GENERATORS)}.")
    return run_generator(GENERATORS[name], generator)
