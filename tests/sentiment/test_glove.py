"""Pretrained word vectors (GloVe's text format) as the embedding of the sentiment sequence models."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from solutions.cli import main
from solutions.core.config import make_recipe
from solutions.core.errors import ConfigError, DataError
from solutions.sentiment import SentimentSolution
from solutions.sentiment.model import (
    adapt_sentiment_model,
    build_sentiment_model,
    word_vector_layer,
)
from solutions.sentiment.recipe import SentimentRecipe
from solutions.sentiment.sample import make_reviews
from solutions.sentiment.word_vectors import (
    build_embedding_matrix,
    read_word_vectors,
    vector_dimension,
)
from tests.sentiment.conftest import write_csv

SHARED_GLOVE = Path(__file__).resolve().parents[3] / "shared" / "weights" / "glove.6B.50d.100k.txt"
DIM = 8
# Words of the generated reviews, one of them cased ("Plot": found through its lower-case form), and two
# the reviews never use.
FILE_WORDS = ("the", "great", "awful", "wonderful", "boring", "film", "Plot", "zebra", "quasar")


def vectors_of(words=FILE_WORDS, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {w: rng.normal(0, 0.5, DIM).round(4).astype(np.float32) for w in words}


def write_vectors(path: Path, vectors: dict[str, np.ndarray], header: str = "") -> Path:
    path.write_text(header + "".join(f"{w} {' '.join(f'{v:g}' for v in vector)}\n" for w, vector in vectors.items()),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def glove(tmp_path_factory) -> Path:
    return write_vectors(tmp_path_factory.mktemp("glove") / "tiny.8d.txt", vectors_of())


@pytest.fixture(scope="module")
def reviews(tmp_path_factory) -> Path:
    texts, labels = make_reviews(n_per_class=40, seed=5)
    return write_csv(tmp_path_factory.mktemp("texts") / "reviews.csv",
                     [{"text": t, "label": label} for t, label in zip(texts, labels)])


def run_cli(capsys, *argv):
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


def train_argv(data: Path, out: Path, *sets: str) -> list[str]:
    flags = [x for s in ("model=cnn", f"embedding_dim={DIM}", "epochs=2", *sets) for x in ("--set", s)]
    return ["--quiet", "train", "sentiment", "--data", str(data), "--recipe", "quick", *flags, "--out", str(out)]


def embedding_rows(model, words) -> np.ndarray:
    vocabulary = model.get_layer("vectorize").get_vocabulary()
    return word_vector_layer(model).embeddings.numpy()[[vocabulary.index(w) for w in words]]


# ------------------------------------------------------------------ the reader
def test_reader_keeps_the_asked_words_under_their_own_or_lower_case_spelling(glove):
    found = read_word_vectors(glove, ["great", "plot", "film", "missing", "", "[UNK]"])
    expected = vectors_of()
    assert sorted(found.vectors) == ["film", "great", "plot"] and found.lowercase == ("plot",)
    assert np.array_equal(found.vectors["plot"], expected["Plot"]) and np.array_equal(found.vectors["great"], expected["great"])
    assert found.dimension == DIM == vector_dimension(glove) and found.rows == len(FILE_WORDS)
    assert found.sha256 == hashlib.sha256(glove.read_bytes()).hexdigest()


def test_reader_takes_a_word2vec_header_and_glove_840b_words_with_spaces(tmp_path):
    vectors = vectors_of(("film", "great"))
    path = write_vectors(tmp_path / "v.vec", vectors, header=f"3 {DIM}\n")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(". . . " + " ".join(["0.5"] * DIM) + "\n")
    found = read_word_vectors(path, ["film", "great", ". . ."])
    assert vector_dimension(path) == DIM and found.rows == 3 and sorted(found.vectors) == [". . .", "film", "great"]


def test_matrix_rows_are_the_file_vectors_padding_zeros_and_fresh_seeded_rows_for_the_rest(glove):
    vocabulary = ["", "[UNK]", "the", "plot", "acting", "was"]
    found = read_word_vectors(glove, vocabulary)
    matrix = build_embedding_matrix(vocabulary, found, 8, seed=0)
    assert np.array_equal(matrix[2], vectors_of()["the"]) and np.array_equal(matrix[3], vectors_of()["Plot"])
    assert not matrix[0].any() and np.all(np.abs(matrix[[1, 4, 5, 6, 7]]).sum(axis=1) > 0)
    assert np.array_equal(matrix, build_embedding_matrix(vocabulary, found, 8, seed=0))
    assert not np.array_equal(matrix[4], build_embedding_matrix(vocabulary, found, 8, seed=1)[4])


# ------------------------------------------------------------------ the models
@pytest.mark.parametrize("model, width", [("cnn", "embedding_dim"), ("bilstm", "embedding_dim"), ("transformer", "units")])
def test_known_words_start_at_their_file_vectors_in_every_sequence_model(glove, model, width):
    texts, labels = make_reviews(n_per_class=10, seed=2)
    recipe = make_recipe(SentimentRecipe, "quick", model=model, embedding_weights=str(glove), **{width: DIM},
                         num_heads=2)
    keras_model = build_sentiment_model({"class_names": ["negative", "positive"]}, recipe)
    adapt_sentiment_model(keras_model, np.asarray(texts, dtype=object), (np.asarray(labels) == "positive").astype(int),
                          2, recipe)
    expected = vectors_of()
    assert np.array_equal(embedding_rows(keras_model, ["great", "awful", "plot"]),
                          np.stack([expected["great"], expected["awful"], expected["Plot"]]))
    missing = embedding_rows(keras_model, ["acting", "story"])
    assert np.all(np.abs(missing).sum(axis=1) > 0) and not np.array_equal(missing[0], missing[1])


@pytest.fixture(scope="module")
def static_run(glove, reviews, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("glove_run") / "static"
    assert main(train_argv(reviews, out, f"embedding_weights={glove}", "embedding_trainable=false")) == 0
    return out


def test_static_run_keeps_the_file_vectors_and_records_the_file(static_run, glove):
    solution = SentimentSolution.load(static_run)
    expected = vectors_of()
    assert np.array_equal(embedding_rows(solution.model_, ["great", "boring", "film", "plot"]),
                          np.stack([expected[w] for w in ("great", "boring", "film", "Plot")]))
    manifest = json.loads((static_run / "manifest.json").read_text())
    notes = manifest["training"]["notes"]  # the training notes, which the manifest records
    assert notes["word vectors sha256"] == hashlib.sha256(glove.read_bytes()).hexdigest()
    assert notes["word vectors file"] == glove.name and manifest["recipe"]["embedding_weights"] == str(glove)
    assert manifest["recipe"]["embedding_trainable"] is False
    vocabulary = len(solution.model_.get_layer("vectorize").get_vocabulary()) - 2
    assert notes["vocabulary words found in the file"].startswith(f"7 of {vocabulary} ")
    report = json.loads((static_run / "report.json").read_text())
    section = json.dumps(next(s for s in report["sections"] if s["title"] == "Training notes"))
    assert f"7 of {vocabulary}" in section and "through a file word's lower-case form" in section and "(static)" in section


def test_static_run_predicts_without_the_file(static_run, glove, tmp_path, capsys):
    moved = glove.rename(tmp_path / glove.name)
    try:
        code, out, err = run_cli(capsys, "--json", "predict", str(static_run), "--text", "a wonderful , great film .")
    finally:
        moved.rename(glove)
    assert code == 0, err
    assert json.loads(out)["predictions"][0]["label"] in ("negative", "positive")


def test_non_static_training_moves_the_vectors(glove, reviews):
    solution = SentimentSolution("quick", model="cnn", embedding_dim=DIM, epochs=2, embedding_weights=str(glove))
    solution.fit(reviews, progress=False)
    expected = vectors_of()
    rows = embedding_rows(solution.model_, ["great", "awful"])
    assert not np.allclose(rows, np.stack([expected["great"], expected["awful"]]))
    assert solution.training_notes_["embedding during training"] == "trained with the model (non-static)"


# ------------------------------------------------------------------ bad input
def bad_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.txt"
    rows = {w: [f"{v:g}" for v in vector] for w, vector in vectors_of().items()}
    if kind == "empty":
        path.write_text("\n\n")
    elif kind in ("lengths", "number"):
        if kind == "lengths":
            rows["awful"].append("0.5")
        else:
            rows["great"][3] = "abc"
        path.write_text("".join(f"{w} {' '.join(v)}\n" for w, v in rows.items()))
    elif kind == "no_word":
        write_vectors(path, vectors_of(("zebra", "quasar", "nebula")))
    return path


@pytest.mark.parametrize("kind, sets, words", [
    ("missing", [], ["embedding_weights", "names no file", "does not exist"]),
    ("empty", [], ["empty.txt is empty", "no word vectors"]),
    ("lengths", [], ["Rows of different lengths", "lengths.txt", "line 3 ('awful') has 9 values", "line 1 has 8"]),
    ("number", [], ["number.txt line 2 ('great')", "'abc' is not a number"]),
    ("no_word", [], ["None of the", "vocabulary words of the training split is in", "no_word.txt", "3 words read"]),
    ("ok", ["embedding_dim=16"], ["`embedding_dim` must equal the dimension of the word vectors in ok.txt (8)",
                                  "--set embedding_dim=8"]),
    ("ok", ["model=bow"], ["`embedding_weights` must be unset with model=bow", "--set model=cnn"]),
])
def test_bad_word_vectors_exit_2_with_a_clear_message(tmp_path, reviews, glove, capsys, kind, sets, words):
    path = glove.parent / "ok.txt" if kind == "ok" else bad_file(tmp_path, kind)
    if kind == "ok" and not path.exists():
        path.write_bytes(glove.read_bytes())
    code, _, err = run_cli(capsys, *train_argv(reviews, tmp_path / "run", f"embedding_weights={path}", *sets))
    assert code == 2 and "Traceback" not in err
    message = " ".join(err.split())
    assert all(w in message for w in words), message


def test_frozen_embedding_needs_word_vectors():
    with pytest.raises(ConfigError, match="`embedding_trainable` must be true without embedding_weights"):
        make_recipe(SentimentRecipe, "quick", model="cnn", embedding_trainable=False)


def test_a_compressed_file_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "glove.6B.zip"
    path.write_bytes(b"PK")
    with pytest.raises(ConfigError, match="is compressed; unpack it first"):
        vector_dimension(path)


def test_a_header_without_vectors_is_a_data_error(tmp_path):
    path = tmp_path / "h.vec"
    path.write_text("0 300\n")
    with pytest.raises(DataError, match="holds a header line and no word vectors"):
        read_word_vectors(path, ["film"])


# ------------------------------------------------------------------ the MR layout (rt-polarity.pos / .neg)
def write_class_files(folder: Path) -> Path:
    folder.mkdir()
    # Windows-1252, as rt-polarity: 0x85 is an ellipsis there, and a line break for str.splitlines() in Latin-1.
    (folder / "rt-polarity.pos").write_bytes(b"a gripping , moving film \x85 truly\nclich\xe9s aside , great fun\n")
    (folder / "rt-polarity.neg").write_bytes(b"dull and tedious\n\nawful acting\n")
    return folder


def test_class_files_read_one_text_a_line_in_the_named_encoding(tmp_path):
    import yaml

    from solutions.core.datasets import resolve_data
    from solutions.sentiment.data import load_text_examples

    folder = write_class_files(tmp_path / "mr")
    config = tmp_path / "mr.yaml"
    config.write_text(yaml.safe_dump({"name": "mr", "solution": "sentiment", "path": "mr", "format": "class_files",
                                      "options": {"encoding": "cp1252"}}))
    examples = load_text_examples(resolve_data(config), SentimentRecipe())
    by_id = dict(zip(examples.ids, examples.x))
    assert sorted(examples.labels) == ["neg", "neg", "pos", "pos"] and len(examples.dropped) == 1  # the blank line
    assert by_id["rt-polarity.pos:1"] == "a gripping , moving film \u2026 truly" and by_id["rt-polarity.pos:2"].startswith("clichés")
    with pytest.raises(DataError, match=r"rt-polarity.(neg|pos) is not valid UTF-8: line \d"):
        load_text_examples(resolve_data(folder), SentimentRecipe())  # found by its layout, decoded as UTF-8
    config.write_text(config.read_text().replace("cp1252", "klingon"))
    with pytest.raises(DataError, match="`encoding` must be a Python codec name"):
        load_text_examples(resolve_data(config), SentimentRecipe())


# ------------------------------------------------------------------ the real GloVe file
@pytest.mark.slow
def test_real_glove_vectors_are_read_and_train_a_cnn(reviews):
    if not SHARED_GLOVE.is_file():
        pytest.skip(f"the shared GloVe file is absent: {SHARED_GLOVE} (see shared/weights/README.md)")
    found = read_word_vectors(SHARED_GLOVE, ["king", "queen", "good", "great"])
    king, queen = found.vectors["king"], found.vectors["queen"]
    assert found.dimension == 50 and found.rows == 100_000
    assert float(king @ queen / np.linalg.norm(king) / np.linalg.norm(queen)) > 0.7
    solution = SentimentSolution("quick", model="cnn", embedding_dim=50, epochs=1, embedding_weights=str(SHARED_GLOVE),
                                 embedding_trainable=False)
    solution.fit(reviews, progress=False)
    assert solution.training_notes_["word vectors file"] == SHARED_GLOVE.name
    assert solution.training_notes_["word vectors"] == "50 dimensions, 100,000 words in the file"
    assert solution.predict_scores(["a great film"]).shape == (1, 2)
