"""A batch plan's runs and evaluations in parallel processes: `ksol batch PLAN --jobs N`.

Up to N entries run at once, in N worker processes (`python -m solutions.batch.parallel`), each of which
imports TensorFlow once and then runs the entries it is given one after another, as a batch in one process
does; an evaluation starts once the run it evaluates has finished, and entries that finished earlier are
skipped without a worker. A worker does for an entry what a one-process batch does (batch/plan.py:
`_execute_run`, `_execute_evaluation`: resume, the error record of a failed run) and prints its leaderboard
row as one line of JSON; its progress lines come through to stderr prefixed with the entry's name. A worker
that dies (a crash in native code, a kill) fails its entry only: a new one takes the next.

Threads: TensorFlow splits a sum over its intra-op threads, and a split over two threads rounds differently
from one over one (training losses and calibration errors moved in the 7th digit between 1 and 2 threads here,
with op determinism on or off). So every entry trains with the plan's `threads` (TF_NUM_INTRAOP_THREADS,
TF_NUM_INTEROP_THREADS and OMP_NUM_THREADS, set before TensorFlow starts), the same whatever N is, and the
leaderboard of --jobs N is that of --jobs 1. Without `threads` an entry gets TensorFlow's default, all cores,
as in a one-process batch: N entries then share the cores. `threads: cores // N` gives each its share.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROW_MARK = "ksol-batch-row: "
TAIL_LINES = 40  # lines of a process's output kept to explain a crash


@dataclass
class _Entry:
    index: int  # the position of its row in results.csv: runs in plan order, then evaluations
    kind: str  # "run" or "evaluation"
    label: str  # what its progress lines are prefixed with
    spec: dict[str, Any]  # what the process is given
    needs: int | None = None  # the index of the run an evaluation waits for


class _Worker:
    """A process that runs entries one after another (TensorFlow is imported once per worker, not per entry),
    its output read by two threads: progress relayed, each entry's row and the last lines kept."""

    def __init__(self, env: dict[str, str], progress: bool):
        self.progress = progress
        self.entry: _Entry | None = None
        self.row: dict[str, Any] | None = None
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.popen = subprocess.Popen([sys.executable, "-m", "solutions.batch.parallel"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                      errors="replace", env=env)
        self.readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                        for stream in (self.popen.stdout, self.popen.stderr)]
        for reader in self.readers:
            reader.start()

    def _read(self, stream) -> None:
        for line in stream:
            if line.startswith(ROW_MARK):
                self.row = json.loads(line[len(ROW_MARK):])
                continue
            self.tail.append(line.rstrip("\n"))
            if self.progress:
                label = self.entry.label if self.entry is not None else "batch"
                print(f"[{label}] {line}", end="" if line.endswith("\n") else "\n", file=sys.stderr, flush=True)

    def start(self, entry: _Entry) -> bool:
        """Give the worker `entry`; False if it has died meanwhile (the entry is not taken)."""
        self.entry, self.row = entry, None
        self.tail.clear()
        try:
            self.popen.stdin.write(json.dumps(entry.spec) + "\n")
            self.popen.stdin.flush()
        except OSError:
            self.entry = None
            return False
        return True

    def finished(self) -> tuple[_Entry, dict[str, Any] | None] | None:
        """(entry, its row) once the entry under way has ended, the row None if the process died first."""
        if self.entry is None:
            return None
        if self.row is None and self.popen.poll() is None:
            return None
        if self.row is None:  # ended: its output may still be in the pipes
            for reader in self.readers:
                reader.join()
        entry, row, self.entry = self.entry, self.row, None
        return entry, row

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def close(self) -> None:
        """End the worker: no more entries (it exits at the end of its input); killed if it does not."""
        try:
            self.popen.stdin.close()
            self.popen.wait(30 if self.entry is None else 0.1)
        except (OSError, subprocess.TimeoutExpired):
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def run_entries(plan, root: Path, progress: bool, jobs: int) -> list[dict[str, Any]]:
    """Every run and evaluation of `plan` (a validated batch.plan.Plan), up to `jobs` at once; their rows in plan order.

    A full disk stops the plan (DiskFullError) once the entries under way have ended, as in one process."""
    from solutions.batch.plan import evaluated_run_dir, finished_evaluation, finished_run
    from solutions.core.errors import DiskFullError

    rows: list[dict[str, Any] | None] = []
    entries: list[_Entry] = []
    run_index: dict[str, int] = {}
    for run in plan.runs:
        folder = root / "runs" / run.folder
        run_index.setdefault(run.name, len(rows))
        rows.append(finished_run(run, folder))
        entries.append(_Entry(len(entries), "run", run.folder,
                              {"kind": "run", "entry": dataclasses.asdict(run), "folder": str(folder), "progress": progress}))
    for evaluation in plan.evaluations:
        run_dir, folder = evaluated_run_dir(plan, root, evaluation), root / "evaluations" / evaluation.name
        rows.append(finished_evaluation(evaluation, run_dir, folder))
        entries.append(_Entry(len(entries), "evaluation", f"evaluation {evaluation.name}",
                              {"kind": "evaluation", "entry": dataclasses.asdict(evaluation), "run_dir": str(run_dir),
                               "folder": str(folder), "progress": progress}, run_index.get(evaluation.run)))
    env = entry_environment(plan.threads)
    pending = [entry for entry in entries if rows[entry.index] is None]
    workers: list[_Worker] = []
    disk_full: str | None = None
    try:
        while pending or any(w.entry is not None for w in workers):
            for worker in workers:
                done = worker.finished()
                if done is None:
                    continue
                entry, row = done
                row = row if row is not None else _crashed_row(entry, worker)
                if "disk_full" in row:
                    disk_full = disk_full or row["disk_full"]
                else:
                    rows[entry.index] = row
            for worker in [w for w in workers if not w.alive and w.entry is None]:
                worker.close()
                workers.remove(worker)  # a crashed worker: a new one takes the next entry
            busy = sum(w.entry is not None for w in workers)
            for entry in list(pending):
                if busy >= jobs or disk_full is not None:
                    break
                if entry.needs is not None and rows[entry.needs] is None:
                    continue  # its run is not done yet
                worker = next((w for w in workers if w.entry is None and w.alive), None)
                if worker is None:
                    worker = _Worker(env, progress)
                    workers.append(worker)
                if not worker.start(entry):
                    continue  # it died: removed above on the next round, the entry goes to another
                pending.remove(entry)
                busy += 1
                if progress:
                    print(f"== batch: {entry.label} (started; {busy} of at most {jobs} at once)", file=sys.stderr, flush=True)
            if disk_full is not None and busy == 0:
                break
            time.sleep(0.1)
    finally:
        for worker in workers:  # also on an interrupt (Ctrl-C): no process outlives the batch
            worker.close()
    if disk_full is not None:
        raise DiskFullError(disk_full)
    return [row for row in rows if row is not None]


def entry_environment(threads: int | None, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an entry's process: this one's, with the thread pools of `threads` (None: untouched),
    the CPU split into as many logical devices as here (`ksol --cpu-devices`), and TensorFlow's C++ logs quiet."""
    env = dict(os.environ if environ is None else environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    source = str(Path(__file__).resolve().parents[2])  # the folder holding `solutions`, installed or not
    env["PYTHONPATH"] = os.pathsep.join([source, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    if threads is not None:
        env.update(TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    devices = _logical_cpu_devices()
    if devices > 1:
        env["KSOL_CPU_DEVICES"] = str(devices)
    return env


def _logical_cpu_devices() -> int:
    """How many logical CPU devices this process has split its CPU into (1 when TensorFlow is not loaded)."""
    if "tensorflow" not in sys.modules:
        return 1
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    return len(tf.config.get_logical_device_configuration(cpu) or [None])


def _crashed_row(entry: _Entry, worker: _Worker) -> dict[str, Any]:
    """The failed row of an entry whose process ended without one (killed, or a crash in native code)."""
    from solutions.batch.plan import PlannedEvaluation, PlannedRun, evaluation_row, run_row
    from solutions.core.runs import atomic_write_json

    spec = entry.spec
    tail = " | ".join(line for line in list(worker.tail)[-5:] if line.strip())
    error = (f"its process ended with status {worker.popen.returncode} before reporting a result"
             + (f": {tail}" if tail else ""))
    if spec["kind"] == "run":
        folder = Path(spec["folder"])
        row = run_row(PlannedRun(**spec["entry"]), folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / "error.json", {"error": error})
    else:
        row = evaluation_row(PlannedEvaluation(**spec["entry"]), Path(spec["run_dir"]))
    if worker.progress:
        print(f"== batch: {entry.label} failed: {error}", file=sys.stderr, flush=True)
    return {**row, "status": "failed", "error": error}


def _json_value(value: Any) -> Any:
    """NumPy scalars (a metric's value) as Python numbers, anything else as text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _quiet_tensorflow_import() -> None:
    """Import TensorFlow with its native start-up chatter kept off stderr (as the command line does)."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()
            tf.get_logger().setLevel("ERROR")
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def main() -> int:
    """A worker: runs the entries it reads from stdin (one JSON spec a line, from run_entries) one after
    another, and prints each one's row to stdout; ends at the end of its input."""
    from solutions.batch.plan import PlannedEvaluation, PlannedRun, _execute_evaluation, _execute_run
    from solutions.core.errors import DiskFullError

    _quiet_tensorflow_import()
    if int(os.environ.get("KSOL_CPU_DEVICES", "1")) > 1:
        from solutions.core.distribution import split_cpu

        split_cpu(int(os.environ["KSOL_CPU_DEVICES"]))
    for line in sys.stdin:
        spec = json.loads(line)
        try:
            if spec["kind"] == "run":
                row = _execute_run(PlannedRun(**spec["entry"]), Path(spec["folder"]), spec["progress"])
            else:
                row = _execute_evaluation(PlannedEvaluation(**spec["entry"]), Path(spec["run_dir"]),
                                          Path(spec["folder"]), spec["progress"])
        except DiskFullError as error:
            row = {"disk_full": str(error)}
        sys.stderr.flush()
        print(ROW_MARK + json.dumps(row, default=_json_value), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
