"""Batch plans: validation lists every problem; runs survive failures, resume, and aggregate seeds."""

from __future__ import annotations

import pandas as pd
import pytest

from solutions.batch import run_plan as run_batch
from solutions.batch.plan import validate_plan
from solutions.core.errors import ConfigError


def test_plan_validation_lists_all_problems_with_suggestions(tmp_path):
    plan = {"runz": [], "runs": [
        {"solution": "image_clasification", "data": "shapes"},
        {"solution": "image_classification", "data": str(tmp_path / "nope"), "recipe": "quik"},
        {"solution": "image_classification", "data": "shapes", "set": {"epohcs": 1}, "seeds": "0"},
    ]}
    with pytest.raises(ConfigError) as caught:
        validate_plan(plan)
    message = str(caught.value)
    assert "6 problems; nothing was run" in message
    for expected in ['unknown key \'runz\'. Did you mean "runs"', 'Did you mean "image_classification"',
                     "Unknown preset 'quik'", "Data not found", 'Did you mean "epochs"', "`seeds` must be"]:
        assert expected in message


def test_batch_survives_a_failed_run_aggregates_seeds_and_skips_finished_runs(tmp_path, shapes_folder):
    one_class = tmp_path / "one_class"
    (one_class / "circle").mkdir(parents=True)
    for file in sorted((shapes_folder / "circle").iterdir()):
        (one_class / "circle" / file.name).write_bytes(file.read_bytes())
    plan = {"runs": [
        {"solution": "image_classification", "data": "shapes", "recipe": "quick", "set": {"epochs": 1},
         "seeds": [0, 1], "name": "quick <b>"},
        {"solution": "image_classification", "data": str(one_class), "recipe": "quick", "name": "broken"},
    ], "evaluations": [{"run": "quick <b>", "data": str(shapes_folder)}]}
    board = run_batch(plan, out=str(tmp_path / "out"))
    quick = board[board["name"] == "quick-b"].iloc[0]
    assert quick["seeds"] == 2 and quick["failed"] == 0 and 0 <= quick["min"] <= quick["mean"] <= quick["max"] <= 1
    broken = board[board["name"] == "broken"].iloc[0]
    assert broken["failed"] == 1 and "Only one class" in broken["errors"]
    assert (board["kind"] == "evaluation").sum() == 1
    assert (tmp_path / "out" / "runs" / "broken-seed0" / "error.json").is_file()
    assert "<b>" not in (tmp_path / "out" / "leaderboard.html").read_text()

    again = run_batch(plan, out=str(tmp_path / "out"))
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert results.loc[results["name"] == "quick-b", "status"].str.startswith("done (skipped").all()
    assert again.loc[again["name"] == "quick-b", "mean"].iloc[0] == quick["mean"]
