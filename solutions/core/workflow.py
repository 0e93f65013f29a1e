"""train_run: train a solution, evaluate it on its test split and write its run directory.

The one sequence behind `ksol train`, `ksol demo` and every run of a batch plan,
so a run directory holds the same files however it was made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from solutions.core.datasets import DataSource
from solutions.core.report import Report


@dataclass(frozen=True)
class RunResult:
    """What a finished run wrote: its folder, its report and the report's file paths."""

    solution: str
    run_dir: Path
    report: Report
    paths: dict[str, Path]

    def summary(self) -> dict[str, Any]:
        """The headline of the run as a JSON-ready dict (what `ksol train --json` prints)."""
        return {"solution": self.solution, "run_dir": str(self.run_dir), "primary_metric": self.report.primary_metric,
                **{k: self.report.primary.get(k) for k in ("value", "low", "high")},
                "report_html": str(self.paths["html"]), "report_md": str(self.paths["md"])}


def train_run(solution, data: str | Path | DataSource, run_dir: str | Path, *, resume: bool = False, progress: bool = True,
              command: list[str] | None = None, callbacks: list[Any] | None = None) -> RunResult:
    """Fit `solution` on `data` with checkpoints in `run_dir`, evaluate it on the test split, write the report
    and then the model, recipe, decision and manifest (the model last: a run with model.keras is complete)."""
    began = time.perf_counter()
    solution.fit(data, run_dir=run_dir, resume=resume, progress=progress, callbacks=callbacks)
    evaluated = time.perf_counter()
    report = solution.evaluate()
    paths = solution.write_report(run_dir, report)
    now = time.perf_counter()
    solution.save(run_dir, command=command, timings={"evaluate_seconds": now - evaluated, "total_seconds": now - began})
    return RunResult(solution.name, Path(run_dir), report, paths)
