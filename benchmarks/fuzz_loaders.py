"""Fuzz every data loader for longer than `make test` does, and say how many examples each got and how long it took.

    python benchmarks/fuzz_loaders.py                    # the "long" Hypothesis profile (500 examples per test)
    python benchmarks/fuzz_loaders.py --profile ci       # the quick profile `make test` uses (25, derandomized)
    python benchmarks/fuzz_loaders.py npz dicom          # some loaders only (tests/fuzz/test_<loader>_fuzz.py)

Each loader's file runs in its own pytest process (`-p no:xdist`), with HYPOTHESIS_PROFILE set and
--hypothesis-show-statistics, so the time is that loader's alone (imports included). The profiles
are defined in tests/fuzz/conftest.py. Exit status 1 when any loader's tests fail: a fuzzed file
raised something other than the toolkit's own error (see that loader's output above the table).
Writes no results file: this measures robustness, not accuracy, so it stays out of the README table.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUZZ_DIR = ROOT / "tests" / "fuzz"
TEST_HEADER = re.compile(r"^(tests/fuzz/\S+?)::(\S+):$")
PHASE = re.compile(r"^\s*- during (\w+) phase")
COUNTS = re.compile(r"^\s*- (\d+) passing, (\d+) failing, and (\d+) invalid test cases")


def loaders() -> list[str]:
    return sorted(p.stem.removeprefix("test_").removesuffix("_fuzz") for p in FUZZ_DIR.glob("test_*_fuzz.py"))


def statistics(output: str) -> dict[str, dict[str, int]]:
    """Per test: examples generated (passing + failing) and invalid ones, from --hypothesis-show-statistics."""
    found: dict[str, dict[str, int]] = {}
    test, phase = None, None
    for line in output.splitlines():
        if header := TEST_HEADER.match(line):
            test, phase = header.group(2), None
            found[test] = {"examples": 0, "invalid": 0, "failing": 0}
        elif test and (match := PHASE.match(line)):
            phase = match.group(1)
        elif test and phase == "generate" and (counts := COUNTS.match(line)):
            passing, failing, invalid = map(int, counts.groups())
            found[test]["examples"] += passing + failing
            found[test]["failing"] += failing
            found[test]["invalid"] += invalid
    return found


def run_loader(name: str, profile: str, timeout: int) -> dict:
    path = FUZZ_DIR / f"test_{name}_fuzz.py"
    command = [sys.executable, "-m", "pytest", str(path.relative_to(ROOT)), "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
               f"--hypothesis-profile={profile}", "--hypothesis-show-statistics"]
    env = {**os.environ, "HYPOTHESIS_PROFILE": profile, "TF_CPP_MIN_LOG_LEVEL": "2"}
    began = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        output, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as expired:
        output, code = f"{expired.stdout or ''}\ntimed out after {timeout}s", -1
    seconds = time.perf_counter() - began
    tests = statistics(output)
    return {"loader": name, "code": code, "seconds": seconds, "tests": tests, "output": output,
            "examples": sum(t["examples"] for t in tests.values()), "invalid": sum(t["invalid"] for t in tests.values())}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("loaders", nargs="*", help=f"loaders to fuzz (default: all of {', '.join(loaders())})")
    parser.add_argument("--profile", default="long", choices=["long", "ci"], help="Hypothesis profile (tests/fuzz/conftest.py)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per loader before it counts as failed")
    parser.add_argument("--verbose", action="store_true", help="print every test's statistics, not only the totals")
    args, _ = parser.parse_known_args(argv)  # benchmarks/run.py may pass options meant for the domain scripts
    known = loaders()
    unknown = [n for n in args.loaders if n not in known]
    if unknown:
        print(f"Unknown loader(s): {', '.join(unknown)}. Known: {', '.join(known)}.", file=sys.stderr)
        return 2
    results = []
    began = time.perf_counter()
    for name in args.loaders or known:
        print(f"== {name}: fuzzing ({args.profile} profile)", flush=True)
        result = run_loader(name, args.profile, args.timeout)
        results.append(result)
        if result["code"] != 0:
            print(result["output"][-6000:], flush=True)
        if args.verbose:
            for test, counts in result["tests"].items():
                print(f"   {test}: {counts['examples']} examples, {counts['invalid']} invalid", flush=True)
    total = time.perf_counter() - began
    print(f"\n{'loader':<12} {'tests':>5} {'examples':>9} {'invalid':>8} {'seconds':>8}  result")
    for r in results:
        status = "ok" if r["code"] == 0 else ("timed out" if r["code"] == -1 else f"FAILED (pytest exit {r['code']})")
        print(f"{r['loader']:<12} {len(r['tests']):>5} {r['examples']:>9} {r['invalid']:>8} {r['seconds']:>8.1f}  {status}")
    print(f"{'total':<12} {sum(len(r['tests']) for r in results):>5} {sum(r['examples'] for r in results):>9} "
          f"{sum(r['invalid'] for r in results):>8} {total:>8.1f}")
    return 1 if any(r["code"] != 0 for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
