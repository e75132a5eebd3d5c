"""Placement at scale: the solver's modes on generated instances of 5 to 200 components.

    python benchmarks/placement_scale.py [--sizes 5 10 20 30 50 100 200] [--count 3]
        [--count-large N] [--modes fast heuristic] [--exact] [--time-limit 10] [--seed 1]
        [--baseline-iterations 1000] [--baseline-steps 2000] [--csv OUT.csv]

For each size, ``--count`` instances of ``space4ai_instances.generate`` (feasible by
construction at Λ = 1.8; ``--count-large`` instances for 100 components and more), each
written as SPACE4AI-D system JSON and read back as a file would be. On each: the plain random
greedy + local search of ``space4ai_baseline`` (the yardstick), then
``compiler.placement.solve.solve(system, mode=...)`` for every mode asked (``--exact`` adds
the exact mode for sizes up to 50). Every answer goes through the solution JSON, is read back
and re-evaluated by ``compiler.placement.performance.evaluate`` before it counts; an answer the
evaluator rejects, or whose cost it disagrees with, is reported as a solver bug.

Prints one markdown row per size and mode: instances answered feasibly, proven optimal, cost
against the baseline (mean / max ratio where both answered, how many costlier by more than
0.01 %, how many the solver missed where the baseline answered), cost against the best proven
optimum of the instance when one is known (any mode that reported ``optimal``), the largest
reported gap, and seconds (median / max). The baseline has its own row, and so has the
*reference placement* each instance was built around (every partition on its fastest FaaS
configuration: feasible by construction, never optimised), with the ratio of every answer to
it: where the baseline finds nothing, the reference is the floor an answer should beat.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from pathlib import Path

from space4ai_baseline import baseline
from space4ai_instances import SIZES, dumps, generate

from compiler.placement.interop import placement_from_solution, solution_json
from compiler.placement.performance import evaluate
from compiler.placement.solve import solve
from compiler.placement.system_file import system_from_json

TOLERANCE = 1e-4  # ratios within ±0.01 % count as equal
EXACT_UP_TO = 50


def recheck(system, result) -> dict:
    """The evaluator's own verdict on a solver's answer, through the written solution JSON."""
    out = {"status": result.status, "seconds": result.seconds, "gap": result.gap,
           "bound": result.bound, "method": result.method, "feasible": False, "cost": None,
           "bug": None}
    if result.placement is None:
        return out
    written = json.loads(json.dumps(solution_json(system, result.placement,
                                                  result.evaluation or evaluate(
                                                      system, result.placement))))
    again = evaluate(system, placement_from_solution(system, written))
    if result.feasible and not again.feasible:
        out["bug"] = f"claimed feasible, evaluator says: {again.violations[0].message}"
    elif result.feasible and abs(again.cost - result.cost) > 1e-9 * max(1.0, again.cost):
        out["bug"] = f"claimed cost {result.cost}, evaluator says {again.cost}"
    out["feasible"] = again.feasible
    out["cost"] = again.cost if again.feasible else None
    return out


def run(args) -> list[dict]:
    rows = []
    for size in args.sizes:
        count = args.count if size < 100 or args.count_large is None else args.count_large
        modes = list(args.modes) + (["exact"] if args.exact and size <= EXACT_UP_TO else [])
        for k in range(1, count + 1):
            instance = generate(size, args.seed * 1000 + k, arrival_rate=args.arrival_rate)
            name = f"gen_{size}_{k}"
            # the solver sees what a file gives: the written JSON, read back
            system = system_from_json(json.loads(dumps(instance.system)), file=f"{name}.json")
            base = baseline(system, seed=args.seed, iterations=args.baseline_iterations,
                            steps=args.baseline_steps)
            again = evaluate(system, base.placement) if base.placement is not None else None
            rows.append({"instance": name, "size": size, "mode": "baseline",
                         "status": "feasible" if base.feasible else "none",
                         "feasible": bool(again and again.feasible),
                         "cost": again.cost if again and again.feasible else None,
                         "seconds": base.seconds, "gap": None, "bound": None,
                         "method": "rg+ls", "bug": None})
            # the placement the instance was built around: feasible at every size, the floor
            # any answer should beat where the baseline finds nothing
            ref = evaluate(system, instance.reference)
            rows.append({"instance": name, "size": size, "mode": "reference",
                         "status": "feasible" if ref.feasible else "infeasible",
                         "feasible": ref.feasible, "cost": ref.cost if ref.feasible else None,
                         "seconds": 0.0, "gap": None, "bound": None, "method": "fastest faas",
                         "bug": None if ref.feasible else "the reference is infeasible"})
            print(f"{name} baseline: {_c(rows[-2]['cost'])} in {base.seconds:.1f} s "
                  f"({base.feasible_samples} feasible samples)", file=sys.stderr, flush=True)
            for mode in modes:
                start = time.perf_counter()
                try:
                    result = solve(system, mode=mode, time_limit=args.time_limit,
                                   seed=args.seed)
                # a refusal or a crash is a finding to report, and the other rows still count
                except Exception as exc:  # noqa: BLE001
                    row = {"status": f"error: {exc}", "seconds": time.perf_counter() - start,
                           "gap": None, "bound": None, "method": "-", "feasible": False,
                           "cost": None, "bug": f"raised {type(exc).__name__}: {exc}"}
                else:
                    row = recheck(system, result)
                rows.append({"instance": name, "size": size, "mode": mode, **row})
                bug = f" BUG: {row['bug']}" if row["bug"] else ""
                print(f"{name} {mode}: {row['status']}, {_c(row['cost'])}, gap "
                      f"{_p(row['gap'])}, {row['seconds']:.1f} s{bug}", file=sys.stderr,
                      flush=True)
    return rows


def table(rows: list[dict]) -> list[str]:
    optimum: dict[str, float] = {}
    for r in rows:
        if r["feasible"] and r["status"] == "optimal":
            optimum[r["instance"]] = min(optimum.get(r["instance"], math.inf), r["cost"])
    base = {r["instance"]: r["cost"] for r in rows if r["mode"] == "baseline"}
    reference = {r["instance"]: r["cost"] for r in rows if r["mode"] == "reference"}
    lines = ["| size | mode | feasible | proven optimal | vs baseline: mean / max ratio "
             "(both answered) | costlier than baseline | baseline answered, mode not | "
             "vs reference placement: mean / max ratio | "
             "vs best proven optimum: mean / max ratio (known) | max gap | s median / max |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    order = {"reference": 0, "baseline": 1, "fast": 2, "heuristic": 3, "exact": 4}
    keys = sorted({(r["size"], r["mode"]) for r in rows}, key=lambda k: (k[0], order[k[1]]))
    for size, mode in keys:
        group = [r for r in rows if r["size"] == size and r["mode"] == mode]
        solved = [r for r in group if r["feasible"]]
        both = [r["cost"] / base[r["instance"]] for r in solved
                if base.get(r["instance"]) is not None]
        missed = sum(1 for r in group if not r["feasible"] and base.get(r["instance"]))
        vs_opt = [r["cost"] / optimum[r["instance"]] for r in solved if r["instance"] in optimum]
        vs_ref = [r["cost"] / reference[r["instance"]] for r in solved
                  if reference.get(r["instance"]) is not None]
        ours = mode not in ("baseline", "reference")
        gaps = [r["gap"] for r in solved if r["gap"] is not None]
        seconds = [r["seconds"] for r in group]
        bugs = sum(1 for r in group if r["bug"])
        lines.append(
            f"| {size} | {mode} | {len(solved)}/{len(group)}"
            f"{f' ({bugs} bug)' if bugs else ''} | "
            f"{sum(r['status'] == 'optimal' for r in solved)} | "
            + (f"{_r(both)} ({len(both)}) | " if ours else "— | ")
            + (f"{sum(x > 1 + TOLERANCE for x in both)} | {missed} | " if ours else "— | — | ")
            + (f"{_r(vs_ref)} | " if mode != "reference" else "— | ")
            + f"{_r(vs_opt)} ({len(vs_opt)}) | {_p(max(gaps)) if gaps else '—'} | "
            f"{statistics.median(seconds):.1f} / {max(seconds):.1f} |")
    return lines


def _r(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} / {max(values):.3f}" if values else "—"


def _c(value: float | None) -> str:
    return "no answer" if value is None else f"cost {value:.4f}"


def _p(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--count", type=int, default=3, help="instances per size")
    parser.add_argument("--count-large", type=int, default=None,
                        help="instances per size from 100 components (default: --count)")
    parser.add_argument("--modes", nargs="+", default=["fast", "heuristic"],
                        choices=["fast", "heuristic", "exact"])
    parser.add_argument("--exact", action="store_true",
                        help=f"also the exact mode, for sizes up to {EXACT_UP_TO}")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lambda", dest="arrival_rate", type=float, default=1.8)
    parser.add_argument("--baseline-iterations", type=int, default=1000)
    parser.add_argument("--baseline-steps", type=int, default=2000)
    parser.add_argument("--csv", type=Path, default=None, help="per-run rows")
    args = parser.parse_args()
    rows = run(args)
    print(f"\nΛ={args.arrival_rate}  time limit {args.time_limit:g} s  seed {args.seed}  "
          f"baseline RG{args.baseline_iterations}+LS{args.baseline_steps}\n")
    print("\n".join(table(rows)))
    if args.csv:
        with args.csv.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 1 if any(r["bug"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
