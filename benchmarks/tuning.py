"""Does `ksol tune` beat the default recipes? A fixed budget of trials against the default, on the same splits.

For fraud_detection on fraud_oracle (out of time) and credit_scoring on German credit (the toolkit's own
stratified split: 15% test, 15% of the rest validation): the default recipe trained once, and a study of
`--trials` trials (TPE, seed 0, median pruner, the recipe's default search space) whose best recipe is
trained once more; each with its primary metric on validation (what the study maximises) and on test
(read once, by the run that reports it). Then wall time of the same small study (credit, `--worker-trials`
trials) run by one worker and by two worker processes sharing its journal file, each worker on one thread.

    python benchmarks/tuning.py                       # 30 trials each
    python benchmarks/tuning.py --trials 3 --worker-trials 4 --solutions credit_scoring   # smoke run
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

from _common import ROOT, print_table, row, write_results

from solutions import get_solution
from solutions.batch.tune import tune

DOMAIN = "tuning"
DATA = {"fraud_detection": "fraud_oracle", "credit_scoring": "german_credit"}
NAMES = {"fraud_detection": "fraud_oracle, train 1994-95 / test 1996", "credit_scoring": "Statlog German credit, one split"}
OUT = ROOT / "runs" / "bench" / "tuning"


def default_run(solution_name: str):
    began = time.perf_counter()
    solution = get_solution(solution_name)("default").fit(DATA[solution_name], progress=False)
    metric, validation = solution.validation_score()
    test = solution.evaluate().primary
    return metric, validation, test, time.perf_counter() - began


def study(solution_name: str, trials: int, keep: bool):
    folder = OUT / solution_name
    if not keep:  # a fresh study: an earlier benchmark's trials would count toward the budget
        shutil.rmtree(folder, ignore_errors=True)
    began = time.perf_counter()
    result = tune(solution_name, DATA[solution_name], trials=trials, out=folder, progress=True)
    return result, time.perf_counter() - began


def workers_wall_time(trials: int, workers: int) -> float:
    """Seconds for `workers` processes started with the same tune command to finish a study of `trials` trials."""
    folder = OUT / f"workers-{workers}"
    shutil.rmtree(folder, ignore_errors=True)
    command = [sys.executable, "-m", "solutions", "--quiet", "tune", "credit_scoring", "--data", "german_credit",
               "--trials", str(trials), "--set", "members=1", "--out", str(folder)]
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": threads}
    began = time.perf_counter()
    processes = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(workers)]
    codes = [p.wait() for p in processes]
    if any(codes):
        raise RuntimeError(f"a tune worker failed: exit codes {codes}")
    return time.perf_counter() - began


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--solutions", nargs="+", default=list(DATA), choices=list(DATA))
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--worker-trials", type=int, default=8)
    parser.add_argument("--continue", dest="keep", action="store_true",
                        help="continue the studies of an interrupted benchmark instead of starting them afresh")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    rows = []
    for name in args.solutions:
        metric, validation, test, seconds = default_run(name)
        dataset = NAMES[name]
        default = lambda *a, **k: {**row(*a, **k), "role": "baseline"}  # noqa: E731  (what tuning must beat)
        rows.append(default(dataset, f"{name}: default recipe", "validation primary metric", validation,
                            notes=f"{metric}; fit {seconds:.0f} s"))
        rows.append(default(dataset, f"{name}: default recipe", "test primary metric", test["value"], low=test.get("low"),
                            high=test.get("high"), notes=metric))
        result, seconds = study(name, args.trials, args.keep)
        tested = result.best_run.report.primary
        counts = result.trials
        rows.append(row(dataset, f"{name}: tuned ({args.trials} trials)", "validation primary metric", result.best_validation,
                        notes=f"{metric}; best trial {result.best_trial}; {counts['complete']} complete, {counts['pruned']} pruned, "
                              f"{counts['failed']} failed; {seconds / 60:.1f} min with the best run"))
        rows.append(row(dataset, f"{name}: tuned ({args.trials} trials)", "test primary metric", tested["value"],
                        low=tested.get("low"), high=tested.get("high"),
                        notes=f"{metric}; " + ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in result.best_params.items())))
    one = workers_wall_time(args.worker_trials, 1)
    two = workers_wall_time(args.worker_trials, 2)
    rows.append({**row(NAMES["credit_scoring"], f"study of {args.worker_trials} trials (members=1), one worker", "wall time",
                       one, unit="s", notes=f"{os.cpu_count()} cores, the worker on all of them"), "role": "derived"})
    rows.append({**row(NAMES["credit_scoring"], f"study of {args.worker_trials} trials (members=1), two workers", "wall time",
                       two, unit="s", notes="two processes sharing one journal file, each on half the cores"), "role": "derived"})
    print_table(rows)
    settings = {"solutions": args.solutions, "trials": args.trials, "worker_trials": args.worker_trials,
                "wall_minutes": (time.perf_counter() - began) / 60}
    print(f"wrote {write_results(DOMAIN, rows, settings)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
