import numpy as np
import pytest

from solutions.fraud_detection.thresholds import choose_threshold, evaluate_threshold, missed_costs, threshold_table

Y = np.array([0] * 90 + [1] * 10)
SCORES = np.concatenate([np.linspace(0, 0.6, 90), np.linspace(0.5, 1.0, 10)])


def choose(rule, **kw):
    options = {"miss_cost": missed_costs(Y, None, 100.0), "review_cost": 5.0, "alert_budget": 0.05, "target_recall": 0.8}
    options.update(kw)
    return choose_threshold(rule, Y, SCORES, **options)


def test_budget_flags_the_top_share():
    assert choose("budget").alerts == 5


def test_recall_rule_reaches_the_target_with_the_fewest_alerts():
    row = choose("recall")
    assert row.recall >= 0.8
    assert evaluate_threshold(np.nextafter(row.threshold, 2), Y, SCORES, missed_costs(Y, None, 100.0), 5.0).recall < 0.8


def test_cost_rule_is_no_worse_than_any_other_threshold_and_follows_the_costs():
    best = choose("cost")
    for t in np.linspace(0, 1, 41):
        assert best.cost <= evaluate_threshold(t, Y, SCORES, missed_costs(Y, None, 100.0), 5.0).cost + 1e-9
    cheap_misses = choose("cost", miss_cost=missed_costs(Y, None, 1.0))
    assert cheap_misses.alerts == 0 and cheap_misses.savings == 0  # reviewing costs more than any fraud


def test_amounts_replace_the_flat_cost_and_savings_are_against_no_model():
    amounts = np.where(Y == 1, 1000.0, 1.0)
    cost = missed_costs(Y, amounts, 100.0)
    assert cost.sum() == 10_000
    row = evaluate_threshold(0.0, Y, SCORES, cost, 5.0)
    assert row.cost == 500 and row.savings == 9_500


def test_table_marks_the_chosen_threshold():
    rows = threshold_table(Y, SCORES, 0.55, miss_cost=missed_costs(Y, None, 100.0), review_cost=5.0)
    assert [r["which"] for r in rows].count("chosen") == 1
    assert [r["threshold"] for r in rows] == sorted((r["threshold"] for r in rows), reverse=True)
    with pytest.raises(ValueError, match="rule must be one of"):
        choose("magic")
