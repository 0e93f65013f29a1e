"""The credit solution end to end on the bundled sample: report, predictions with reason codes, bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from solutions.cli import main
from solutions.credit_scoring import CreditScoringSolution
from solutions.credit_scoring.data import make_applicants


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("credit") / "run"
    assert main(["--quiet", "--json", "train", "credit_scoring", "--data", "applicants", "--recipe", "quick",
                 "--set", "epochs=3", "--set", "group_column=housing", "--set", "model=wide_deep", "--set", "members=2", "--out", str(out)]) == 0
    return out


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_has_the_credit_risk_sections(run):
    report = json.loads((run / "report.json").read_text())
    assert report["primary_metric"] == "auc"
    assert {"gini", "ks", "brier", "cost_per_applicant", "baseline/refuse everyone/cost_per_applicant",
            "baseline/WOE scorecard (logistic regression)/auc", "baseline/HistGradientBoosting/ks"} <= set(report["metrics"])
    assert report["metrics"]["gini"]["value"] == pytest.approx(2 * report["metrics"]["auc"]["value"] - 1)
    best = max(("WOE scorecard (logistic regression)", "HistGradientBoosting"),
               key=lambda n: report["metrics"][f"baseline/{n}/auc"]["value"])  # "refuse everyone" has no AUC
    assert report["sections"][0]["title"] == f"Verdict against {best}" and report["verdict"]["baseline"] == best
    assert report["metrics"]["verdict/difference"]["value"] == pytest.approx(
        report["metrics"]["auc"]["value"] - report["metrics"][f"baseline/{best}/auc"]["value"])
    titles = " | ".join(s["title"] for s in report["sections"])
    for part in ("KS plot", "Calibration curve", "Score bands", "Population stability index", "Metrics by housing",
                 "Reason codes for refused applicants", "Approval threshold"):
        assert part in titles
    decision = json.loads((run / "decision.json").read_text())
    assert decision["details"]["calibration"]["method"] == "platt"
    assert decision["thresholds"] == {"bad": pytest.approx(1 / 6)}
    assert len(decision["details"]["scorecard"]["band_edges"]) == 4


def test_predictions_have_probability_score_band_decision_and_reasons(run, tmp_path, capsys):
    rows = make_applicants(n=40, seed=7).drop(columns=["credit_risk"])
    rows.to_parquet(tmp_path / "applicants.parquet")
    out = tmp_path / "scored.csv"
    code, _, _ = cli(capsys, "--quiet", "predict", str(run), "--data", str(tmp_path / "applicants.parquet"), "--out", str(out))
    scored = pd.read_csv(out)
    assert code == 0 and len(scored) == 40
    assert list(scored.columns[:6]) == ["row", "probability_bad", "score", "band", "decision", "reason_1"]
    assert set(scored["decision"]) <= {"approve", "refuse"} and set(scored["band"]) <= set("ABCDE")
    order = np.argsort(scored["probability_bad"].to_numpy())
    assert np.all(np.diff(scored["score"].to_numpy()[order]) <= 1e-6)  # a higher risk never scores higher
    refused = scored[scored["decision"] == "refuse"]
    assert refused["reason_1"].fillna("").str.contains("reference applicant").any()


def test_one_applicant_as_json(run, capsys):
    record = make_applicants(n=20, seed=3).drop(columns=["credit_risk"]).iloc[0].to_dict()
    code, stdout, _ = cli(capsys, "predict", str(run), "--row", json.dumps({k: (v.item() if hasattr(v, "item") else v)
                                                                             for k, v in record.items()}))
    result = json.loads(stdout)
    assert code == 0 and result["decision"] in ("approve", "refuse") and isinstance(result["reasons"], list)


def test_prediction_file_without_a_needed_column_names_it(run, tmp_path, capsys):
    make_applicants(n=20, seed=1).drop(columns=["savings"]).to_csv(tmp_path / "a.csv", index=False)
    code, _, err = cli(capsys, "predict", str(run), "--data", str(tmp_path / "a.csv"))
    assert code == 2 and "lacks column 'savings'" in err


@pytest.mark.parametrize("edit, options, message", [
    (lambda f: f.assign(credit_risk=np.arange(len(f)) % 3), [], "has 3 values"),
    (lambda f: f.assign(credit_risk=np.nan), [], "no rows with a label in column 'credit_risk'"),  # an empty feature
    # column is left out with a note instead (tests/tables/test_bad_columns.py)
    (lambda f: f, ["--set", "bad_values=[defaulted]"], "none of the recipe's bad_values ('defaulted')"),
])
def test_bad_targets_and_columns_exit_2(tmp_path, capsys, edit, options, message):
    edit(make_applicants(n=200, seed=4)).to_csv(tmp_path / "bad.csv", index=False)
    code, _, err = cli(capsys, "train", "credit_scoring", "--data", str(tmp_path / "bad.csv"), "--label", "credit_risk",
                       "--recipe", "quick", "--out", str(tmp_path / "run"), *options)
    assert code == 2 and message in err and "Traceback" not in err


def test_target_mapping_turns_many_values_into_good_and_bad(tmp_path):
    frame = make_applicants(n=300, seed=5)
    frame["status"] = np.where(frame.pop("credit_risk") == "bad", np.where(np.arange(300) % 2, "default", "charged off"),
                               np.where(np.arange(300) % 2, "paid", "current"))
    frame.to_csv(tmp_path / "loans.csv", index=False)
    solution = CreditScoringSolution(recipe="quick", bad_values=("default", "charged off"))
    from solutions.core.datasets import resolve_data

    r = solution.resolve_recipe()
    examples = solution.load_examples(resolve_data(str(tmp_path / "loans.csv"), label="status"), r, None)
    assert set(examples.labels) == {"good", "bad"}
    assert (examples.labels == "bad").sum() == frame["status"].isin(["default", "charged off"]).sum()


def test_german_code_unknown_to_the_codebook_exits_2(tmp_path, capsys):
    row = "A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1"
    (tmp_path / "german.data").write_text(row + "\n" + row.replace("A65", "A69") + "\n")
    code, _, err = cli(capsys, "train", "credit_scoring", "--data", str(tmp_path / "german.data"), "--out", str(tmp_path / "r"))
    assert code == 2 and "'A69'" in err and "codebook" in err


@pytest.mark.slow
def test_german_credit_beats_refusing_everyone():
    solution = CreditScoringSolution(recipe="quick").fit("german_credit", progress=False)
    report = solution.evaluate()
    assert report.primary["value"] > 0.7 and report.metrics["cost_per_applicant"]["value"] < 0.7


@pytest.mark.parametrize("fmt", ["onnx"])  # every format: tests/tables/test_export.py
def test_exported_ensemble_gives_the_probability_before_calibration(run, tmp_path, capsys, fmt):
    """The run is a two-member wide & deep ensemble: exported as one score, the network's probability of
    default; decision.json's calibration (and threshold) apply to it after, as in `ksol predict`."""
    from solutions.credit_scoring.calibration import apply_calibration

    code, out, err = cli(capsys, "--json", "export", str(run), "--format", fmt, "--out", str(tmp_path / "m"))
    assert code == 0, err
    result = json.loads(out)
    loaded = CreditScoringSolution.load(run)
    frame = make_applicants(n=60, seed=5)
    columns = loaded.inputs(frame)
    feed = {i["name"]: columns[i["key"]] for i in result["inputs"]}
    if fmt == "onnx":
        import onnxruntime

        (raw,) = onnxruntime.InferenceSession(result["path"], providers=["CPUExecutionProvider"]).run(None, feed)
    else:
        import tensorflow as tf

        serve = tf.saved_model.load(result["path"]).signatures["serving_default"]
        raw = serve(**{name: tf.constant(v) for name, v in feed.items()})[result["outputs"][0]].numpy()
    assert raw.shape == (60, 1) and np.allclose(raw[:, 0], loaded.raw_probabilities(frame), atol=1e-5)
    calibrated = apply_calibration(loaded.decision_.details["calibration"], raw[:, 0])
    assert np.allclose(calibrated, loaded.predict_scores(frame)[:, 0], atol=1e-5)
