"""Helpers shared by the benchmark scripts: the machine, the results file, the printed table.

Every domain script writes `benchmarks/results/<domain>.json`:

    {"domain": ..., "command": ..., "date": ..., "machine": {...}, "settings": {...}, "rows": [row, ...]}

A row is {"dataset", "row", "metric", "value", "unit", "reference", "notes"} with
optional "low"/"high" (a 95% interval). `unit` "fraction" is shown as a percentage.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from solutions.core.runs import atomic_write_json  # noqa: E402  (needs ROOT on sys.path)


def row(dataset: str, name: str, metric: str, value: float | None, *, unit: str = "", low: float | None = None,
        high: float | None = None, reference: str = "", notes: str = "") -> dict[str, Any]:
    """One results row (see the module docstring)."""
    entry: dict[str, Any] = {"dataset": dataset, "row": name, "metric": metric, "value": value, "unit": unit}
    if low is not None and high is not None:
        entry.update(low=low, high=high)
    entry.update(reference=reference, notes=notes)
    return entry


def device_used() -> str:
    """"GPU: <name>" for each visible GPU, else "CPU" (TensorFlow places work on the first GPU)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
    return "GPU: " + ", ".join(names)


def machine_info() -> dict[str, Any]:
    """CPU count, platform, library versions and the device training ran on."""
    versions = {}
    for package in ("tensorflow", "keras"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            **versions, "device": device_used(),
            # other work on the machine slows a benchmark down: the 1/5/15-minute load when it finished
            "load_average": [round(v, 2) for v in os.getloadavg()]}


def write_results(domain: str, rows: list[dict[str, Any]], settings: dict[str, Any]) -> Path:
    """Write benchmarks/results/<domain>.json atomically and return its path."""
    path = RESULTS_DIR / f"{domain}.json"
    atomic_write_json(path, {
        "domain": domain,
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "settings": settings,
        "rows": rows,
    })
    return path


def beside_previous(domain: str, rows: list[dict[str, Any]], settings: dict[str, Any]) -> tuple[list, dict]:
    """These rows, plus the results file's earlier rows that this run did not produce again (same dataset, row and metric),
    so a run of some variants leaves the others' rows in place; the settings say how many were kept and from when."""
    import json

    path = RESULTS_DIR / f"{domain}.json"
    if not path.is_file():
        return rows, settings
    previous = json.loads(path.read_text())
    ran = {(r.get("dataset"), r["row"], r["metric"]) for r in rows}
    kept = [r for r in previous["rows"] if (r.get("dataset"), r["row"], r["metric"]) not in ran]
    if not kept:
        return rows, settings
    return kept + rows, {**settings, "earlier_rows": f"{len(kept)} rows kept from the run of {previous.get('date')}",
                         "earlier_settings": previous.get("settings", {})}


def format_value(entry: dict[str, Any]) -> str:
    """A row's value as text: "81.2% [80.4, 82.0]" for fractions, "1,234 images/s" and so on."""
    value = entry.get("value")
    if value is None:
        return "n/a"
    if entry.get("unit") == "fraction":
        text = f"{100 * value:.1f}%"
        if "low" in entry:
            text += f" [{100 * entry['low']:.1f}, {100 * entry['high']:.1f}]"
        return text
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if "low" in entry:
        text += f" [{entry['low']:.3g}, {entry['high']:.3g}]"
    unit = entry.get("unit", "")
    return f"{text} {unit}".strip() if unit not in ("", "ratio") else text


def print_table(rows: list[dict[str, Any]]) -> None:
    """Print rows as an aligned text table on stdout."""
    header = ["row", "metric", "value", "published reference", "notes"]
    cells = [[r["row"], r["metric"], format_value(r), r.get("reference", ""), r.get("notes", "")] for r in rows]
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    for line in [header, ["-" * w for w in widths], *cells]:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
