"""The report frame every solution shares, around the sections a domain's evaluation returns.

`assemble_report` puts the verdict (the network against the best baseline of the
same split, with a paired interval), the headline metrics, the baselines, the
domain's sections, the training curves, the data summary and the environment in
one `Report` value; `write_report_files` renders a report into a folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from solutions.core.evaluation import verdict as compare_with_baselines
from solutions.core.report import Report, Section, Verdict, lines_section, metrics_section, table_section, text_section
from solutions.core.runs import atomic_path, atomic_write_json, atomic_write_text, environment
from solutions.core.wording import agree, listed_pairs, plural

MAX_DROPPED_LISTED = 20  # dropped inputs named in the Data section
NEW_DATA_NO_BASELINE = ("No baseline was fitted: this report evaluates a saved model on new data, "
                        "which has no training split to fit baselines on.")


def assemble_report(*, solution: str, title: str, evaluation, data_name: str, data_summary: dict[str, Any], new_data: bool,
                    recipe: dict[str, Any], history: list[dict[str, Any]] | None, training: dict[str, Any] | None) -> Report:
    """A Report value from a domain's Evaluation plus what every report shows."""
    verdict = None if new_data else compare_with_baselines(evaluation.comparison, evaluation.primary_metric)
    sections = [verdict_section(verdict, new_data, bool(evaluation.baselines)),
                metrics_section("Headline metrics (test)", evaluation.metrics,
                                "95% intervals from 1,000 bootstrap resamples of the test set.")]
    if evaluation.baselines:
        rows = [[name] + [values.get(m, {}).get("value", float("nan")) for m in evaluation.metrics]
                for name, values in evaluation.baselines.items()]
        rows.insert(0, ["this model"] + [evaluation.metrics[m]["value"] for m in evaluation.metrics])
        sections.append(table_section("Baselines on the same split", ["model", *evaluation.metrics], rows,
                                      "Simple models trained on the same training split and scored on the same test split."))
    sections.extend(evaluation.sections)
    if history:
        sections.extend(training_curves(history))
    sections.append(data_summary_section(data_summary))
    env = environment()
    sections.append(table_section("Environment", ["component", "version"], [[k, v] for k, v in env.items()]))
    metrics = dict(evaluation.metrics)
    for name, values in evaluation.baselines.items():
        for metric, entry in values.items():
            metrics[f"baseline/{name}/{metric}"] = entry
    if verdict is not None:
        metrics["verdict/difference"] = {"value": verdict.difference, "low": verdict.low, "high": verdict.high,
                                         "confidence": verdict.confidence}
    return Report(solution=solution, title=f"{title}: {data_name}", primary_metric=evaluation.primary_metric, metrics=metrics,
                  sections=sections, info={"data": data_name, "recipe": recipe, "environment": env,
                                           "training": training},
                  verdict=verdict, predictions=evaluation.predictions, artifacts=dict(evaluation.artifacts))


def verdict_section(verdict: Verdict | None, new_data: bool, has_baselines: bool = False) -> Section:
    """The verdict in one sentence, right under the headline: how far the network is from the best
    baseline on the primary metric, the paired interval, and whether that is a clear win."""
    if verdict is None:
        if new_data:
            return text_section("Verdict", NEW_DATA_NO_BASELINE)
        return text_section("Verdict", "No paired comparison: no baseline has per-example scores and a defined "
                                       "primary metric on this split." if has_baselines else "No baseline on this split.")
    side = "above" if verdict.higher_is_better else "below"
    among = f"the best of {verdict.n_baselines} baselines" if verdict.n_baselines > 1 else "the baseline"
    note = (f"This model {_number(verdict.value)} against {verdict.baseline} {_number(verdict.baseline_value)} on "
            f"{verdict.metric} ({among} on this split; {'lower' if not verdict.higher_is_better else 'higher'} is better). "
            f"Paired bootstrap: the same {verdict.n_resamples:,} resamples of the test set score both models; "
            f"a clear win when the whole {verdict.confidence:.0%} interval of the difference is {side} 0.")
    return Section(f"Verdict against {verdict.baseline}", "text", {"text": verdict.sentence() + ".", "outcome": verdict.outcome},
                   note)


def _number(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 10 else f"{value:,.2f}"


def write_report_files(out_dir: Path, report: Report) -> dict[str, Path]:
    """Render a report value into `out_dir`: report.json, metrics.json, report.md, report.html, figures/,
    and, when the report carries them, predictions.csv and its JSON artifacts."""
    from solutions.core.render import render_figures, render_html, render_markdown

    out_dir = Path(out_dir)
    with atomic_path(out_dir / "figures") as tmp:
        tmp.mkdir()
        for name, data in render_figures(report).items():
            (tmp / name).write_bytes(data)
    atomic_write_text(out_dir / "report.json", report.to_json())
    atomic_write_json(out_dir / "metrics.json", {"primary_metric": report.primary_metric, "metrics": report.metrics,
                                                 "verdict": None if report.verdict is None else report.verdict.to_dict()})
    atomic_write_text(out_dir / "report.md", render_markdown(report, "figures"))
    atomic_write_text(out_dir / "report.html", render_html(report))
    if report.predictions is not None:
        atomic_write_text(out_dir / "predictions.csv", report.predictions.to_csv(index=False))
    for name, value in report.artifacts.items():
        atomic_write_json(out_dir / name, value)
    return {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}


def training_curves(history: list[dict[str, Any]]) -> list[Section]:
    """One line plot per validation figure in the history: training and validation side by side."""
    epochs = [h["epoch"] for h in history]
    sections = []
    names = sorted({k for h in history for k in h if k.startswith("val_")})
    for val_name in names:
        name = val_name[4:]
        series = [{"name": f"train {name}", "x": epochs, "y": [h.get(name, float("nan")) for h in history]},
                  {"name": f"validation {name}", "x": epochs, "y": [h.get(val_name, float("nan")) for h in history], "style": "--"}]
        sections.append(lines_section(f"Training curve: {name}", series, "epoch", name))
    return sections


def data_summary_section(summary: dict[str, Any]) -> Section:
    """Class counts per split, and what was dropped and why: each dropped input named (the first 20)."""
    splits = summary.get("splits", {})
    classes = sorted({c for s in splits.values() for c in s["classes"]})
    rows = [[c] + [splits[s]["classes"].get(c, 0) for s in splits] for c in classes]
    rows.append(["total"] + [splits[s]["size"] for s in splits])
    dropped = summary.get("dropped", {})
    notes = list(summary.get("notes", []))
    if dropped.get("count"):
        count, named = int(dropped["count"]), list(dropped.get("examples", []))[:MAX_DROPPED_LISTED]
        dropped_text = f"{plural(count, 'input')} {agree(count, 'was', 'were')} dropped"
        reasons = ", ".join(f"{reason}: {n}" for reason, n in dropped.get("by_reason", {}).items())
        if named and len(named) >= count:  # every one named, each with its reason
            notes.append(f"{dropped_text}: {listed_pairs(named)}")
        else:
            notes.append(dropped_text + (f" ({reasons})" if reasons else "")
                         + (f"; the first {len(named)}: {listed_pairs(named)}" if named else ""))
    else:
        notes.append("No inputs were dropped.")
    return table_section("Data", ["class", *splits], rows, "; ".join(n.rstrip(".") for n in notes) + ".")
