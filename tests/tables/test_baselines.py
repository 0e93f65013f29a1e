"""Classical baselines of the table solutions (tables.baselines)."""

import numpy as np
import pandas as pd

from solutions.core import metrics as M
from solutions.tables.baselines import logistic_regression_model, logistic_regression_scores

SCHEMA = {"numeric": [{"name": "x"}], "categorical": [{"name": "kind"}]}


def rows(n, seed):
    rng = np.random.default_rng(seed)
    kind = rng.choice(["a", "b"], n)
    x = rng.normal(size=n)
    y = (x + (kind == "b") * 1.5 + rng.normal(scale=0.5, size=n) > 0.8).astype(int)
    return pd.DataFrame({"x": x, "kind": kind}), y


def test_tuned_logistic_regression_picks_c_from_its_grid_by_cross_validation():
    train_x, train_y = rows(300, 0)
    test_x, test_y = rows(200, 1)
    tuned = logistic_regression_model(train_x, train_y, SCHEMA, tuned=True)[-1]
    assert type(tuned).__name__ == "LogisticRegressionCV" and np.isclose(np.log10(tuned.C_[0]) * 2 % 1, 0)  # 10^(k/2)
    plain = logistic_regression_model(train_x, train_y, SCHEMA)[-1]
    assert type(plain).__name__ == "LogisticRegression" and plain.C == 1.0
    assert M.roc_auc(test_y, logistic_regression_scores(train_x, train_y, test_x, SCHEMA, tuned=True)) > 0.9
