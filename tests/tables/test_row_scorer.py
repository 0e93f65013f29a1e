"""RowScorer: one row scored with Python-side category lookups and a compiled rest gives the model's own score."""

import math

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from solutions.credit_scoring import CreditScoringSolution  # noqa: E402
from solutions.fraud_detection import FraudDetectionSolution  # noqa: E402
from solutions.fraud_detection.data import make_transactions  # noqa: E402
from solutions.tables.row_scorer import RowScorer  # noqa: E402


def _records(solution, n=12):
    records = make_transactions(n=40, seed=5).drop(columns=["is_fraud"]).head(n).to_dict("records")
    records[0]["merchant_category"] = "never seen in training"  # out of vocabulary: the lookup's index 0
    records[1]["amount"] = math.nan  # imputed with the training median, flagged missing
    records[2]["country"] = None  # a missing category
    return records


@pytest.mark.parametrize("options", [{}, {"network": "mlp", "numeric_embedding": "none"}])
def test_row_scores_equal_the_models_scores(options):
    solution = FraudDetectionSolution(recipe="quick", epochs=1, **options).fit("transactions", progress=False)
    scorer = RowScorer.for_model(solution.model_, solution.schema_)
    assert scorer is not None
    records = _records(solution)
    ours = np.array([solution.score_record(r) for r in records])
    theirs = solution.scorer_.score({k: v for k, v in _inputs(solution, records).items()})[:, 0]
    assert np.allclose(ours, theirs, atol=1e-5)
    assert len(set(np.round(ours, 6))) > 1  # the rows differ, so equal scores are not a constant


def _inputs(solution, records):
    import pandas as pd

    return solution.inputs(pd.DataFrame(records))


def test_models_it_does_not_fit_are_scored_by_their_own_call():
    # wide-and-deep one-hot encodes its categories beside the embeddings (seed ensembles: each member its own
    # lookups): no row scorer, the model's call instead
    solution = CreditScoringSolution(recipe="quick", model="wide_deep", epochs=1, members=1).fit("applicants",
                                                                                               progress=False)
    assert RowScorer.for_model(solution.model_, solution.schema_) is None
    row = solution.splits_.test.x.head(1)
    assert np.isclose(solution.scorer_.score_record(row.to_dict("records")[0]),
                      solution.scorer_.score(solution.inputs(row))[0, 0], atol=1e-6)
