"""The report of a tune: trials table, optimisation history and parameter importances, in the style of run reports.

`tune_report(study, info)` is a pure function of the study's trials (a Report value);
`write_tune_report` renders it into the tune's folder with trials.csv and tuning.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from solutions.core.report import Report, Section, lines_section, table_section, text_section

TRIAL_COLUMNS = ["trial", "state", "value", "epochs", "seconds", "retry_of", "note"]


def trial_rows(study) -> list[dict[str, Any]]:
    """One dict per trial: number, state, validation value, epochs, seconds, then its parameters."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        complete = trial.state.name == "COMPLETE"  # a pruned trial's value is its last epoch's figure: not shown
        rows.append({"trial": trial.number, "state": trial.state.name.lower(), "value": trial.value if complete else None,
                     "epochs": attrs.get("epochs", len(trial.intermediate_values) or None),
                     "seconds": attrs.get("seconds"), "retry_of": attrs.get("retry_of"),
                     "note": attrs.get("error") or attrs.get("note", ""),
                     **{f"param {k}": v for k, v in trial.params.items()}})
    return rows


def tune_report(study, info: dict[str, Any]) -> Report:
    """A Report value of the study: headline (best validation figure and, once trained, the best run's test figure)."""
    metric = info["metric"]
    metrics = {f"best validation {metric}": {"value": float(info["best_validation"])}}
    test = info.get("test")
    if test:
        metrics[f"test {metric} (best trial's run)"] = {k: test[k] for k in ("value", "low", "high", "confidence") if k in test}
    counts = info["trials"]
    sections = [
        Section("Search", "metrics", {"rows": [{"metric": k, **v} for k, v in metrics.items()]},
                f"Trials: {counts['complete']} complete, {counts['pruned']} pruned, {counts['failed']} failed"
                + (f", {counts['running']} running" if counts.get("running") else "")
                + f". The search read the validation split only; the best recipe was trained once more into best/, "
                  "whose report is the one reading of the test split."),
        table_section("Best recipe (trial {})".format(info["best_trial"]), ["key", "value"],
                      [[k, _shown(v)] for k, v in info["best_params"].items()]),
        table_section("Search space", ["key", "explored"], [[k, v] for k, v in info["space"].items()]
                      + [[k, f"fixed at {_shown(v)}"] for k, v in info.get("fixed", {}).items()]),
        history_section(study, metric),
        importance_section(study),
        trials_section(study),
    ]
    return Report(solution=info["solution"], title=f"Tuning {info['solution']}: {info['data']} (study {info['study']})",
                  primary_metric=f"best validation {metric}", metrics=metrics, sections=sections,
                  info={k: v for k, v in info.items() if k != "test"})


def history_section(study, metric: str) -> Section:
    """Each complete trial's validation figure and the best so far, by trial number."""
    done = [t for t in study.get_trials(deepcopy=False) if t.value is not None and t.state.name == "COMPLETE"]
    best, running = [], float("-inf")
    for trial in done:
        running = max(running, trial.value)
        best.append(running)
    series = [{"name": "trial", "x": [t.number for t in done], "y": [t.value for t in done], "style": "none", "marker": "o"},
              {"name": "best so far", "x": [t.number for t in done], "y": best}]
    return lines_section("Optimisation history", series, "trial", f"validation {metric}")


def importance_section(study) -> Section:
    """fANOVA importances of the parameters (Optuna's default evaluator), or why they are not shown."""
    import optuna

    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    try:
        importances = optuna.importance.get_param_importances(study) if len(complete) >= 2 else {}
    except (RuntimeError, ValueError) as error:
        return text_section("Parameter importances", f"Not computed: {error}")
    if not importances:
        return text_section("Parameter importances", "Not computed: it needs at least two complete trials.")
    labels = list(importances)
    return Section("Parameter importances", "plot", {"plot": "bars", "labels": labels,
                                                      "values": [float(importances[k]) for k in labels],
                                                      "x_label": "share of the variance of the validation figure"},
                   f"fANOVA over {len(complete)} complete trials (optuna.importance); with few trials these are rough.")


def trials_section(study) -> Section:
    rows = trial_rows(study)
    params = sorted({k for r in rows for k in r if k.startswith("param ")})
    columns = TRIAL_COLUMNS[:5] + params + ["note"]
    shown = [[r[c] if c in ("value", "seconds") and r[c] is not None else _shown(r.get(c)) for c in columns] for r in rows]
    return table_section("Trials", columns, shown)


def write_tune_report(out: Path, study, info: dict[str, Any]) -> dict[str, Path]:
    """trials.csv, tuning.json and report.{html,md,json} (+ figures/) in `out`."""
    import pandas as pd

    from solutions.core.report_frame import write_report_files
    from solutions.core.runs import atomic_write_json, atomic_write_text

    out = Path(out)
    atomic_write_text(out / "trials.csv", pd.DataFrame(trial_rows(study)).to_csv(index=False))
    atomic_write_json(out / "tuning.json", info)
    paths = write_report_files(out, tune_report(study, info))
    return {**paths, "trials": out / "trials.csv"}


def _shown(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float):  # parameters span decades (a weight decay of 2e-05): significant digits, not decimals
        return f"{value:.3g}"
    return value
