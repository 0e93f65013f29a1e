"""The command line under trouble: two writers on one run directory, a disk that fills while a run is written."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from solutions.cli import main
from solutions.core.runs import LOCK_FILE

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train", "credit_scoring", "--data", "applicants", "--recipe", "quick"]


def test_two_trains_into_one_folder_one_writes_it_and_the_other_is_told_it_is_in_use(tmp_path):
    out = tmp_path / "same"
    argv = [sys.executable, "cli.py", "--quiet", *TRAIN, "--set", "epochs=2", "--out", str(out)]
    processes = [subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    try:
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    codes = [process.returncode for process in processes]
    assert sorted(codes) == [0, 2], outputs
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
    error = outputs[loser][1]
    assert f"ksol: usage error: Run directory {out} is in use by another ksol process (pid {processes[winner].pid}" in error
    assert "Wait for it to finish, or pass another --out" in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert {"model.keras", "manifest.json", "report.html"} <= {p.name for p in out.iterdir()}
    assert not (out / LOCK_FILE).exists() and not list(out.rglob(".tmp-*"))


def test_a_lock_file_alone_does_not_make_a_fresh_folder_count_as_not_empty(tmp_path):
    from solutions.cli import _check_out_dir
    from solutions.core.runs import run_lock

    with run_lock(tmp_path / "run"):
        _check_out_dir(tmp_path / "run", resume=False)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the file being written through /proc")
def test_a_disk_that_fills_while_the_run_is_saved_exits_2_and_keeps_what_was_written(tmp_path, monkeypatch, capsys):
    real_fsync, recipes = os.fsync, []

    def fsync(fd):  # the disk fills while the final recipe.yaml is written (after model.keras, before manifest.json)
        name = Path(os.readlink(f"/proc/self/fd/{fd}")).name
        if name.startswith(".tmp-") and "-recipe.yaml." in name:
            recipes.append(name)
            if len(recipes) == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    out = tmp_path / "run"
    code = main(["--quiet", *TRAIN, "--set", "epochs=1", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert err.startswith(f"ksol: disk full: The disk holding {out} is full: recipe.yaml could not be written")
    assert "--out on another disk" in err and "--resume" in err and "Traceback" not in err
    assert "epochs: 1" in (out / "recipe.yaml").read_text()  # the one fit wrote, whole
    assert zipfile.is_zipfile(out / "model.keras") and (out / "report.html").stat().st_size > 1000
    assert not (out / "manifest.json").exists()  # not a finished run: evaluate and predict refuse it
    assert not (out / LOCK_FILE).exists() and not [p for p in out.rglob(".*") if ".tmp" in p.name]
