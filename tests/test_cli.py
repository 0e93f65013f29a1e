"""The command line on the bundled sample and on bad input: exit codes, messages, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from solutions import get_solution, list_solutions
from solutions.cli import main

ROOT = Path(__file__).resolve().parents[1]
RUN_FILES = {"model.keras", "recipe.yaml", "schema.json", "manifest.json", "history.csv", "metrics.json",
             "report.json", "report.md", "report.html", "figures", "predictions.csv", "checkpoints"}


def run_cli(capsys, *argv):
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`ksol demo` (every solution's quick recipe, 3 epochs, on its bundled sample): (folder, printed table)."""
    import contextlib
    import io

    out, printed = tmp_path_factory.mktemp("demo"), io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["--quiet", "demo", "--set", "epochs=3", "--out", str(out)]) == 0
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def trained_runs(demo):
    """One quick run per solution, trained through the command line (the demo's runs)."""
    return {name: demo[0] / name for name in list_solutions()}


def _sample(name):
    from solutions import get_solution

    return get_solution(name).sample_data


@pytest.mark.parametrize("name", list_solutions())
def test_train_writes_a_complete_run_directory(trained_runs, name):
    run = trained_runs[name]
    assert RUN_FILES <= {p.name for p in run.iterdir()}
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["solution"] == name and manifest["seed"] == 0
    assert len(manifest["data"]["fingerprint"]) == 64
    assert {"tensorflow", "keras", "python"} <= set(manifest["environment"])
    assert manifest["timings"]["fit_seconds"] > 0
    assert not [p for p in run.rglob(".tmp-*")]
    assert (run / "decision.json").is_file() == get_solution(name).has_threshold
    assert {"evaluate_seconds", "total_seconds"} <= set(manifest["timings"])


@pytest.mark.parametrize("name", list_solutions())
def test_report_rerenders_from_json(trained_runs, name, capsys):
    run = trained_runs[name]
    (run / "report.html").unlink()
    code, out, _ = run_cli(capsys, "report", str(run))
    assert code == 0 and (run / "report.html").stat().st_size > 1000


def test_list_and_datasets_print_json(capsys):
    code, out, _ = run_cli(capsys, "--json", "list")
    assert code == 0 and "image_classification" in json.loads(out)
    code, out, _ = run_cli(capsys, "--json", "datasets")
    assert code == 0 and json.loads(out)["shapes"]["solution"] == "image_classification"


def test_demo_prints_one_summary_table(demo):
    out, printed = demo
    for name in list_solutions():
        line = next(l for l in printed.splitlines() if l.startswith(name))
        assert str(out / name / "report.html") in line


@pytest.mark.parametrize("argv, message", [
    (["train", "image_clasification", "--data", "shapes"], 'Did you mean "image_classification"'),
    (["train", "image_classification", "--data", "no/such/path"], "Data not found: 'no/such/path'"),
    (["train", "image_classification", "--data", "shapes", "--set", "epohcs=1"], 'Did you mean "epochs"'),
    (["train", "image_classification", "--data", "shapes", "--recipe", "fast"], "Unknown preset 'fast'"),
    (["evaluate", "no/such/run", "--data", "shapes"], "Run directory not found"),
    (["predict", ".", "--data", "x.png"], "is not a run directory"),
])
def test_user_errors_exit_2_with_a_message(capsys, argv, message):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("name", list_solutions())
def test_unknown_generator_option_in_a_dataset_config_exits_2(name, tmp_path, capsys):
    import yaml

    from solutions.core.datasets import read_dataset_config, known_datasets

    config = read_dataset_config(known_datasets()[_sample(name)])
    config["generator"]["n_rows"] = 10  # no sample generator takes this option
    path = tmp_path / "sample.yaml"
    path.write_text(yaml.safe_dump(config))
    code, _, err = run_cli(capsys, "train", name, "--data", str(path), "--out", str(tmp_path / "run"))
    assert code == 2 and "Traceback" not in err
    assert "has no option 'n_rows'" in err and not (tmp_path / "run").exists()


def test_resume_without_checkpoint_exits_2(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "image_classification", "--data", "shapes", "--recipe", "quick",
                           "--out", str(tmp_path / "fresh"), "--resume")
    assert code == 2 and "found no checkpoint" in err


def test_existing_run_directory_is_not_overwritten(trained_runs, capsys):
    run = trained_runs["image_classification"]
    before = (run / "model.keras").read_bytes()
    code, _, err = run_cli(capsys, "train", "image_classification", "--data", "shapes", "--out", str(run))
    assert code == 2 and "already exists" in err
    assert (run / "model.keras").read_bytes() == before


def test_model_that_is_not_keras_is_refused(trained_runs, tmp_path, capsys):
    import shutil

    fake = tmp_path / "fake_run"
    shutil.copytree(trained_runs["image_classification"], fake)
    (fake / "model.keras").write_bytes(b"this is not a zip archive")
    code, _, err = run_cli(capsys, "predict", str(fake), "--data", str(tmp_path))
    assert code == 2 and f"{fake / 'model.keras'} is not a Keras archive (not a zip file; 25 bytes)" in err


def test_python_cli_py_gives_the_same_exit_codes_without_traceback():
    ok = subprocess.run([sys.executable, "cli.py", "list"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0 and "image_classification" in ok.stdout
    bad = subprocess.run([sys.executable, "cli.py", "train", "image_classification", "--data", "missing_dir"],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "Data not found" in bad.stderr and "Traceback" not in bad.stderr


def test_global_flags_are_accepted_after_the_command(capsys):
    code, out, _ = run_cli(capsys, "list", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["fraud_detection"]["has_threshold"] is True
    assert listed["sentiment"]["accepts"] == ["files", "texts"] and listed["object_detection"]["export_formats"] == ["saved_model", "onnx"]
    code, out, _ = run_cli(capsys, "--json", "list", "--quiet")  # a flag before the command survives the subcommand
    assert code == 0 and "image_classification" in json.loads(out)


@pytest.mark.parametrize("name", ["image_classification", "sentiment"])
def test_threshold_is_refused_with_one_message_where_there_is_none(trained_runs, name, capsys, tmp_path):
    code, _, err = run_cli(capsys, "predict", str(trained_runs[name]), "--data", str(tmp_path), "--threshold", "0.5",
                           "--out", str(tmp_path / "x.csv"))
    assert code == 2 and f"--threshold is not used by {name}: its predictions have no score threshold" in err
    assert "Traceback" not in err and not (tmp_path / "x.csv").exists()


def test_a_run_without_its_decision_file_is_refused_naming_it(trained_runs, capsys, tmp_path):
    import shutil

    run = tmp_path / "old_run"
    shutil.copytree(trained_runs["fraud_detection"], run)
    (run / "decision.json").unlink()
    code, _, err = run_cli(capsys, "predict", str(run), "--row", "{}")
    assert code == 2 and "has no decision.json" in err and "Train the run again" in err and "Traceback" not in err
