"""ksol tune: the study, its storage, killed trials, the best run (the one reading of the test split), bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from solutions.cli import main

optuna = pytest.importorskip("optuna")

# Tiny trials: one 2-epoch network on the bundled 1,000 applicants, fixed width, a two-key space.
FIXED = {"epochs": 2, "members": 1, "hidden_units": [16], "early_stopping_patience": 0}


def write_space(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def applicants(tmp_path_factory) -> str:
    """300 generated applicants (the bundled sample's generator, smaller)."""
    path = tmp_path_factory.mktemp("data") / "applicants.yaml"
    path.write_text("name: applicants\nsolution: credit_scoring\ngenerator: {name: applicants, n: 300, bad_rate: 0.3, seed: 0}\n"
                    "label: credit_risk\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def space_file(tmp_path_factory) -> Path:
    return write_space(tmp_path_factory.mktemp("space") / "space.yaml",
                       "learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}\ndropout: [0.0, 0.3]\n")


@pytest.fixture(scope="module")
def study(tmp_path_factory, space_file, applicants):
    """A two-trial study tracked in MLflow (a store of its own), with Solution.evaluate (the test split's reading)
    counted. Returns (result, evaluate calls, the MLflow tracking URI)."""
    import os

    from solutions.batch.tune import tune
    from solutions.core.solution import Solution

    folder = tmp_path_factory.mktemp("tune")
    out, uri = folder / "study", f"sqlite:///{folder / 'mlflow.db'}"
    calls = []
    evaluate, saved_uri = Solution.evaluate, os.environ.get("MLFLOW_TRACKING_URI")

    def counted(self, data=None):
        calls.append(data)
        return evaluate(self, data)

    Solution.evaluate = counted
    os.environ["MLFLOW_TRACKING_URI"] = uri
    cwd = os.getcwd()
    os.chdir(folder)  # MLflow puts the artifacts of a store given by URI under ./mlruns
    try:
        result = tune("credit_scoring", applicants, trials=2, recipe="quick", overrides=FIXED, space=space_file,
                      out=out, pruner="none", progress=False, track="mlflow")
    finally:
        os.chdir(cwd)
        Solution.evaluate = evaluate
        if saved_uri is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved_uri
    return result, calls, uri


def test_the_study_has_its_trials_and_the_best_is_the_highest_validation_figure(study):
    result, _, _ = study
    trials = pd.read_csv(result.out / "trials.csv")
    assert list(trials["state"]) == ["complete"] * 2
    assert result.best_validation == pytest.approx(trials["value"].max())
    assert int(trials.loc[trials["value"].idxmax(), "trial"]) == result.best_trial
    assert set(trials["param dropout"]) <= {0.0, 0.3}
    assert trials["param learning_rate"].between(1e-3, 1e-2).all()


def test_the_test_split_is_read_once_by_the_best_run_which_says_it_was_tuned(study):
    result, calls, _ = study
    assert calls == [None]  # one evaluate() on the held-out test split: the best run's report
    best = result.out / "best"
    tuning = json.loads((best / "tuning.json").read_text())
    assert tuning["trial"] == result.best_trial
    report = json.loads((best / "report.json").read_text())
    assert report["sections"][1]["title"] == "Tuned recipe"
    assert f"trial {result.best_trial}" in report["sections"][1]["data"]["text"]
    recipe = (best / "recipe.yaml").read_text()
    assert f"dropout: {result.best_params['dropout']}" in recipe and "epochs: 2" in recipe


def test_the_tune_report_shows_trials_history_and_importances(study):
    result, _, _ = study
    page = (result.out / "report.html").read_text()
    for title in ("Search", "Best recipe", "Search space", "Optimisation history", "Parameter importances", "Trials"):
        assert f">{title}" in page
    metrics = json.loads((result.out / "metrics.json").read_text())
    assert metrics["metrics"]["best validation auc"]["value"] == pytest.approx(result.best_validation)


def test_the_same_command_continues_the_study(study, space_file, applicants):
    from solutions.batch.tune import tune

    result, _, _ = study
    again = tune("credit_scoring", applicants, trials=2, recipe="quick", overrides=FIXED, space=space_file,
                 out=result.out, pruner="none", progress=False)
    assert again.trials["complete"] == 2  # nothing to add: no new trial, the best run kept
    assert again.best_trial == result.best_trial
    more = tune("credit_scoring", applicants, trials=3, recipe="quick", overrides=FIXED, space=space_file,
                out=result.out, pruner="none", progress=False)
    assert more.trials["complete"] == 3
    assert len(pd.read_csv(result.out / "trials.csv")) == 3


def test_a_killed_trial_is_marked_failed_and_its_parameters_run_again(tmp_path):
    from solutions.batch.tune import open_storage, retry_killed_trials

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    storage = open_storage(None, tmp_path)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    trial = study.ask({"dropout": optuna.distributions.CategoricalDistribution([0.0, 0.3])})
    import socket

    trial.set_user_attr("owner", {"pid": dead.pid, "host": socket.gethostname(), "process_start": None})
    alive = study.ask({"dropout": optuna.distributions.CategoricalDistribution([0.0, 0.3])})
    from solutions.core.runs import this_process

    alive.set_user_attr("owner", this_process())
    assert retry_killed_trials(optuna, study, progress=False) == [trial.number]
    states = {t.number: t.state for t in study.get_trials()}
    assert states[trial.number] == optuna.trial.TrialState.FAIL
    assert states[alive.number] == optuna.trial.TrialState.RUNNING  # its process is this one: still at work
    queued = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.WAITING]
    assert len(queued) == 1 and queued[0].params == {} and queued[0].system_attrs["fixed_params"] == trial.params


def test_the_pruner_stops_a_fit_after_the_epoch_it_judges(tmp_path):
    from solutions.batch.tune import pruning_callback

    class Always(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return True

    import keras
    import numpy as np

    study = optuna.create_study(direction="maximize", pruner=Always())
    trial = study.ask()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.zeros((8, 2), "float32")
    with pytest.raises(optuna.TrialPruned, match="epoch 1"):
        model.fit(x, x[:, :1], validation_data=(x, x[:, :1]), epochs=5, verbose=0,
                  callbacks=[pruning_callback(trial, "val_loss")])
    assert study.trials[0].intermediate_values == {0: pytest.approx(-0.0)}  # a loss is reported negated


def test_choices_of_tuples_round_trip_through_optuna_labels():
    from solutions.batch.tune import choice_label, decode_params
    from solutions.core.search_space import Choice

    dimensions = {"hidden_units": Choice(((16,), (32, 16)))}
    assert choice_label((32, 16)) == "32,16"
    assert decode_params({"hidden_units": "32,16"}, dimensions) == {"hidden_units": (32, 16)}


@pytest.mark.parametrize("space, words", [
    ("learnin_rate: {low: 0.001, high: 0.01}\n", ["learnin_rate", "learning_rate"]),
    ("dropout: {low: 0.4, high: 0.1}\n", ["dropout", "low is above high"]),
    ("dropout: {low: 0.0, high: 1.5}\n", ["dropout", "1.5", "rejects"]),
    ("hidden_units: [[16], [0]]\n", ["hidden_units", "rejects"]),
    ("epochs: 3\n", ["nothing to tune"]),
    (None, ["Search space file not found", "--space"]),
])
def test_a_bad_space_exits_2_naming_the_key(tmp_path, capsys, space, words):
    path = write_space(tmp_path / "space.yaml", space) if space is not None else tmp_path / "missing.yaml"
    code = main(["tune", "credit_scoring", "--data", "applicants", "--trials", "2", "--space", str(path),
                 "--out", str(tmp_path / "out")])
    message = capsys.readouterr().err
    assert code == 2, message
    for word in words:
        assert word in message
    assert not (tmp_path / "out").exists()  # refused before anything is written


@pytest.mark.parametrize("flags, words", [
    (["--trials", "0"], ["--trials", "Received: 0"]),
    (["--trials", "2", "--timeout", "-1"], ["--timeout"]),
    (["--trials", "2", "--pruner", "medain"], ["--pruner", "median"]),
])
def test_bad_tune_flags_exit_2(tmp_path, capsys, flags, words):
    code = main(["tune", "credit_scoring", "--data", "applicants", "--out", str(tmp_path / "out"), *flags])
    message = capsys.readouterr().err
    assert code == 2, message
    for word in words:
        assert word in message


def test_a_storage_that_cannot_be_opened_is_named_without_its_password(tmp_path, capsys):
    url = "postgresql://ana:s3cret@127.0.0.1:1/studies"
    code = main(["tune", "credit_scoring", "--data", "applicants", "--trials", "2", "--storage", url,
                 "--out", str(tmp_path / "out")])
    message = capsys.readouterr().err
    assert code == 2, message
    assert "postgresql://ana:***@127.0.0.1:1/studies" in message and "s3cret" not in message


def test_a_study_made_for_another_solution_is_refused(tmp_path, capsys):
    from solutions.batch.tune import open_storage

    study = optuna.create_study(study_name="shared", storage=open_storage(None, tmp_path), direction="maximize")
    study.set_user_attr("solution", "credit_scoring")
    code = main(["tune", "fraud_detection", "--data", "transactions", "--trials", "1", "--study", "shared",
                 "--out", str(tmp_path)])
    message = capsys.readouterr().err
    assert code == 2, message
    assert "made for 'credit_scoring'" in message and "fraud_detection" in message


@pytest.mark.slow
def test_two_workers_on_one_machine_share_the_study_file(tmp_path, space_file, applicants):
    import os

    out = tmp_path / "shared"
    command = [sys.executable, "-m", "solutions", "--quiet", "tune", "credit_scoring", "--data", applicants, "--trials", "4",
               "--recipe", "quick", "--space", str(space_file), "--pruner", "none", "--out", str(out),
               *[f"--set={k}={v}" for k, v in FIXED.items()]]
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                cwd=Path(__file__).resolve().parents[2]) for _ in range(2)]
    try:
        outputs = [w.communicate(timeout=420) for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert [w.returncode for w in workers] == [0, 0], [o[1][-2000:] for o in outputs]
    from solutions.batch.tune import open_storage

    trials = optuna.load_study(study_name="credit_scoring-applicants", storage=open_storage(None, out)).trials
    finished = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert 4 <= len(finished) <= 5  # each worker checks the count before its next trial: one may overshoot by one
    owners = {t.user_attrs["owner"]["pid"] for t in finished}
    assert len(owners) == 2, "both workers ran trials"
    assert json.loads((out / "best" / "tuning.json").read_text())["trial"] == max(finished, key=lambda t: t.value).number


def test_a_plan_tune_entry_leaves_a_tuned_row_on_the_leaderboard(tmp_path, space_file, applicants):
    from solutions.batch import run_plan

    plan = {"out": str(tmp_path / "batch"), "tunes": [
        {"solution": "credit_scoring", "data": applicants, "trials": 1, "recipe": "quick", "set": FIXED,
         "space": str(space_file), "pruner": "none", "name": "credit-tuned"}]}
    board = run_plan(plan, progress=False)
    assert list(board["kind"]) == ["tuned run"] and list(board["name"]) == ["credit-tuned"]
    best = tmp_path / "batch" / "tunes" / "credit-tuned" / "best"
    metrics = json.loads((best / "metrics.json").read_text())
    assert float(board.loc[0, "mean"]) == pytest.approx(metrics["metrics"]["auc"]["value"])
    modified = (best / "model.keras").stat().st_mtime_ns
    run_plan(plan, progress=False)  # the same plan again: the study is complete, the best run kept
    assert (best / "model.keras").stat().st_mtime_ns == modified


def test_plan_tune_entries_are_checked_with_the_rest_of_the_plan(tmp_path):
    from solutions.batch.plan import validate_plan
    from solutions.core.errors import ConfigError

    plan = {"tunes": [{"solution": "credit_scoring", "data": "applicants", "trials": 0, "pruner": "best"},
                      {"solution": "credit_scorin", "data": "applicants", "trials": 2},
                      {"solution": "credit_scoring", "data": "applicants", "trials": 2, "spaces": "x.yaml"},
                      {"solution": "credit_scoring", "data": "applicants", "trials": 2, "seed": "abc", "timeout": 0}]}
    with pytest.raises(ConfigError) as error:
        validate_plan(plan, tmp_path)
    message = str(error.value)
    for words in ("tunes[0]: `trials` must be an integer >= 1. Received: 0", "tunes[0]: `pruner`",
                  "tunes[1]: unknown solution 'credit_scorin'", "tunes[2]: unknown key 'spaces'",
                  "tunes[3]: `seed` must be an integer. Received: 'abc'", "tunes[3]: `timeout`"):
        assert words in message


def test_tune_logs_its_trials_as_nested_mlflow_runs(study):
    import mlflow

    result, _, uri = study
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("credit_scoring").experiment_id])
    by_name = {r.info.run_name: r for r in runs}
    parent = by_name["tune credit_scoring-applicants"]
    assert {"trial 0", "trial 1", "best run"} <= set(by_name)
    for child in ("trial 0", "trial 1", "best run"):
        assert by_name[child].data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert "validation_auc" in by_name["trial 0"].data.metrics
    assert by_name["best run"].data.metrics["test_auc"] == pytest.approx(result.best_run.report.primary["value"])
