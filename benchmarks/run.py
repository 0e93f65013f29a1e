"""Run benchmarks and regenerate the README results table.

    python benchmarks/run.py                       # every domain: benchmarks/<domain>.py
    python benchmarks/run.py image_classification  # named domains only
    python benchmarks/run.py image_classification -- --budget-minutes 5   # arguments after -- go to each script

Each domain script runs as its own process and writes benchmarks/results/<domain>.json;
the README table is regenerated afterwards from whatever results exist, even if one failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT
from readme_table import update_readme

BENCH_DIR = Path(__file__).resolve().parent
NOT_DOMAINS = {"run", "readme_table", "fuzz_loaders"}


def known_domains() -> list[str]:
    """Every benchmarks/*.py that is a domain script (not run.py, readme_table.py or _*.py)."""
    return sorted(p.stem for p in BENCH_DIR.glob("*.py") if p.stem not in NOT_DOMAINS and not p.stem.startswith("_"))


def main(argv: list[str]) -> int:
    passed = argv[argv.index("--") + 1:] if "--" in argv else []
    names = argv[:argv.index("--")] if "--" in argv else argv
    known = known_domains()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"Unknown benchmark domain(s): {', '.join(unknown)}. Known: {', '.join(known) or 'none'}.", file=sys.stderr)
        return 2
    failed = []
    for domain in names or known:
        command = [sys.executable, str(BENCH_DIR / f"{domain}.py"), *passed]
        print(f"== {domain}: {' '.join(command)}", flush=True)
        began = time.perf_counter()
        code = subprocess.call(command, cwd=ROOT)
        print(f"== {domain}: exit {code} after {time.perf_counter() - began:.0f}s", flush=True)
        if code != 0:
            failed.append(domain)
    update_readme()
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
