import numpy as np
import pytest

from solutions.credit_scoring.calibration import apply_calibration, fit_calibration
from solutions.credit_scoring.scorecard import (
    assign_bands, decision_cost, least_cost_threshold, probability_from_points, score_points,
)
from solutions.credit_scoring.woe import WOEScorecard


def test_points_scale_with_base_odds_and_pdo():
    p_at_base = 1 / 51  # good:bad odds of 50:1
    assert score_points(np.array([p_at_base]), 600, 50, 20)[0] == pytest.approx(600)
    doubled = 1 / 101  # odds 100:1
    assert score_points(np.array([doubled]), 600, 50, 20)[0] == pytest.approx(620, abs=0.5)
    p = np.array([0.05, 0.3, 0.7])
    assert np.allclose(probability_from_points(score_points(p, 600, 50, 20), 600, 50, 20), p)


def test_bands_give_the_best_grade_to_the_highest_scores():
    assert assign_bands(np.array([450, 520, 580, 640]), [500.0, 550.0, 600.0], ["A", "B", "C", "D"]).tolist() == ["D", "C", "B", "A"]


def test_least_cost_threshold_beats_every_other_threshold():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    p = np.clip(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.15, 300), 0, 1)
    best = least_cost_threshold(y, p, 5, 1)
    for t in np.linspace(0, 1, 51):
        assert decision_cost(y, p, best, 5, 1) <= decision_cost(y, p, t, 5, 1) + 1e-12


def test_calibration_moves_probabilities_to_observed_rates():
    rng = np.random.default_rng(1)
    p = rng.random(2000)
    y = (rng.random(2000) < p ** 2).astype(int)  # the model overestimates
    for method in ("platt", "isotonic"):
        params = fit_calibration(method, p, y)
        calibrated = apply_calibration(params, p)
        assert abs(calibrated.mean() - y.mean()) < abs(p.mean() - y.mean()) / 3
    assert np.array_equal(apply_calibration(fit_calibration("none", p, y), p), p)


def test_woe_scorecard_ranks_better_than_chance():
    import pandas as pd

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b", "c"], 500)})
    y = ((frame["x"] + (frame["c"] == "a") + rng.normal(0, 1, 500)) > 1).astype(int).to_numpy()
    schema = {"numeric": [{"name": "x"}], "categorical": [{"name": "c"}]}
    model = WOEScorecard().fit(frame, y, schema)
    from solutions.core.metrics import roc_auc

    assert roc_auc(y, model.predict_proba(frame)) > 0.75
    unseen = frame.head(3).assign(c="never seen")
    assert np.isfinite(model.predict_proba(unseen)).all()
