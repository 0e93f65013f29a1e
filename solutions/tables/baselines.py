"""The classical table models a practitioner tries first, trained on the same split as the network.

- `logistic_regression_scores`: median imputation and standardisation of
  numbers, one-hot categories (unseen ones ignored), logistic regression.
- `gradient_boosting_scores`: scikit-learn's HistGradientBoostingClassifier
  with native categorical support (unseen categories treated as missing).

Both return the positive class's probability for the test rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_CATEGORIES = 250  # HistGradientBoosting bins at most 255 values per feature


def _numeric(frame, schema: dict[str, Any]):
    import pandas as pd

    return pd.DataFrame({s["name"]: pd.to_numeric(frame[s["name"]], errors="coerce").astype("float64")
                         for s in schema["numeric"]}, index=frame.index)


def boosting_frame(frame, schema: dict[str, Any]):
    """Numbers as floats and categories as pandas categoricals over the training vocabulary."""
    import pandas as pd

    from solutions.tables.columns import categorical_text

    out = _numeric(frame, schema)
    for spec in schema["categorical"]:
        vocabulary = spec["vocabulary"][:MAX_CATEGORIES]
        out[spec["name"]] = pd.Categorical(categorical_text(frame[spec["name"]]), categories=vocabulary)
    return out.reset_index(drop=True)


def gradient_boosting_scores(train_x, train_y: np.ndarray, test_x, schema: dict[str, Any], seed: int = 0) -> np.ndarray:
    """HistGradientBoostingClassifier (default settings) trained on `train_x`; P(positive) of `test_x`."""
    from threadpoolctl import threadpool_limits

    model = gradient_boosting_model(train_x, train_y, schema, seed)
    with threadpool_limits(1):
        return model.predict_proba(boosting_frame(test_x, schema))[:, 1]


def gradient_boosting_model(train_x, train_y: np.ndarray, schema: dict[str, Any], seed: int = 0):
    """The fitted HistGradientBoostingClassifier (for timing its predictions)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    # One OpenMP thread: on small tables (and busy 2-core machines) more threads spin-wait, up to 7x slower.
    with threadpool_limits(1):
        return model.fit(boosting_frame(train_x, schema), np.asarray(train_y))


def logistic_regression_model(train_x, train_y: np.ndarray, schema: dict[str, Any], seed: int = 0, tuned: bool = False):
    """A fitted pipeline: impute + standardise numbers, one-hot categories, logistic regression (C = 1, or with
    `tuned` the C of 11 from 1e-3 to 100 with the best ROC-AUC in a stratified 5-fold CV of the training rows)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [s["name"] for s in schema["numeric"]]
    categorical = [s["name"] for s in schema["categorical"]]
    transformers = []
    if numeric:
        transformers.append(("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric))
    if categorical:
        transformers.append(("categorical", OneHotEncoder(handle_unknown="ignore"), categorical))
    classifier = (LogisticRegressionCV(Cs=np.logspace(-3, 2, 11), cv=5, scoring="roc_auc", max_iter=2000, random_state=seed)
                  if tuned else LogisticRegression(max_iter=2000, random_state=seed))
    model = make_pipeline(ColumnTransformer(transformers), classifier)
    return model.fit(_baseline_frame(train_x, schema), np.asarray(train_y))


def logistic_regression_scores(train_x, train_y: np.ndarray, test_x, schema: dict[str, Any], seed: int = 0,
                               tuned: bool = False) -> np.ndarray:
    """Logistic regression trained on `train_x` (C tuned by cross-validation with `tuned`); P(positive) of `test_x`."""
    model = logistic_regression_model(train_x, train_y, schema, seed, tuned)
    return model.predict_proba(_baseline_frame(test_x, schema))[:, 1]


def _baseline_frame(frame, schema: dict[str, Any]):
    from solutions.tables.columns import categorical_text

    out = _numeric(frame, schema)
    for spec in schema["categorical"]:
        out[spec["name"]] = categorical_text(frame[spec["name"]]).to_numpy(dtype=object)
    return out.reset_index(drop=True)
