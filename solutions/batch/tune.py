"""`ksol tune`: search a solution's recipe with Optuna, on its validation split; the test split is read once.

    tune("fraud_detection", "fraud_oracle", trials=30)

Each trial trains the solution with a recipe drawn from the search space (the recipe's
`SEARCH_SPACE`, or a YAML file: solutions/core/search_space.py) and scores the primary
metric on the validation split. A pruner (median by default, or successive halving) is fed
each epoch's validation figure (the recipe's `monitor`) and stops hopeless trials early.
After the search the best trial's recipe is trained once more into `<out>/best/`, a normal
run directory whose report is the only reading of the test split, and says it was tuned.

Storage: by default a journal file `<out>/study.journal`, so running the same command
again continues the study, and several processes on one machine given the same command
share it. `--storage` takes any URL Optuna opens: a journal file path, `sqlite:///file.db`,
or a PostgreSQL / MySQL URL for workers on many machines. `trials` counts the study's
finished trials (complete or pruned) across every worker. A trial whose process was killed
stays "running" in the storage: the next tune on the same host marks it failed and runs
its parameters again (once); it never counts as done.

Outputs in `<out>`: study.journal (unless --storage), trials.csv, report.html / report.md /
report.json (trials table, optimisation history, parameter importances), tuning.json, and
best/ (the run).
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solutions.core.errors import ConfigError, SolutionsError, did_you_mean

PRUNERS = ("median", "halving", "none")
STUDY_FILE = "study.journal"
TUNING_FILE = "tuning.json"
BEST_FOLDER = "best"
MAX_FAILURES_IN_A_ROW = 5


@dataclass(frozen=True)
class TuneResult:
    """What a tune wrote: the study, its best trial and the best run (None when another worker is writing it)."""

    solution: str
    study: str
    out: Path
    metric: str
    trials: dict[str, int]
    best_trial: int
    best_validation: float
    best_params: dict[str, Any]
    best_run: Any
    paths: dict[str, Path]

    def summary(self) -> dict[str, Any]:
        test = None if self.best_run is None else self.best_run.report.primary
        return {"solution": self.solution, "study": self.study, "out": str(self.out), "metric": self.metric,
                "trials": self.trials, "best_trial": self.best_trial, "best_validation": self.best_validation,
                "best_params": self.best_params, "best_run": None if self.best_run is None else str(self.best_run.run_dir),
                "test": None if test is None else {k: test.get(k) for k in ("value", "low", "high")},
                "report_html": str(self.paths["html"])}


def tune(solution: str, data: str, *, trials: int, recipe: str = "default", overrides: dict[str, Any] | None = None,
         space: str | Path | None = None, timeout_minutes: float | None = None, storage: str | None = None,
         study: str | None = None, out: str | Path | None = None, pruner: str = "median", seed: int = 0,
         data_options: dict[str, Any] | None = None, track: str = "none", progress: bool = True,
         command: list[str] | None = None) -> TuneResult:
    """Run (or continue) a study of `trials` finished trials, then train the best recipe into `<out>/best/`."""
    from solutions import get_solution
    from solutions.core.config import load_recipe
    from solutions.core.datasets import resolve_data
    from solutions.core.search_space import default_space, read_space

    from solutions.core.tracking import check_tracking, open_tracker

    _check_arguments(trials, timeout_minutes, pruner)
    check_tracking(track)  # an unknown kind, or mlflow not installed: before anything is written
    cls = get_solution(solution)
    base = load_recipe(cls.recipe_class, recipe, overrides).to_dict()
    dimensions, fixed = read_space(cls.recipe_class, space) if space is not None else (default_space(cls.recipe_class), {})
    base.update(fixed)
    data_options = dict(data_options or {})
    source = resolve_data(str(data), **data_options)
    study_name = study or f"{solution}-{Path(str(data)).stem}"
    out = Path(out) if out is not None else Path("runs") / solution / f"tune-{Path(str(data)).stem}"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; pass a folder for the study.")
    out.mkdir(parents=True, exist_ok=True)

    optuna = _optuna()
    opened = open_storage(storage, out)
    sampler_seed = seed
    study_ = _load_study(optuna, opened, study_name, solution, pruner, sampler_seed, storage)
    if len(study_.trials):  # a continued study: a fresh sampler seed, so it does not repeat its first proposals
        study_.sampler = optuna.samplers.TPESampler(seed=seed + len(study_.trials))
    if not study_.user_attrs.get("solution"):
        study_.set_user_attr("solution", solution)
        study_.set_user_attr("data", str(data))
    retry_killed_trials(optuna, study_, progress)
    with open_tracker(track, experiment=solution, run_name=f"tune {study_name}") as tracker:
        objective = _Objective(cls, source, base, dimensions, study_, trials, progress, tracker)
        if objective.finished() < trials:
            study_.optimize(objective, timeout=None if timeout_minutes is None else timeout_minutes * 60,
                            callbacks=[objective.stop_when_done], catch=(SolutionsError,), gc_after_trial=True)
        if objective.failure_streak >= MAX_FAILURES_IN_A_ROW:
            raise ConfigError(f"{MAX_FAILURES_IN_A_ROW} trials in a row failed; the last one: {objective.last_error}. "
                              "Narrow the search space (--space) to values that train.")
        complete = [t for t in study_.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            raise ConfigError(f"No trial of study {study_name!r} finished"
                              + (f" (the last error: {objective.last_error})" if objective.last_error else "")
                              + ". Give it more time (--timeout) or narrow the space.")
        best = study_.best_trial
        best_params = decode_params(best.params, dimensions)
        metric = best.user_attrs.get("metric", "primary metric")
        best_run = write_best_run(cls, source, out / BEST_FOLDER, {**base, **best_params}, best, metric,
                                  _counts(optuna, study_), progress, command, tracker)
    from solutions.batch.tune_report import write_tune_report

    info = {"solution": solution, "study": study_name, "data": str(data), "storage": storage or str(out / STUDY_FILE),
            "metric": metric, "best_trial": best.number, "best_validation": best.value, "best_params": best_params,
            "trials": _counts(optuna, study_), "space": _space_words(dimensions), "fixed": fixed,
            "test": None if best_run is None else best_run.report.primary}
    paths = write_tune_report(out, study_, info)
    return TuneResult(solution, study_name, out, metric, info["trials"], best.number, float(best.value), best_params,
                      best_run, paths)


# ------------------------------------------------------------------ storage and study
def open_storage(url: str | None, out: Path):
    """The Optuna storage for `url` (None: a journal file in `out`); ConfigError naming the URL, without its password."""
    from optuna.storages import JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.storages.journal import JournalFileBackend

    shown = hide_password(url) if url else str(out / STUDY_FILE)
    try:
        if url is None or "://" not in url:
            path = Path(url) if url else out / STUDY_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(str(path)))
        return RDBStorage(url, heartbeat_interval=60, grace_period=180,
                          heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1))
    except Exception as error:  # any driver's error (no such host, no driver, bad file): the user's URL
        reason = hide_password(str(error).splitlines()[0] if str(error) else type(error).__name__)
        raise ConfigError(f"--storage {shown} could not be opened: {reason}. Pass a journal file path, "
                          "sqlite:///FILE.db, or a database URL that this machine can reach (with its driver installed, "
                          "e.g. psycopg2 for postgresql://).") from None


def hide_password(text: str) -> str:
    """`text` with the password of any URL in it replaced by ***.

    >>> hide_password("postgresql://ana:s3cret@db.example:5432/studies")
    'postgresql://ana:***@db.example:5432/studies'
    """
    import re

    return re.sub(r"(://[^:/@\s]+):[^@\s]*@", r"\1:***@", text)


def _load_study(optuna, storage, name: str, solution: str, pruner: str, seed: int, url: str | None):
    pruners = {"median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
               "halving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
               "none": lambda: optuna.pruners.NopPruner()}
    try:
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                                    sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruners[pruner]())
    except Exception as error:
        raise ConfigError(f"Study {name!r} in {hide_password(url or 'the study file')} could not be opened: "
                          f"{hide_password(str(error))}") from None
    made_for = study.user_attrs.get("solution")
    if made_for and made_for != solution:
        raise ConfigError(f"--study {name} was made for {made_for!r}, not {solution!r}. Pass another --study name "
                          f"(or tune {made_for} to continue that study).")
    return study


def retry_killed_trials(optuna, study, progress: bool = True) -> list[int]:
    """Mark failed the running trials whose process (on this host) is gone, and queue their parameters once more.
    Returns the numbers of the trials marked failed."""
    from solutions.core.runs import owner_gone

    marked = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        owner = trial.user_attrs.get("owner") or {}
        if not owner_gone(owner):
            continue
        study._storage.set_trial_user_attr(trial._trial_id, "error", "its process was killed")
        study._storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        marked.append(trial.number)
        if not trial.user_attrs.get("retry_of") and trial.params:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        if progress:
            print(f"tune: trial {trial.number} was interrupted (process {owner.get('pid')} is gone): marked failed"
                  + ("" if trial.user_attrs.get("retry_of") else ", its parameters queued again"), file=sys.stderr, flush=True)
    return marked


# ------------------------------------------------------------------ the objective
class _Objective:
    """One trial: a recipe from the space, a fit without a run directory, the validation primary metric."""

    def __init__(self, cls, source, base: dict[str, Any], dimensions, study, trials: int, progress: bool, tracker):
        self.cls, self.source, self.base, self.dimensions = cls, source, base, dimensions
        self.study, self.trials, self.progress, self.tracker = study, trials, progress, tracker
        self.failure_streak, self.last_error = 0, ""

    def finished(self) -> int:
        optuna = _optuna()
        states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        return len(self.study.get_trials(deepcopy=False, states=states))

    def stop_when_done(self, study, trial) -> None:
        optuna = _optuna()
        if trial.state == optuna.trial.TrialState.FAIL:
            self.failure_streak += 1
            self.last_error = trial.user_attrs.get("error", self.last_error)
        elif trial.state == optuna.trial.TrialState.COMPLETE:
            self.failure_streak = 0
        if self.finished() >= self.trials or self.failure_streak >= MAX_FAILURES_IN_A_ROW:
            study.stop()

    def __call__(self, trial) -> float:
        from solutions.core.config import make_recipe
        from solutions.core.runs import this_process

        optuna = _optuna()
        trial.set_user_attr("owner", this_process())
        params = suggest(trial, self.dimensions)
        began = time.perf_counter()
        try:
            recipe = make_recipe(self.cls.recipe_class, "default", **{**self.base, **params})
        except ConfigError as error:  # a combination of values the recipe refuses: this trial fails, the study goes on
            trial.set_user_attr("error", str(error))
            raise
        solution = self.cls(recipe=recipe)
        with self.tracker.nested(f"trial {trial.number}") as child:
            child.log_params(recipe.to_dict())
            callbacks = [pruning_callback(trial, recipe.monitor)] + [c for c in [child.epoch_callback()] if c is not None]
            try:
                solution.fit(self.source, progress=False, callbacks=callbacks)
            except optuna.TrialPruned as pruned:
                trial.set_user_attr("seconds", time.perf_counter() - began)
                trial.set_user_attr("note", f"pruned at {pruned}")
                self._say(trial, f"pruned at {pruned}", began)
                child.set_tags({"optuna.state": "pruned"})
                child.end("FINISHED")  # stopped on purpose, not failed
                raise
            except SolutionsError as error:
                trial.set_user_attr("error", str(error))
                self._say(trial, f"failed: {error}", began)
                raise
            metric, value = solution.validation_score()
            child.log_metrics({f"validation_{metric}": value})
        trial.set_user_attr("metric", metric)
        trial.set_user_attr("seconds", time.perf_counter() - began)
        trial.set_user_attr("epochs", solution.training_.epochs_done)
        if not math.isfinite(value):
            trial.set_user_attr("error", f"validation {metric} is not a number ({value})")
            raise ConfigError(f"trial {trial.number}: validation {metric} is {value}")
        self._say(trial, f"validation {metric} {value:.4f}", began)
        return value

    def _say(self, trial, what: str, began: float) -> None:
        if self.progress:
            shown = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
            print(f"tune: trial {trial.number} ({self.finished() + 1}/{self.trials}): {what}  [{shown}]  "
                  f"({time.perf_counter() - began:.1f}s)", file=sys.stderr, flush=True)


def suggest(trial, dimensions) -> dict[str, Any]:
    """Recipe values for one trial: each dimension through the matching Optuna suggestion."""
    from solutions.core.search_space import Choice, FloatRange

    values = {}
    for key, dimension in dimensions.items():
        if isinstance(dimension, Choice):
            labels = [choice_label(o) for o in dimension.options]
            values[key] = dimension.options[labels.index(trial.suggest_categorical(key, labels))]
        elif isinstance(dimension, FloatRange):
            values[key] = trial.suggest_float(key, dimension.low, dimension.high, log=dimension.log)
        else:
            values[key] = trial.suggest_int(key, dimension.low, dimension.high, step=dimension.step, log=dimension.log)
    return values


def decode_params(params: dict[str, Any], dimensions) -> dict[str, Any]:
    """Recipe values from a trial's stored parameters (choices are stored by label)."""
    from solutions.core.search_space import Choice

    values = {}
    for key, value in params.items():
        dimension = dimensions.get(key)
        if isinstance(dimension, Choice):
            labels = [choice_label(o) for o in dimension.options]
            values[key] = dimension.options[labels.index(value)] if value in labels else value
        else:
            values[key] = value
    return values


def choice_label(option: Any) -> Any:
    """How Optuna stores a choice: as is for None, booleans, numbers and strings; a tuple as "64,32"."""
    return ",".join(str(v) for v in option) if isinstance(option, tuple) else option


def pruning_callback(trial, monitor_name: str):
    """A Keras callback reporting each epoch's `monitor` figure to the trial (negated for losses, so higher is
    better like the study) and stopping the fit with optuna.TrialPruned when the pruner says so."""
    import keras

    from solutions.core.training import Monitor

    optuna = _optuna()
    monitor = Monitor(monitor_name)

    class PruneOnValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            value = monitor.value(logs)
            if not math.isfinite(value):
                return
            trial.report(value if monitor.mode == "max" else -value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"epoch {epoch + 1}: {monitor.name} {value:.4f}")

    return PruneOnValidation()


# ------------------------------------------------------------------ the best run
def write_best_run(cls, source, folder: Path, values: dict[str, Any], best, metric: str, counts: dict[str, int],
                   progress: bool, command: list[str] | None, tracker):
    """Train the best recipe into `folder` (the test split's one reading), or None when another worker is at it.
    A folder already holding this trial's finished run is kept."""
    from solutions.core.config import make_recipe
    from solutions.core.errors import FolderInUseError
    from solutions.core.report import Report, text_section
    from solutions.core.report_frame import write_report_files
    from solutions.core.runs import LOCK_FILE, atomic_write_json, read_json, run_lock
    from solutions.core.workflow import RunResult, train_run

    tuning = {"trial": best.number, "validation_metric": metric, "validation_value": best.value, "trials": counts,
              "params": {k: list(v) if isinstance(v, tuple) else v for k, v in best.params.items()}}
    recipe = make_recipe(cls.recipe_class, "default", **values)
    try:
        with run_lock(folder):  # the lock first: two workers finishing together never write one folder at once
            done = folder / TUNING_FILE
            if done.is_file() and (folder / "model.keras").is_file() and read_json(done).get("trial") == best.number:
                report = Report.from_dict(read_json(folder / "report.json"))
                return RunResult(cls.name, folder, report, {k: folder / f"report.{k}" for k in ("json", "md", "html")})
            for stale in folder.iterdir():  # an earlier best trial's run, or one killed before it finished
                if stale.name != LOCK_FILE:
                    shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
            if progress:
                print(f"tune: training the best recipe (trial {best.number}, validation {metric} {best.value:.4f}) "
                      f"into {folder}; its report reads the test split", file=sys.stderr, flush=True)
            with tracker.nested("best run") as child:
                result = train_run(cls(recipe=recipe), source, folder, progress=progress, command=command, tracker=child)
            report = result.report
            report.sections.insert(1, text_section("Tuned recipe", (
                f"This run's recipe was chosen by `ksol tune`: trial {best.number} of {counts['complete']} complete "
                f"({counts['pruned']} pruned, {counts['failed']} failed), the best validation {metric} "
                f"({best.value:.4f}). The search read the validation split only; this report is the one reading of the "
                "test split. Tuned values: " + ", ".join(f"{k}={_short(v)}" for k, v in best.params.items()) + ".")))
            report.info["tuning"] = tuning
            paths = write_report_files(folder, report)
            atomic_write_json(done, tuning)
    except FolderInUseError:
        if progress:
            print(f"tune: another worker is writing {folder}; its report will be the tuned run", file=sys.stderr, flush=True)
        return None
    return RunResult(result.solution, result.run_dir, report, paths, result.dropped)


# ------------------------------------------------------------------ helpers
def _check_arguments(trials: Any, timeout_minutes: Any, pruner: str) -> None:
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"--trials must be an integer >= 1 (the study's number of finished trials). Received: {trials!r}.")
    if timeout_minutes is not None and not (isinstance(timeout_minutes, (int, float)) and timeout_minutes > 0):
        raise ConfigError(f"--timeout must be a number of minutes > 0. Received: {timeout_minutes!r}.")
    if pruner not in PRUNERS:
        raise ConfigError(f"--pruner must be one of {', '.join(PRUNERS)}. Received: {pruner!r}." + did_you_mean(pruner, PRUNERS))


def _counts(optuna, study) -> dict[str, int]:
    state = optuna.trial.TrialState
    trials = study.get_trials(deepcopy=False)
    return {name: sum(t.state == s for t in trials) for name, s in
            (("complete", state.COMPLETE), ("pruned", state.PRUNED), ("failed", state.FAIL), ("running", state.RUNNING))}


def _space_words(dimensions) -> dict[str, str]:
    from solutions.core.search_space import describe_space

    return describe_space(dimensions)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _optuna():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna
