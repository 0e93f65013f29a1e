"""The encoder and ensemble models through the workflow on a tiny random BERT: one saved model taking raw strings,
ensemble weights chosen on the validation split, and every bad encoder input an exit-2 message."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from solutions.cli import main
from solutions.core.config import make_recipe
from solutions.core.errors import ConfigError
from solutions.sentiment import SentimentSolution
from solutions.sentiment.encoder_preset import check_encoder_preset
from solutions.sentiment.ensemble import choose_ensemble_weights
from solutions.sentiment.recipe import SentimentRecipe
from tests.sentiment.tiny_bert import write_hugging_face_folder, write_keras_preset

pytest.importorskip("keras_hub")
pytest.importorskip("safetensors")

NEW_TEXTS = ["a wonderful , gripping film", "the plot was dull", "", "not boring at all"]


def run_cli(capsys, *argv):
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory) -> Path:
    return write_hugging_face_folder(tmp_path_factory.mktemp("minilm_like") / "tiny-bert")


@pytest.fixture(scope="module")
def encoder_run(hf_folder, tmp_path_factory) -> tuple[Path, Path]:
    """(run folder, the copy of the encoder folder it trained from, removed after training)."""
    root = tmp_path_factory.mktemp("encoder_run")
    preset = Path(shutil.copytree(hf_folder, root / "preset"))
    code = main(["--quiet", "train", "sentiment", "--data", "reviews", "--recipe", "quick", "--set", "model=encoder",
                 "--set", f"hub_preset={preset}", "--set", "epochs=2", "--out", str(root / "run")])
    assert code == 0
    shutil.rmtree(preset)  # model.keras alone predicts: the folder is not needed any more
    return root / "run", preset


def test_an_encoder_run_predicts_raw_strings_from_model_keras_alone(encoder_run, capsys):
    run, _ = encoder_run
    solution = SentimentSolution.load(run)
    scores = solution.predict_scores(NEW_TEXTS)
    direct = solution.model_.predict(np.asarray(NEW_TEXTS, dtype=object), verbose=0)  # raw strings in
    assert scores.shape == (4, 2) and np.allclose(scores, direct, atol=1e-6) and np.allclose(scores.sum(axis=1), 1, atol=1e-5)
    code, out, _ = run_cli(capsys, "--json", "predict", str(run), "--text", NEW_TEXTS[0])
    assert code == 0
    prediction = json.loads(out)["predictions"][0]
    assert prediction["p_positive"] == pytest.approx(float(scores[0, 1]), abs=1e-5)


def test_an_encoder_run_records_the_cache_and_the_throughput(encoder_run):
    run, _ = encoder_run
    manifest = json.loads((run / "manifest.json").read_text())
    notes = manifest["training"]["notes"]
    assert notes["embedding throughput (sentences/s)"] > 0
    assert "embedded once" in notes["embedding cache"] and notes["sentence encoder"].startswith("BERT, 2 layers x 16")
    history = (run / "history.csv").read_text().splitlines()
    assert len(history) == 3 and all(",encoder_head" in line or "encoder_head," in line for line in history[1:])
    report = json.loads((run / "report.json").read_text())
    rows = dict(next(s for s in report["sections"] if s["title"] == "Training notes")["data"]["rows"])
    assert rows["encoder windows"].startswith("1 x 64 word pieces")


def test_ensemble_weights_are_chosen_on_the_validation_split(hf_folder, monkeypatch, tmp_path):
    """The weights come from the members' validation probabilities and labels, and the saved model averages the
    kept members' probabilities with them, after reloading too."""
    from solutions.sentiment import ensemble

    seen = []

    def recording(probabilities, y, *args):
        seen.append(([np.array(p) for p in probabilities], np.array(y)))
        return choose_ensemble_weights(probabilities, y, *args)

    monkeypatch.setattr(ensemble, "choose_ensemble_weights", recording)
    solution = SentimentSolution("quick", model="ensemble", ensemble_members=("bow", "encoder"), hub_preset=str(hf_folder),
                                 epochs=2)
    solution.fit("reviews", progress=False)
    (probabilities, y), = seen
    val = solution.splits_.val
    assert np.array_equal(y, val.y) and all(len(p) == len(val) for p in probabilities)
    chosen = choose_ensemble_weights(probabilities, y)
    weights = solution.training_notes_["ensemble weights by member"]
    assert tuple(weights.values()) == chosen.weights and sum(chosen.weights) == pytest.approx(1.0)
    for p in probabilities:  # no single member beats the chosen average on validation
        assert chosen.accuracy >= np.mean(p.argmax(axis=1) == y)
    average = solution.model_.get_layer("ensemble_average")
    kept = [name for name, w in weights.items() if w > 0]
    assert average.names == kept and average.member_weights == [weights[n] for n in kept]
    scores = solution.predict_scores(list(val.x))
    mixed = sum(weights[name] * p for name, p in zip(weights, probabilities))
    assert np.allclose(scores, mixed, atol=1e-5)  # the model reproduces the validation average
    solution.save(tmp_path / "run")
    loaded = SentimentSolution.load(tmp_path / "run")
    assert np.allclose(loaded.predict_scores(list(val.x)), scores, atol=1e-6)
    assert loaded.model_.get_layer("ensemble_average").member_weights == average.member_weights


def test_ensemble_weight_grid_finds_a_mixture_no_member_reaches_alone():
    y = np.array([0, 1, 0, 1])
    first = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.6, 0.4]])   # right on the first two only
    second = np.array([[0.3, 0.7], [0.45, 0.55], [0.9, 0.1], [0.1, 0.9]])  # right on the last three
    chosen = choose_ensemble_weights([first, second], y, step=0.1)
    assert chosen.accuracy == 1.0 and 0 < chosen.weights[0] < 1
    for w in np.linspace(0, 1, 11):  # every weight that is right everywhere has no lower cross-entropy
        mixed = w * first + (1 - w) * second
        if np.all(mixed.argmax(axis=1) == y):
            assert chosen.cross_entropy <= -np.mean(np.log(mixed[np.arange(4), y])) + 1e-12


# ------------------------------------------------------------------ bad input
def copy_without(folder: Path, target: Path, *names: str) -> Path:
    shutil.copytree(folder, target)
    for name in names:
        (target / name).unlink()
    return target


@pytest.mark.parametrize("layout, missing, words", [
    ("hugging_face", "vocab.txt", ["lacks vocab.txt (the word-piece vocabulary the tokenizer reads)",
                                   "hugging face layout", "copy the missing files"]),
    ("hugging_face", "model.safetensors", ["lacks model.safetensors"]),
    ("hugging_face", "config.json", ["has no config.json, so it is no encoder folder", "Nothing is downloaded"]),
    ("keras_hub", "assets/tokenizer/vocabulary.txt", ["lacks assets/tokenizer/vocabulary.txt", "keras hub layout"]),
])
def test_an_incomplete_encoder_folder_exits_2_naming_the_missing_file(hf_folder, tmp_path, capsys, layout, missing, words):
    source = hf_folder if layout == "hugging_face" else write_keras_preset(tmp_path / "keras_hub")
    folder = copy_without(source, tmp_path / "broken", missing)
    code, _, err = run_cli(capsys, "train", "sentiment", "--data", "reviews", "--set", "model=encoder",
                           "--set", f"hub_preset={folder}", "--out", str(tmp_path / "run"))
    message = " ".join(err.split())
    assert code == 2 and "Traceback" not in err and not (tmp_path / "run").exists()
    assert all(w in message for w in words) and f"Received: hub_preset='{folder}'" in message, message


def test_a_hugging_face_folder_without_safetensors_installed_names_the_pip_command(hf_folder, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "safetensors" else real(name, *a))
    with pytest.raises(ConfigError, match=r"needs the safetensors package, which is not installed: pip install safetensors"):
        check_encoder_preset(str(hf_folder), 64)


@pytest.mark.parametrize("overrides, pattern", [
    ({"model": "encoder"}, r"`hub_preset` must be the local folder of a pretrained BERT encoder"),
    ({"model": "ensemble", "ensemble_members": ("bow",)}, r"`ensemble_members` must be two or more different models"),
    ({"model": "ensemble", "ensemble_members": ("bow", "hub")}, r"Received: ensemble_members=\['bow', 'hub'\]"),
    ({"model": "ensemble", "ensemble_members": ("bow", "cnn"), "hidden_units": 8}, r"`hidden_units` must be 0 with features=nb"),
    ({"model": "encoder", "hub_preset": "x", "encoder_sequence_length": 2}, r"`encoder_sequence_length` must be an integer >= 3"),
])
def test_bad_encoder_and_ensemble_keys_are_refused(overrides, pattern):
    with pytest.raises(ConfigError, match=pattern):
        make_recipe(SentimentRecipe, "quick", **overrides)


def test_encoder_folder_checks_the_sequence_length_and_the_model_type(hf_folder, tmp_path):
    with pytest.raises(ConfigError, match="`encoder_sequence_length` must be at most 64"):
        check_encoder_preset(str(hf_folder), 65)
    other = Path(shutil.copytree(hf_folder, tmp_path / "roberta"))
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model_type": "roberta"}))
    with pytest.raises(ConfigError, match="model_type='roberta'; model=encoder reads BERT encoders"):
        check_encoder_preset(str(other), 64)
