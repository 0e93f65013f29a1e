"""`ksol batch --jobs N`: entries in parallel processes give the leaderboard of one at a time.

Also: a failed entry is recorded and the rest go on, an evaluation waits for its run, a second start
skips what finished, and --jobs below 1 or a bad `threads` stop with exit 2 before anything runs.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest
import yaml

from solutions.batch import run_plan
from solutions.batch.parallel import entry_environment
from solutions.cli import main
from solutions.core.errors import ConfigError, UsageError


def applicants_config(path, n: int, seed: int):
    """A dataset YAML of `n` generated credit applicants (the bundled sample's generator)."""
    path.write_text(f"name: {path.stem}\nsolution: credit_scoring\ngenerator: {{name: applicants, n: {n}, "
                    f"bad_rate: 0.3, seed: {seed}}}\nlabel: credit_risk\n")
    return str(path)


@pytest.fixture
def plan(tmp_path):
    one_class = tmp_path / "one_class.csv"
    one_class.write_text("amount,kind,label\n" + "".join(f"{i},a,good\n" for i in range(30)))
    return {"runs": [
        {"solution": "credit_scoring", "data": applicants_config(tmp_path / "small.yaml", 300, 0), "recipe": "quick",
         "set": {"epochs": 2}, "seeds": [0], "name": "credit"},
        {"solution": "credit_scoring", "data": str(one_class), "recipe": "quick", "set": {"epochs": 1}, "name": "broken"},
    ], "evaluations": [{"run": "credit", "data": applicants_config(tmp_path / "other.yaml", 200, 5)}]}


def comparable(results: pd.DataFrame, out) -> pd.DataFrame:
    """results.csv without where its batch folder is (run_dir, and folder names inside error messages)."""
    return results.drop(columns=["run_dir"]).replace(f"{out}/", "OUT/", regex=True)


@pytest.mark.slow
def test_two_jobs_give_the_leaderboard_of_one(tmp_path, plan):
    one, two = tmp_path / "jobs1", tmp_path / "jobs2"
    began = time.perf_counter()
    run_plan(plan, out=one, progress=False, jobs=1)
    sequential = time.perf_counter() - began
    began = time.perf_counter()
    board = run_plan(plan, out=two, progress=False, jobs=2)
    parallel = time.perf_counter() - began
    print(f"plan of {len(plan['runs'][0]['seeds']) + 1} runs and 1 evaluation: --jobs 1 {sequential:.1f} s, "
          f"--jobs 2 {parallel:.1f} s")

    assert (one / "leaderboard.csv").read_bytes() == (two / "leaderboard.csv").read_bytes()
    results = pd.read_csv(two / "results.csv")
    pd.testing.assert_frame_equal(comparable(pd.read_csv(one / "results.csv"), one), comparable(results, two))
    assert list(results["status"]) == ["done", "failed", "done"]  # plan order: runs, then the evaluation
    credit = board[board["name"] == "credit"].iloc[0]
    assert credit["seeds"] == 1 and credit["failed"] == 0 and 0 <= credit["min"] <= credit["max"] <= 1
    assert "no positive rows" in board.loc[board["name"] == "broken", "errors"].iloc[0]
    assert (two / "runs" / "broken-seed0" / "error.json").is_file()
    assert (two / "evaluations" / "credit-on-other" / "metrics.json").is_file()

    again = run_plan(plan, out=two, progress=False, jobs=2)  # finished entries are skipped, without a process
    statuses = pd.read_csv(two / "results.csv")["status"]
    assert statuses.str.startswith("done (skipped").sum() == 2 and (statuses == "failed").sum() == 1
    pd.testing.assert_frame_equal(again, board)


def test_jobs_below_one_are_refused_naming_the_flag_and_the_value(tmp_path, plan, capsys):
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    assert main(["--quiet", "batch", str(path), "--jobs", "0", "--out", str(tmp_path / "out")]) == 2
    assert "ksol: usage error: --jobs must be an integer >= 1 (runs and evaluations at once). Received: 0." in \
        capsys.readouterr().err
    with pytest.raises(UsageError, match=r"jobs must be an integer >= 1 .* Received: -1\."):
        run_plan(plan, out=tmp_path / "out", progress=False, jobs=-1)
    assert not (tmp_path / "out").exists()


def test_threads_must_be_a_positive_integer(tmp_path, plan):
    with pytest.raises(ConfigError, match=r"`threads` must be an integer >= 1 \(CPU threads of each run\). Received: 0"):
        run_plan({**plan, "threads": 0}, out=tmp_path / "out", progress=False)


def test_an_entry_gets_the_plan_s_threads_whatever_the_jobs():
    env = entry_environment(3, {"PATH": "/bin"})
    assert (env["TF_NUM_INTRAOP_THREADS"], env["TF_NUM_INTEROP_THREADS"], env["OMP_NUM_THREADS"]) == ("3", "3", "3")
    assert "TF_NUM_INTRAOP_THREADS" not in entry_environment(None, {"PATH": "/bin"})  # TensorFlow's default
