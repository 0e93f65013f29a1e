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
