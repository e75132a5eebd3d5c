"""Wall time of `aisprint validate` as a user runs it: a fresh process each time.

    python benchmarks/validate_time.py [APP_DIR ...] [--runs N]

Defaults to both examples. Prints a table (min / median / max seconds over N runs, and the
time of a bare `python -c pass` for reference) and exits 1 when the median of any application
misses the 0.5 s target of the foundation issue.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.5


def wall_times(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    examples = [REPO / "examples" / "smart_city", REPO / "examples" / "mask_detection"]
    parser.add_argument("apps", nargs="*", type=Path, default=examples)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    aisprint = shutil.which("aisprint") or sys.exit("aisprint is not installed: pip install -e .")
    bare = wall_times([sys.executable, "-c", "pass"], args.runs)
    rows = [("python -c pass (start-up only)", bare)]
    for app in args.apps:
        done = subprocess.run([aisprint, "validate", str(app)], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{app} does not validate:\n{done.stdout}")
        rows.append((f"aisprint validate {app.name}", wall_times([aisprint, "validate", str(app)],
                                                                 args.runs)))
    print("| command | runs | min s | median s | max s |\n|---|---|---|---|---|")
    for name, times in rows:
        print(f"| {name} | {len(times)} | {min(times):.3f} | {statistics.median(times):.3f} "
              f"| {max(times):.3f} |")
    slow = [name for name, times in rows[1:] if statistics.median(times) >= TARGET_SECONDS]
    print(f"\ntarget: median < {TARGET_SECONDS} s per application — "
          + ("met" if not slow else "MISSED by " + ", ".join(slow)))
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
