"""The sentiment report's parts: escaping of user text, highlighted attributions, mistakes, baselines."""

from __future__ import annotations

import numpy as np
import pytest

from solutions.core.render import render_html, render_markdown
from solutions.core.report import Report, highlighted_text_section
from solutions.core.splits import Split
from solutions.sentiment.baselines import tfidf_logistic_regression, vader_logistic_regression
from solutions.sentiment.report import attribution_section, calibration_section, mistakes_section

HOSTILE = '<script>alert("x")</script>'


def _report(*sections) -> Report:
    return Report(solution="sentiment", title="t", primary_metric="accuracy", metrics={"accuracy": {"value": 0.5}},
                  sections=list(sections))


def test_highlighted_text_is_escaped_and_shaded_by_weight():
    section = highlighted_text_section("Token attributions", [(f"caption {HOSTILE}", ["fine", HOSTILE], [0.9, -0.5])])
    page = render_html(_report(section))
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert 'rgba(0,150,60,0.90)' in page and 'rgba(210,40,40,0.50)' in page
    markdown = render_markdown(_report(section))
    assert "<script>" not in markdown and "**fine**(+0.90)" in markdown
    with pytest.raises(ValueError, match="one weight"):
        highlighted_text_section("x", [("c", ["a", "b"], [1.0])])


def test_report_json_round_trips_the_new_section_kind():
    section = highlighted_text_section("Why", [("c", ["a"], [2.0])])
    again = Report.from_dict(_report(section).to_dict())
    assert again.sections[0].kind == "highlighted_text" and again.sections[0].data["items"][0]["weights"] == [1.0]


def test_mistakes_table_keeps_the_surest_wrong_predictions_first():
    split = Split("test", np.asarray(["a", "b", HOSTILE, "d"], dtype=object), np.array([0, 1, 0, 1]),
                  np.asarray(["i0", "i1", "i2", "i3"], dtype=object))
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.05, 0.95], [0.2, 0.8]])
    section = mistakes_section(split, probabilities, ("neg", "pos"))
    assert [row[0] for row in section.data["rows"]] == ["i2", "i1"]
    assert HOSTILE not in render_html(_report(section))


def test_attributions_point_at_the_words_that_decide():
    def score(texts):
        return np.array([[0.1, 0.9] if "superb" in t.split() else [0.6, 0.4] for t in texts])

    split = Split("test", np.asarray(["a superb film", "plain film"], dtype=object), np.array([1, 0]),
                  np.asarray(["x", "y"], dtype=object))
    section = attribution_section(split, score(list(split.x)), ("neg", "pos"), score, seed=0)
    superb = next(item for item in section.data["items"] if "superb" in item["tokens"])
    assert superb["weights"][superb["tokens"].index("superb")] == 1.0
    assert max(abs(w) for i, w in enumerate(superb["weights"]) if superb["tokens"][i] != "superb") == 0.0


def test_calibration_plots_confidence_against_share_correct():
    y = np.array([0, 1, 1, 0])
    section = calibration_section(y, np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]))
    model = section.data["series"][0]
    assert section.data["plot"] == "lines" and model["x"] == pytest.approx([0.6, 0.7, 0.8, 0.9])
    assert model["y"] == [0.0, 1.0, 1.0, 1.0]  # only the 0.6-confident prediction (class 0 for a 1) is wrong


def test_baselines_learn_polarity_from_words():
    train = ["a great film", "an awful film", "great fun", "awful and boring", "truly great", "boring mess"] * 2
    y = np.array([1, 0, 1, 0, 1, 0] * 2)
    test = ["great great", "awful boring"]
    assert tfidf_logistic_regression(train, y, test, 2).argmax(axis=1).tolist() == [1, 0]
    assert vader_logistic_regression(train, y, test, 2).argmax(axis=1).tolist() == [1, 0]
