"""A plain random greedy + local search, the way SPACE4AI-D does it: the yardstick.

    python benchmarks/space4ai_baseline.py SYSTEM.json [--lambda 1.8] [--seed 1]
                                                       [--iterations 1000] [--steps 2000]

Independent of ``compiler/placement/heuristics.py`` on purpose (it measures that solver);
only the evaluator (``compiler.placement.performance.evaluate``) is shared: it alone decides
feasibility and cost. Seeded and deterministic: budgets are counted in samples and moves.

**RandomGreedy** (SPACE4AI-D's RG, placement-model.md §1.7): per sample, one random resource
type per edge/VM layer is selected and every FaaS configuration is a candidate; each component
gets a random deployment and each partition a random compatible candidate (a FaaS configuration
enters the draw with probability 0.6 when a selected edge/VM type is compatible, always
otherwise); every used edge/VM type starts at its most replicas, and a feasible sample then
loses replicas, one type at a time, while it stays feasible. The cheapest ``elite`` feasible
samples are kept. One concession to the original: components are drawn in topological order and
a partition never draws an edge resource after its chain (or a predecessor) reached the cloud;
SPACE4AI-D draws those too and discards the sample, which would discard nearly every sample of a
large DAG.

**LocalSearch** (SPACE4AI-D's LS neighbourhood): from each elite sample, take the first move, in
a seeded random order, that lowers the cost and keeps the placement feasible, until no move
does or the step budget ends. Moves: drop one replica; move one partition to another compatible
resource (a FaaS configuration, or an edge/VM type its layer already uses or whose layer is
free); switch an edge/VM layer to another type; evacuate a type (its partitions to their fastest
FaaS configurations); change a component's deployment (each partition on its fastest candidate).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass

from compiler.placement.performance import DEFAULT, Conventions, Evaluation, evaluate
from compiler.placement.system import Placement, System, Tier
from compiler.placement.system_file import load_system

EPSILON = 1e-9


@dataclass(frozen=True)
class BaselineResult:
    placement: Placement | None
    evaluation: Evaluation | None
    greedy_cost: float | None  # the cheapest random-greedy sample, before local search
    feasible_samples: int
    moves: int
    seconds: float

    @property
    def feasible(self) -> bool:
        return self.evaluation is not None and self.evaluation.feasible

    @property
    def cost(self) -> float | None:
        return self.evaluation.cost if self.feasible else None


class _Baseline:
    def __init__(self, system: System, conventions: Conventions, rng: random.Random):
        self.system = system
        self.conventions = conventions
        self.rng = rng
        self.queue_layers = [lay for lay in system.layers if lay.tier is not Tier.FAAS]
        self.evaluations = 0

    def evaluate(self, placement: Placement) -> Evaluation:
        self.evaluations += 1
        return evaluate(self.system, placement, self.conventions)

    # ---------------------------------------------------------------- random greedy

    def sample(self) -> Placement | None:
        system, rng = self.system, self.rng
        selected = {lay.name: rng.choice(lay.resources) for lay in self.queue_layers}
        deployments: dict[str, str] = {}
        resources: dict[tuple[str, str], str] = {}
        cloud_after: dict[str, bool] = {}  # component -> its last partition ran in the cloud
        for name in system.order:
            component = system.component(name)
            deployment = rng.choice(component.deployments)
            deployments[name] = deployment.name
            cloud = any(cloud_after[p] for p, _ in system.predecessors(name))
            for part in deployment.partitions:
                queues, functions = [], []
                for option in system.options_for(name, part.name):
                    res = system.resource(option.resource)
                    if res.is_faas:
                        functions.append(res.name)
                    elif selected[res.layer] == res.name and (res.tier.is_cloud or not cloud):
                        queues.append(res.name)
                if queues:
                    functions = [f for f in functions if rng.random() < 0.6]
                candidates = queues + functions
                if not candidates:
                    return None
                choice = rng.choice(candidates)
                resources[(name, part.name)] = choice
                cloud = cloud or system.resource(choice).tier.is_cloud
            cloud_after[name] = cloud
        replicas = {r: system.resource(r).number for r in set(resources.values())
                    if not system.resource(r).is_faas}
        return Placement(deployments, resources, replicas)

    def shrink(self, placement: Placement, evaluation: Evaluation) -> tuple[Placement, Evaluation]:
        """Remove replicas, one type at a time, while the placement stays feasible."""
        for resource in sorted(placement.replicas):
            while placement.replicas[resource] > 1:
                fewer = _with(placement, replicas={resource: placement.replicas[resource] - 1})
                again = self.evaluate(fewer)
                if not again.feasible:
                    break
                placement, evaluation = fewer, again
        return placement, evaluation

    def random_greedy(self, iterations: int, elite: int) -> tuple[list, int]:
        best: list[tuple[float, int, Placement, Evaluation]] = []
        feasible = 0
        for i in range(iterations):
            placement = self.sample()
            if placement is None:
                continue
            evaluation = self.evaluate(placement)
            if not evaluation.feasible:
                continue
            feasible += 1
            placement, evaluation = self.shrink(placement, evaluation)
            if any(p.key() == placement.key() for _, _, p, _ in best):
                continue
            best.append((evaluation.cost, i, placement, evaluation))
            best.sort(key=lambda entry: (entry[0], entry[1]))
            del best[elite:]
        return best, feasible

    # ---------------------------------------------------------------- local search

    def _fastest(self, component: str, partition: str, active: dict[str, str],
                 cloud: bool, faas_only: bool = False) -> str | None:
        best = None
        for option in self.system.options_for(component, partition):
            res = self.system.resource(option.resource)
            if res.is_faas:
                speed = option.demand_warm
            elif faas_only or (cloud and not res.tier.is_cloud) or \
                    active.get(res.layer, res.name) != res.name:
                continue
            else:
                speed = option.demand
            if best is None or (speed, option.resource) < best[0]:
                best = ((speed, option.resource), option.resource)
        return None if best is None else best[1]

    def neighbours(self, placement: Placement):
        """Every single move, lazily, in a seeded random order of move kinds and subjects."""
        system, rng = self.system, self.rng
        active = {system.resource(r).layer: r for r in placement.replicas}
        moves = []
        for resource, n in placement.replicas.items():
            if n > 1:
                moves.append(("replica", resource))
        for key in placement.resources:
            moves.append(("move", key))
        for layer in self.queue_layers:
            if layer.name in active:
                moves.append(("switch", layer.name))
                moves.append(("evacuate", active[layer.name]))
        for component in system.components:
            if len(component.deployments) > 1:
                moves.append(("deployment", component.name))
        rng.shuffle(moves)
        for kind, subject in moves:
            if kind == "replica":
                yield _with(placement, replicas={subject: placement.replicas[subject] - 1})
            elif kind == "move":
                component, partition = subject
                current = placement.resources[subject]
                targets = []
                for option in system.options_for(component, partition):
                    res = system.resource(option.resource)
                    if res.name == current:
                        continue
                    if res.is_faas or active.get(res.layer, res.name) == res.name:
                        targets.append(res)
                rng.shuffle(targets)
                for res in targets:
                    replicas = {} if res.is_faas or res.name in placement.replicas \
                        else {res.name: res.number}
                    yield _with(placement, resources={subject: res.name}, replicas=replicas)
            elif kind == "switch":
                current = active[subject]
                others = [r for r in system.layer_index[subject].resources if r != current]
                rng.shuffle(others)
                for other in others:
                    moved = {k: other for k, r in placement.resources.items() if r == current}
                    if all(any(o.resource == other for o in system.options_for(*k))
                           for k in moved):
                        yield _with(placement, resources=moved,
                                    replicas={other: system.resource(other).number},
                                    drop=current)
            elif kind == "evacuate":
                moved = {}
                for key, r in placement.resources.items():
                    if r == subject:
                        target = self._fastest(*key, active, True, faas_only=True)
                        if target is None:
                            break
                        moved[key] = target
                else:
                    yield _with(placement, resources=moved, drop=subject)
            else:
                yield from self._redeploy(placement, subject, active)

    def _redeploy(self, placement: Placement, name: str, active: dict[str, str]):
        system = self.system
        component = system.component(name)
        current = placement.deployments[name]
        cloud = any(system.resource(placement.resources[(p, system.component(p).deployment(
            placement.deployments[p]).last.name)]).tier.is_cloud
            for p, _ in system.predecessors(name))
        for deployment in component.deployments:
            if deployment.name == current:
                continue
            resources = {k: r for k, r in placement.resources.items() if k[0] != name}
            replicas = dict(placement.replicas)
            reached = cloud
            for part in deployment.partitions:
                target = self._fastest(name, part.name, active, reached)
                if target is None:
                    break
                resources[(name, part.name)] = target
                res = system.resource(target)
                reached = reached or res.tier.is_cloud
                if not res.is_faas and target not in replicas:
                    replicas[target] = res.number
            else:
                deployments = dict(placement.deployments)
                deployments[name] = deployment.name
                yield _tidy(Placement(deployments, resources, replicas))

    def local_search(self, placement: Placement, evaluation: Evaluation, steps: int
                     ) -> tuple[Placement, Evaluation, int]:
        moves = 0
        while moves < steps:
            for candidate in self.neighbours(placement):
                again = self.evaluate(candidate)
                if again.feasible and again.cost < evaluation.cost - EPSILON * max(
                        1.0, evaluation.cost):
                    placement, evaluation = candidate, again
                    moves += 1
                    break
            else:
                break  # a local optimum: no single move lowers the cost
        return placement, evaluation, moves


def _tidy(placement: Placement) -> Placement:
    """Replicas only for the edge/VM types still in use."""
    used = set(placement.resources.values())
    return Placement(placement.deployments, placement.resources,
                     {r: n for r, n in placement.replicas.items() if r in used})


def _with(placement: Placement, *, resources=None, replicas=None, drop=None) -> Placement:
    placed = dict(placement.resources)
    placed.update(resources or {})
    counts = dict(placement.replicas)
    counts.update(replicas or {})
    if drop is not None:
        counts.pop(drop, None)
    return _tidy(Placement(placement.deployments, placed, counts))


def baseline(system: System, *, seed: int = 1, iterations: int = 1000, steps: int = 2000,
             elite: int = 3, conventions: Conventions = DEFAULT) -> BaselineResult:
    """RandomGreedy (``iterations`` samples, the ``elite`` cheapest kept), then LocalSearch
    (at most ``steps`` improving moves from each); the cheapest result, as evaluated."""
    start = time.perf_counter()
    search = _Baseline(system, conventions, random.Random(seed))
    kept, feasible = search.random_greedy(iterations, elite)
    if not kept:
        return BaselineResult(None, None, None, feasible, 0, time.perf_counter() - start)
    best = None
    total_moves = 0
    for _, _, placement, evaluation in kept:
        placement, evaluation, moves = search.local_search(placement, evaluation, steps)
        total_moves += moves
        if best is None or evaluation.cost < best[1].cost - EPSILON:
            best = (placement, evaluation)
    # the answer as the evaluator sees it, computed afresh
    final = evaluate(system, best[0], conventions)
    return BaselineResult(best[0], final, kept[0][0], feasible, total_moves,
                          time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("system", help="a SPACE4AI-D system JSON")
    parser.add_argument("--lambda", dest="arrival_rate", type=float, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    system = load_system(args.system, arrival_rate=args.arrival_rate)
    result = baseline(system, seed=args.seed, iterations=args.iterations, steps=args.steps)
    print(json.dumps({"feasible": result.feasible, "cost": result.cost,
                      "greedy_cost": result.greedy_cost,
                      "feasible_samples": result.feasible_samples, "moves": result.moves,
                      "seconds": round(result.seconds, 3)}, indent=2))
    return 0 if result.feasible else 1


if __name__ == "__main__":
    sys.exit(main())
