"""Temporaries that a process killed mid-write left in a run directory are swept when it is opened again."""

from __future__ import annotations

import os
import subprocess

from solutions.core.runs import atomic_path, sweep_temporaries


def dead_pid() -> int:
    """The id of a process that has ended (and been waited for)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_sweep_removes_the_temporaries_of_dead_processes_only(tmp_path):
    dead, live = dead_pid(), os.getpid()
    sleeper = subprocess.Popen(["sleep", "60"])  # another live process
    try:
        checkpoints = tmp_path / "checkpoints"
        checkpoints.mkdir()
        gone = [checkpoints / f".tmp-{dead}-best.weights.h5", checkpoints / f".tmp-{dead}-last.keras",
                tmp_path / f".model.keras.old-{dead}"]
        for path in gone:
            path.write_bytes(b"half written")
        (tmp_path / f".tmp-{dead}-figures").mkdir()  # a folder written through atomic_path
        (tmp_path / f".tmp-{dead}-figures" / "curve.png").write_bytes(b"png")
        gone.append(tmp_path / f".tmp-{dead}-figures")
        kept = [checkpoints / f".tmp-{live}-best.weights.h5", tmp_path / f".tmp-{sleeper.pid}-report.html",
                tmp_path / f".figures.old-{live}", checkpoints / "last.keras", tmp_path / ".tmp-notapid-x",
                tmp_path / ".tmp-0-x"]
        for path in kept:
            path.write_bytes(b"kept")

        removed = sweep_temporaries(tmp_path)

        assert sorted(removed) == sorted(gone)
        assert not [p for p in gone if p.exists()]
        assert all(p.read_bytes() == b"kept" for p in kept)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_sweep_of_a_missing_folder_is_nothing_and_atomic_path_still_works(tmp_path):
    assert sweep_temporaries(tmp_path / "not yet") == []
    with atomic_path(tmp_path / "run" / "model.keras") as tmp:
        tmp.write_bytes(b"model")
        assert sweep_temporaries(tmp_path) == []  # this process's own temporary, mid-write, stays
        assert tmp.exists()
    assert (tmp_path / "run" / "model.keras").read_bytes() == b"model"
