"""A plan's output folder has one writer: a second `ksol batch` on it stops before running anything."""

from __future__ import annotations

import json
import os
import time

import pytest
import yaml

from solutions.batch.plan import run_plan
from solutions.cli import main
from solutions.core.errors import FolderInUseError
from solutions.core.runs import LOCK_FILE

PLAN = {"runs": [{"solution": "credit_scoring", "data": "applicants", "recipe": "quick", "set": {"epochs": 1}}]}


@pytest.fixture
def folder_in_use(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text(json.dumps({"pid": os.getppid(), "started": "2026-01-01T00:00:00+0000",
                                             "started_unix": time.time(), "command": "ksol batch plan.yaml"}))
    return out


def test_a_plan_output_folder_in_use_is_refused_before_anything_runs(folder_in_use):
    with pytest.raises(FolderInUseError, match=f"Batch output folder {folder_in_use} is in use by another ksol "
                                               f"process \\(pid {os.getppid()}"):
        run_plan(PLAN, out=folder_in_use, progress=False)
    assert [p.name for p in folder_in_use.iterdir()] == [LOCK_FILE]


def test_ksol_batch_on_a_folder_in_use_exits_2(folder_in_use, tmp_path, capsys):
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(PLAN))
    code = main(["--quiet", "batch", str(plan), "--out", str(folder_in_use)])
    err = capsys.readouterr().err
    assert code == 2 and "is in use by another ksol process" in err and "pass another --out" in err
    assert "Traceback" not in err and [p.name for p in folder_in_use.iterdir()] == [LOCK_FILE]
