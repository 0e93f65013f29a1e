"""Image classification from the command line: folders, predict, evaluate, export, bad images."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from solutions.cli import main
from tests.conftest import write_png


@pytest.fixture(scope="module")
def folder_run(shapes_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("ic") / "run"
    assert main(["--quiet", "train", "image_classification", "--data", str(shapes_folder), "--recipe", "quick",
                 "--set", "epochs=3", "--out", str(out)]) == 0
    return out


def test_predict_writes_file_label_and_probability_per_class(folder_run, shapes_folder, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(folder_run), "--data", str(shapes_folder / "circle"), "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["file", "label", "probability", "p_circle", "p_square", "p_triangle"]
    assert len(frame) == 20
    assert np.allclose(frame[["p_circle", "p_square", "p_triangle"]].sum(axis=1), 1, atol=1e-4)


def test_predict_skips_a_corrupt_image_and_says_so(folder_run, shapes_folder, tmp_path, capsys):
    inputs = tmp_path / "inputs"
    shutil.copytree(shapes_folder / "square", inputs)
    (inputs / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    out = tmp_path / "p.csv"
    assert main(["predict", str(folder_run), "--data", str(inputs), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 20
    assert "skipped 1 unreadable" in capsys.readouterr().err


def test_evaluate_on_other_data_writes_a_fresh_report(folder_run, tmp_path, capsys):
    assert main(["--json", "evaluate", str(folder_run), "--data", "shapes"]) == 0
    report_dir = folder_run / "evaluations" / "shapes"
    assert (report_dir / "report.html").is_file() and (report_dir / "metrics.json").is_file()
    verdict = __import__("json").loads((report_dir / "report.json").read_text())["sections"][0]
    assert verdict["title"] == "Verdict" and verdict["data"]["text"].startswith("No baseline was fitted")


def test_the_training_report_opens_with_the_verdict_against_the_best_baseline(folder_run):
    report = __import__("json").loads((folder_run / "report.json").read_text())
    names = ("majority class", "logistic regression (16x16 pixels)")
    best = max(names, key=lambda n: report["metrics"][f"baseline/{n}/accuracy"]["value"])
    assert report["sections"][0]["title"] == f"Verdict against {best}" and report["verdict"]["baseline"] == best
    assert report["verdict"]["text"] + "." == report["sections"][0]["data"]["text"]
    markdown = (folder_run / "report.md").read_text()
    assert f"## Verdict against {best}" in markdown
    (folder_run / "report.md").unlink()
    assert main(["--quiet", "report", str(folder_run)]) == 0  # re-rendered from report.json alone
    assert (folder_run / "report.md").read_text() == markdown
    assert __import__("json").loads((folder_run / "metrics.json").read_text())["verdict"]["baseline"] == best


def test_evaluate_with_an_unknown_label_exits_2(folder_run, shapes_folder, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(shapes_folder, data)
    shutil.copytree(data / "circle", data / "hexagon")
    assert main(["evaluate", str(folder_run), "--data", str(data)]) == 2
    assert "never seen in training: 'hexagon'" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["saved_model", "onnx"])
def test_export_reproduces_the_keras_model(folder_run, tmp_path, capsys, fmt):
    assert main(["--json", "export", str(folder_run), "--format", fmt, "--out", str(tmp_path / f"m_{fmt}")]) == 0
    result = __import__("json").loads(capsys.readouterr().out)
    assert result["max_abs_difference"] <= 1e-4


def test_unknown_export_format_exits_2(folder_run, capsys):
    assert main(["export", str(folder_run), "--format", "tflite"]) == 2
    assert "must be one of saved_model, onnx, litert" in capsys.readouterr().err


def test_corrupt_jpeg_is_skipped_and_counted_or_rejected(shapes_folder, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(shapes_folder, data)
    (data / "circle" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    code = main(["train", "image_classification", "--data", str(data), "--recipe", "quick",
                 "--set", "on_corrupt=error", "--out", str(tmp_path / "strict")])
    assert code == 2 and "circle/corrupt.jpg" in capsys.readouterr().err
    assert not (tmp_path / "strict").exists()
    assert main(["--quiet", "train", "image_classification", "--data", str(data), "--recipe", "quick",
                 "--set", "epochs=1", "--out", str(tmp_path / "lenient")]) == 0
    summary = __import__("json").loads((tmp_path / "lenient" / "report.json").read_text())
    data_section = next(s for s in summary["sections"] if s["title"] == "Data")
    assert "1 input was dropped: circle/corrupt.jpg (unreadable image: truncated JPEG" in data_section["note"]


@pytest.mark.parametrize("layout, message", [
    ("empty", "No images found"),
    ("one_class", "Only one class was found ('circle'"),
    ("tiny_class", "'square' has 2"),
])
def test_unusable_folders_exit_2(shapes_folder, tmp_path, capsys, layout, message):
    data = tmp_path / layout
    data.mkdir()
    if layout == "one_class":
        shutil.copytree(shapes_folder / "circle", data / "circle")
    elif layout == "tiny_class":
        shutil.copytree(shapes_folder / "circle", data / "circle")
        (data / "square").mkdir()
        for file in sorted((shapes_folder / "square").iterdir())[:2]:
            shutil.copy(file, data / "square" / file.name)
    code = main(["train", "image_classification", "--data", str(data), "--recipe", "quick", "--out", str(tmp_path / "o")])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
