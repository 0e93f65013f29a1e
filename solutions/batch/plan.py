"""Scripted batch evaluation: a plan of runs and evaluations -> one leaderboard.

A plan (YAML or a dict):

    out: runs/batch                  # where runs, evaluations and the leaderboard go
    threads: 1                       # optional: CPU threads of each run and evaluation (default: TensorFlow's, all cores)
    runs:
      - solution: image_classification
        data: shapes
        recipe: quick                # preset or recipe file (default: default)
        set: {epochs: 5}             # overrides
        seeds: [0, 1, 2]             # one run per seed (default: [0])
        name: shapes-quick           # optional; default solution-data-recipe
    evaluations:
      - run: shapes-quick            # a planned run's name (its first seed) or a run directory
        data: other_data
    tunes:                           # ksol tune studies (batch/tune.py); the leaderboard marks them "tuned run"
      - solution: credit_scoring
        data: german_credit
        trials: 30                   # required
        space: space.yaml            # optional: the recipe's SEARCH_SPACE by default
        recipe: default              # optional, with set:, timeout (minutes), pruner, seed, name

The whole plan is validated before anything runs, and every error is listed at
once. Each run and evaluation writes its own folder; a failure is recorded and
the rest go on; starting the same plan again skips what already finished and
resumes interrupted runs from their checkpoints.

`run_plan(..., jobs=N)` (`ksol batch PLAN --jobs N`) runs up to N entries at once, each in a process of
its own (see batch/parallel.py), with the same results as one at a time.
"""

from __future__ import annotations

import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solutions.core.errors import ConfigError, DiskFullError, SolutionsError, UsageError, did_you_mean

PLAN_KEYS = ("out", "runs", "evaluations", "tunes", "threads")
RUN_KEYS = ("solution", "data", "recipe", "set", "seeds", "name", "label", "text", "id", "time", "positive")
EVALUATION_KEYS = ("run", "data", "name", "label", "text", "id", "time", "positive")
TUNE_KEYS = ("solution", "data", "trials", "space", "recipe", "set", "timeout", "pruner", "seed", "name",
             "label", "text", "id", "time", "positive")
DATA_OPTIONS = ("label", "text", "id", "time", "positive")


@dataclass(frozen=True)
class PlannedRun:
    name: str
    solution: str
    data: str
    recipe: str
    overrides: dict[str, Any]
    seed: int
    data_options: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return f"{self.name}-seed{self.seed}"


@dataclass(frozen=True)
class PlannedEvaluation:
    name: str
    run: str
    data: str
    data_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedTune:
    """A `ksol tune` study of the plan: written to <out>/tunes/<name>/, its best run the leaderboard's row."""

    name: str
    solution: str
    data: str
    trials: int
    recipe: str = "default"
    overrides: dict[str, Any] = field(default_factory=dict)
    space: str | None = None
    timeout: float | None = None
    pruner: str = "median"
    seed: int = 0
    data_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    out: Path
    runs: tuple[PlannedRun, ...]
    evaluations: tuple[PlannedEvaluation, ...]
    threads: int | None = None  # CPU threads of each entry; None: TensorFlow's default (all cores)
    tunes: tuple[PlannedTune, ...] = ()


def read_plan(path: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Plan file not found: {path}. Pass a YAML file with `runs:` (and optionally `evaluations:`).")
    try:
        plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"Plan {path} is not valid YAML: {error}") from None
    if not isinstance(plan, dict):
        raise ConfigError(f"Plan {path} must be a mapping with `runs:`. Received a {type(plan).__name__}.")
    return plan


def validate_plan(plan: dict[str, Any], default_out: str | Path = "runs/batch") -> Plan:
    """Check every part of the plan and return it typed; raise one ConfigError listing all problems."""
    from solutions import SOLUTIONS, get_solution
    from solutions.core.config import load_recipe
    from solutions.core.datasets import resolve_data

    errors: list[str] = []
    _unknown_keys(plan, PLAN_KEYS, "the plan", errors)
    runs: list[PlannedRun] = []
    names: set[str] = set()
    raw_runs = plan.get("runs") or []
    if not isinstance(raw_runs, list) or not raw_runs and not plan.get("evaluations") and not plan.get("tunes"):
        errors.append("the plan needs a non-empty list under `runs:` (or `evaluations:` or `tunes:`)")
        raw_runs = raw_runs if isinstance(raw_runs, list) else []
    for i, entry in enumerate(raw_runs):
        where = f"runs[{i}]"
        if not isinstance(entry, dict):
            errors.append(f"{where} must be a mapping with solution and data")
            continue
        _unknown_keys(entry, RUN_KEYS, where, errors)
        solution, data = entry.get("solution"), entry.get("data")
        if not solution or not data:
            errors.append(f"{where} needs both `solution` and `data`")
            continue
        if solution not in SOLUTIONS:
            errors.append(f"{where}: unknown solution {solution!r}.{did_you_mean(solution, SOLUTIONS)} Known: {', '.join(sorted(SOLUTIONS))}")
            continue
        recipe = str(entry.get("recipe", "default"))
        overrides = entry.get("set") or {}
        if not isinstance(overrides, dict):
            errors.append(f"{where}: `set` must be a mapping of recipe key: value")
            overrides = {}
        try:
            load_recipe(get_solution(solution).recipe_class, recipe, overrides)
        except SolutionsError as error:
            errors.append(f"{where}: {error}")
        options = {k: entry[k] for k in DATA_OPTIONS if entry.get(k) is not None}
        try:
            resolve_data(str(data), **options)
        except SolutionsError as error:
            errors.append(f"{where}: {error}")
        seeds = entry.get("seeds", [0])
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            errors.append(f"{where}: `seeds` must be a non-empty list of integers. Received: {seeds!r}")
            seeds = [0]
        name = _slug(str(entry.get("name") or f"{solution}-{Path(str(data)).stem}-{Path(recipe).stem}"))
        if name in names:
            errors.append(f"{where}: the run name {name!r} is used twice; give each run a distinct `name`")
        names.add(name)
        for seed in seeds:
            runs.append(PlannedRun(name, solution, str(data), recipe, {**overrides, "seed": seed}, seed, options))
    evaluations: list[PlannedEvaluation] = []
    for i, entry in enumerate(plan.get("evaluations") or []):
        where = f"evaluations[{i}]"
        if not isinstance(entry, dict) or not entry.get("run") or not entry.get("data"):
            errors.append(f"{where} needs `run` (a planned run's name or a run directory) and `data`")
            continue
        _unknown_keys(entry, EVALUATION_KEYS, where, errors)
        run = str(entry["run"])
        if _slug(run) in names:
            run = _slug(run)
        if run not in names and not Path(run).is_dir():
            errors.append(f"{where}: run {run!r} is neither a run planned above nor an existing run directory."
                          f"{did_you_mean(run, names)}")
        options = {k: entry[k] for k in DATA_OPTIONS if entry.get(k) is not None}
        try:
            resolve_data(str(entry["data"]), **options)
        except SolutionsError as error:
            errors.append(f"{where}: {error}")
        name = _slug(str(entry.get("name") or f"{Path(run).name}-on-{Path(str(entry['data'])).stem}"))
        evaluations.append(PlannedEvaluation(name, run, str(entry["data"]), options))
    tunes = _validate_tunes(plan.get("tunes") or [], names, errors)
    threads = plan.get("threads")
    if threads is not None and (not isinstance(threads, int) or isinstance(threads, bool) or threads < 1):
        errors.append(f"`threads` must be an integer >= 1 (CPU threads of each run). Received: {threads!r}")
    if errors:
        listed = "\n  - ".join(errors)
        raise ConfigError(f"The plan has {len(errors)} problem{'s' if len(errors) > 1 else ''}; nothing was run:\n  - {listed}")
    return Plan(out=Path(plan.get("out") or default_out), runs=tuple(runs), evaluations=tuple(evaluations), threads=threads,
                tunes=tuple(tunes))


def _validate_tunes(entries: Any, names: set[str], errors: list[str]) -> list[PlannedTune]:
    """The plan's tune entries, typed; each problem appended to `errors`."""
    from solutions import SOLUTIONS, get_solution
    from solutions.batch.tune import PRUNERS
    from solutions.core.config import load_recipe
    from solutions.core.datasets import resolve_data
    from solutions.core.search_space import default_space, read_space

    tunes: list[PlannedTune] = []
    if not isinstance(entries, list):
        errors.append("`tunes` must be a list of studies (solution, data, trials)")
        return tunes
    for i, entry in enumerate(entries):
        where = f"tunes[{i}]"
        if not isinstance(entry, dict) or not entry.get("solution") or not entry.get("data"):
            errors.append(f"{where} needs `solution`, `data` and `trials`")
            continue
        _unknown_keys(entry, TUNE_KEYS, where, errors)
        solution, data = str(entry["solution"]), str(entry["data"])
        if solution not in SOLUTIONS:
            errors.append(f"{where}: unknown solution {solution!r}.{did_you_mean(solution, SOLUTIONS)}")
            continue
        trials = entry.get("trials")
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            errors.append(f"{where}: `trials` must be an integer >= 1. Received: {trials!r}")
        seed = entry.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            errors.append(f"{where}: `seed` must be an integer. Received: {seed!r}")
            seed = 0
        timeout = entry.get("timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
            errors.append(f"{where}: `timeout` must be a number of minutes > 0. Received: {timeout!r}")
            timeout = None
        pruner = str(entry.get("pruner", "median"))
        if pruner not in PRUNERS:
            errors.append(f"{where}: `pruner` must be one of {', '.join(PRUNERS)}. Received: {pruner!r}")
        recipe_class = get_solution(solution).recipe_class
        overrides = entry.get("set") or {}
        try:
            load_recipe(recipe_class, str(entry.get("recipe", "default")), overrides)
            read_space(recipe_class, entry["space"]) if entry.get("space") else default_space(recipe_class)
        except SolutionsError as error:
            errors.append(f"{where}: {error}")
        options = {k: entry[k] for k in DATA_OPTIONS if entry.get(k) is not None}
        try:
            resolve_data(data, **options)
        except SolutionsError as error:
            errors.append(f"{where}: {error}")
        name = _slug(str(entry.get("name") or f"{solution}-{Path(data).stem}-tuned"))
        if name in names:
            errors.append(f"{where}: the name {name!r} is used twice; give each entry a distinct `name`")
        names.add(name)
        tunes.append(PlannedTune(name, solution, data, trials if isinstance(trials, int) else 1,
                                 str(entry.get("recipe", "default")), dict(overrides) if isinstance(overrides, dict) else {},
                                 entry.get("space"), timeout, pruner, seed, options))
    return tunes


def run_plan(plan: dict[str, Any] | Plan, out: str | Path | None = None, progress: bool = True, jobs: int = 1):
    """Validate and execute a plan; return the leaderboard as a pandas DataFrame.

    `jobs`: how many runs and evaluations at once, each in a process of its own (batch/parallel.py); an
    evaluation starts once the run it evaluates has finished. The leaderboard is the same for every `jobs`:
    each entry trains with the plan's `threads` whatever `jobs` is. With jobs=1 and no `threads`, entries
    run one after another in this process.

    Writes <out>/runs/<name>-seed<k>/, <out>/evaluations/<name>/, and
    <out>/leaderboard.csv, leaderboard.html, results.csv (one row per run).
    The output folder's lock is held throughout: a second plan on it raises FolderInUseError before
    anything runs. A full disk stops the plan (DiskFullError) instead of failing every run after it.
    """
    from solutions.batch.leaderboard import aggregate, write_leaderboard
    from solutions.core.runs import run_lock

    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise UsageError(f"jobs must be an integer >= 1 (runs and evaluations at once). Received: {jobs!r}.")
    if not isinstance(plan, Plan):
        plan = validate_plan(plan, out or "runs/batch")
    root = Path(out) if out is not None else plan.out
    with run_lock(root, what="Batch output folder", fix="pass another --out (or another `out:` in the plan)"):
        if jobs > 1 or plan.threads is not None:
            from solutions.batch.parallel import run_entries

            rows = run_entries(plan, root, progress, jobs)
        else:
            rows = [_execute_run(run, root / "runs" / run.folder, progress) for run in plan.runs]
            for evaluation in plan.evaluations:
                rows.append(_execute_evaluation(evaluation, evaluated_run_dir(plan, root, evaluation),
                                                root / "evaluations" / evaluation.name, progress))
        rows += [_execute_tune(tune, root / "tunes" / tune.name, progress) for tune in plan.tunes]
        board = aggregate(rows)
        write_leaderboard(root, rows, board)
    return board


def _execute_tune(planned: PlannedTune, folder: Path, progress: bool) -> dict[str, Any]:
    """Run (or continue) a planned study; its row holds the best run's test metric, kind "tuned run"."""
    from solutions.batch.tune import tune

    row = {"kind": "tuned run", "name": planned.name, "solution": planned.solution, "data": planned.data,
           "recipe": planned.recipe, "seed": planned.seed, "run_dir": str(folder / "best")}
    try:
        result = tune(planned.solution, planned.data, trials=planned.trials, recipe=planned.recipe,
                      overrides=planned.overrides, space=planned.space, timeout_minutes=planned.timeout, out=folder,
                      pruner=planned.pruner, seed=planned.seed, data_options=planned.data_options, progress=progress,
                      command=["ksol", "batch", f"tunes/{planned.name}"])
        if result.best_run is None:
            return {**row, "status": "failed", "error": "another process is writing the best run"}
        report = result.best_run.report
        return {**row, **_metrics_row({"primary_metric": report.primary_metric, "metrics": report.metrics}),
                "status": f"done (best of {result.trials['complete']} trials)"}
    except DiskFullError:
        raise
    except Exception as error:  # a failed study is recorded and the plan goes on
        if progress:
            print(f"== batch: tune {planned.name} failed: {error}", file=sys.stderr, flush=True)
        return {**row, "status": "failed", "error": str(error)}


def evaluated_run_dir(plan: Plan, root: Path, evaluation: PlannedEvaluation) -> Path:
    """The run folder an evaluation reads: its planned run's first seed, else the run directory it names."""
    for run in plan.runs:
        if run.name == evaluation.run:
            return root / "runs" / run.folder
    return Path(evaluation.run)


def run_row(run: PlannedRun, folder: Path) -> dict[str, Any]:
    """The leaderboard row of a planned run before it has results."""
    return {"kind": "run", "name": run.name, "solution": run.solution, "data": run.data, "recipe": run.recipe,
            "seed": run.seed, "run_dir": str(folder)}


def finished_run(run: PlannedRun, folder: Path) -> dict[str, Any] | None:
    """The row of a run that finished earlier (manifest and metrics in its folder), else None."""
    from solutions.core.runs import read_json

    if (folder / "manifest.json").is_file() and (folder / "metrics.json").is_file():
        return {**run_row(run, folder), **_metrics_row(read_json(folder / "metrics.json")),
                "status": "done (skipped: finished earlier)"}
    return None


def _execute_run(run: PlannedRun, folder: Path, progress: bool) -> dict[str, Any]:
    from solutions import get_solution
    from solutions.core.datasets import resolve_data
    from solutions.core.runs import atomic_write_json, sweep_temporaries
    from solutions.core.training import checkpoint_exists
    from solutions.core.workflow import train_run

    row = run_row(run, folder)
    finished = finished_run(run, folder)
    if finished is not None:
        return finished
    try:
        sweep_temporaries(folder)  # what a run killed mid-write (a checkpoint, say) left behind
        resume = checkpoint_exists(folder / "checkpoints")
        if not resume and folder.exists():
            import shutil

            shutil.rmtree(folder)
        if progress:
            print(f"== batch: {run.folder} ({'resuming' if resume else 'training'})", file=sys.stderr, flush=True)
        solution = get_solution(run.solution)(recipe=run.recipe, **run.overrides)
        report = train_run(solution, resolve_data(run.data, **run.data_options), folder, resume=resume, progress=progress,
                           command=["ksol", "batch", run.folder]).report
        return {**row, **_metrics_row({"primary_metric": report.primary_metric, "metrics": report.metrics}), "status": "done"}
    except DiskFullError:  # every run after this one would fail the same way
        raise
    except Exception as error:  # a failed run is recorded and the plan goes on
        message = f"{type(error).__name__}: {error}"
        if not isinstance(error, SolutionsError):
            message += " | " + traceback.format_exc(limit=3).replace("\n", " ")
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / "error.json", {"error": message})
        if progress:
            print(f"== batch: {run.folder} failed: {error}", file=sys.stderr, flush=True)
        return {**row, "status": "failed", "error": str(error)}


def evaluation_row(evaluation: PlannedEvaluation, run_dir: Path) -> dict[str, Any]:
    """The leaderboard row of a planned evaluation before it has results."""
    return {"kind": "evaluation", "name": evaluation.name, "data": evaluation.data, "run_dir": str(run_dir), "seed": None}


def finished_evaluation(evaluation: PlannedEvaluation, run_dir: Path, folder: Path) -> dict[str, Any] | None:
    """The row of an evaluation that finished earlier (metrics in its folder), else None."""
    from solutions.core.runs import read_json

    if (folder / "metrics.json").is_file():
        manifest = read_json(run_dir / "manifest.json")
        return {**evaluation_row(evaluation, run_dir), "solution": manifest.get("solution"),
                **_metrics_row(read_json(folder / "metrics.json")), "status": "done (skipped: finished earlier)"}
    return None


def _execute_evaluation(evaluation: PlannedEvaluation, run_dir: Path, folder: Path, progress: bool) -> dict[str, Any]:
    from solutions import get_solution
    from solutions.core.datasets import resolve_data
    from solutions.core.runs import check_run_dir, read_json, sweep_temporaries

    row = evaluation_row(evaluation, run_dir)
    finished = finished_evaluation(evaluation, run_dir, folder)
    if finished is not None:
        return finished
    try:
        check_run_dir(run_dir)
        manifest = read_json(run_dir / "manifest.json")
        row["solution"] = manifest.get("solution")
        solution = get_solution(manifest["solution"]).load(run_dir)
        report = solution.evaluate(resolve_data(evaluation.data, **evaluation.data_options))
        sweep_temporaries(folder)
        solution.write_report(folder, report)
        return {**row, **_metrics_row({"primary_metric": report.primary_metric, "metrics": report.metrics}), "status": "done"}
    except DiskFullError:
        raise
    except Exception as error:
        if progress:
            print(f"== batch: evaluation {evaluation.name} failed: {error}", file=sys.stderr, flush=True)
        return {**row, "status": "failed", "error": str(error)}


def _metrics_row(metrics: dict[str, Any]) -> dict[str, Any]:
    primary = metrics["primary_metric"]
    entry = metrics["metrics"][primary]
    return {"metric": primary, "value": entry.get("value"), "low": entry.get("low"), "high": entry.get("high")}


def _unknown_keys(entry: dict[str, Any], known: tuple[str, ...], where: str, errors: list[str]) -> None:
    for key in entry:
        if key not in known:
            errors.append(f"{where}: unknown key {key!r}.{did_you_mean(key, known)} Known keys: {', '.join(known)}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"
