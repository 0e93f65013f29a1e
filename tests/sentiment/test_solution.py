"""The sentiment solution end to end through the command line: train, report, predict, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solutions.cli import main
from solutions.sentiment import SentimentSolution
from tests.sentiment.conftest import write_csv


def run_cli(capsys, *argv):
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def run(reviews_csv, tmp_path_factory) -> Path:
    """A quick run trained from a CSV with custom column names and NLTK negation marking."""
    out = tmp_path_factory.mktemp("sentiment_run") / "run"
    code = main(["--quiet", "train", "sentiment", "--data", str(reviews_csv), "--text", "body", "--label", "verdict",
                 "--recipe", "quick", "--set", "normalize=negation", "--out", str(out)])
    assert code == 0
    return out


def test_run_saves_the_normalisation_and_a_complete_report(run):
    schema = json.loads((run / "schema.json").read_text())
    assert schema["normalize"] == "negation" and schema["standardize"] == "lower" and schema["text_column"] == "body"
    report = json.loads((run / "report.json").read_text())
    assert {"accuracy", "macro_f1", "baseline/TF-IDF + logistic regression/accuracy",
            "baseline/VADER lexicon + logistic regression/accuracy", "baseline/majority class/accuracy"} <= set(report["metrics"])
    titles = [s["title"] for s in report["sections"]]
    names = ("majority class", "TF-IDF + logistic regression", "VADER lexicon + logistic regression")
    best = max(names, key=lambda n: report["metrics"][f"baseline/{n}/accuracy"]["value"])
    assert titles[0] == f"Verdict against {best}" and report["verdict"]["baseline"] == best
    assert f"above {best}" in report["verdict"]["text"] or f"below {best}" in report["verdict"]["text"] or \
        f"level with {best}" in report["verdict"]["text"]
    for title in ("Per-class scores", "Confusion matrix", "Calibration (reliability diagram)", "Most confident mistakes",
                  "Token attributions"):
        assert title in titles
    attributions = next(s for s in report["sections"] if s["title"] == "Token attributions")["data"]["items"]
    assert attributions and all(len(i["tokens"]) == len(i["weights"]) and max(map(abs, i["weights"])) == 1.0
                                for i in attributions)
    assert "<span style=\"background:rgba(" in (run / "report.html").read_text()


def test_loaded_run_applies_the_saved_normalisation(run):
    import keras

    from solutions.sentiment.normalize import normalize_texts

    solution = SentimentSolution.load(run)
    texts = ["the story was not dull , great cast .", "the ending was awful ."]
    direct = solution.model_.predict(np.asarray(normalize_texts(texts, "negation"), dtype=object), verbose=0)
    assert np.allclose(solution.predict_scores(texts), direct, atol=1e-6)
    assert isinstance(solution.model_, keras.Model)


def test_predict_one_text_and_a_csv(run, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "--json", "predict", str(run), "--text", "the acting was wonderful , superb cast .")
    assert code == 0
    prediction = json.loads(out)["predictions"][0]
    assert prediction["label"] == "positive" and abs(prediction["p_negative"] + prediction["p_positive"] - 1) < 1e-5
    table = write_csv(tmp_path / "new.csv", [{"body": "a dull , tedious and painful film"}, {"body": "brilliant !"}])
    out_csv = tmp_path / "predictions.csv"
    code, _, _ = run_cli(capsys, "predict", str(run), "--data", str(table), "--out", str(out_csv))
    frame = pd.read_csv(out_csv)
    assert code == 0 and list(frame.columns) == ["id", "label", "probability", "p_negative", "p_positive"]
    assert frame["label"].tolist() == ["negative", "positive"]


def test_export_to_saved_model_takes_raw_strings_and_onnx_is_refused(run, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "--json", "export", str(run), "--format", "saved_model", "--out", str(tmp_path / "sm"))
    assert code == 0 and json.loads(out)["max_abs_difference"] < 1e-5
    code, _, err = run_cli(capsys, "export", str(run), "--format", "onnx")
    assert code == 2 and "Use --format saved_model" in err


def test_predict_needs_exactly_one_input(run, capsys):
    code, _, err = run_cli(capsys, "predict", str(run), "--text", "x", "--data", "y.csv")
    assert code == 2 and "exactly one of" in err


def test_evaluate_rejects_labels_never_seen_in_training(run, tmp_path, capsys):
    path = write_csv(tmp_path / "other.csv", [{"body": "fine", "verdict": "positive"}, {"body": "so-so", "verdict": "mixed"}])
    code, _, err = run_cli(capsys, "evaluate", str(run), "--data", str(path))
    assert code == 2 and "never seen in training: 'mixed'" in err and "Traceback" not in err


@pytest.mark.parametrize("content, flags, message", [
    (b"body,verdict\nok,pos\n", ["--text", "body", "--label", "stars"], "no label column 'stars'. Columns found: body, verdict"),
    (b"text,score\nok,1\n", [], "no label column: none is named label, target, class or y. Columns found: text, score"),
    (b"", [], "is empty"),
    (b"text,label\n" + b"".join(b"good %d,pos\n" % i for i in range(10)), [], "Only one class was found ('pos'"),
    (b"text,label\n,pos\n  ,neg\n", [], "empty in every row"),
    (b"text,label\ngood,pos\nbad \xe9 text,neg\n", [], "not valid UTF-8: line 3"),
])
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, content, flags, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    out = tmp_path / "never_written"
    code, _, err = run_cli(capsys, "train", "sentiment", "--data", str(path), *flags, "--recipe", "quick", "--out", str(out))
    assert code == 2 and message in err and "Traceback" not in err
    assert not out.exists()


def test_hub_without_a_local_preset_fails_before_reading_data(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "sentiment", "--data", "reviews", "--set", "model=hub", "--out", str(tmp_path / "r"))
    assert code == 2 and "hub_preset" in err and "Nothing is downloaded" in err
    code, _, err = run_cli(capsys, "train", "sentiment", "--data", "reviews", "--set", "model=hub",
                           "--set", f"hub_preset={tmp_path}", "--out", str(tmp_path / "r"))
    assert code == 2 and "has no config.json" in err and not (tmp_path / "r").exists()


@pytest.mark.slow
def test_hub_classifier_trains_from_a_tiny_local_preset(tmp_path):
    """A BERT classifier saved as a local KerasHub preset (2 words of vocabulary, one layer) trains and reloads."""
    keras_hub = pytest.importorskip("keras_hub")
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "great", "awful", "film", "was", "the", "not"]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=len(vocabulary), num_layers=1, num_heads=1, hidden_dim=8,
                                             intermediate_dim=16, max_sequence_length=32)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=16)
    keras_hub.models.BertTextClassifier(backbone, num_classes=2, preprocessor=preprocessor).save_to_preset(tmp_path / "preset")
    texts = ["the film was great", "the film was awful", "great film", "awful film", "not great", "not awful"] * 4
    labels = ["pos", "neg", "pos", "neg", "neg", "pos"] * 4
    data = write_csv(tmp_path / "t.csv", [{"text": t, "label": l} for t, l in zip(texts, labels)])
    solution = SentimentSolution(recipe="quick", model="hub", hub_preset=str(tmp_path / "preset"), epochs=1, duplicates="keep",
                                 learning_rate=1e-3)
    solution.fit(str(data), progress=False)
    solution.save(tmp_path / "run")
    loaded = SentimentSolution.load(tmp_path / "run")
    assert np.allclose(loaded.predict_scores(texts[:4]), solution.predict_scores(texts[:4]), atol=1e-5)
