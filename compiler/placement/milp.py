"""The exact placement: a MILP solved with PuLP (HiGHS by default, CBC as fallback).

Everything in the placement model is linear except the M/G/1 response time
``D / (1 − L_j/n_j)`` of an edge/VM resource j with load ``L_j = Σ λ_ih·D_ihj·y_ihj`` and
``n_j`` replicas. It is handled exactly by outer approximation:

* the queue factor ``φ_j = n/(n − L_j)`` is bounded below by tangent cuts of the convex
  ``n/(n − L)`` for the chosen replica count (binaries ``v_jn``); a partition's time on j is
  ``D·φ_j`` (big-M on its placement binary);
* each response-time limit T also gives a linear *capacity cut*: a partition with demand D that
  must answer within T (weighted by the share of requests that reach it) can only sit on j
  while ``L_j ≤ (1 − D/T)·n_j``;
* tangents underestimate, so the MILP is a relaxation. Each solution is re-checked by the one
  evaluator (``performance.evaluate``); when it is not feasible, tangents at its exact loads are
  added and the MILP is solved again. The first evaluator-feasible MILP optimum is therefore the
  proven optimum.

Transfers are linear in layer indicators (``u_hl = Σ_{j∈l} y_hj``): within one edge/VM layer a
single resource type is used, so "same layer" means "same resource" there; FaaS layers, where
several configurations may be mixed, get an explicit same-configuration term.

When the MILP is infeasible, an elastic copy (every QoS, stability and capacity limit with a
priced slack) says which limits cannot be met and by how much.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pulp

from compiler.diagnostics import diagnostic
from compiler.errors import InvalidInput
from compiler.placement.construct import construct
from compiler.placement.faas import faas_response_time
from compiler.placement.heuristics import shrink_replicas
from compiler.placement.numbers import check_system
from compiler.placement.performance import (
    DEFAULT,
    RELATIVE_TOLERANCE,
    Conventions,
    Evaluation,
    evaluate,
    faas_rate,
)
from compiler.placement.result import SolveResult
from compiler.placement.system import Placement, System

EPS_STABLE = 1e-7  # U ≤ 1 − ε: the evaluator wants U < 1
TANGENT_GRID = (0.0, 0.3, 0.5, 0.65, 0.75, 0.85, 0.92)
REPAIR_EVALUATIONS = 200  # evaluator calls the repair of a MILP answer may make
ELASTIC_UTILISATION = 0.99  # the queue factor the elastic copy models, at most 1/(1 − 0.99)
# HiGHS reads a cost of 1e20 as infinite and loses precision long before: the objective is
# counted in units that bring its largest coefficient down to this (costs × replicas × T can
# reach 1e20 within the schemas' ranges). The price: HiGHS's tolerances (~1e-6) then apply in
# those units, so when one option could cost 1e20, cost differences below 1e8 are not resolved.
LARGEST_COST = 1e6
# Model statuses in which HiGHS answered nothing usable (PuLP maps them to "not solved" and may
# then fail reading an empty solution).
_HIGHS_FAILURES = ("kLoadError", "kModelError", "kPresolveError", "kSolveError",
                   "kPostsolveError")


@dataclass
class _Opt:
    """A (component, deployment, partition, resource) choice with its constants."""

    component: str
    deployment: str
    partition: str
    resource: str
    index: int  # position of the partition in its chain
    rate: float
    weight: float
    faas: bool
    demand: float = 0.0  # queue: service time
    faas_time: float = 0.0
    cost: float = 0.0  # FaaS: cost of running it over the horizon
    var: pulp.LpVariable | None = None


def _fmin(values, default=math.inf):
    values = list(values)
    return min(values) if values else default


class _MilpBuilder:
    """Builds the MILP of one system; ``add_tangents`` refines it between solves."""

    def __init__(self, system: System, conventions: Conventions, elastic: bool = False):
        self.system = system
        self.conventions = conventions
        self.elastic = elastic
        self.problem = pulp.LpProblem("placement", pulp.LpMinimize)
        self.slacks: dict[str, pulp.LpVariable] = {}
        self.options: dict[tuple[str, str], list[_Opt]] = defaultdict(list)
        self.phi: dict[str, pulp.LpVariable] = {}
        self.v: dict[tuple[str, int], pulp.LpVariable] = {}
        self.load: dict[str, pulp.LpVariable] = {}
        self.host: dict[str, pulp.LpVariable] = {}
        self.phi_cap: dict[str, float] = {}
        self.tangents: set[tuple[str, int, float]] = set()
        self.z: dict[tuple[str, str], pulp.LpVariable] = {}
        self.cost_scale = 1.0  # objective value × cost_scale = cost
        limits = list(system.local_constraints.values()) + \
            [g.threshold for g in system.global_constraints]
        self.longest_limit = max(limits, default=math.inf)
        self._counter = 0
        self._build()

    # -- helpers

    def _name(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_{self._counter}"

    def _variable(self, prefix: str, low, high, category: str) -> pulp.LpVariable:
        name = self._name(prefix)
        if hasattr(self.problem, "add_variable"):  # PuLP >= 3.3 attaches variables to a model
            return self.problem.add_variable(name, low, high, category)
        return pulp.LpVariable(name, low, high, category)

    def _binary(self, prefix: str) -> pulp.LpVariable:
        return self._variable(prefix, 0, 1, pulp.LpBinary)

    def _continuous(self, prefix: str, low: float = 0.0, high: float | None = None):
        return self._variable(prefix, low, high, pulp.LpContinuous)

    def _add(self, constraint, label: str = "") -> None:
        self.problem += constraint, self._name(label or "c")

    def _limit(self, expression, bound: float, label: str) -> None:
        """``expression ≤ bound``, with a priced slack in the elastic model."""
        if self.elastic:
            slack = self._continuous(f"slack_{label}")
            self.slacks[label] = slack
            self._add(expression - slack <= bound, label)
        else:
            self._add(expression <= bound, label)

    @staticmethod
    def _within(limit: float) -> float:
        """A memory or time limit with the evaluator's tolerance (``performance._over``): the
        MILP must relax what the evaluator accepts, or a limit met to the last rounding (a
        1e9 MB node holding 1e9 MB plus 0.01) is feasible there and not here."""
        return limit * (1 + RELATIVE_TOLERANCE) + 1e-12

    def _tmax(self, component: str, weight: float) -> float:
        """The longest a partition reached by share ``weight`` of requests may take."""
        if weight <= 0:
            return math.inf
        limits = []
        if component in self.system.local_constraints:
            limits.append(self.system.local_constraints[component])
        limits += [g.threshold for g in self.system.global_constraints if component in g.path]
        return _fmin(limits) / weight

    # -- the model

    def _build(self) -> None:
        s = self.system
        conv = self.conventions
        constrained = s.constrained_components
        queue_terms: dict[str, list[tuple[_Opt, float]]] = defaultdict(list)
        memory_terms: dict[str, list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
        cost_terms: list[tuple[pulp.LpVariable, float]] = []

        for component in s.components:
            z_terms = []
            for dep in component.deployments:
                z = self._binary("z")
                self.z[(component.name, dep.name)] = z
                z_terms.append(z)
                rates = s.partition_rates(component.name, dep)
                weights = dep.weights()
                possible = True
                for k, (part, rate, weight) in enumerate(
                        zip(dep.partitions, rates, weights, strict=True)):
                    opts = []
                    tmax = self._tmax(component.name, weight) if component.name in constrained \
                        else math.inf
                    for option in s.options_for(component.name, part.name):
                        res = s.resource(option.resource)
                        if option.memory > self._within(res.memory):
                            continue
                        if res.is_faas:
                            r = faas_rate(s, component.name, rate, conv)
                            t = faas_response_time(r, option.demand_warm, option.demand_cold,
                                                   res.idle_time)
                            if t > tmax * (1 + 1e-9) and not self.elastic:
                                continue
                            opts.append(_Opt(component.name, dep.name, part.name, res.name, k,
                                             rate, weight, True, faas_time=t,
                                             cost=res.cost * option.demand_warm * r * s.time))
                        else:
                            if option.demand >= tmax and not self.elastic:
                                continue
                            if rate * option.demand >= res.number and not self.elastic:
                                continue  # unstable even on every node: never placeable
                            opts.append(_Opt(component.name, dep.name, part.name, res.name, k,
                                             rate, weight, False, demand=option.demand))
                    if not opts:
                        possible = False
                    for opt in opts:
                        opt.var = self._binary("y")
                        if opt.faas:
                            cost_terms.append((opt.var, opt.cost))
                        else:
                            queue_terms[opt.resource].append((opt, rate * opt.demand))
                            memory_terms[opt.resource].append(
                                (opt.var, next(o.memory for o in s.options_for(
                                    component.name, part.name) if o.resource == opt.resource)))
                    self.options[(component.name, part.name)] = opts
                    # a chosen deployment places each of its partitions exactly once
                    self._add(pulp.lpSum(o.var for o in opts) == z, "assign")
                if not possible:
                    self._add(z == 0, "impossible")
            self._add(pulp.lpSum(z_terms) == 1, "one_deployment")

        # edge/VM resource types: used flag, one per layer, replicas, load, stability, memory
        x = {}
        by_layer: dict[str, list] = defaultdict(list)
        for name, terms in queue_terms.items():
            res = s.resource(name)
            x[name] = self._binary("x")
            by_layer[res.layer].append(x[name])
            for opt, _ in terms:
                self._add(opt.var <= x[name], "uses")
            vs = []
            for n in range(1, res.number + 1):
                self.v[(name, n)] = self._binary("v")
                vs.append((self.v[(name, n)], n))
            self._add(pulp.lpSum(v for v, _ in vs) == x[name], "replicas")
            capacity = pulp.lpSum(n * v for v, n in vs)
            cost_terms += [(v, res.cost * n * s.time) for v, n in vs]
            self.load[name] = self._continuous("L")
            self._add(self.load[name] == pulp.lpSum(lam_d * o.var for o, lam_d in terms), "load")
            self._limit(self.load[name] - (1 - EPS_STABLE) * capacity, 0.0, f"stability:{name}")
            self._add(pulp.lpSum(v * m for v, m in memory_terms[name])
                      <= self._within(res.memory) * x[name],
                      "memory")
        for layer_vars in by_layer.values():
            if len(layer_vars) > 1:
                self._add(pulp.lpSum(layer_vars) <= 1, "one_type_per_layer")
        largest = max((c for _, c in cost_terms), default=0.0)
        if largest > LARGEST_COST:
            self.cost_scale = largest / LARGEST_COST
        cost = pulp.lpSum(v * (c / self.cost_scale) for v, c in cost_terms)
        self.problem += cost
        # the cost of the best answer known so far caps the search (an upper bound on `cap`)
        self.cap = self._continuous("cap", None, None)
        self._add(cost <= self.cap, "cutoff")

        self._move_back()
        self._response_times(queue_terms, constrained)

    def _layer_indicator(self, component: str, partition: str) -> dict[str, object]:
        by_layer: dict[str, list] = defaultdict(list)
        for opt in self.options[(component, partition)]:
            by_layer[self.system.resource(opt.resource).layer].append(opt.var)
        return {layer: pulp.lpSum(vs) for layer, vs in by_layer.items()}

    def _cloud(self, component: str, partition: str):
        return pulp.lpSum(o.var for o in self.options[(component, partition)]
                          if self.system.resource(o.resource).tier.is_cloud)

    def _move_back(self) -> None:
        s = self.system
        for component in s.components:
            for dep in component.deployments:
                for a, b in zip(dep.partitions, dep.partitions[1:], strict=False):
                    self._add(self._cloud(component.name, a.name)
                              <= self._cloud(component.name, b.name), "no_move_back")
        for source, target, _ in s.edges:
            last = pulp.lpSum(self._cloud(source, d.last.name)
                              for d in s.component(source).deployments)
            first = pulp.lpSum(self._cloud(target, d.first.name)
                               for d in s.component(target).deployments)
            self._add(last <= first, "no_move_back_edge")

    def _delay(self, a: tuple[str, str], b_options: list[_Opt], size: float, label: str,
               weight: float = 1.0):
        """A variable ≥ ``weight`` × the transfer time between partition ``a`` and whichever
        partition of ``b_options`` is placed (0 when both sit on the same resource).

        A weighted transfer longer than every time limit can never be part of a feasible
        answer: the pair of layers is forbidden outright rather than entering the model with a
        coefficient of up to 1e12 s (1 TB over 1 B/s), which HiGHS cannot weigh against 1e-9 s
        demands. The elastic model, which only says by how much limits are missed, caps it."""
        s = self.system
        ua = self._layer_indicator(*a)
        ub: dict[str, list] = defaultdict(list)
        for opt in b_options:
            ub[s.resource(opt.resource).layer].append(opt.var)
        ub_sum = {layer: pulp.lpSum(vs) for layer, vs in ub.items()}
        delay = self._continuous(f"d_{label}")
        for la, ea in ua.items():
            for lb, eb in ub_sum.items():
                t = s.network_delay(la, lb, size, bits=self.conventions.transfer_bits)
                if t is None:
                    self._add(ea + eb <= 1, "no_network")
                    continue
                t *= weight
                too_slow = t > self.longest_limit and not self.elastic
                t = min(t, 2 * self.longest_limit)
                if la != lb:
                    if too_slow:
                        self._add(ea + eb <= 1, "too_slow")
                    elif t > 0:
                        self._add(delay >= t * (ea + eb - 1), "delay")
                elif s.layer_index[la].tier.value == "faas":
                    # two FaaS configurations of one layer: a transfer unless the same one
                    same = []
                    a_by_res = {o.resource: o.var for o in self.options[a]}
                    for opt in b_options:
                        if opt.resource in a_by_res:
                            both = self._continuous("same", 0, 1)
                            self._add(both <= a_by_res[opt.resource], "same")
                            self._add(both <= opt.var, "same")
                            same.append(both)
                    if too_slow:  # both in this layer only on the same configuration
                        self._add(ea + eb - 1 - pulp.lpSum(same) <= 0, "too_slow")
                    elif t > 0:
                        self._add(delay >= t * (ea + eb - 1 - pulp.lpSum(same)), "delay")
        return delay

    def _response_times(self, queue_terms, constrained) -> None:
        s = self.system
        # φ_j exists where a constrained partition may sit
        for name, terms in queue_terms.items():
            caps = [1 - o.demand / self._tmax(o.component, o.weight) for o, _ in terms
                    if o.component in constrained and math.isfinite(
                        self._tmax(o.component, o.weight))]
            if not any(o.component in constrained for o, _ in terms):
                continue
            # the elastic copy keeps options slower than their limit (by a priced slack): a cap
            # drawn from such a limit would be below 0 and leave φ no value at all. Its own cap
            # keeps the big-M below (φ ≤ 100): with 1/ε, HiGHS's integrality tolerance alone
            # let a placed partition take no time. Capping φ only underestimates times, so an
            # excess it reports is still a lower bound.
            u_cap = ELASTIC_UTILISATION if self.elastic else \
                max(caps) if caps else 1 - EPS_STABLE
            u_cap = min(u_cap, 1 - EPS_STABLE)
            self.phi_cap[name] = 1 / (1 - u_cap)
            self.phi[name] = self._continuous("phi", 1.0, self.phi_cap[name])
            self.host[name] = self._binary("k")
            n_max = s.resource(name).number
            for opt, _ in terms:
                if opt.component not in constrained:
                    continue
                self._add(self.host[name] >= opt.var, "hosts")
                tmax = self._tmax(opt.component, opt.weight)
                # a capacity cut holds only where the limit does: the elastic copy, which may
                # miss limits, would otherwise price a missed limit twice (and a fast option
                # above its limit as if it were unusable)
                if math.isfinite(tmax) and not self.elastic:
                    share = 1 - opt.demand / tmax
                    capacity = pulp.lpSum(n * self.v[(name, n)] for n in range(1, n_max + 1))
                    self._limit(self.load[name] - share * capacity - n_max * (1 - opt.var), 0.0,
                                f"capacity:{opt.component}/{opt.partition}@{name}")
            for n in range(1, n_max + 1):
                for u in TANGENT_GRID:
                    if u <= u_cap:
                        self.add_tangent(name, n, u * n)

        times: dict[tuple[str, str], pulp.LpAffineExpression] = {}
        for (component, partition), opts in self.options.items():
            if component not in constrained:
                continue
            terms = []
            for opt in opts:
                if opt.faas:
                    terms.append(opt.faas_time * opt.var)
                else:
                    r = self._continuous("r")
                    cap = self.phi_cap[opt.resource]
                    self._add(r >= opt.demand * self.phi[opt.resource]
                              - opt.demand * cap * (1 - opt.var), "r")
                    terms.append(r)
            times[(component, partition)] = pulp.lpSum(terms)

        component_time: dict[str, pulp.LpAffineExpression] = {}
        for component in s.components:
            name = component.name
            # a partition chain may only cross layers that a network connects, for everyone
            for dep in component.deployments:
                for a, b in zip(dep.partitions, dep.partitions[1:], strict=False):
                    self._forbid_unconnected((name, a.name), (name, b.name), a.data_to(b.name))
            if name not in constrained:
                continue
            terms = []
            for dep in component.deployments:
                weights = dep.weights()
                for k, part in enumerate(dep.partitions):
                    terms.append(weights[k] * times[(name, part.name)])
                    if k:
                        before = dep.partitions[k - 1]
                        terms.append(self._delay((name, before.name),
                                                 self.options[(name, part.name)],
                                                 before.data_to(part.name), "intra",
                                                 weights[k]))
            component_time[name] = pulp.lpSum(terms)

        for name, limit in s.local_constraints.items():
            self._limit(component_time[name], self._within(limit), f"local:{name}")
        for g in s.global_constraints:
            terms = [component_time[c] for c in g.path]
            for a, b in zip(g.path, g.path[1:], strict=False):
                first_options = [o for d in s.component(b).deployments
                                 for o in self.options[(b, d.first.name)]]
                for dep in s.component(a).deployments:
                    # only the chosen deployment's last partition has options switched on
                    terms.append(self._delay((a, dep.last.name), first_options,
                                             dep.last.data_to(b), "path"))
            self._limit(pulp.lpSum(terms), self._within(g.threshold), f"global:{g.name}")

    def _forbid_unconnected(self, a, b, size) -> None:
        s = self.system
        ua, ub = self._layer_indicator(*a), self._layer_indicator(*b)
        for la, ea in ua.items():
            for lb, eb in ub.items():
                if s.network_delay(la, lb, size) is None:
                    self._add(ea + eb <= 1, "no_network")

    def add_tangent(self, resource: str, n: int, load: float) -> bool:
        """φ ≥ tangent of n/(n − L) at ``load``, active when n replicas and a constrained
        partition are on ``resource``. Returns False when it was already there."""
        if resource not in self.phi:
            return False
        load = min(load, n * (1 - 1e-6))
        key = (resource, n, round(load, 9))
        if key in self.tangents:
            return False
        self.tangents.add(key)
        value = n / (n - load)
        slope = n / (n - load) ** 2
        n_max = self.system.resource(resource).number
        big = max(0.0, value + slope * (n_max - load) - 1)
        self._add(self.phi[resource] >= value + slope * (self.load[resource] - load)
                  - big * (1 - self.v[(resource, n)]) - big * (1 - self.host[resource]),
                  "tangent")
        return True

    # -- reading a solution

    def placement(self) -> Placement:
        deployments, resources, replicas = {}, {}, {}
        for (component, dep), z in self.z.items():
            if (z.varValue or 0) > 0.5:
                deployments[component] = dep
        for (component, partition), opts in self.options.items():
            for opt in opts:
                if opt.deployment == deployments.get(component) and (opt.var.varValue or 0) > 0.5:
                    resources[(component, partition)] = opt.resource
        for (resource, n), v in self.v.items():
            if (v.varValue or 0) > 0.5:
                replicas[resource] = n
        return Placement(deployments, resources, replicas)


def _solver(backend: str, time_limit: float | None, threads: int | None, gap: float = 1e-9):
    if backend == "highs":
        return pulp.HiGHS(msg=False, timeLimit=time_limit, threads=threads, gapRel=gap)
    if backend == "cbc":
        with warnings.catch_warnings():  # PuLP 3.3 still bundles CBC but warns about 4.0
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=gap,
                                     threads=threads)
    raise ValueError(f"unknown MILP back-end {backend!r}: use 'highs' or 'cbc'")


def available_backend(preferred: str = "highs") -> str:
    """HiGHS when highspy is importable, else CBC (bundled with PuLP)."""
    if preferred == "highs" and pulp.HiGHS().available():
        return "highs"
    return "cbc"


def solve_milp(
    system: System,
    conventions: Conventions = DEFAULT,
    *,
    time_limit: float = 60.0,
    backend: str = "highs",
    incumbent: Placement | None = None,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
    max_rounds: int = 200,
    gap: float = 1e-9,
) -> SolveResult:
    """Solve to proven optimality, or return the best evaluator-feasible answer at the limit.

    ``incumbent`` (e.g. from the heuristic) is kept if the MILP finds nothing cheaper, and its
    cost prunes the search."""
    start = time.perf_counter()
    check_system(system)
    backend = available_backend(backend)
    builder = _MilpBuilder(system, conventions)
    best: tuple[Placement, Evaluation] | None = None
    if incumbent is not None:
        ev = evaluate(system, incumbent, conventions)
        if ev.feasible:
            best = (incumbent, ev)
    bound: float | None = None
    rounds = 0
    status = "unknown"
    while rounds < max_rounds:
        rounds += 1
        remaining = time_limit - (time.perf_counter() - start)
        if remaining <= 0.05:
            status = "feasible" if best else "unknown"
            break
        if best is not None:  # only something cheaper than the incumbent is of interest
            builder.cap.upBound = best[1].cost / builder.cost_scale * (1 - 1e-9)
        trouble = _run(builder.problem, _solver(backend, remaining, threads, gap), backend)
        if trouble is not None:
            if best is not None:  # keep the incumbent; nothing is proven about it
                status, bound = "feasible", None
                break
            raise InvalidInput([diagnostic(
                "AIS807", f"the MILP solver ({backend}) returned no usable answer: {trouble}",
                "run again with --mode heuristic; if it persists, report it with the input "
                "(every number was within its valid range)")])
        lp_status = builder.problem.status
        if lp_status == pulp.LpStatusInfeasible and best:
            # nothing cheaper than the incumbent exists (the MILP relaxes the true problem)
            status, bound = "optimal", best[1].cost
            break
        if lp_status == pulp.LpStatusInfeasible:
            status = "infeasible"
            break
        if pulp.LpSolutionNoSolutionFound == builder.problem.sol_status or \
                builder.problem.sol_status not in (pulp.LpSolutionOptimal,
                                                   pulp.LpSolutionIntegerFeasible):
            status = "feasible" if best else "unknown"
            bound = _dual_bound(builder, backend)
            break
        proven = builder.problem.sol_status == pulp.LpSolutionOptimal
        round_bound = _objective(builder) if proven else _dual_bound(builder, backend)
        placement = builder.placement()
        ev = evaluate(system, placement, conventions)
        if progress:
            progress(f"round {rounds}: MILP cost {_objective(builder):.6g}, "
                     f"evaluator {'feasible' if ev.feasible else 'infeasible'}")
        if ev.feasible:
            if best is None or ev.cost < best[1].cost:
                best = (placement, ev)
            if proven:
                status, bound = "optimal", _dual_bound(builder, backend) or round_bound
                break
            status, bound = "feasible", round_bound
            break  # time limit hit inside the solver: keep what we have
        # the relaxation was optimistic here. More replicas may still make this placement
        # feasible: that gives an incumbent (and a cutoff) while the cuts are refined.
        repaired = _repair(system, placement, conventions)
        if repaired is not None and (best is None or repaired[1].cost < best[1].cost):
            best = repaired
        # make the relaxation exact at this point and solve again
        added = 0
        for resource, n in placement.replicas.items():
            if resource in ev.utilisation:
                added += builder.add_tangent(resource, n, ev.utilisation[resource] * n)
        if not added:
            status = "feasible" if best else "unknown"
            break
        bound = round_bound
    seconds = time.perf_counter() - start
    explanation: tuple[str, ...] = ()
    if best is None and status == "infeasible":
        explanation = explain_infeasibility(system, conventions, backend=backend)
    elif best is None:  # not proven infeasible: say what stopped the search
        explanation = (f"the MILP found no placement in {rounds} round(s) and {seconds:.3g} s "
                       f"of its {time_limit:g} s limit (solver status: "
                       f"{pulp.LpStatus.get(builder.problem.status, 'unknown')}); allow more "
                       "time (--time-limit) or try --mode heuristic",)
    if best is None:
        return SolveResult(None, None, status, seconds, None, bound, rounds, explanation)
    gap_found = None
    if bound is not None and best[1].cost > 0:
        gap_found = max(0.0, (best[1].cost - bound) / best[1].cost)
    if status == "optimal":
        if gap_found is None or gap_found <= 1e-12:
            gap_found = 0.0
        elif gap_found > 1e-6:  # beyond the solvers' own tolerances: stopped within `gap`
            status = "feasible"
    return SolveResult(best[0], best[1], status, seconds, gap_found, bound, rounds)


@contextlib.contextmanager
def _quiet_stdout():
    """HiGHS prints a banner from C++ on its first use: keep stdout clean for --output json."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (e.g. captured): nothing to protect
        yield
        return
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _run(problem: pulp.LpProblem, solver, backend: str) -> str | None:
    """Solve; what went wrong when the solver gave no usable answer, else None."""
    try:
        with _quiet_stdout():
            problem.solve(solver)
    except Exception as exc:  # noqa: BLE001 - PuLP fails in many ways (IndexError reading an
        # empty HiGHS solution, PulpSolverError, ValueError on a coefficient): all the same here
        return f"{type(exc).__name__}: {exc}"
    model = getattr(problem, "solverModel", None)
    if backend == "highs" and model is not None:
        name = getattr(model.getModelStatus(), "name", "")
        if name in _HIGHS_FAILURES:
            return f"HiGHS status {name}"
    return None


def _objective(builder: _MilpBuilder) -> float:
    return (pulp.value(builder.problem.objective) or 0.0) * builder.cost_scale


def _dual_bound(builder: _MilpBuilder, backend: str) -> float | None:
    model = getattr(builder.problem, "solverModel", None)
    if backend != "highs" or model is None:
        return None
    info = model.getInfo()
    bound = getattr(info, "mip_dual_bound", None)
    return bound * builder.cost_scale if bound is not None and math.isfinite(bound) else None


def _repair(system: System, placement: Placement, conventions: Conventions
            ) -> tuple[Placement, Evaluation] | None:
    """Most replicas on every used edge/VM resource, then as few as the evaluator allows;
    where that is not enough, the construction's repair moves what misses its limits (from
    the MILP's cheap placement, a few moves usually suffice)."""
    widest = Placement(placement.deployments, placement.resources,
                       {r: system.resource(r).number for r in placement.replicas})
    repaired, ev = shrink_replicas(system, widest, conventions)
    if ev.feasible:
        return repaired, ev
    built = construct(system, conventions, start=placement,
                      max_evaluations=REPAIR_EVALUATIONS)
    if built is None or not built.feasible:
        return None
    return shrink_replicas(system, built.placement, conventions)


def explain_infeasibility(system: System, conventions: Conventions = DEFAULT, *,
                          backend: str = "highs", time_limit: float = 30.0) -> tuple[str, ...]:
    """Which limits cannot be met, and by how much, at the least-violating placement."""
    builder = _MilpBuilder(system, conventions, elastic=True)
    # any slack must cost more than the whole (scaled) placement could
    penalty = 1e4 * (1 + min(sum(r.cost * r.number for r in system.resources) * system.time
                             / builder.cost_scale, LARGEST_COST))
    builder.problem.setObjective(builder.problem.objective
                                 + penalty * pulp.lpSum(builder.slacks.values()))
    backend = available_backend(backend)
    trouble = _run(builder.problem, _solver(backend, time_limit, None), backend)
    if trouble is not None:
        return (f"the solver could not say which limits cannot be met ({trouble})",)
    if builder.problem.status == pulp.LpStatusInfeasible:
        return ("no placement exists even with every time limit relaxed: some component has no "
                "compatible resource, or the no-move-back and network rules cannot all hold",)
    lines = []
    for label, slack in sorted(builder.slacks.items()):
        amount = slack.varValue or 0.0
        if amount > 1e-7:
            kind, _, what = label.partition(":")
            unit = " s" if kind in ("local", "global") else ""
            lines.append(f"{kind} limit of {what} cannot be met: over by at least "
                         f"{amount:.4g}{unit}")
    return tuple(lines) or ("the problem is infeasible only by numerical tolerance",)

