import json

import numpy as np

from solutions.core.render import render_figures, render_html, render_markdown
from solutions.core.report import (
    Report, confusion_matrix_section, images_section, lines_section, metric_entry, metrics_section, table_section,
)
from solutions.core.metrics import Interval

EVIL = '<script>alert("x")</script>'


def make_report() -> Report:
    metrics = {"accuracy": metric_entry(Interval(0.9, 0.8, 0.95))}
    return Report(
        solution="demo", title=f"Report on {EVIL}", primary_metric="accuracy", metrics=metrics,
        sections=[
            metrics_section("Headline", metrics),
            table_section("Per class", ["class", "f1"], [[EVIL, 0.5], ["a|b", 0.25]]),
            confusion_matrix_section("Confusion", np.array([[3, 1], [0, 4]]), (EVIL, "b")),
            lines_section("Curve", [{"name": "loss", "x": [1, 2], "y": [1.0, 0.5]}], "epoch", "loss"),
            images_section("Thumbs", [(np.zeros((8, 8, 3), np.uint8), EVIL)]),
        ],
    )


def test_html_escapes_user_text_and_embeds_every_figure():
    page = render_html(make_report())
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("data:image/png;base64,") == 3
    assert "http://" not in page and "https://" not in page


def test_markdown_escapes_tables_and_links_figures():
    text = render_markdown(make_report())
    assert "<script>" not in text
    assert "a\\|b" in text
    assert "](figures/02-confusion.png)" in text


def test_report_round_trips_through_json():
    report = make_report()
    again = Report.from_dict(json.loads(report.to_json()))
    assert again.to_dict() == report.to_dict()
    assert again.primary == {"value": 0.9, "low": 0.8, "high": 0.95, "confidence": 0.95}


def test_figures_are_png_files():
    figures = render_figures(make_report())
    assert sorted(figures) == ["02-confusion.png", "03-curve.png", "04-thumbs-00.png"]
    assert all(data[:8] == b"\x89PNG\r\n\x1a\n" for data in figures.values())


def test_markdown_keeps_apostrophes_readable():
    from solutions.core.render import _md

    assert _md("the patient's <b>") == "the patient's &lt;b&gt;"


def _numbers_report() -> Report:
    metrics = {"cost": metric_entry(Interval(1205.0, 795.0, 1500.0)), "auprc": metric_entry(0.5)}
    return Report(
        solution="demo", title="Numbers", primary_metric="cost", metrics=metrics,
        sections=[
            metrics_section("Headline", metrics),
            table_section("Thresholds", ["which", "alerts", "precision", "cost", "savings", "mean score"], [
                ["chosen", 1205, 1.0, 1205.0, 795.0, 612.25],
                ["top 1%", 3, 0.5, 795.0, 1205.0, 598.5],
                ["none", 0, float("nan"), 2000.0, 0.0, 600.0],
            ]),
        ],
    )


def test_numbers_of_one_column_share_one_format_in_markdown_and_html():
    import re

    text = render_markdown(_numbers_report())
    table = [line for line in text.splitlines() if line.startswith("| chosen") or line.startswith("| top")
             or line.startswith("| none")]
    assert table == ["| chosen | 1,205 | 1.0000 | 1,205 | 795 | 612.2 |",
                     "| top 1% | 3 | 0.5000 | 795 | 1,205 | 598.5 |",
                     "| none | 0 | — | 2,000 | 0 | 600.0 |"]
    assert "| cost | 1,205 | \\[795, 1,500\\] |" in text and "| auprc | 0.5000 |  |" in text
    assert "**cost: 1,205 (95% CI [795, 1,500])**" in text
    page = render_html(_numbers_report())
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells[cells.index("chosen"):] == ["chosen", "1,205", "1.0000", "1,205", "795", "612.2",
                                            "top 1%", "3", "0.5000", "795", "1,205", "598.5",
                                            "none", "0", "—", "2,000", "0", "600.0"]
    assert "795.0000" not in page and "795.0000" not in text


def test_html_tables_scroll_sideways_in_their_own_box():
    import re

    page = render_html(_numbers_report())
    assert page.count("<table>") == 2
    assert page.count('<div class="table-wrap"><table>') == 2 and page.count("</table></div>") == 2
    css = re.search(r"\.table-wrap \{([^}]*)\}", page)
    assert css and "overflow-x: auto" in css.group(1)
    assert re.search(r"<section><h2>Thresholds</h2>\s*<div class=\"table-wrap\"><table>", page)
