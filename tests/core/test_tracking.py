"""Tracking: TensorBoard logs in the run directory, MLflow runs (params, epochs, result, files, nesting, failure)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import yaml

from solutions.cli import main

SMALL_APPLICANTS = {"name": "small_applicants", "solution": "credit_scoring", "label": "credit_risk",
                    "generator": {"name": "applicants", "n": 300, "bad_rate": 0.3, "seed": 0}}
TRAIN = ["--quiet", "train", "credit_scoring", "--recipe", "quick", "--set", "n_reasons=0"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tracking_data") / "applicants.yaml"
    path.write_text(yaml.safe_dump(SMALL_APPLICANTS))
    return path


def client_in(folder: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{(folder / 'mlruns' / 'mlflow.db').resolve()}")


def runs_by_name(client, experiment: str) -> dict:
    return {r.info.run_name: r for r in client.search_runs([client.get_experiment_by_name(experiment).experiment_id])}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, data):
    """`ksol train ... --track mlflow` for 2 epochs, run from a fresh working directory: (working dir, run dir).
    The other MLflow tests work in the same directory (one SQLite store: creating one takes seconds)."""
    work = tmp_path_factory.mktemp("tracked")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        assert main([*TRAIN, "--data", str(data), "--set", "epochs=2", "--out", "run", "--track", "mlflow"]) == 0
    return work, work / "run"


def test_tensorboard_logs_hold_each_epoch_for_train_and_validation(tracked):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, run = tracked
    for part in ("train", "validation"):
        assert list((run / "logs" / part).glob("events.out.tfevents.*")), part
        events = EventAccumulator(str(run / "logs" / part))
        events.Reload()
        assert [e.step for e in events.Tensors("epoch_loss")] == [0, 1], part


def test_tensorboard_false_writes_no_logs_and_track_none_overrides_the_recipe(tmp_path, monkeypatch, data):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main([*TRAIN, "--data", str(data), "--set", "epochs=1", "--set", "tensorboard=false",
                 "--set", "tracking=mlflow", "--track", "none", "--out", "run"]) == 0
    assert (tmp_path / "run" / "model.keras").is_file()
    assert not (tmp_path / "run" / "logs").exists()
    assert not (tmp_path / "mlruns").exists()


def test_mlflow_run_holds_the_recipe_each_epoch_the_test_metrics_and_the_run_files(tracked):
    work, run_dir = tracked
    client = client_in(work)
    run = runs_by_name(client, "credit_scoring")["run"]
    assert run.info.status == "FINISHED"
    recipe = yaml.safe_load((run_dir / "recipe.yaml").read_text())
    assert run.data.params["epochs"] == "2" and run.data.params["hidden_units"] == "[16]"
    assert set(run.data.params) == set(recipe)
    for name in ("loss", "val_loss", "val_auc"):
        assert [m.step for m in client.get_metric_history(run.info.run_id, name)] == [1, 2], name
    with open(run_dir / "history.csv", newline="") as handle:
        history = [float(row["val_auc"]) for row in csv.DictReader(handle)]
    assert [m.value for m in client.get_metric_history(run.info.run_id, "val_auc")] == pytest.approx(history)
    auc = json.loads((run_dir / "report.json").read_text())["metrics"]["auc"]
    metrics = run.data.metrics
    assert metrics["test_auc"] == pytest.approx(auc["value"])
    assert metrics["test_auc_low"] == pytest.approx(auc["low"]) and metrics["test_auc_high"] == pytest.approx(auc["high"])
    assert metrics["test_auc_low"] < metrics["test_auc"] < metrics["test_auc_high"]
    # "baseline/WOE scorecard (logistic regression)/auc": parentheses are not allowed in MLflow names
    assert "test_baseline/WOE scorecard _logistic regression_/auc" in metrics
    assert run.data.tags["ksol.primary_metric"] == "auc" and run.data.tags["ksol.run_dir"] == str(run_dir.resolve())
    assert {"model.keras", "report.html", "manifest.json"} <= {a.path for a in client.list_artifacts(run.info.run_id)}
    stored = work / "mlruns" / "artifacts" / run.info.run_id / "artifacts"
    assert (stored / "model.keras").read_bytes() == (run_dir / "model.keras").read_bytes()


def test_nested_runs_carry_their_parents_id_and_end_with_their_own_status(tracked, monkeypatch):
    from solutions.core.tracking import open_tracker

    work, _ = tracked
    monkeypatch.chdir(work)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with open_tracker("mlflow", experiment="study", run_name="tune") as parent:
        with parent.nested("trial 0") as child:
            child.log_params({"learning_rate": 0.01, "hidden_units": (16, 8)})
            child.log_metrics({"validation_auc": 0.75})
        with pytest.raises(RuntimeError), parent.nested("trial 1"):
            raise RuntimeError("a trial that fails")
        left_open = parent.nested("trial 2")
    runs = runs_by_name(client_in(work), "study")
    assert runs["tune"].info.status == "FINISHED" and "mlflow.parentRunId" not in runs["tune"].data.tags
    for name in ("trial 0", "trial 1", "trial 2"):
        assert runs[name].data.tags["mlflow.parentRunId"] == parent.run_id, name
    assert runs["trial 0"].data.params == {"learning_rate": "0.01", "hidden_units": "[16, 8]"}
    assert runs["trial 0"].data.metrics == {"validation_auc": 0.75}
    assert [runs[n].info.status for n in ("trial 0", "trial 1", "trial 2")] == ["FINISHED", "FAILED", "FINISHED"]
    assert left_open.run_id == runs["trial 2"].info.run_id


def test_a_run_that_fails_mid_training_ends_failed_with_the_epochs_it_finished(tracked, monkeypatch, data):
    import keras

    from solutions.core.workflow import train_run
    from solutions.credit_scoring import CreditScoringSolution

    class FailAtSecondEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("training broke")

    work, _ = tracked
    monkeypatch.chdir(work)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    solution = CreditScoringSolution(recipe="quick", epochs=3, tracking="mlflow")  # the recipe key alone tracks
    with pytest.raises(RuntimeError, match="training broke"):
        train_run(solution, data, work / "broken", progress=False, callbacks=[FailAtSecondEpoch()])
    client = client_in(work)
    run = runs_by_name(client, "credit_scoring")["broken"]
    assert run.info.status == "FAILED"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_loss")] == [1]
    assert "test_auc" not in run.data.metrics and run.data.params["epochs"] == "3"


@pytest.mark.parametrize("asked", [["--track", "mlflow"], ["--set", "tracking=mlflow"]])
def test_tracking_without_mlflow_installed_exits_2_saying_how_to_install_it(tmp_path, monkeypatch, capsys, data, asked):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` raises ImportError
    code = main([*TRAIN, "--data", str(data), "--out", "run", *asked])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert 'pip install "keras-solutions[track]"' in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "mlruns").exists()


def test_an_unknown_tracking_kind_is_refused_with_a_suggestion():
    from solutions.core.errors import ConfigError
    from solutions.core.tracking import open_tracker

    with pytest.raises(ConfigError, match='Did you mean "mlflow"'):
        open_tracker("mlflwo", experiment="x")
    assert open_tracker("none", experiment="x").epoch_callback() is None


def test_metric_names_are_made_valid_for_mlflow():
    from solutions.core.tracking import metric_key

    assert metric_key("recall@0.5 (bad)") == "recall_0.5 _bad_"
    assert metric_key("a//b/./c/") == "a/b/_/c"
    long = metric_key("x" * 300, "_high")
    assert len(long) == 250 and long.endswith("x_high")
