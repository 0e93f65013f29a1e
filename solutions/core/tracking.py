"""Experiment tracking: TensorBoard logs in every run directory, and runs recorded in MLflow.

TensorBoard: `fit` with a run directory adds `tensorboard_callback(run_dir)` (unless the recipe says
`tensorboard: false`), which writes each epoch's figures under `logs/train` and `logs/validation`.

MLflow (`ksol train --track mlflow`, or the recipe key `tracking: mlflow`): `open_tracker` returns a
`Tracker`, a context manager around one tracked run. The run ends FINISHED when the block ends,
FAILED when it raises, KILLED on Ctrl-C. A tracker of kind "none" does nothing, so callers never
branch on the kind:

    with open_tracker("mlflow", experiment="credit_scoring", run_name="run3") as tracker:
        result = train_run(solution, data, run_dir, tracker=tracker)  # recipe, epochs, result, files
        with tracker.nested("trial 1") as child:                        # a child run (tuning)
            child.log_params({...}); child.log_metrics({"validation_auc": 0.8})

What `train_run` records: the resolved recipe as parameters; each epoch's Keras figures (loss,
val_loss, val_auc, ...) as metric histories, step = epoch; the test metrics as `test_<name>` with
their intervals as `test_<name>_low` and `test_<name>_high` (names made valid for MLflow by
`metric_key`); the run's model.keras, report.html, manifest.json, recipe.yaml and metrics.json as
artifacts; tags ksol.solution, ksol.run_dir, ksol.data, ksol.primary_metric.

The store: MLFLOW_TRACKING_URI when set (a tracking server, a database); otherwise a SQLite database
`mlruns/mlflow.db` in the working directory, with artifacts in `mlruns/artifacts`. MLflow 3 keeps its
plain-file store ('./mlruns') in maintenance mode and refuses it unless MLFLOW_ALLOW_FILE_STORE=true;
SQLite needs no server and no setting. MLflow is imported only when a tracker of kind "mlflow" opens
(it is the optional `track` extra); only the chief of a multi-worker run tracks.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from solutions.core.errors import ConfigError, UsageError, did_you_mean

TRACKING_KINDS = ("none", "mlflow")
TENSORBOARD_DIR = "logs"
DEFAULT_STORE = "mlruns"
TEST_PREFIX = "test_"
RESULT_ARTIFACTS = ("model.keras", "report.html", "manifest.json", "recipe.yaml", "metrics.json")
INSTALL_HINT = 'pip install "keras-solutions[track]"'

_MAX_KEY = 250          # MLflow's limit on a parameter, metric or tag name
_MAX_PARAM_VALUE = 6000  # ... on a parameter's value
_MAX_TAG_VALUE = 8000
_BATCH = 100             # parameters or tags per log_batch call


def tensorboard_callback(run_dir: str | Path):
    """Keras' TensorBoard callback writing epoch figures to `run_dir`/logs (no graph, no profiling: cheap)."""
    import keras

    return keras.callbacks.TensorBoard(log_dir=str(Path(run_dir) / TENSORBOARD_DIR), write_graph=False,
                                       profile_batch=0)


# ------------------------------------------------------------------ names and values
def metric_key(name: str, suffix: str = "") -> str:
    """`name` + `suffix` as a valid MLflow parameter or metric name: characters other than letters, digits,
    `_ - . /` and spaces become `_`, empty and `.`/`..` path parts go, and the name is cut to 250 characters
    (the suffix kept).

    >>> metric_key("baseline/WOE scorecard (logistic regression)/auc", "_low")
    'baseline/WOE scorecard _logistic regression_/auc_low'
    """
    clean = re.sub(r"[^A-Za-z0-9_.\- /]", "_", str(name))
    parts = [("_" if part in (".", "..") else part) for part in clean.split("/") if part]
    clean = "/".join(parts) or "_"
    return clean[: _MAX_KEY - len(suffix)].rstrip("/") + suffix


def result_metrics(report) -> dict[str, float]:
    """A report's test metrics as MLflow metrics: `test_<name>` and, where there is an interval,
    `test_<name>_low` and `test_<name>_high`."""
    metrics: dict[str, float] = {}
    for name, figure in report.metrics.items():
        for suffix, field in (("", "value"), ("_low", "low"), ("_high", "high")):
            value = _number(figure.get(field)) if isinstance(figure, dict) else None
            if value is not None:
                metrics[metric_key(TEST_PREFIX + name, suffix)] = value
    return metrics


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)  # NaN and infinities too: MLflow stores them
    except (TypeError, ValueError):
        return None


def _param_value(value: Any) -> str:
    if isinstance(value, (list, tuple, dict)):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    return text[:_MAX_PARAM_VALUE]


# ------------------------------------------------------------------ trackers
class Tracker:
    """A tracked run that records nothing: the tracker of kind "none", and the base of the others.

    A subclass implements the primitives (`log_params`, `log_metrics`, `set_tags`, `log_artifact`,
    `epoch_callback`, `nested`, `end`); `log_result` is written in terms of them.
    """

    kind = "none"
    run_id: str | None = None
    tracking_uri: str | None = None
    experiment: str | None = None

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, error_type, error, traceback) -> bool:
        if error_type is None:
            self.end("FINISHED")
            return False
        try:
            self.end("KILLED" if issubclass(error_type, KeyboardInterrupt) else "FAILED")
        except Exception:  # the store failing too (a server gone) must not hide the error that ended the run
            pass
        return False

    def end(self, status: str = "FINISHED") -> None:
        """End the run with `status` (FINISHED, FAILED or KILLED); later calls, and the block's exit, change nothing."""

    def epoch_callback(self):
        """A Keras callback logging each epoch's figures (step = epoch, counted from 1), or None."""
        return None

    def log_params(self, params: dict[str, Any]) -> None:
        """Record parameters (a resolved recipe, say); values are written as text, lists as JSON."""

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        """Record metrics (names through `metric_key`; values that are not numbers are left out)."""

    def set_tags(self, tags: dict[str, Any]) -> None:
        """Set tags (text) on the run."""

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """Copy a file (or a folder's files) into the run's artifacts."""

    def nested(self, run_name: str) -> "Tracker":
        """A child run of this one (MLflow: tagged with this run's id as its parent); a context manager too."""
        return Tracker()

    def log_result(self, result) -> None:
        """Record a finished run (core.workflow.RunResult): its test metrics with their intervals, its
        primary metric and folder as tags, and its model, report and manifest as artifacts."""
        report = result.report
        self.log_metrics(result_metrics(report))
        run_dir = Path(result.run_dir)
        self.set_tags({"ksol.primary_metric": report.primary_metric, "ksol.run_dir": str(run_dir.resolve())})
        for name in RESULT_ARTIFACTS:
            if (run_dir / name).is_file():
                self.log_artifact(run_dir / name)


class MlflowTracker(Tracker):
    """One MLflow run, written through an MlflowClient (no global active run: safe beside other MLflow users)."""

    kind = "mlflow"

    def __init__(self, client, experiment_id: str, experiment: str, run_name: str, parent: "MlflowTracker | None" = None,
                 tags: dict[str, Any] | None = None):
        from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

        self.client, self.experiment_id, self.experiment = client, experiment_id, experiment
        self.tracking_uri = client.tracking_uri
        all_tags = {MLFLOW_RUN_NAME: run_name, **{k: str(v) for k, v in (tags or {}).items()}}
        if parent is not None:
            all_tags[MLFLOW_PARENT_RUN_ID] = parent.run_id
        run = client.create_run(experiment_id, run_name=run_name, tags=_context_tags(all_tags))
        self.run_id = run.info.run_id
        self.run_name = run_name
        self._children: list[MlflowTracker] = []
        self._ended = False

    def end(self, status: str = "FINISHED") -> None:
        if self._ended:
            return
        for child in self._children:  # a child left open ends with its parent
            child.end(status)
        self._ended = True
        self.client.set_terminated(self.run_id, status)

    def epoch_callback(self):
        return _epoch_callback_class()(self)

    def log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        items = [Param(metric_key(k), _param_value(v)) for k, v in params.items()]
        for start in range(0, len(items), _BATCH):
            self.client.log_batch(self.run_id, params=items[start:start + _BATCH], synchronous=True)

    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        items = [Metric(metric_key(k), number, stamp, int(step or 0))
                 for k, v in metrics.items() if (number := _number(v)) is not None]
        for start in range(0, len(items), 1000):
            self.client.log_batch(self.run_id, metrics=items[start:start + 1000], synchronous=True)

    def set_tags(self, tags: dict[str, Any]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(metric_key(k), str(v)[:_MAX_TAG_VALUE]) for k, v in tags.items()]
        for start in range(0, len(items), _BATCH):
            self.client.log_batch(self.run_id, tags=items[start:start + _BATCH], synchronous=True)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        path = Path(path)
        if path.is_dir():
            self.client.log_artifacts(self.run_id, str(path), artifact_path)
        else:
            self.client.log_artifact(self.run_id, str(path), artifact_path)

    def nested(self, run_name: str) -> "MlflowTracker":
        child = MlflowTracker(self.client, self.experiment_id, self.experiment, run_name, parent=self)
        self._children.append(child)
        return child


def _epoch_callback_class():
    """The Keras callback class, defined on first use so importing this module does not import Keras."""
    import keras
    import numpy as np

    class EpochTracking(keras.callbacks.Callback):
        """Log each epoch's scalar figures to a tracker, step = the epoch counted from 1."""

        def __init__(self, tracker: Tracker):
            super().__init__()
            self.tracker = tracker

        def on_epoch_end(self, epoch, logs=None):
            figures = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
            self.tracker.log_metrics(figures, step=epoch + 1)

    return EpochTracking


def _context_tags(tags: dict[str, str]) -> dict[str, str]:
    """MLflow's own context tags (user, source) added to `tags`, as `mlflow.start_run` would."""
    try:
        from mlflow.tracking.context.registry import resolve_tags
    except ImportError:  # an internal module of MLflow: without it, the tags as given
        return tags
    return resolve_tags(tags)


# ------------------------------------------------------------------ opening a tracker
def check_tracking(kind: str) -> None:
    """ConfigError unless `kind` is a tracking kind whose package is installed (checked before any work)."""
    if kind not in TRACKING_KINDS:
        raise ConfigError(f"Tracking must be one of {', '.join(TRACKING_KINDS)}. Received: {kind!r}."
                          + did_you_mean(kind, TRACKING_KINDS))
    if kind == "mlflow":
        _import_mlflow()


def open_tracker(kind: str, *, experiment: str, run_name: str | None = None, tags: dict[str, Any] | None = None,
                 tracking_uri: str | None = None) -> Tracker:
    """A tracker for one run: `kind` "none" (records nothing) or "mlflow" (a run in `experiment`, which is
    created when missing). The store: `tracking_uri`, else MLFLOW_TRACKING_URI, else the SQLite database
    mlruns/mlflow.db of the working directory. Use it as a context manager, so that the run ends."""
    check_tracking(kind)
    if kind == "none" or not _is_chief():  # the workers of a multi-worker run leave tracking to the chief
        return Tracker()
    client = _client(tracking_uri)
    experiment_id = _experiment_id(client, experiment)
    return MlflowTracker(client, experiment_id, experiment, run_name or experiment, tags=tags)


def _is_chief() -> bool:
    from solutions.core.distribution import is_chief

    try:
        return is_chief()
    except (ValueError, TypeError, AttributeError):  # a malformed TF_CONFIG is reported by make_strategy
        return True


def default_tracking_uri(root: str | Path | None = None) -> str:
    """The SQLite store in `root` (default: the working directory): sqlite:////abs/path/mlruns/mlflow.db."""
    return "sqlite:///" + str((Path(root or Path.cwd()) / DEFAULT_STORE / "mlflow.db").resolve())


def _import_mlflow():
    try:
        import mlflow
        import mlflow.tracking  # noqa: F401 (imported to check it is there)
    except ImportError:
        raise ConfigError(f"Tracking with MLflow (--track mlflow, or the recipe key tracking=mlflow) needs the mlflow "
                          f"package, which is not installed. Install it with: {INSTALL_HINT} "
                          "(or track nothing: --track none).") from None
    import mlflow

    return mlflow


def _client(tracking_uri: str | None):
    _import_mlflow()
    import logging

    from mlflow.tracking import MlflowClient

    uri = tracking_uri or _uri_set_elsewhere()
    if uri is None:
        (Path.cwd() / DEFAULT_STORE).mkdir(parents=True, exist_ok=True)
        uri = default_tracking_uri()
        for name in ("mlflow.store.db.utils", "alembic"):  # "Creating initial MLflow database tables..." on stderr
            logging.getLogger(name).setLevel(logging.WARNING)
    return MlflowClient(tracking_uri=uri)


def _uri_set_elsewhere() -> str | None:
    """MLFLOW_TRACKING_URI, or a URI the program gave mlflow.set_tracking_uri; None when neither is set."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    import mlflow

    try:
        from mlflow.tracking._tracking_service.utils import is_tracking_uri_set
    except ImportError:  # an internal module of MLflow: without it, only the environment counts
        return None
    return mlflow.get_tracking_uri() if is_tracking_uri_set() else None


def _experiment_id(client, name: str) -> str:
    """The id of experiment `name`, created when missing (artifacts beside the SQLite store when that is the store)."""
    from mlflow.exceptions import MlflowException

    local = client.tracking_uri == default_tracking_uri()
    try:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            location = (Path.cwd() / DEFAULT_STORE / "artifacts").resolve().as_uri() if local else None
            try:
                return client.create_experiment(name, artifact_location=location)
            except MlflowException as error:  # created a moment ago by another process
                experiment = client.get_experiment_by_name(name)
                if experiment is None:
                    raise error
    except MlflowException as error:
        raise UsageError(f"MLflow tracking store {client.tracking_uri} refused experiment {name!r}: {error.message}") from None
    if experiment.lifecycle_stage == "deleted":
        raise UsageError(f"MLflow experiment {name!r} was deleted in {client.tracking_uri}. Restore it "
                         f"(mlflow experiments restore --experiment-id {experiment.experiment_id}) or pass another "
                         "--experiment name.")
    return experiment.experiment_id
