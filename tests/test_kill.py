"""SIGKILL at any moment: `ksol train --resume` always finishes the run as if nothing happened, and a killed
`ksol predict` never leaves a partial output file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from solutions.cli import main

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["--quiet", "train", "credit_scoring", "--data", "applicants", "--recipe", "quick", "--set", "epochs=4"]

# Runs `ksol ARGS...` and kills itself with SIGKILL at the named point; the patches wrap the functions
# the workflow writes through, so the kill lands in the middle of real work.
KILLER = r'''
import contextlib, os, signal, sys
from pathlib import Path

point, argv = sys.argv[1], sys.argv[2:]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

import solutions.core.report_frame as report_frame
import solutions.core.solution as solution
import solutions.core.training as training

writes = {"last.keras": 0}
original_atomic_path = training.atomic_path

@contextlib.contextmanager
def atomic_path(path):
    if point == "first_epoch":
        die()  # the end of epoch 1, before any checkpoint exists
    with original_atomic_path(path) as tmp:
        yield tmp
        if Path(path).name == "last.keras":
            writes["last.keras"] += 1
            if point == "checkpoint" and writes["last.keras"] == 2:
                die()  # epoch 2's checkpoint is written to its temporary name, not yet renamed

training.atomic_path = atomic_path

if point == "evaluation":
    solution.Solution.evaluate = lambda self, data=None: die()

original_write_text = report_frame.atomic_write_text

def atomic_write_text(path, text):
    if point == "report" and Path(path).name == "report.md":
        die()  # report.json and figures/ are written, report.md and report.html not yet
    original_write_text(path, text)

report_frame.atomic_write_text = atomic_write_text

from solutions.cli import main
sys.exit(main(argv))
'''

POINTS = ("first_epoch", "checkpoint", "evaluation", "report")


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def listing(folder: Path) -> set[str]:
    """The run's files and checkpoints (figure names carry metric values, so figures/ counts as one entry)."""
    return {p.name for p in folder.iterdir()} | {f"checkpoints/{p.name}" for p in (folder / "checkpoints").iterdir()}


def killed_runs(tmp_path: Path) -> dict[str, Path]:
    """Start one `ksol train` per kill point, side by side, and wait for each to die by SIGKILL."""
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    processes = {point: subprocess.Popen([sys.executable, str(script), point, *TRAIN, "--out", str(tmp_path / point)],
                                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for point in POINTS}
    for point, process in processes.items():
        _, err = process.communicate(timeout=300)
        assert process.returncode == -signal.SIGKILL, f"{point}: exit {process.returncode}, expected SIGKILL. {err[-1500:]}"
    return {point: tmp_path / point for point in POINTS}


def test_train_killed_at_any_moment_resumes_to_the_same_run(tmp_path, capsys):
    runs = killed_runs(tmp_path)
    assert any(p.name.startswith(".tmp-") for p in (runs["checkpoint"] / "checkpoints").iterdir())
    assert not (runs["report"] / "report.md").exists() and (runs["report"] / "report.json").exists()
    code, _, err = run_cli(capsys, *TRAIN, "--out", str(tmp_path / "whole"))
    assert code == 0, err
    whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())["metrics"]
    for point, run in runs.items():
        code, _, err = run_cli(capsys, *TRAIN, "--out", str(run), "--resume")
        assert code == 0 and "Traceback" not in err, f"{point}: {err}"
        assert listing(run) == listing(tmp_path / "whole"), point
        assert not [p for p in run.rglob("*") if p.name.startswith((".tmp-", ".lock")) or ".old-" in p.name], point
        metrics = json.loads((run / "metrics.json").read_text())["metrics"]
        if point == "checkpoint":  # epochs 3-4 rerun on a fresh shuffle order of the training rows
            assert metrics["auc"]["value"] == pytest.approx(whole["auc"]["value"], abs=0.05), point
        else:  # nothing of training was lost (or it started again from epoch 1): the same model
            assert metrics == whole, point


def test_predict_killed_half_way_leaves_the_previous_file_or_none(tmp_path, capsys):
    from solutions.credit_scoring.data import make_applicants

    run = tmp_path / "run"
    code, _, err = run_cli(capsys, *TRAIN[:-2], "--set", "epochs=1", "--set", "n_reasons=0", "--out", str(run))
    assert code == 0, err
    rows = pd.concat([make_applicants(n=2000, seed=s) for s in range(40)], ignore_index=True).drop(columns=["credit_risk"])
    rows.to_csv(tmp_path / "many.csv", index=False)
    out = tmp_path / "scored.csv"
    for previous in (None, "an earlier complete file\n"):
        if previous is not None:
            out.write_text(previous)
        process = subprocess.Popen([sys.executable, "cli.py", "predict", str(run), "--data", str(tmp_path / "many.csv"),
                                    "--out", str(out), "--chunk-size", "2000"], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in process.stderr:  # progress lines: kill once some chunks are written
            if line.startswith("predicted 10000 rows"):
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=120)
        assert process.returncode == -signal.SIGKILL, "predict finished before it could be killed"
        time.sleep(0.1)
        assert (not out.exists()) if previous is None else out.read_text() == previous
