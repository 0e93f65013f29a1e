"""train_run: train a solution, evaluate it on its test split and write its run directory.

The one sequence behind `ksol train`, `ksol demo` and every run of a batch plan,
so a run directory holds the same files however it was made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solutions.core.datasets import DataSource
from solutions.core.distribution import writes_files
from solutions.core.report import Report
from solutions.core.runs import run_lock


@dataclass(frozen=True)
class RunResult:
    """What a finished run wrote: its folder, its report and the report's file paths; `dropped` is what the
    loader skipped ({"count", "by_reason", "examples": the first 20 (id, reason)}), for the caller to say."""

    solution: str
    run_dir: Path
    report: Report
    paths: dict[str, Path]
    dropped: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The headline of the run as a JSON-ready dict (what `ksol train --json` prints)."""
        return {"solution": self.solution, "run_dir": str(self.run_dir), "primary_metric": self.report.primary_metric,
                **{k: self.report.primary.get(k) for k in ("value", "low", "high")},
                "report_html": str(self.paths["html"]), "report_md": str(self.paths["md"]),
                "dropped": {"count": 0, "by_reason": {}, "examples": [], **self.dropped}}


def train_run(solution, data: str | Path | DataSource, run_dir: str | Path, *, resume: bool = False, progress: bool = True,
              command: list[str] | None = None, callbacks: list[Any] | None = None, tracker=None) -> RunResult:
    """Fit `solution` on `data` with checkpoints in `run_dir`, evaluate it on the test split, write the report
    and then the model, recipe, decision and manifest (the model last: a run with model.keras is complete).

    `tracker` (core.tracking.Tracker, which its caller opens and ends) records the recipe as parameters,
    each epoch's figures and, once the run's files are written, its test metrics and files. Without one,
    the recipe's `tracking` key opens one for this run alone (experiment: the solution's name; run name:
    the run folder's name), which ends FAILED if the run raises.

    Holds `run_dir`'s lock (core.runs.run_lock) throughout: another process writing it raises FolderInUseError.
    A non-chief worker of a distribution=multi_worker run trains and evaluates with the chief (they make the
    test predictions together) but takes no lock and writes nothing into `run_dir`: the chief writes it."""
    import contextlib

    from solutions.core.tracking import open_tracker

    began = time.perf_counter()
    recipe = solution.resolve_recipe()
    opened = (contextlib.nullcontext(tracker) if tracker is not None else
              open_tracker(recipe.tracking, experiment=solution.name, run_name=Path(run_dir).name))
    with run_lock(Path(run_dir)), opened as tracker:  # the tracker given, or the one opened here
        tracker.log_params(recipe.to_dict())
        tracker.set_tags({"ksol.solution": solution.name, "ksol.run_dir": str(Path(run_dir).resolve())})
        epoch_callback = tracker.epoch_callback()
        callbacks = [*(callbacks or []), *([epoch_callback] if epoch_callback is not None else [])]
        solution.fit(data, run_dir=run_dir, resume=resume, progress=progress, callbacks=callbacks)
        tracker.set_tags({"ksol.data": solution.data_["name"], "ksol.data_fingerprint": solution.data_["fingerprint"]})
        evaluated = time.perf_counter()
        report = solution.evaluate()  # on every worker of a multi-worker run: they make its predictions together
        paths = (solution.write_report(run_dir, report) if writes_files(recipe.distribution)  # else the chief writes them
                 else {kind: Path(run_dir) / f"report.{kind}" for kind in ("json", "md", "html")})
        now = time.perf_counter()
        solution.save(run_dir, command=command, timings={"evaluate_seconds": now - evaluated, "total_seconds": now - began})
        result = RunResult(solution.name, Path(run_dir), report, paths, dict(solution.data_["summary"].get("dropped", {})))
        tracker.log_result(result)
    return result
