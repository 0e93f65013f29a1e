"""The fraud solution end to end on the bundled sample: streaming predictions, one-row scoring, bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from solutions.cli import main
from solutions.fraud_detection import FraudDetectionSolution
from solutions.fraud_detection.data import make_transactions
from solutions.tables.model import is_plain_binary_model


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fraud") / "run"
    assert main(["--quiet", "--json", "train", "fraud_detection", "--data", "transactions", "--recipe", "quick",
                 "--set", "epochs=3", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def new_rows(tmp_path_factory):
    path = tmp_path_factory.mktemp("rows") / "new.csv"
    make_transactions(n=230, seed=9).drop(columns=["is_fraud"]).to_csv(path, index=False)
    return path


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_has_threshold_costs_and_baselines(run):
    report = json.loads((run / "report.json").read_text())
    assert report["primary_metric"] == "auprc"
    assert {"roc_auc", "recall_at_1pct_fpr", "precision_at_budget", "savings_vs_no_model",
            "baseline/HistGradientBoosting/auprc", "baseline/logistic regression/auprc"} <= set(report["metrics"])
    titles = [s["title"] for s in report["sections"]]
    best = max(("logistic regression", "HistGradientBoosting"), key=lambda n: report["metrics"][f"baseline/{n}/auprc"]["value"])
    assert titles[0] == f"Verdict against {best}" and report["verdict"]["baseline"] == best
    assert report["sections"][0]["data"]["text"].startswith(report["verdict"]["text"])
    assert json.loads((run / "metrics.json").read_text())["verdict"]["outcome"] in ("a clear win", "not yet a clear win",
                                                                                     "the baseline is better")
    assert any(t.startswith("Decision threshold") for t in titles)
    assert "Thresholds on the test split" in titles and "Score distribution per class" in titles
    assert "Top alerts and the columns that drove them" in titles
    decision = json.loads((run / "decision.json").read_text())
    (threshold,) = decision["thresholds"].values()
    assert decision["rule"] == "cost" and 0 <= threshold <= 1 and decision["score_range"] == [0, 1]
    assert "decision" not in json.loads((run / "schema.json").read_text())


def test_predict_streams_chunks_with_score_flag_and_reasons(run, new_rows, tmp_path, capsys):
    out = tmp_path / "scored.csv"
    code, stdout, _ = cli(capsys, "--quiet", "predict", str(run), "--data", str(new_rows), "--out", str(out),
                          "--chunk-size", "50")
    assert code == 0 and "rows/s" in stdout
    scored = pd.read_csv(out)
    assert len(scored) == 230 and list(scored.columns[:3]) == ["transaction_id", "score", "flag"]
    assert {"reason_1", "reason_2", "reason_3"} <= set(scored.columns)
    (threshold,) = json.loads((run / "decision.json").read_text())["thresholds"].values()
    assert ((scored["score"] >= threshold).astype(int) == scored["flag"]).all()
    loaded = FraudDetectionSolution.load(run)
    direct = loaded.predict_scores(pd.read_csv(new_rows))[:, 0]
    assert is_plain_binary_model(loaded.model_)  # so predict's scores came from the explaining pass's own logit
    assert np.allclose(direct, scored["score"], atol=1e-5)
    code, _, _ = cli(capsys, "--quiet", "predict", str(run), "--data", str(new_rows), "--out", str(out), "--threshold", "0")
    assert code == 0 and pd.read_csv(out)["flag"].all()


def test_one_row_from_the_command_line_and_python(run, new_rows, capsys):
    record = pd.read_csv(new_rows).iloc[0].to_dict()
    record["merchant_category"] = "a category never seen"
    code, stdout, _ = cli(capsys, "predict", str(run), "--row", json.dumps(record))
    result = json.loads(stdout)
    assert code == 0 and 0 <= result["score"] <= 1 and result["flag"] in (0, 1)
    loaded = FraudDetectionSolution.load(run)
    assert loaded.score_record(record) == pytest.approx(result["score"], abs=1e-6)


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.drop(columns=["country"]), "bad.csv lacks column 'country', which the model was trained on; columns found: "),
    (lambda f: f.assign(amount=["12.5"] * (len(f) - 1) + ["twelve"]), "bad.csv: numeric column 'amount' holds text in 1 row, "),
])
def test_bad_prediction_files_exit_2_naming_the_column(run, new_rows, tmp_path, capsys, edit, message):
    path = tmp_path / "bad.csv"
    edit(pd.read_csv(new_rows)).to_csv(path, index=False)
    code, _, err = cli(capsys, "predict", str(run), "--data", str(path), "--out", str(tmp_path / "o.csv"))
    assert code == 2 and message in err and "Traceback" not in err


def test_empty_file_and_missing_row_column_exit_2(run, tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    code, _, err = cli(capsys, "predict", str(run), "--data", str(tmp_path / "empty.csv"))
    assert code == 2 and "is empty" in err
    code, _, err = cli(capsys, "predict", str(run), "--row", '{"hour": 3}')
    assert code == 2 and "lacks columns" in err and "amount" in err


@pytest.mark.parametrize("edit, options, message", [
    (lambda f: f.rename(columns={"is_fraud": "outcome"}), [], "no label column: none is named label, target, class or y"),
    (lambda f: f.assign(is_fraud=np.arange(len(f)) % 3), ["--label", "is_fraud"], "has 3 values"),
    (lambda f: f.assign(hour=f["hour"].astype(str).where(f.index != 7, "late")), ["--label", "is_fraud"],
     "numeric column 'hour' holds text in 1 row, for example 'late'"),
])
def test_bad_training_data_exits_2_before_training(tmp_path, capsys, edit, options, message):
    path = tmp_path / "bad.csv"
    edit(make_transactions(n=200, seed=4)).to_csv(path, index=False)
    code, _, err = cli(capsys, "train", "fraud_detection", "--data", str(path), "--recipe", "quick",
                       "--out", str(tmp_path / "run"), *options)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "run" / "model.keras").exists()


def test_combined_detector_saves_loads_and_explains(tmp_path):
    solution = FraudDetectionSolution(recipe="quick", detector="combined", epochs=1, autoencoder_epochs=1)
    solution.fit("transactions", run_dir=tmp_path / "run", progress=False)
    report = solution.evaluate()
    assert report.primary["value"] > 0
    # the autoencoder trains through core.training like the classifier: its own checkpoints, its epochs noted
    assert (tmp_path / "run" / "checkpoints" / "autoencoder" / "state.json").is_file()
    assert solution.training_notes_["autoencoder epochs"] == 1 and solution.model_.name == "fraud_combined"
    solution.save(tmp_path)
    loaded = FraudDetectionSolution.load(tmp_path)
    x = solution.splits_.test.x
    assert np.allclose(loaded.predict_scores(x), solution.predict_scores(x), atol=1e-6)
    scores, attributions = loaded.explain_rows(x.head(5))
    assert attributions.shape == (5, len(loaded.feature_columns()))
    # predict takes its scores from the explaining pass: the stacked score, not the classifier's alone
    assert not is_plain_binary_model(loaded.model_)
    assert np.allclose(scores, loaded.predict_scores(x.head(5))[:, 0], atol=1e-6)
    assert np.allclose(loaded.predict(x.head(5))["score"], scores, atol=1e-6)


def test_autoencoder_alone_scores_reconstruction_error_and_names_unusual_columns():
    solution = FraudDetectionSolution(recipe="quick", detector="autoencoder", epochs=2, threshold_rule="budget")
    solution.fit("transactions", progress=False)
    x = solution.splits_.test.x.head(20)
    scores, attributions = solution.explain_rows(x)
    assert np.allclose(scores, solution.predict_scores(x)[:, 0], atol=1e-4)
    assert (attributions >= 0).all()


@pytest.mark.parametrize("embedding", ["periodic", "piecewise_linear_tree"])
def test_tabm_with_numeric_embeddings_trains_saves_and_explains_as_one_score(tmp_path, embedding):
    solution = FraudDetectionSolution(recipe="quick", network="tabm", numeric_embedding=embedding, tabm_k=4,
                                      tabm_width=16, epochs=2, numeric_bins=8)
    solution.fit("transactions", progress=False)
    if embedding != "periodic":  # bins fitted on the training split, in the schema, built into the layer
        bins = solution.schema_["numeric_bins"]
        assert len(bins) == len(solution.schema_["numeric"]) and all(1 < len(b) <= 9 for b in bins)
        layer = solution.model_.get_layer("head").get_layer("member_heads").get_layer("piecewise_linear")
        assert [list(b) for b in layer.bins] == bins
    assert solution.model_.output_shape == (None, 1)  # k members trained, one averaged score saved
    assert {"encoder", "head"} <= {layer.name for layer in solution.model_.layers}
    solution.save(tmp_path)
    loaded = FraudDetectionSolution.load(tmp_path)
    x = solution.splits_.test.x
    assert np.allclose(loaded.predict_scores(x), solution.predict_scores(x), atol=1e-6)
    scores, attributions = loaded.explain_rows(x.head(5))
    assert attributions.shape == (5, len(loaded.feature_columns())) and np.isfinite(attributions).all()


@pytest.mark.parametrize("options, key", [({"network": "tabm", "members": 2}, "members"),
                                          ({"network": "mlp", "numeric_embedding": "periodic"}, "numeric_embedding"),
                                          ({"numeric_bins": 1}, "numeric_bins"), ({"numeric_bins": 257}, "numeric_bins"),
                                          ({"numeric_embedding": "splines"}, "numeric_embedding")])
def test_tabm_options_that_do_not_fit_together_name_the_key(options, key):
    from solutions.core.errors import ConfigError

    with pytest.raises(ConfigError, match=key):
        FraudDetectionSolution(recipe="quick", **options).resolve_recipe()


@pytest.mark.parametrize("fmt", ["saved_model"])  # ONNX: the next test; every format: tests/tables/test_export.py
def test_export_takes_one_named_input_per_column_and_reproduces_the_scores(run, tmp_path, capsys, fmt):
    code, out, err = cli(capsys, "--json", "export", str(run), "--format", fmt, "--out", str(tmp_path / "m"))
    assert code == 0, err
    result = json.loads(out)
    assert result["max_abs_difference"] <= 1e-4
    schema = json.loads((run / "schema.json").read_text())
    columns = {c["name"]: "float32" for c in schema["numeric"]} | {c["name"]: "string" for c in schema["categorical"]}
    assert {i["key"]: i["dtype"] for i in result["inputs"]} == columns and all(i["shape"] == [None, 1] for i in result["inputs"])


def test_onnx_export_scores_new_rows_like_predict_with_onnxruntime_alone(run, new_rows, tmp_path, capsys):
    onnxruntime = pytest.importorskip("onnxruntime")
    code, out, _ = cli(capsys, "--json", "export", str(run), "--format", "onnx", "--out", str(tmp_path / "m.onnx"))
    result = json.loads(out)
    loaded = FraudDetectionSolution.load(run)
    frame = pd.read_csv(new_rows)
    columns = loaded.inputs(frame)  # float32 with NaN for missing cells, categories as text
    session = onnxruntime.InferenceSession(result["path"], providers=["CPUExecutionProvider"])
    (scores,) = session.run(None, {i["name"]: columns[i["key"]] for i in result["inputs"]})
    assert code == 0 and np.allclose(scores, loaded.predict_scores(frame), atol=1e-5)


def test_combined_detector_exports_its_stacked_score(run, tmp_path):
    """The combined detector (classifier + autoencoder + stacking layer) is one model with one output: untrained
    parts are enough to check that every format holds the whole graph."""
    from solutions.core.config import make_recipe
    from solutions.core.exporting import export_and_verify
    from solutions.fraud_detection import model as model_lib
    from solutions.fraud_detection.recipe import FraudRecipe

    schema = json.loads((run / "schema.json").read_text())
    recipe = make_recipe(FraudRecipe, "quick", detector="combined")
    classifier = FraudDetectionSolution().inference_model(model_lib.build_fraud_classifier(schema, recipe), schema, recipe)
    combined = model_lib.build_combined(schema, classifier,
                                        model_lib.build_autoencoder(schema, recipe), (0.8, 0.3), -1.0)
    rows = FraudDetectionSolution().example_inputs(schema)
    for keras_format in ("tf_saved_model", "onnx"):  # LiteRT of the same graph pieces: tests/tables/test_export.py
        result = export_and_verify(combined, tmp_path / f"combined_{keras_format}", keras_format, rows)
        assert result["max_abs_difference"] <= 1e-4 and len(result["outputs"]) == 1


def test_a_number_with_one_value_besides_missing_cells_gets_one_bin(tmp_path, capsys):
    rows = make_transactions(n=400, seed=1)
    rows["amount"] = np.where(np.arange(len(rows)) % 2 == 0, 5.0, np.nan)  # one value once the median fills the rest
    rows.to_csv(tmp_path / "rows.csv", index=False)
    code = main(["--quiet", "train", "fraud_detection", "--data", str(tmp_path / "rows.csv"), "--label", "is_fraud",
                 "--recipe", "quick", "--set", "epochs=1", "--set", "numeric_embedding=piecewise_linear",
                 "--out", str(tmp_path / "run")])
    assert code == 0, capsys.readouterr().err
    schema = json.loads((tmp_path / "run" / "schema.json").read_text())
    amount = [s["name"] for s in schema["numeric"]].index("amount")
    assert len(schema["numeric_bins"][amount]) == 2
