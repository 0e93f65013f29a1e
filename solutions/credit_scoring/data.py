"""Credit data: the Statlog German credit format with its codebook, and the seeded sample generator.

`german.data` is space-separated with no header; its categorical attributes
are codes (A11, A34, ...) documented in german.doc. `load_german_credit`
gives every column a readable name, replaces each code by its meaning, and
maps the target (1 = good, 2 = bad) to "good"/"bad". A code the codebook
does not know is an error naming the column, the code and the row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from solutions.core.datasets import run_generator
from solutions.core.errors import DataError

TARGET = "credit_risk"

# (column name, codebook or None for a number), in file order; from german.doc.
GERMAN_CODEBOOK: tuple[tuple[str, dict[str, str] | None], ...] = (
    ("checking_account", {"A11": "< 0 DM", "A12": "0 to 200 DM", "A13": ">= 200 DM or salary assigned",
                          "A14": "no checking account"}),
    ("duration_months", None),
    ("credit_history", {"A30": "no credits taken or all paid back duly", "A31": "all credits at this bank paid back duly",
                        "A32": "existing credits paid back duly till now", "A33": "delay in paying off in the past",
                        "A34": "critical account or credits at other banks"}),
    ("purpose", {"A40": "car (new)", "A41": "car (used)", "A42": "furniture/equipment", "A43": "radio/television",
                 "A44": "domestic appliances", "A45": "repairs", "A46": "education", "A47": "vacation",
                 "A48": "retraining", "A49": "business", "A410": "others"}),
    ("credit_amount", None),
    ("savings", {"A61": "< 100 DM", "A62": "100 to 500 DM", "A63": "500 to 1000 DM", "A64": ">= 1000 DM",
                 "A65": "unknown or no savings account"}),
    ("employment_since", {"A71": "unemployed", "A72": "< 1 year", "A73": "1 to 4 years", "A74": "4 to 7 years",
                          "A75": ">= 7 years"}),
    ("installment_rate_pct", None),
    ("personal_status_sex", {"A91": "male, divorced/separated", "A92": "female, divorced/separated/married",
                             "A93": "male, single", "A94": "male, married/widowed", "A95": "female, single"}),
    ("other_debtors", {"A101": "none", "A102": "co-applicant", "A103": "guarantor"}),
    ("residence_since", None),
    ("property", {"A121": "real estate", "A122": "building society savings or life insurance",
                  "A123": "car or other", "A124": "unknown or no property"}),
    ("age_years", None),
    ("other_installment_plans", {"A141": "bank", "A142": "stores", "A143": "none"}),
    ("housing", {"A151": "rent", "A152": "own", "A153": "for free"}),
    ("existing_credits", None),
    ("job", {"A171": "unemployed or unskilled non-resident", "A172": "unskilled resident",
             "A173": "skilled employee or official", "A174": "management, self-employed or highly qualified"}),
    ("people_liable", None),
    ("telephone", {"A191": "none", "A192": "yes, registered"}),
    ("foreign_worker", {"A201": "yes", "A202": "no"}),
)
GERMAN_TARGET = {"1": "good", "2": "bad"}

# Plain words for the reason codes: what each column is.
DESCRIPTIONS = {
    "checking_account": "status of the checking account", "duration_months": "duration of the credit in months",
    "credit_history": "credit history", "purpose": "purpose of the credit", "credit_amount": "credit amount",
    "savings": "savings account or bonds", "employment_since": "present employment since",
    "installment_rate_pct": "instalment rate in % of disposable income", "personal_status_sex": "personal status and sex",
    "other_debtors": "other debtors or guarantors", "residence_since": "years at present residence",
    "property": "property", "age_years": "age in years", "other_installment_plans": "other instalment plans",
    "housing": "housing", "existing_credits": "number of existing credits at this bank", "job": "job",
    "people_liable": "people liable to provide maintenance for", "telephone": "telephone",
    "foreign_worker": "foreign worker",
}


def is_german_format(path: Path, config: dict[str, Any]) -> bool:
    """True for config format "german", or a file named german.data."""
    return config.get("format") == "german" or Path(path).name == "german.data"


def load_german_credit(path: Path):
    """The German credit file as a DataFrame of readable columns and meanings, target "good"/"bad".

    >>> import tempfile, os
    >>> row = "A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1"
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "german.data"); _ = open(p, "w").write(row + "\\n")
    ...     frame = load_german_credit(p)
    >>> frame.loc[0, "checking_account"], int(frame.loc[0, "duration_months"]), frame.loc[0, "credit_risk"]
    ('< 0 DM', 6, 'good')
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise DataError(f"German credit file {path} is missing or empty.")
    try:
        raw = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"Could not read {path} as the German credit format (21 space-separated fields): {error}.") from None
    expected = len(GERMAN_CODEBOOK) + 1
    if raw.shape[1] != expected:
        raise DataError(f"{path} has {raw.shape[1]} fields per row; the German credit format has {expected} "
                        "(20 attributes and the class). Is it german.data-numeric? Use german.data.")
    frame = pd.DataFrame()
    for i, (name, codes) in enumerate(GERMAN_CODEBOOK):
        column = raw[i]
        if codes is None:
            numbers = pd.to_numeric(column, errors="coerce")
            bad = numbers.isna()  # text, or a blank cell of a short row (read as missing)
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise DataError(f"{path}: attribute {i + 1} ({name}) must be a number; row {row + 1} holds {column[row]!r}.")
            frame[name] = numbers.astype("int64") if (numbers.dropna() % 1 == 0).all() else numbers
        else:
            unknown = ~column.isin(list(codes))
            if unknown.any():
                row = int(np.flatnonzero(unknown.to_numpy())[0])
                raise DataError(f"{path}: attribute {i + 1} ({name}) has the code {column[row]!r} in row {row + 1}, "
                                f"which the German credit codebook does not know (known: {', '.join(codes)}).")
            frame[name] = column.map(codes)
    target = raw[expected - 1]
    unknown = ~target.isin(list(GERMAN_TARGET))
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"{path}: the class in row {row + 1} is {target[row]!r}; the codebook has 1 (good) and 2 (bad).")
    frame[TARGET] = target.map(GERMAN_TARGET)
    return frame


def make_applicants(n: int = 1000, bad_rate: float = 0.3, seed: int = 0):
    """A seeded table of credit applicants in the German credit's readable columns (target `credit_risk`).

    >>> frame = make_applicants(n=300, seed=1)
    >>> frame.shape, sorted(frame["credit_risk"].unique())
    ((300, 11), ['bad', 'good'])
    """
    import pandas as pd

    if n < 20 or not 0 < bad_rate < 1:
        raise DataError(f"make_applicants needs n >= 20 and 0 < bad_rate < 1. Received: n={n}, bad_rate={bad_rate}.")
    rng = np.random.default_rng(seed)
    codes = dict(GERMAN_CODEBOOK)
    checking = rng.choice(list(codes["checking_account"].values()), n, p=[0.27, 0.27, 0.06, 0.40])
    history = rng.choice(list(codes["credit_history"].values()), n, p=[0.04, 0.05, 0.53, 0.09, 0.29])
    purpose = rng.choice(["car (new)", "car (used)", "furniture/equipment", "radio/television", "education", "business"],
                         n, p=[0.25, 0.1, 0.2, 0.3, 0.05, 0.1])
    savings = rng.choice(list(codes["savings"].values()), n, p=[0.6, 0.1, 0.06, 0.05, 0.19])
    employment = rng.choice(list(codes["employment_since"].values()), n, p=[0.06, 0.17, 0.34, 0.17, 0.26])
    housing = rng.choice(list(codes["housing"].values()), n, p=[0.18, 0.71, 0.11])
    duration = rng.integers(4, 61, n)
    amount = np.round(rng.lognormal(7.8, 0.7, n))
    age = rng.integers(19, 75, n)
    installment = rng.integers(1, 5, n)
    logit = (1.2 * (checking == "< 0 DM") + 0.7 * (checking == "0 to 200 DM") - 1.0 * (checking == "no checking account")
             + 0.8 * (history == "no credits taken or all paid back duly") - 0.6 * (history == "critical account or credits at other banks")
             + 0.035 * (duration - 20) + 0.25 * (np.log(amount) - 7.8) - 0.5 * (savings == "unknown or no savings account")
             - 0.02 * (age - 35) + 0.3 * (employment == "< 1 year") + 0.3 * (housing == "rent")
             + 0.4 * (purpose == "education") - 0.4 * (purpose == "car (used)") + 0.15 * (installment - 2.5))
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if (1 / (1 + np.exp(-(logit + mid)))).mean() < bad_rate else (lo, mid)
    bad = rng.random(n) < 1 / (1 + np.exp(-(logit + lo)))
    return pd.DataFrame({
        "checking_account": checking, "duration_months": duration, "credit_history": history, "purpose": purpose,
        "credit_amount": amount, "savings": savings, "employment_since": employment,
        "installment_rate_pct": installment, "age_years": age, "housing": housing,
        TARGET: np.where(bad, "bad", "good"),
    })


GENERATORS = {"applicants": make_applicants}


def generate_table(generator: dict[str, Any]):
    """The DataFrame a dataset config's `generator` describes (name plus the generator's options)."""
    name = generator.get("name")
    if name not in GENERATORS:
        raise DataError(f"Unknown credit_scoring generator {name!r}. Known: {', '.join(GENERATORS)}.")
    return run_generator(GENERATORS[name], generator)
