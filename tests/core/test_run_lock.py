"""Run-directory locks: one writer per folder, a live owner named, a dead owner's lock broken, released on exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from solutions.core.errors import FolderInUseError, UsageError
from solutions.core.runs import LOCK_FILE, run_lock


def _lock_of_another_process(folder, pid, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_FILE
    lock.write_text(json.dumps({"pid": pid, "started": "2026-01-01T00:00:00+0000", "started_unix": time.time() - 5,
                                "command": "ksol train credit_scoring --out x", **fields}))
    return lock


def test_a_lock_held_by_a_live_process_is_refused_naming_its_pid(tmp_path):
    run = tmp_path / "run"
    lock = _lock_of_another_process(run, os.getppid())
    before = lock.read_text()
    with pytest.raises(UsageError) as caught:
        with run_lock(run):
            pytest.fail("took a lock that a live process holds")
    message = str(caught.value)
    assert isinstance(caught.value, FolderInUseError)
    assert f"Run directory {run} is in use by another ksol process (pid {os.getppid()}" in message
    assert "since 2026-01-01T00:00:00+0000" in message and "ksol train credit_scoring" in message
    assert "Wait for it to finish, or pass another --out" in message and str(lock) in message
    assert lock.read_text() == before  # left to its owner


def test_the_lock_of_a_process_that_is_gone_is_broken_and_taken(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = _lock_of_another_process(tmp_path / "run", sleeper.pid)
        with pytest.raises(FolderInUseError, match=f"pid {sleeper.pid}"):
            with run_lock(tmp_path / "run"):
                pass
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
    with run_lock(tmp_path / "run") as taken:
        assert taken == lock and json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_a_lock_left_by_an_earlier_process_with_this_pid_is_broken(tmp_path):
    # in a container every run may get the same pid: the lock is not this process's unless it took it
    _lock_of_another_process(tmp_path / "run", os.getpid(), token="an-earlier-process")
    with run_lock(tmp_path / "run") as lock:
        assert json.loads(lock.read_text())["token"] != "an-earlier-process"


def test_a_lock_still_being_written_is_in_use_and_an_old_unreadable_one_is_debris(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_FILE).write_text("")
    with pytest.raises(FolderInUseError, match="taking its lock right now"):
        with run_lock(run):
            pass
    old = time.time() - 60
    os.utime(run / LOCK_FILE, (old, old))
    with run_lock(run) as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()


def test_a_lock_from_another_machine_is_never_broken_from_here(tmp_path):
    _lock_of_another_process(tmp_path / "run", 999_999_999, host="another-machine")
    with pytest.raises(FolderInUseError, match="pid 999999999 on another-machine"):
        with run_lock(tmp_path / "run"):
            pass


def test_the_lock_is_released_on_exit_and_on_an_exception(tmp_path):
    run = tmp_path / "run"
    with run_lock(run) as lock:
        holder = json.loads(lock.read_text())
        assert holder["pid"] == os.getpid() and holder["started"] and holder["host"]
        (run / "model.keras").write_text("m")
    assert not lock.exists() and (run / "model.keras").is_file()
    with pytest.raises(RuntimeError, match="interrupted"):
        with run_lock(run):
            raise RuntimeError("interrupted")
    assert [p.name for p in run.iterdir()] == ["model.keras"]


def test_a_folder_made_for_the_lock_goes_again_when_nothing_was_written(tmp_path):
    with pytest.raises(RuntimeError):
        with run_lock(tmp_path / "runs" / "run1"):
            raise RuntimeError("bad data")
    assert list(tmp_path.iterdir()) == []


def test_re_entrant_in_one_thread_and_refused_to_another(tmp_path):
    run = tmp_path / "run"
    refused = []

    def other_thread():
        try:
            with run_lock(run):
                pass
        except FolderInUseError as error:
            refused.append(str(error))

    with run_lock(run) as lock:
        with run_lock(run):
            pass
        assert lock.is_file()  # the inner exit keeps the outer lock
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(timeout=30)
    assert len(refused) == 1 and f"pid {os.getpid()}" in refused[0]
    assert not lock.exists()


def test_a_file_in_place_of_the_folder_is_refused(tmp_path):
    (tmp_path / "run").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        with run_lock(tmp_path / "run"):
            pass
