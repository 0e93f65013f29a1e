"""A small labelled table the table-family tests share."""

import numpy as np
import pandas as pd


def table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"ref": [f"r{i}" for i in range(n)], "amount": rng.random(n) * 100,
                         "kind": rng.choice(["a", "b", "c"], n), "label": rng.integers(0, 2, n)})
