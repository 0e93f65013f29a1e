"""The `ksol` command line: grammar, dispatch and exit codes. No domain logic lives here.

Exit status: 0 success; 2 a user error (bad input, config or data), reported as
one paragraph without a traceback; 1 a bug (`--debug` shows its traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

EXAMPLES = """examples:
  ksol list
  ksol train image_classification --data shapes --recipe quick
  ksol train image_classification --data photos/ --set epochs=20 --set image_size=[64,64] --out runs/photos
  ksol train image_classification --data photos/ --out runs/photos --resume
  ksol train medical_imaging --data pneumoniamnist --set operating_point=sensitivity --set target_sensitivity=0.95
  ksol train medical_imaging --data scans.csv --set image_size=[224,224] --set window_center=-600 --set window_width=1500
  ksol evaluate runs/photos --data other_photos/
  ksol predict runs/photos --data new_photos/ --out predictions.csv
  ksol predict runs/reviews --text "not bad at all, a moving film"
  ksol report runs/photos
  ksol export runs/photos --format onnx
  ksol batch plan.yaml --jobs 2
  ksol tune fraud_detection --data fraud_oracle --trials 30 --timeout 60
  ksol --cpu-devices 2 train image_classification --data shapes --set distribution=mirrored
  ksol demo
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ksol", description="Keras solutions: train, evaluate and use deep-learning models.",
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _global_arguments(parser, None)
    # The same flags after the command (`ksol evaluate RUN --data D --json`): SUPPRESS keeps a flag
    # given before the command from being reset by the subcommand's default.
    after = argparse.ArgumentParser(add_help=False)
    _global_arguments(after, argparse.SUPPRESS)
    commands = _Commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True), after)

    commands.add_parser("list", help="solutions, their recipes and what each accepts")
    commands.add_parser("datasets", help="known dataset configs")

    train = commands.add_parser("train", help="train a solution on data and write a run directory")
    _solution_arguments(train, "preset name (quick, default, accurate) or a recipe YAML file",
                        "override a recipe key, e.g. --set epochs=5 (repeatable)")
    train.add_argument("--out", type=Path, help="run directory (default: runs/<solution>/runN)")
    train.add_argument("--resume", action="store_true", help="continue the interrupted run in --out from its last checkpoint")
    train.add_argument("--track", choices=("none", "mlflow"), help="record the run in MLflow (default: the recipe's "
                       "`tracking` key, none); the store is MLFLOW_TRACKING_URI, else mlruns/mlflow.db here")
    train.add_argument("--experiment", help="MLflow experiment of a tracked run (default: the solution's name)")

    evaluate = commands.add_parser("evaluate", help="a fresh report for a trained run on other labelled data")
    evaluate.add_argument("run", type=Path)
    _data_arguments(evaluate)

    predict = commands.add_parser("predict", help="predictions for raw inputs, written as CSV")
    predict.add_argument("run", type=Path)
    predict.add_argument("--data", nargs="+", help="input files or folders")
    predict.add_argument("--row", help="one row as a JSON object of column: value (table solutions); "
                         "prints its prediction instead of writing a CSV")
    predict.add_argument("--text", action="append", help="a text to classify (text solutions; repeatable); "
                         "prints its prediction instead of writing a CSV, unless --out is given")
    predict.add_argument("--out", type=Path, help="CSV to write (default: RUN/predictions/<input>.csv)")
    predict.add_argument("--chunk-size", type=int, help="inputs scored per chunk (bounds memory; default: the solution's)")
    predict.add_argument("--threshold", type=float, help="replaces the run's decision threshold (decision.json): "
                         "fraud alerts, credit refusals, medical positives, kept detections; solutions without one refuse it")

    report = commands.add_parser("report", help="re-render a run's report from report.json")
    report.add_argument("run", type=Path)

    export = commands.add_parser("export", help="export a run's model and check it reproduces the Keras model")
    export.add_argument("run", type=Path)
    export.add_argument("--format", default="saved_model", help="saved_model, onnx or litert")
    export.add_argument("--out", type=Path, help="export path (default: RUN/export/model.<format>)")

    batch = commands.add_parser("batch", help="run a plan of many runs and evaluations; write one leaderboard")
    batch.add_argument("plan", type=Path, help="plan YAML (see solutions/batch/plan.py)")
    batch.add_argument("--out", type=Path, help="output folder (default: the plan's `out`, else runs/batch)")
    batch.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="runs and evaluations at once, each in its own process (default 1); the leaderboard is the "
                            "same for every N (each entry trains with the plan's `threads`)")

    tune = commands.add_parser("tune", help="search a solution's recipe with Optuna on its validation split")
    _solution_arguments(tune, "the recipe the search starts from (preset or YAML file)",
                        "fix a recipe key for every trial, e.g. --set epochs=20 (repeatable)")
    tune.add_argument("--space", type=Path, help="search space YAML replacing (or, with `extend: true`, narrowing) "
                      "the recipe's default space (see solutions/core/search_space.py)")
    tune.add_argument("--trials", type=int, required=True, help="finished trials the study should have (all workers together)")
    tune.add_argument("--timeout", type=float, metavar="MINUTES", help="start no new trial after this many minutes")
    tune.add_argument("--storage", help="Optuna storage: a journal file path, sqlite:///FILE.db, or a database URL for "
                      "workers on several machines (default: OUT/study.journal)")
    tune.add_argument("--study", help="study name (default: SOLUTION-DATA); the same name continues the study")
    tune.add_argument("--out", type=Path, help="output folder (default: runs/SOLUTION/tune-DATA)")
    tune.add_argument("--pruner", default="median", help="median (default), halving or none")
    tune.add_argument("--seed", type=int, default=0, help="seed of the TPE sampler")
    tune.add_argument("--track", default="none", help="none or mlflow: log the study's trials as nested MLflow runs")

    demo = commands.add_parser("demo", help="every solution on its bundled sample, one summary table")
    demo.add_argument("--out", type=Path, default=Path("runs/demo"), help="where the demo runs go")
    demo.add_argument("--recipe", default="quick")
    demo.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override a recipe key of every solution, e.g. --set epochs=1 for a smoke run (repeatable)")
    return parser


def _global_arguments(parser: argparse.ArgumentParser, default: Any) -> None:
    store = {} if default is None else {"default": default}
    parser.add_argument("--json", action="store_true", help="print a machine-readable result on stdout", **store)
    parser.add_argument("--debug", action="store_true", help="show tracebacks", **store)
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr", **store)
    parser.add_argument("--cpu-devices", type=int, metavar="N", **store,
                        help="split the CPU into N logical devices (for --set distribution=mirrored without a GPU)")


class _Commands:
    """Subcommand parsers that also take the global flags after the command."""

    def __init__(self, subparsers, parent: argparse.ArgumentParser):
        self.subparsers, self.parent = subparsers, parent

    def add_parser(self, name: str, **kwargs):
        return self.subparsers.add_parser(name, parents=[self.parent], **kwargs)


def _solution_arguments(parser: argparse.ArgumentParser, recipe_help: str, set_help: str) -> None:
    """SOLUTION, the data flags, --recipe and --set: what `train` and `tune` both take."""
    parser.add_argument("solution")
    _data_arguments(parser)
    parser.add_argument("--recipe", default="default", help=recipe_help)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=set_help)


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="dataset config name (see `ksol datasets`), YAML file, or path")
    parser.add_argument("--label", help="label column of a table or CSV")
    parser.add_argument("--text", help="text column")
    parser.add_argument("--id", dest="id_column", help="identifier column: kept in outputs, never a feature")
    parser.add_argument("--time", dest="time_column", help="time column: out-of-time split")
    parser.add_argument("--positive", help="the label value of the positive (bad) class")


def _data_source(args):
    from solutions.core.datasets import resolve_data

    return resolve_data(args.data, label=args.label, text=args.text, id=args.id_column,
                        time=args.time_column, positive=args.positive)


def quiet_tensorflow_import() -> None:
    """Import TensorFlow with its C++ start-up chatter (absl, CUDA probing) kept off stderr.

    The chatter is written by native code before Python logging exists, so only
    redirecting file descriptor 2 silences it. Python errors still propagate.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()
            tf.get_logger().setLevel("ERROR")  # retracing notices are about Keras internals, not the user's data
    finally:
        os.dup2(saved, 2)
        os.close(saved)


NEEDS_TENSORFLOW = ("train", "evaluate", "predict", "export", "demo", "batch", "tune")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    if args.cpu_devices:
        # Several logical CPU devices with TF 2.21's oneDNN kernels corrupted the heap ("free(): invalid size")
        # in mirrored training on an AMD EPYC (AVX-512 BF16) CPU; Eigen's kernels run it. Set before TF loads.
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    if args.command in NEEDS_TENSORFLOW and not args.debug:
        quiet_tensorflow_import()
    from solutions.core.errors import SolutionsError

    try:
        if args.cpu_devices:
            from solutions.core.distribution import split_cpu

            split_cpu(args.cpu_devices)
        result = COMMANDS[args.command](args)
    except SolutionsError as error:
        print(f"ksol: {error.kind}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ksol: interrupted. A training run can continue with --resume.", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: say so, and show the traceback only when asked
        if args.debug:
            traceback.print_exc()
        print(f"ksol: internal error: {type(error).__name__}: {error}. This is a bug; rerun with --debug "
              "for the traceback and report it.", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    return 0


def _say(args, text: str) -> None:
    if not args.json:
        print(text)


def cmd_list(args) -> dict[str, Any]:
    from solutions import SOLUTIONS, get_solution

    rows = {}
    for name in sorted(SOLUTIONS):
        cls = get_solution(name)
        rows[name] = {"title": cls.title, "presets": list(cls.recipe_class.PRESETS), "sample_data": cls.sample_data,
                      "accepts": sorted(cls.accepts), "export_formats": list(cls.export_formats),
                      "has_threshold": cls.has_threshold}
        _say(args, f"{name:22s} {cls.title}  (recipes: {', '.join(cls.recipe_class.PRESETS)}; sample: {cls.sample_data}; "
                   f"predicts from: {', '.join(sorted(cls.accepts))}; export: {', '.join(cls.export_formats) or 'none'}"
                   f"{'; --threshold' if cls.has_threshold else ''})")
    return rows


def cmd_datasets(args) -> dict[str, Any]:
    from solutions.core.datasets import known_datasets, read_dataset_config

    rows = {}
    for name, path in known_datasets().items():
        config = read_dataset_config(path)
        rows[name] = {"solution": config.get("solution"), "description": config.get("description", ""), "config": str(path)}
        _say(args, f"{name:16s} {config.get('solution', ''):22s} {config.get('description', '')}")
    return rows


def _check_out_is_a_folder(out: Path) -> None:
    from solutions.core.errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; pass a folder for the run.")


def _check_out_dir(out: Path, resume: bool) -> None:
    """Refuse a run directory that holds files already (its lock file aside), unless resuming."""
    from solutions.core.errors import UsageError
    from solutions.core.runs import LOCK_FILE

    _check_out_is_a_folder(out)
    if not resume and out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir()):
        raise UsageError(f"Run directory {out} already exists and is not empty. Pass a new --out, "
                         "or --resume to continue an interrupted run there.")


def cmd_train(args) -> dict[str, Any]:
    import contextlib

    from solutions import get_solution
    from solutions.core.errors import FolderInUseError, UsageError
    from solutions.core.distribution import writes_files
    from solutions.core.runs import next_run_dir, run_lock
    from solutions.core.tracking import check_tracking, open_tracker

    cls = get_solution(args.solution)
    solution = cls(recipe=args.recipe, **_overrides(args.overrides))
    tracking = args.track or solution.resolve_recipe().tracking  # reject bad recipes before touching data or disk
    check_tracking(tracking)  # and a tracker whose package is missing
    if args.resume and args.out is None:
        raise UsageError("--resume needs --out naming the run directory of the interrupted run.")
    with contextlib.ExitStack() as held:
        for attempt in range(10):
            out = args.out or next_run_dir(cls.name)
            _check_out_is_a_folder(out)
            try:  # the lock before the emptiness check: a second writer hears "in use", not "not empty"
                held.enter_context(run_lock(out))
                break
            except FolderInUseError:
                if args.out is not None or attempt == 9:
                    raise  # else another `ksol train` took runN a moment ago: the next free one
        if writes_files(solution.resolve_recipe().distribution):  # a non-chief worker of multi_worker writes nothing there
            _check_out_dir(out, args.resume)
        source = _data_source(args)
        tracker = held.enter_context(open_tracker(tracking, experiment=args.experiment or cls.name, run_name=out.name))
        return _train_and_report(args, solution, source, out, args.resume, tracker)


def _train_and_report(args, solution, source, out: Path, resume: bool, tracker=None) -> dict[str, Any]:
    from solutions.core.workflow import train_run

    result = train_run(solution, source, out, resume=resume, progress=not (args.quiet or args.json),
                       command=["ksol", *sys.argv[1:]], tracker=tracker).summary()
    if tracker is not None and tracker.run_id is not None:
        result["tracking"] = {"kind": tracker.kind, "run_id": tracker.run_id, "experiment": tracker.experiment,
                              "uri": tracker.tracking_uri}
    _say_dropped(result["dropped"])
    _say(args, _summary_line(result))
    return result


def _say_dropped(dropped: dict[str, Any]) -> None:
    """One line on stderr naming the inputs the loader skipped (unreadable images, say), if any."""
    from solutions.core.wording import skipped_text

    if dropped.get("count"):
        print(f"ksol: {skipped_text(dropped['count'], dropped.get('examples', []), dropped.get('by_reason', {}))}; "
              "see the report's Data section.", file=sys.stderr, flush=True)


def _result(name: str, out: Path, report, paths: dict[str, Path]) -> dict[str, Any]:
    return {"solution": name, "run_dir": str(out), "primary_metric": report.primary_metric,
            **{k: report.primary.get(k) for k in ("value", "low", "high")},
            "report_html": str(paths["html"]), "report_md": str(paths["md"])}


def _summary_line(result: dict[str, Any]) -> str:
    interval = f" (95% CI {result['low']:.3f}-{result['high']:.3f})" if result.get("low") is not None else ""
    return (f"{result['solution']}: test {result['primary_metric']} {result['value']:.4f}{interval}\n"
            f"  run:    {result['run_dir']}\n  report: {result['report_html']}"
            + (f"\n  {result['tracking']['kind']}: run {result['tracking']['run_id']} of experiment "
               f"{result['tracking']['experiment']!r} in {result['tracking']['uri']}" if result.get("tracking") else ""))


def _overrides(pairs: list[str]) -> dict[str, Any]:
    from solutions.core.config import parse_overrides

    return parse_overrides(pairs)


def _load_run(run: Path):
    from solutions import get_solution
    from solutions.core.runs import check_run_dir, read_json

    check_run_dir(run)
    manifest = read_json(run / "manifest.json")
    return get_solution(manifest.get("solution", "")).load(run)


def cmd_evaluate(args) -> dict[str, Any]:
    solution = _load_run(args.run)
    source = _data_source(args)
    from solutions.core.runs import sweep_temporaries

    report = solution.evaluate(source)
    out = args.run / "evaluations" / _safe_name(source.name)
    sweep_temporaries(out)  # what an evaluation killed mid-write left there
    paths = solution.write_report(out, report)
    result = _result(solution.name, out, report, paths)
    _say(args, _summary_line(result))
    return result


def cmd_predict(args) -> dict[str, Any]:
    from solutions.core.errors import UsageError

    if sum(value is not None for value in (args.data, args.row, args.text)) != 1:
        raise UsageError("ksol predict needs exactly one of --data FILE... (a CSV of predictions), --row JSON "
                         "(one row, printed) or --text \"...\" (one text, printed).")
    solution = _load_run(args.run)
    asked = "rows" if args.row is not None else "texts" if args.text is not None else "files"
    if asked not in solution.accepts:
        flag = {"rows": "--row", "texts": "--text", "files": "--data"}[asked]
        hint = " Pass the inputs with --data instead." if "files" in solution.accepts else ""
        raise UsageError(f"{flag} is not for {solution.name}: it predicts from {', '.join(sorted(solution.accepts))}.{hint}")
    if args.row is not None:
        return _predict_row(args, solution)
    if args.text is not None:
        return _predict_texts(args, solution)
    inputs = args.data if len(args.data) > 1 else args.data[0]
    out = args.out or args.run / "predictions" / f"{_safe_name(Path(args.data[0]).stem or 'inputs')}.csv"
    summary = solution.predict_to_csv(inputs, out, chunk_size=args.chunk_size, progress=not (args.quiet or args.json),
                                      threshold=args.threshold)
    skipped = summary["skipped"]
    _say(args, f"wrote {_plural(summary['rows'], 'prediction')} to {out} ({summary['rows_per_second']:.0f} rows/s)")
    if skipped:
        from solutions.core.wording import plural

        print(f"ksol: skipped {plural(len(skipped), 'unreadable input')}, e.g. {skipped[0][0]}: {skipped[0][1]}", file=sys.stderr)
    return summary


def _predict_row(args, solution) -> dict[str, Any]:
    from solutions.core.errors import UsageError

    try:
        record = json.loads(args.row)
    except json.JSONDecodeError as error:
        raise UsageError(f"--row must be a JSON object of column: value. Received: {args.row!r} ({error}).") from None
    began = time.perf_counter()
    result = solution.predict_record(record, threshold=args.threshold)
    result["milliseconds"] = 1000 * (time.perf_counter() - began)
    _say(args, json.dumps(result))
    return result


def _predict_texts(args, solution) -> dict[str, Any]:
    from solutions.core.runs import atomic_write_text

    frame = solution.predict_texts(list(args.text), threshold=args.threshold)
    if args.out is not None:
        atomic_write_text(args.out, frame.to_csv(index=False))
        _say(args, f"wrote {_plural(len(frame), 'prediction')} to {args.out}")
    else:
        _say(args, frame.to_string(index=False))
    return {"predictions": frame.to_dict(orient="records"), **({"out": str(args.out)} if args.out else {})}


def cmd_report(args) -> dict[str, Any]:
    from solutions.core.report import Report
    from solutions.core.runs import check_run_dir, read_json
    from solutions.core.report_frame import write_report_files

    check_run_dir(args.run)
    report = Report.from_dict(read_json(args.run / "report.json"))
    paths = write_report_files(args.run, report)
    _say(args, f"report: {paths['html']}")
    return {k: str(v) for k, v in paths.items()}


def cmd_export(args) -> dict[str, Any]:
    solution = _load_run(args.run)
    suffix = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}.get(args.format, "")
    out = args.out or args.run / "export" / f"model_{args.format}{suffix}"
    result = solution.export(out, args.format)
    _say(args, f"exported {args.format} to {result['path']}; outputs match the Keras model "
               f"(largest difference {result['max_abs_difference']:.1e})")
    return result


def cmd_batch(args) -> dict[str, Any]:
    from solutions.batch.plan import read_plan, run_plan, validate_plan
    from solutions.core.errors import UsageError

    if args.jobs < 1:
        raise UsageError(f"--jobs must be an integer >= 1 (runs and evaluations at once). Received: {args.jobs}.")
    plan = validate_plan(read_plan(args.plan))
    out = args.out or plan.out
    board = run_plan(plan, out=out, progress=not (args.quiet or args.json), jobs=args.jobs)
    failed = int(board["failed"].sum()) if len(board) else 0
    _say(args, board[["solution", "data", "name", "metric", "seeds", "mean", "std", "failed"]].to_string(index=False))
    _say(args, f"leaderboard: {out / 'leaderboard.html'}" + (f" ({_plural(failed, 'failed run')} recorded there)" if failed else ""))
    return {"out": str(out), "leaderboard": board.to_dict(orient="records")}


def cmd_tune(args) -> dict[str, Any]:
    from solutions.batch.tune import tune

    options = {k: getattr(args, a) for k, a in (("label", "label"), ("text", "text"), ("id", "id_column"),
                                                 ("time", "time_column"), ("positive", "positive")) if getattr(args, a)}
    result = tune(args.solution, args.data, trials=args.trials, recipe=args.recipe, overrides=_overrides(args.overrides),
                  space=args.space, timeout_minutes=args.timeout, storage=args.storage, study=args.study, out=args.out,
                  pruner=args.pruner, seed=args.seed, data_options=options, track=args.track,
                  progress=not (args.quiet or args.json), command=["ksol", *sys.argv[1:]]).summary()
    counts = result["trials"]
    _say(args, f"{result['solution']}: study {result['study']}: {counts['complete']} complete, {counts['pruned']} pruned, "
               f"{counts['failed']} failed trials; best trial {result['best_trial']}: validation {result['metric']} "
               f"{result['best_validation']:.4f}")
    if result["test"]:
        _say(args, f"  best recipe's run: test {result['metric']} {result['test']['value']:.4f}   {result['best_run']}")
    _say(args, f"  tune report: {result['report_html']}")
    return result


def cmd_demo(args) -> dict[str, Any]:
    from solutions import get_solution, list_solutions
    from solutions.core.datasets import resolve_data

    rows = []
    overrides = _overrides(args.overrides)
    for name in list_solutions():
        cls = get_solution(name)
        out = args.out / name
        if out.is_dir():
            import shutil

            shutil.rmtree(out)
        if not args.quiet and not args.json:
            print(f"== {name}: training on the bundled sample {cls.sample_data!r} with the {args.recipe!r} recipe", file=sys.stderr)
        result = _train_and_report(argparse.Namespace(**{**vars(args), "json": True}), cls(recipe=args.recipe, **overrides),
                                   resolve_data(cls.sample_data), out, resume=False)
        rows.append(result)
    _say(args, "\n" + _demo_table(rows))
    return {"runs": rows}


def _demo_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'solution':22s} {'metric':10s} {'value':>7s}  {'95% CI':15s} report"]
    for r in rows:
        interval = f"{r['low']:.3f}-{r['high']:.3f}" if r.get("low") is not None else ""
        lines.append(f"{r['solution']:22s} {r['primary_metric']:10s} {r['value']:7.4f}  {interval:15s} {r['report_html']}")
    return "\n".join(lines)


def _plural(n: int, noun: str) -> str:
    from solutions.core.wording import plural

    return plural(n, noun)


def _safe_name(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "data"


COMMANDS = {"list": cmd_list, "datasets": cmd_datasets, "train": cmd_train, "evaluate": cmd_evaluate,
            "predict": cmd_predict, "report": cmd_report, "export": cmd_export, "demo": cmd_demo,
            "batch": cmd_batch, "tune": cmd_tune}


if __name__ == "__main__":
    sys.exit(main())
