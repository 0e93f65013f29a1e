"""Scripted batch evaluation: a plan of runs and evaluations -> one leaderboard.

A plan (YAML or a dict):

    out: runs/batch                  # where runs, evaluations and the leaderboard go
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

The whole plan is validated before anything runs, and every error is listed at
once. Each run and evaluation writes its own folder; a failure is recorded and
the rest go on; starting the same plan again skips what already finished and
resumes interrupted runs from their checkpoints.
"""

from __future__ import annotations

import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solutions.core.errors import ConfigError, DiskFullError, SolutionsError, did_you_mean

PLAN_KEYS = ("out", "runs", "evaluations")
RUN_KEYS = ("solution", "data", "recipe", "set", "seeds", "name", "label", "text", "id", "time", "positive")
EVALUATION_KEYS = ("run", "data", "name", "label", "text", "id", "time", "positive")
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
class Plan:
    out: Path
    runs: tuple[PlannedRun, ...]
    evaluations: tuple[PlannedEvaluation, ...]


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
    if not isinstance(raw_runs, list) or not raw_runs and not plan.get("evaluations"):
        errors.append("the plan needs a non-empty list under `runs:` (or `evaluations:`)")
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
    if errors:
        listed = "\n  - ".join(errors)
        raise ConfigError(f"The plan has {len(errors)} problem{'s' if len(errors) > 1 else ''}; nothing was run:\n  - {listed}")
    return Plan(out=Path(plan.get("out") or default_out), runs=tuple(runs), evaluations=tuple(evaluations))


def run_plan(plan: dict[str, Any] | Plan, out: str | Path | None = None, progress: bool = True):
    """Validate and execute a plan; return the leaderboard as a pandas DataFrame.

    Writes <out>/runs/<name>-seed<k>/, <out>/evaluations/<name>/, and
    <out>/leaderboard.csv, leaderboard.html, results.csv (one row per run).
    The output folder's lock is held throughout: a second plan on it raises FolderInUseError before
    anything runs. A full disk stops the plan (DiskFullError) instead of failing every run after it.
    """
    from solutions.batch.leaderboard import aggregate, write_leaderboard
    from solutions.core.runs import run_lock

    if not isinstance(plan, Plan):
        plan = validate_plan(plan, out or "runs/batch")
    root = Path(out) if out is not None else plan.out
    with run_lock(root, what="Batch output folder", fix="pass another --out (or another `out:` in the plan)"):
        rows = [_execute_run(run, root / "runs" / run.folder, progress) for run in plan.runs]
        first_seed = {}
        for run in plan.runs:
            first_seed.setdefault(run.name, root / "runs" / run.folder)
        for evaluation in plan.evaluations:
            run_dir = first_seed.get(evaluation.run, Path(evaluation.run))
            rows.append(_execute_evaluation(evaluation, run_dir, root / "evaluations" / evaluation.name, progress))
        board = aggregate(rows)
        write_leaderboard(root, rows, board)
    return board


def _execute_run(run: PlannedRun, folder: Path, progress: bool) -> dict[str, Any]:
    from solutions import get_solution
    from solutions.core.datasets import resolve_data
    from solutions.core.runs import atomic_write_json, read_json, sweep_temporaries
    from solutions.core.training import checkpoint_exists
    from solutions.core.workflow import train_run

    row = {"kind": "run", "name": run.name, "solution": run.solution, "data": run.data, "recipe": run.recipe,
           "seed": run.seed, "run_dir": str(folder)}
    if (folder / "manifest.json").is_file() and (folder / "metrics.json").is_file():
        return {**row, **_metrics_row(read_json(folder / "metrics.json")), "status": "done (skipped: finished earlier)"}
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


def _execute_evaluation(evaluation: PlannedEvaluation, run_dir: Path, folder: Path, progress: bool) -> dict[str, Any]:
    from solutions import get_solution
    from solutions.core.datasets import resolve_data
    from solutions.core.runs import check_run_dir, read_json, sweep_temporaries

    row = {"kind": "evaluation", "name": evaluation.name, "data": evaluation.data, "run_dir": str(run_dir), "seed": None}
    if (folder / "metrics.json").is_file():
        manifest = read_json(run_dir / "manifest.json")
        return {**row, "solution": manifest.get("solution"), **_metrics_row(read_json(folder / "metrics.json")),
                "status": "done (skipped: finished earlier)"}
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
