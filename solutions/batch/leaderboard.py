"""The leaderboard of a batch: one row per (solution, data, run name), seeds aggregated.

A pure aggregation of result rows, then rendering to CSV and one self-contained,
escaped HTML page. `batch/plan.py` produces the rows.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

COLUMNS = ["solution", "data", "name", "kind", "metric", "seeds", "mean", "std", "min", "max",
           "mean_low", "mean_high", "failed", "errors"]


def aggregate(rows: list[dict[str, Any]]):
    """Group result rows by (solution, data, name, kind): mean, spread and intervals over seeds.

    >>> board = aggregate([{"solution": "s", "data": "d", "name": "n", "kind": "run", "metric": "accuracy",
    ...                     "value": v, "low": v - .1, "high": v + .1, "status": "done"} for v in (.8, .9)])
    >>> round(float(board.loc[0, "mean"]), 3), int(board.loc[0, "seeds"])
    (0.85, 2)
    """
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    for column in ("metric", "value", "low", "high", "error", "solution"):
        if column not in frame:
            frame[column] = np.nan
    frame["failed"] = frame["status"].eq("failed")
    groups = []
    for (solution, data, name, kind), group in frame.groupby(["solution", "data", "name", "kind"], dropna=False, sort=True):
        done = group[~group["failed"]]
        values = done["value"].astype(float)
        groups.append({
            "solution": solution, "data": data, "name": name, "kind": kind,
            "metric": done["metric"].iloc[0] if len(done) else "",
            "seeds": int(len(done)),
            "mean": values.mean() if len(values) else np.nan,
            "std": values.std(ddof=1) if len(values) > 1 else (0.0 if len(values) else np.nan),
            "min": values.min() if len(values) else np.nan,
            "max": values.max() if len(values) else np.nan,
            "mean_low": done["low"].astype(float).mean() if len(done) else np.nan,
            "mean_high": done["high"].astype(float).mean() if len(done) else np.nan,
            "failed": int(group["failed"].sum()),
            "errors": "; ".join(str(e) for e in group.loc[group["failed"], "error"].dropna().unique()),
        })
    board = pd.DataFrame(groups, columns=COLUMNS)
    return board.sort_values(["solution", "data", "mean"], ascending=[True, True, False], na_position="last").reset_index(drop=True)


def write_leaderboard(out: Path, rows: list[dict[str, Any]], board) -> dict[str, Path]:
    """Write results.csv (every run), leaderboard.csv and leaderboard.html into `out`."""
    import pandas as pd

    from solutions.core.runs import atomic_write_text

    out = Path(out)
    atomic_write_text(out / "results.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "leaderboard.csv", board.to_csv(index=False))
    atomic_write_text(out / "leaderboard.html", render_leaderboard_html(board))
    return {"results": out / "results.csv", "csv": out / "leaderboard.csv", "html": out / "leaderboard.html"}


def render_leaderboard_html(board) -> str:
    e = html.escape
    sections = []
    for (solution, data), group in board.groupby(["solution", "data"], sort=True, dropna=False):
        head = "".join(f"<th>{e(c)}</th>" for c in ("name", "kind", "metric", "seeds", "mean ± std", "mean 95% interval", "failed", "errors"))
        body = "".join(
            "<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in (
                r["name"], r["kind"], r["metric"], r["seeds"], _pm(r["mean"], r["std"]),
                _interval(r["mean_low"], r["mean_high"]), r["failed"], r["errors"])) + "</tr>"
            for _, r in group.iterrows())
        sections.append(f"<h2>{e(str(solution))} on {e(str(data))}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Leaderboard</title><style>"
            "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
            "table{border-collapse:collapse;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em}"
            "th{background:#f4f4f4}</style></head><body><h1>Leaderboard</h1>"
            "<p>Primary metric of each run on its test split; seeds aggregated as mean ± standard deviation.</p>"
            + "".join(sections) + "</body></html>\n")


def _pm(mean: float, std: float) -> str:
    return "—" if mean != mean else f"{mean:.4f} ± {std:.4f}"


def _interval(low: float, high: float) -> str:
    return "—" if low != low or high != high else f"[{low:.4f}, {high:.4f}]"
