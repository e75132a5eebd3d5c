"""Solve the 80 published SPACE4AI-D instances and compare with the best-known costs.

    python benchmarks/space4ai.py PATH [--mode fast|exact|heuristic] [--lambda 1.8]
                                       [--time-limit S] [--csv OUT.csv] [--only PREFIX]

PATH is the benchmark folder (holding instances/ and best-known.csv), e.g.
../shared/benchmarks/space4ai. Every solution is written as SPACE4AI-D solution JSON, read
back and re-evaluated by the evaluator before it counts. Prints one table row per set
(Light/Strict × 5/7/10/15 components) — feasible count, mean and max cost ratio against
best_known_cpp_cost, instances better / equal / worse (±0.01 %), mean and max seconds — and
writes the per-set table to --csv and the per-instance rows next to it (…-instances.csv).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

from compiler.placement.interop import placement_from_solution, solution_json
from compiler.placement.performance import evaluate
from compiler.placement.solve import MODES, solve
from compiler.placement.system_file import load_system

TOLERANCE = 1e-4  # ratios within ±0.01 % count as equal (best-known costs have 4 decimals)


def instance_path(root: Path, row: dict) -> Path:
    return (root / "instances" / row["set"] / f"{row['components']}-components"
            / f"system_description{row['index']}.json")


def run_instance(path: Path, arrival_rate: float, mode: str, time_limit: float | None) -> dict:
    system = load_system(path, arrival_rate=arrival_rate)
    result = solve(system, mode=mode, time_limit=time_limit)
    if not result.feasible:
        return {"feasible": False, "cost": None, "seconds": result.seconds,
                "status": result.status, "gap": None}
    # independent re-check: through the written JSON, by the evaluator
    written = json.loads(json.dumps(solution_json(system, result.placement, result.evaluation)))
    again = evaluate(system, placement_from_solution(system, written))
    if not again.feasible or abs(again.cost - result.cost) > 1e-9 * max(1.0, again.cost):
        raise SystemExit(f"{path}: the re-evaluated solution disagrees with the solver's")
    return {"feasible": True, "cost": again.cost, "seconds": result.seconds,
            "status": result.status, "gap": result.gap}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path, help="benchmark folder (instances/, best-known.csv)")
    parser.add_argument("--mode", choices=MODES, default="fast")
    parser.add_argument("--lambda", dest="arrival_rate", type=float, default=1.8)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--csv", type=Path, default=Path("space4ai-results.csv"))
    parser.add_argument("--only", default="", help="instance name prefix, e.g. Strict_15")
    args = parser.parse_args()
    root = args.path if (args.path / "best-known.csv").exists() else args.path.parent
    if not (root / "best-known.csv").exists():
        sys.exit(f"{args.path}: no best-known.csv here or in the parent folder")
    known = [r for r in csv.DictReader((root / "best-known.csv").open())
             if r["instance"].startswith(args.only)]
    rows = []
    for i, row in enumerate(known, 1):
        outcome = run_instance(instance_path(root, row), args.arrival_rate, args.mode,
                               args.time_limit)
        best = float(row["best_known_cpp_cost"])
        ratio = outcome["cost"] / best if outcome["feasible"] else None
        rows.append({"instance": row["instance"], "set": row["set"],
                     "components": int(row["components"]), "best_known": best,
                     "ratio": ratio, **outcome})
        shown = f"{ratio:.4f}" if ratio else "—"
        print(f"[{i}/{len(known)}] {row['instance']}: {outcome['status']}, ratio {shown}, "
              f"{outcome['seconds']:.2f} s", file=sys.stderr, flush=True)

    table = []
    for kind in ("Light", "Strict"):
        for size in (5, 7, 10, 15):
            group = [r for r in rows if r["set"] == kind and r["components"] == size]
            if not group:
                continue
            solved = [r for r in group if r["feasible"]]
            ratios = [r["ratio"] for r in solved]
            seconds = [r["seconds"] for r in group]
            table.append({
                "set": f"{kind} {size}", "instances": len(group), "feasible": len(solved),
                "proven_optimal": sum(r["status"] == "optimal" for r in group),
                "mean_ratio": statistics.mean(ratios) if ratios else None,
                "max_ratio": max(ratios) if ratios else None,
                "mean_cost": statistics.mean(r["cost"] for r in solved) if solved else None,
                "best_known_mean": statistics.mean(r["best_known"] for r in group),
                "better": sum(x < 1 - TOLERANCE for x in ratios),
                "equal": sum(abs(x - 1) <= TOLERANCE for x in ratios),
                "worse": sum(x > 1 + TOLERANCE for x in ratios),
                "mean_s": statistics.mean(seconds), "max_s": max(seconds),
                "median_s": statistics.median(seconds)})

    print(f"\nmode={args.mode}  Λ={args.arrival_rate}  ({len(rows)} instances)\n")
    print("| set | feasible | proven optimal | mean ratio | max ratio | mean cost vs best-known "
          "mean | better / equal / worse | mean s | median s | max s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for t in table:
        delta = (t["mean_cost"] / t["best_known_mean"] - 1) * 100 if t["mean_cost"] else None
        print(f"| {t['set']} | {t['feasible']}/{t['instances']} | {t['proven_optimal']} | "
              f"{_f(t['mean_ratio'])} | {_f(t['max_ratio'])} | {_f(t['mean_cost'])} vs "
              f"{_f(t['best_known_mean'])} ({delta:+.2f} %) | {t['better']} / {t['equal']} / "
              f"{t['worse']} | {t['mean_s']:.2f} | {t['median_s']:.2f} | {t['max_s']:.2f} |")
    seconds = [r["seconds"] for r in rows]
    print(f"\nall: feasible {sum(r['feasible'] for r in rows)}/{len(rows)}, worse than best-known "
          f"{sum(1 for r in rows if r['ratio'] and r['ratio'] > 1 + TOLERANCE)}, median "
          f"{statistics.median(seconds):.2f} s, max {max(seconds):.2f} s")

    with args.csv.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    per_instance = args.csv.with_name(args.csv.stem + "-instances.csv")
    with per_instance.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.csv} and {per_instance}", file=sys.stderr)
    return 0


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


if __name__ == "__main__":
    sys.exit(main())
