"""The contract every registered solution keeps, run over all of them on their bundled samples."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solutions import get_solution, list_solutions
from solutions.core.errors import ConfigError, NotFittedError

FAST = {"epochs": 2}


@pytest.fixture(scope="module", params=list_solutions())
def fitted(request):
    cls = get_solution(request.param)
    return cls(recipe="quick", **FAST).fit(cls.sample_data, progress=False)


def test_fit_returns_the_solution_with_learned_state(fitted):
    assert fitted.model_ is not None and fitted.schema_["class_names"]
    assert fitted.training_.epochs_done == FAST["epochs"]


@pytest.mark.parametrize("name", list_solutions())
def test_predict_before_fit_is_a_clear_error(name):
    cls = get_solution(name)
    with pytest.raises(NotFittedError, match="not fitted yet: call fit"):
        cls(recipe="quick").predict(["anything"])


def test_report_has_a_primary_metric_and_serialises(fitted):
    report = fitted.evaluate()
    primary = report.primary
    assert report.primary_metric in report.metrics
    assert primary["low"] <= primary["value"] <= primary["high"]
    assert json.loads(report.to_json())["primary_metric"] == report.primary_metric
    assert any(key.startswith("baseline/") for key in report.metrics)


def test_same_seed_gives_the_same_metrics(fitted):
    cls = type(fitted)
    second = cls(recipe="quick", **FAST).fit(cls.sample_data, progress=False)
    a, b = fitted.evaluate().metrics, second.evaluate().metrics
    assert a == b
    assert np.allclose(fitted.training_.history[-1]["loss"], second.training_.history[-1]["loss"])


@pytest.mark.parametrize("name", list_solutions())
def test_unknown_recipe_key_is_rejected_with_a_suggestion(name):
    cls = get_solution(name)
    with pytest.raises(ConfigError, match='Did you mean "epochs"'):
        cls(recipe="quick", epoch=3).fit(cls.sample_data, progress=False)


def test_saved_run_loads_and_predicts_the_same(fitted, tmp_path):
    fitted.evaluate()
    fitted.save(tmp_path)
    loaded = type(fitted).load(tmp_path)
    x = fitted.splits_.test.x
    assert np.allclose(loaded.predict_scores(x), fitted.predict_scores(x), atol=1e-6)
    assert loaded.decision_ == fitted.decision_
    assert (tmp_path / "decision.json").is_file() == (fitted.decision_ is not None)


@pytest.mark.parametrize("name", list_solutions())
def test_capabilities_are_declared_and_fit_is_the_base_workflow(name):
    from solutions.core.solution import EXPORT_FORMATS, Solution

    cls = get_solution(name)
    assert cls.accepts and set(cls.accepts) <= {"files", "rows", "texts"}
    assert set(cls.export_formats) <= set(EXPORT_FORMATS)
    assert isinstance(cls.has_threshold, bool)
    assert cls.fit is Solution.fit, f"{name} overrides fit; use the hooks (choose_decision, extend_model)"
    assert ("rows" in cls.accepts) == hasattr(cls, "predict_record")
    assert ("texts" in cls.accepts) == hasattr(cls, "predict_texts")


def test_threshold_override_follows_the_capability(fitted):
    from solutions.core.errors import UsageError

    if fitted.has_threshold and fitted.decision_ is not None and fitted.decision_.thresholds:
        overridden = fitted.decision_for(0.25)
        assert set(overridden.thresholds.values()) == {0.25} and overridden.rule == "--threshold 0.25"
        assert fitted.decision_for(None) is fitted.decision_
    else:
        with pytest.raises(UsageError, match="--threshold"):
            fitted.decision_for(0.25)
