"""Kill writers of a deployment repository with SIGKILL at random moments, hundreds of times,
and check that the next writer always recovers (``tests/gitops/crashing.py`` says how).

    python benchmarks/crash_trials.py --trials 300 [--writers compile,reconcile,writer]
                                      [--seed 14] [--keep]

Writers: ``compile`` (``aisprint compile APP --repo R``), ``reconcile`` (``aisprint reconcile
R --once`` re-placing on an embedded metrics store that reports a QoS violation; no IM, so
nothing is applied — the cycle's git side is what is killed), ``writer`` (the library writer
on a prepared 150-file tree). Prints one markdown row per writer; the trials that failed are
listed with what was wrong and their folder is kept. Exit 1 if any trial failed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.gitops import crashing  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--writers", default="compile,reconcile")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    names = [n.strip() for n in args.writers.split(",") if n.strip()]
    unknown = set(names) - set(crashing.SCENARIOS)
    if unknown or args.trials < 1:
        parser.error(f"writers are {', '.join(crashing.SCENARIOS)}; trials >= 1")
    work = Path(tempfile.mkdtemp(prefix="aisprint-crash-"))
    results: dict[str, list[crashing.Trial]] = {}
    try:
        for name in names:
            started = time.perf_counter()
            scenario = crashing.SCENARIOS[name](work)

            def progress(trial: crashing.Trial, name=name) -> None:
                if not trial.ok:
                    print(f"  ✗ {name} trial {trial.index} ({trial.kill}): "
                          f"{'; '.join(trial.problems)}", file=sys.stderr, flush=True)
                elif (trial.index + 1) % 25 == 0:
                    print(f"  {name}: {trial.index + 1} trials", file=sys.stderr, flush=True)

            results[name] = crashing.run_trials(scenario, args.trials, args.seed, work,
                                                progress)
            print(f"{name}: a whole run takes {scenario.full:.2f} s, its write "
                  f"{scenario.writing:.2f} s; {args.trials} trials "
                  f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        failed = any(not t.ok for trials in results.values() for t in trials)
        if not (args.keep or failed):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folder kept: {work}", file=sys.stderr)
    print(crashing.table(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
