"""Keras files that cannot be loaded (a Lambda layer, random bytes) and temporaries of killed processes,
through the command line: exit 2, one message naming the file, nothing written lost."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from solutions.cli import main

TRAIN = ["train", "image_classification", "--data", "shapes", "--recipe", "quick", "--set", "epochs=1"]


def run_cli(capsys, *argv):
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("keras_files") / "run"
    assert main(["--quiet", *TRAIN, "--out", str(out)]) == 0
    return out


@pytest.fixture
def run(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def written(folder):
    """Every file under `folder` (its lock file aside) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != ".lock"}


def save_lambda_model(path):
    """A model holding a Lambda layer, saved by Keras: safe_mode refuses to load it (it would run code)."""
    import keras

    inputs = keras.Input((2,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(path)


def test_resume_from_a_checkpoint_with_a_lambda_layer_exits_2_with_predicts_wording(run, tmp_path, capsys):
    last = run / "checkpoints" / "last.keras"
    save_lambda_model(last)
    before = written(run)
    code, _, err = run_cli(capsys, "--quiet", *TRAIN, "--out", str(run), "--resume")
    assert code == 2, err
    assert f"{last} could not be loaded as a Keras model with safe_mode on" in err
    assert "--resume" in err and "internal error" not in err and "Traceback" not in err
    assert written(run) == before  # nothing lost or rewritten

    save_lambda_model(run / "model.keras")  # the same refusal from predict, in the same words
    code, _, err = run_cli(capsys, "predict", str(run), "--data", str(tmp_path))
    assert code == 2 and f"{run / 'model.keras'} could not be loaded as a Keras model with safe_mode on" in err


def test_a_model_file_of_random_bytes_is_not_a_keras_archive(run, tmp_path, capsys):
    (run / "model.keras").write_bytes(os.urandom(1234))
    code, _, err = run_cli(capsys, "predict", str(run), "--data", str(tmp_path))
    assert code == 2, err
    assert f"{run / 'model.keras'} is not a Keras archive (not a zip file; 1,234 bytes)" in err
    assert "Pass the folder of a run trained by keras-solutions" in err
    assert "File not found" not in err and "Traceback" not in err
    (run / "checkpoints" / "last.keras").write_bytes(b"\x00" * 10)
    code, _, err = run_cli(capsys, "--quiet", *TRAIN, "--out", str(run), "--resume")
    assert code == 2 and "last.keras is not a Keras archive (not a zip file; 10 bytes)" in err


def test_resume_and_evaluate_sweep_the_temporaries_of_a_killed_process(run, capsys):
    dead, live = dead_pid(), os.getpid()
    stale = [run / "checkpoints" / f".tmp-{dead}-best.weights.h5", run / f".model.keras.old-{dead}"]
    for path in stale:
        path.write_bytes(b"half written by a killed process")
    alive = run / "checkpoints" / f".tmp-{live}-last.keras"
    alive.write_bytes(b"being written by a live process")
    code, _, err = run_cli(capsys, "--quiet", *TRAIN, "--out", str(run), "--resume")
    assert code == 0, err
    assert not [p for p in stale if p.exists()] and alive.exists()

    evaluation = run / "evaluations" / "shapes"
    evaluation.mkdir(parents=True)
    killed = evaluation / f".tmp-{dead}-report.html"
    killed.write_text("half")
    code, _, err = run_cli(capsys, "--quiet", "evaluate", str(run), "--data", "shapes")
    assert code == 0, err
    assert not killed.exists() and (evaluation / "report.html").is_file()
