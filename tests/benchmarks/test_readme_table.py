"""benchmarks/readme_table.py: the compact README table and the full benchmarks/RESULTS.md.

benchmarks/ is not a package: its scripts import `_common` by sys.path, so the test does the same.
No TensorFlow is imported (readme_table only reads JSON).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import readme_table as rt  # noqa: E402

DATA = "toy split"


def _row(name, metric, value, *, unit="", low=None, high=None, reference="", notes=""):
    entry = {"dataset": DATA, "row": name, "metric": metric, "value": value, "unit": unit}
    if low is not None:
        entry.update(low=low, high=high)
    entry.update(reference=reference, notes=notes)
    return entry


def accuracy_result():
    """Higher-is-better: ours 0.80 is best (not 0.70), the best baseline 0.60, the best published 0.90."""
    return {"domain": "toy_accuracy", "primary_metric": "test accuracy", "command": "python toy.py", "date": "today",
            "machine": {"device": "CPU", "cpu_count": 2},
            "rows": [
                _row("small model", "test accuracy", 0.70, unit="fraction", low=0.65, high=0.75),
                _row("big model", "test accuracy", 0.80, unit="fraction", low=0.78, high=0.82),
                _row("big model", "training time", 5.0, unit="s"),
                _row("baseline: majority class", "test accuracy", 0.10, unit="fraction"),
                _row("baseline: logistic regression", "test accuracy", 0.60, unit="fraction", low=0.55, high=0.65),
                _row("TF-IDF + LR (run here)", "test accuracy", 0.50, unit="fraction"),
                _row("published: Paper net", "test accuracy", 0.90, unit="fraction", reference="Someone 2020"),
                _row("published: Old net", "test accuracy", 0.85, unit="fraction", reference="Someone 2010"),
                _row("big model / logistic regression", "accuracy ratio", 5.0, unit="ratio"),  # another metric
            ]}


def cost_result():
    """Lower-is-better: ours 0.50 (not 0.55) is best, the best baseline is 0.52 (not 0.70)."""
    return {"domain": "toy_cost", "primary_metric": "cost per applicant", "rows": [
        _row("model A", "cost per applicant", 0.55, low=0.50, high=0.60),
        _row("model B", "cost per applicant", 0.50, low=0.45, high=0.55),
        _row("model B", "ROC-AUC", 0.99),  # not the compared metric: ignored by the compact row
        _row("baseline: refuse everyone", "cost per applicant", 0.70, low=0.70, high=0.70),
        _row("baseline: scorecard", "cost per applicant", 0.52, low=0.40, high=0.64),
    ]}


def test_direction_and_role_are_read_from_the_row():
    assert rt.higher_is_better({"metric": "test AUPRC"})
    assert not rt.higher_is_better({"metric": "cost per applicant"})
    assert not rt.higher_is_better({"metric": "median latency"})
    assert rt.higher_is_better({"metric": "prediction throughput"})
    assert rt.higher_is_better({"metric": "cost per applicant", "higher_is_better": True})  # explicit key wins
    assert rt.role({"row": "published: X", "metric": "m"}) == "published"
    assert rt.role({"row": "baseline: X", "metric": "m"}) == "baseline"
    assert rt.role({"row": "class-mean box (trivial baseline)", "metric": "m"}) == "baseline"
    assert rt.role({"row": "NBSVM (run here)", "metric": "m"}) == "baseline"
    assert rt.role({"row": "a / b", "metric": "AUPRC ratio"}) == "derived"
    assert rt.role({"row": "ours", "metric": "m"}) == "ours"
    assert rt.role({"row": "baseline: X", "metric": "m", "role": "ours"}) == "ours"


def test_compact_row_picks_the_best_of_each_role_higher_is_better():
    (summary,) = rt.compact_rows(accuracy_result())
    assert summary["higher_is_better"]
    assert summary["ours"]["row"] == "big model"  # 0.80 beats 0.70; published 0.90 and baselines are not ours
    assert summary["baseline"]["row"] == "baseline: logistic regression"
    assert summary["published"]["row"] == "published: Paper net"
    assert summary["ratio_baseline"] == pytest.approx(0.80 / 0.60)
    assert summary["ratio_published"] == pytest.approx(0.80 / 0.90)
    assert rt.ratio_text(summary["ours"], summary["baseline"], True, "baseline") == "1.333: ours ahead"
    assert rt.ratio_text(summary["ours"], summary["published"], True, "published") == "0.889: published ahead"


def test_compact_row_shows_the_default_recipe_where_a_row_is_named_so():
    result = cost_result()
    result["rows"][0]["row"] = "model A (default)"  # 0.55: worse on this split than model B's 0.50
    (summary,) = rt.compact_rows(result)
    assert summary["ours"]["row"] == "model A (default)" and summary["ratio_baseline"] == pytest.approx(0.55 / 0.52)
    assert summary["best_ours"]["row"] == "model B"  # still named beside it in the README cell
    assert "; best row: 0.5" in rt.compact_markdown([result]) and "model B" in rt.compact_markdown([result])


def test_compact_row_lower_is_better_picks_minimum_and_ratio_below_one_is_ours_ahead():
    (summary,) = rt.compact_rows(cost_result())
    assert not summary["higher_is_better"]
    assert summary["ours"]["row"] == "model B"
    assert summary["baseline"]["row"] == "baseline: scorecard"
    assert summary["published"] is None and summary["ratio_published"] is None
    assert summary["ratio_baseline"] == pytest.approx(0.50 / 0.52)
    text = rt.ratio_text(summary["ours"], summary["baseline"], False, "baseline")
    assert text == "0.962: ours ahead; 95% intervals overlap"
    # the same numbers on a higher-is-better metric would put the baseline ahead
    assert rt.ratio_text(summary["ours"], summary["baseline"], True, "baseline").startswith("0.962: baseline ahead")


def test_update_readme_writes_compact_table_and_every_row_to_results_file(tmp_path):
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    for result in (accuracy_result(), cost_result()):
        (results_dir / f"{result['domain']}.json").write_text(json.dumps(result), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nIntro.\n\n## Results\n\n{rt.START}\nold table\n{rt.END}\n\n## After\n\nKept.\n",
                      encoding="utf-8")
    results_file = tmp_path / "benchmarks" / "RESULTS.md"

    assert rt.update_readme(readme, results_dir, results_file)

    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nIntro.\n\n## Results\n\n") and text.endswith(f"{rt.END}\n\n## After\n\nKept.\n")
    assert "old table" not in text
    block = text.split(rt.START, 1)[1].split(rt.END, 1)[0]
    table = [line for line in block.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 2  # header + one row per domain and dataset
    accuracy_line = next(line for line in table if line.startswith("| toy_accuracy |"))
    assert "test accuracy: higher is better" in accuracy_line
    assert "80.0% [78.0, 82.0] — big model" in accuracy_line
    assert "60.0% [55.0, 65.0] — logistic regression" in accuracy_line
    assert "90.0% — Paper net (Someone 2020)" in accuracy_line
    cost_line = next(line for line in table if line.startswith("| toy_cost |"))
    assert "cost per applicant: lower is better" in cost_line and "0.962: ours ahead" in cost_line
    assert "[benchmarks/RESULTS.md](benchmarks/RESULTS.md)" in block  # relative to the README

    full = results_file.read_text(encoding="utf-8")
    full_rows = [line for line in full.splitlines() if line.startswith("| toy_")]
    every = accuracy_result()["rows"] + cost_result()["rows"]
    assert len(full_rows) == len(every)
    for entry, line in zip(every, full_rows):
        assert f"| {entry['row']} | {entry['metric']} |" in line
    assert "| model B | cost per applicant | lower | 0.5 [0.45, 0.55] |" in full
    assert "- toy_accuracy: `python toy.py` on today; CPU, 2 CPUs" in full

    # regenerating changes nothing
    before = (text, full)
    assert rt.update_readme(readme, results_dir, results_file)
    assert (readme.read_text(encoding="utf-8"), results_file.read_text(encoding="utf-8")) == before


def test_readme_without_markers_gets_a_section_and_missing_readme_is_left_missing(tmp_path):
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    (results_dir / "toy_cost.json").write_text(json.dumps(cost_result()), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n", encoding="utf-8")
    assert rt.update_readme(readme, results_dir, tmp_path / "RESULTS.md")
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\n## Results\n\n" + rt.START) and text.endswith(rt.END + "\n")
    assert "[RESULTS.md](RESULTS.md)" in text

    missing = tmp_path / "nothing" / "README.md"
    assert not rt.update_readme(missing, results_dir, tmp_path / "RESULTS2.md")
    assert not missing.exists()
    assert "| toy_cost |" in (tmp_path / "RESULTS2.md").read_text(encoding="utf-8")


def test_no_tensorflow_import():
    """A fresh interpreter imports readme_table without TensorFlow."""
    import subprocess

    code = ("import sys; sys.path.insert(0, %r); import readme_table; "
            "sys.exit(1 if 'tensorflow' in sys.modules else 0)") % str(BENCH_DIR)
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
