"""Fuzz the whole CLI with thousands of hostile applications and print the counts by outcome.

    python benchmarks/fuzz.py [--cases 5000] [--start 0] [--jobs 2] [--keep DIR]

Each case is a seeded mutation of examples/mask_detection or examples/smart_city
(tests/fuzzer.py says which mutations and what the oracle checks), run through `aisprint
validate`, `compile --out` and, for one case in five, `compile --repo` and `plan`. Outcomes:
accepted and rejected are the good ones; crash, hang, memory, leak, partial, disagree and
no-location are findings, printed with their seed (re-run one with --start SEED --cases 1).
The same seeds give the same cases on any machine.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import fuzzer  # noqa: E402

GOOD = ("accepted", "rejected")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--start", type=int, default=0, help="first seed")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the folders of failing cases here (default: a temp folder)")
    args = parser.parse_args()

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="aisprint-fuzz-"))
    seeds = list(range(args.start, args.start + args.cases))
    lock = threading.Lock()
    outcomes: collections.Counter = collections.Counter()
    by_mutation: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    findings: list[fuzzer.Result] = []
    seconds: list[float] = []
    started = time.monotonic()

    def record(result: fuzzer.Result) -> None:
        with lock:
            outcomes[result.outcome] += 1
            seconds.append(result.seconds)
            for name in set(result.case.mutations):
                by_mutation[name][result.outcome] += 1
            if result.outcome not in GOOD:
                findings.append(result)
                print(f"seed {result.case.seed} {result.case.example} {result.outcome}: "
                      f"{result.applied} — {result.detail[:300]}", flush=True)
            done = sum(outcomes.values())
            if done % 100 == 0:
                print(f"… {done}/{len(seeds)} cases, {time.monotonic() - started:.0f} s, "
                      f"{dict(outcomes)}", file=sys.stderr, flush=True)

    def job(index: int) -> None:
        fuzzer.fuzz(seeds[index::args.jobs], scratch / f"job{index}", on_result=record,
                    keep_failures=True)

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(job, range(args.jobs)))
    wall = time.monotonic() - started

    total = sum(outcomes.values())
    print(f"\n{total} cases (seeds {args.start}..{args.start + args.cases - 1}), "
          f"{args.jobs} jobs, {wall:.0f} s wall, median {sorted(seconds)[len(seconds) // 2]:.2f} s "
          f"and max {max(seconds):.1f} s a case\n")
    names = list(GOOD) + sorted(set(outcomes) - set(GOOD))
    print("| outcome | cases | share |\n|---|---:|---:|")
    for name in names:
        print(f"| {name} | {outcomes[name]} | {100 * outcomes[name] / total:.1f} % |")
    print("\n| mutation | cases | " + " | ".join(names) + " |")
    print("|---|---:|" + "---:|" * len(names))
    for mutation in fuzzer.MUTATIONS:
        counts = by_mutation[mutation]
        print(f"| {mutation} | {sum(counts.values())} | " +
              " | ".join(str(counts[n]) for n in names) + " |")
    if findings:
        print(f"\nfailing cases kept in {scratch}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
