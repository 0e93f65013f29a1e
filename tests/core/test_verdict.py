"""The verdict: the network against the best baseline of the same split, with a paired bootstrap interval."""

import json

import numpy as np
import pytest

from solutions.core import metrics as M
from solutions.core.evaluation import Comparison, Evaluation, verdict
from solutions.core.render import _md
from solutions.core.report import LOSS, UNDECIDED, WIN, Report, Verdict, metric_entry
from solutions.core.report_frame import NEW_DATA_NO_BASELINE, assemble_report, write_report_files


def reference_difference(metric, y, a, b, n_resamples, seed):
    """The slow loop: one resample of rows at a time, both models scored on it."""
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n_resamples):
        index = rng.integers(0, len(y), len(y))
        with np.errstate(all="ignore"):
            sample = metric(y[index], a[index]) - metric(y[index], b[index])
        if np.isfinite(sample):
            samples.append(sample)
    return metric(y, a) - metric(y, b), *np.percentile(samples, [2.5, 97.5])


def scored(n=300, seed=0, noise_a=0.8, noise_b=1.2):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, y + rng.normal(0, noise_a, n), y + rng.normal(0, noise_b, n)


@pytest.mark.parametrize("metric", [M.roc_auc, lambda y, s: M.accuracy(y, (s > 0.5).astype(int))])
def test_paired_difference_equals_the_slow_reference_loop(metric):
    y, a, b = scored()
    got = M.paired_difference(metric, y, a, b, n_resamples=200, seed=3)
    value, low, high = reference_difference(metric, y, a, b, 200, 3)
    assert (got.value, got.low, got.high) == pytest.approx((value, low, high), abs=1e-12)


def test_paired_difference_draws_in_blocks_the_indices_of_one_resample_at_a_time(monkeypatch):
    y, a, b = scored(n=97)
    monkeypatch.setattr(M, "RESAMPLE_BLOCK", 97 * 7)  # 7 resamples a block: 15 blocks, the last short
    got = M.paired_difference(M.roc_auc, y, a, b, n_resamples=101, seed=5)
    assert (got.value, got.low, got.high) == pytest.approx(reference_difference(M.roc_auc, y, a, b, 101, 5), abs=1e-12)


def test_paired_difference_resamples_the_rows_the_headline_interval_resamples():
    y, a, _ = scored()
    predicted = (a > 0.5).astype(int)
    never = np.full(len(y), -1)  # accuracy 0 on every resample: the difference is the model's accuracy
    paired = M.paired_difference(M.accuracy, y, predicted, never, n_resamples=300, seed=7)
    alone = M.bootstrap_interval(M.accuracy, y, predicted, n_resamples=300, seed=7)
    assert (paired.value, paired.low, paired.high) == pytest.approx((alone.value, alone.low, alone.high), abs=1e-12)


def test_paired_interval_is_narrower_than_the_two_intervals_apart():
    y, a, _ = scored(n=400)
    b = a + np.random.default_rng(1).normal(0, 0.1, len(a))  # a close rival: most of the noise is shared
    paired = M.paired_difference(M.roc_auc, y, a, b, seed=0)
    ia, ib = M.bootstrap_interval(M.roc_auc, y, a, seed=0), M.bootstrap_interval(M.roc_auc, y, b, seed=0)
    assert paired.high - paired.low < 0.5 * ((ia.high - ia.low) + (ib.high - ib.low)) / 2


def test_paired_difference_skips_undefined_resamples_and_checks_lengths():
    y = np.array([0] * 19 + [1])
    got = M.paired_difference(M.roc_auc, y, np.linspace(0, 1, 20), np.linspace(1, 0, 20), n_resamples=200)
    assert got.value == pytest.approx(1.0) and np.isfinite(got.low) and got.low <= got.high
    with pytest.raises(ValueError, match="same rows"):
        M.paired_difference(M.roc_auc, y, y, y[:5])


def comparison(network, **baselines):
    """Accuracy of predicted classes; the first half of the rows is easy, the second half hard."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)

    def right_with(p):
        return np.where(rng.random(len(y)) < p, y, (y + 1) % 3)

    return Comparison(M.accuracy, y, right_with(network), {name: right_with(p) for name, p in baselines.items()})


def test_a_clearly_better_network_is_a_clear_win_against_the_best_baseline():
    result = verdict(comparison(0.9, **{"majority class": 0.34, "logistic regression": 0.7}), "accuracy")
    assert result.baseline == "logistic regression" and result.n_baselines == 2
    assert result.outcome == WIN and result.low > 0
    assert result.difference == pytest.approx(result.value - result.baseline_value)
    text = result.sentence()
    assert text.startswith(f"{result.difference:.3f} above logistic regression, 95% interval [")
    assert text.endswith(": a clear win")


def test_a_clearly_worse_network_says_the_baseline_is_better():
    result = verdict(comparison(0.6, **{"HistGradientBoosting": 0.8}), "accuracy")
    assert result.outcome == LOSS and result.high < 0
    assert result.sentence().startswith(f"{-result.difference:.3f} below HistGradientBoosting, 95% interval [-")
    assert result.sentence().endswith(": the baseline is better")


def test_a_tie_is_not_yet_a_clear_win():
    result = verdict(comparison(0.75, **{"HistGradientBoosting": 0.75}), "accuracy")
    assert result.low < 0 < result.high and result.outcome == UNDECIDED
    assert result.sentence().endswith(": not yet a clear win")
    level = Verdict("auc", "HistGradientBoosting", 0.8, 0.8, 0.0, -0.01, 0.01)
    assert level.sentence() == "level with HistGradientBoosting, 95% interval [-0.010, 0.010]: not yet a clear win"


def test_wordings_of_the_three_outcomes():
    assert Verdict("auc", "HistGradientBoosting", .812, .8, .012, -.004, .027).sentence() == (
        "0.012 above HistGradientBoosting, 95% interval [-0.004, 0.027]: not yet a clear win")
    assert Verdict("auc", "logistic regression", .831, .8, .031, .012, .050).sentence() == (
        "0.031 above logistic regression, 95% interval [0.012, 0.050]: a clear win")
    assert Verdict("auc", "HistGradientBoosting", .78, .8, -.020, -.035, -.006).sentence() == (
        "0.020 below HistGradientBoosting, 95% interval [-0.035, -0.006]: the baseline is better")


def test_lower_is_better_picks_the_lowest_baseline_and_says_which_way_is_better():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 500).astype(float)
    cost = lambda truth, p: float(np.mean((p - truth) ** 2)) * 100  # noqa: E731  (a cost in units, lower is better)
    network = np.clip(y + rng.normal(0, 0.25, len(y)), 0, 1)
    baselines = {"refuse everyone": np.ones(len(y)), "scorecard": np.clip(y + rng.normal(0, 0.45, len(y)), 0, 1)}
    result = verdict(Comparison(cost, y, network, baselines, higher_is_better=False), "cost")
    assert result.baseline == "scorecard" and result.difference < 0 and result.high < 0
    assert result.outcome == WIN
    assert " below scorecard (lower cost is better), 95% interval [-" in result.sentence()
    worse = Verdict("cost", "scorecard", 12.0, 10.0, 2.0, 1.0, 3.0, higher_is_better=False)
    assert worse.outcome == LOSS and worse.sentence() == (
        "2.000 above scorecard (lower cost is better), 95% interval [1.000, 3.000]: the baseline is better")


def test_baselines_whose_metric_is_undefined_are_left_out():
    c = comparison(0.9, **{"logistic regression": 0.7})
    c.baselines["ranks no one"] = np.full(len(c.truths), -1)  # its metric is undefined (as a constant's AUC would be)
    undefined = Comparison(lambda y, s: float("nan") if np.all(s == -1) else M.accuracy(y, s), c.truths, c.scores, c.baselines)
    result = verdict(undefined, "accuracy")
    assert result.n_baselines == 1 and result.baseline == "logistic regression"
    assert verdict(None, "accuracy") is None
    assert verdict(Comparison(M.accuracy, c.truths, c.scores, {}), "accuracy") is None


def evaluation(**baselines):
    c = comparison(0.9, **baselines)
    metrics = {"accuracy": metric_entry(M.bootstrap_interval(M.accuracy, c.truths, c.scores))}
    return Evaluation(metrics=metrics, sections=[], primary_metric="accuracy",
                      baselines={name: {"accuracy": metric_entry(M.accuracy(c.truths, s))} for name, s in c.baselines.items()},
                      comparison=c)


def report_of(evaluation, new_data=False):
    return assemble_report(solution="demo", title="Demo", evaluation=evaluation, data_name="sample",
                           data_summary={"splits": {}}, new_data=new_data, recipe={}, history=None, training=None)


def test_the_report_opens_with_the_verdict_and_keeps_it_in_every_file(tmp_path):
    report = report_of(evaluation(**{"majority class": 0.34, "logistic regression": 0.7}))
    first = report.sections[0]
    assert first.title == "Verdict against logistic regression" and first.data["outcome"] == WIN
    assert first.data["text"] == report.verdict.sentence() + "."
    assert report.sections[1].title == "Headline metrics (test)"
    assert report.metrics["verdict/difference"] == {"value": report.verdict.difference, "low": report.verdict.low,
                                                    "high": report.verdict.high, "confidence": 0.95}
    write_report_files(tmp_path, report)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["verdict"]["baseline"] == "logistic regression" and saved["verdict"]["outcome"] == WIN
    assert saved["metrics"]["verdict/difference"]["low"] > 0
    sentence = report.verdict.sentence()
    markdown = (tmp_path / "report.md").read_text()
    assert f"**{_md(sentence)}.**" in markdown
    assert markdown.index("Verdict against") < markdown.index("Headline metrics")
    assert f'<p class="verdict win">{sentence}.</p>' in (tmp_path / "report.html").read_text()
    again = Report.from_dict(json.loads((tmp_path / "report.json").read_text()))  # what `ksol report RUN` loads
    assert again.verdict == report.verdict and again.to_dict() == report.to_dict()
    write_report_files(tmp_path / "again", again)
    assert (tmp_path / "again" / "report.md").read_text() == markdown


def test_a_report_without_baselines_or_on_new_data_says_so():
    alone = report_of(evaluation())
    assert alone.verdict is None and "verdict/difference" not in alone.metrics
    assert alone.sections[0].title == "Verdict" and alone.sections[0].data["text"] == "No baseline on this split."
    new = report_of(dataclasses_replace(evaluation(), baselines={}, comparison=None), new_data=True)
    assert new.sections[0].data["text"] == NEW_DATA_NO_BASELINE
    assert "No baseline was fitted" in NEW_DATA_NO_BASELINE
    assert Report.from_dict(json.loads(new.to_json())).verdict is None


def test_reports_written_before_verdicts_still_load():
    old = report_of(evaluation()).to_dict()
    del old["verdict"]
    assert Report.from_dict(old).verdict is None


def dataclasses_replace(value, **changes):
    import dataclasses

    return dataclasses.replace(value, **changes)


def test_an_undefined_network_metric_is_said_in_words():
    undefined = Verdict("auprc", "HistGradientBoosting", float("nan"), 0.4, float("nan"), float("nan"), float("nan"))
    assert undefined.outcome == UNDECIDED
    assert undefined.sentence() == ("auprc is undefined for this model on this split, so it cannot be compared with "
                                    "HistGradientBoosting")
    assert Verdict.from_dict(json.loads(json.dumps(undefined.to_dict()))).sentence() == undefined.sentence()
