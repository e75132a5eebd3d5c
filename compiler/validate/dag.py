"""The DAG: edges between known components, no cycle, one shape."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from compiler.diagnostics import Diagnostic, diagnostic
from compiler.load.application import LoadedApplication
from compiler.model import Dag
from compiler.validate.registry import check, suggest


@check("dag")
def dag_edges(app: LoadedApplication) -> Iterator[Diagnostic]:
    dag = app.dag
    known = set(dag.components)
    seen: dict[tuple[str, str], object] = {}
    for dep in dag.dependencies:
        for role in ("source", "target"):
            name = getattr(dep, role)
            if name not in known:
                yield diagnostic(
                    "AIS203", f"dependency {role} '{name}' is not in System.components",
                    suggest(name, known) or "add it to System.components",
                    dep.loc(role))
        pair = (dep.source, dep.target)
        if pair in seen:
            yield diagnostic("AIS207", f"dependency {dep.source} -> {dep.target} is listed twice",
                             "keep one entry (its probability is the transition probability)",
                             dep.loc(), [seen[pair].loc()])
        else:
            seen[pair] = dep
        if not 0 <= dep.probability <= 1:
            yield diagnostic(
                "AIS205", f"transition probability {dep.probability:g} of {dep.source} -> "
                f"{dep.target} is not within [0, 1]",
                "it is the probability that a request leaving the source goes on to the target",
                dep.loc("probability"))
    totals: dict[str, float] = defaultdict(float)
    first_edge = {}
    for dep in dag.dependencies:
        totals[dep.source] += dep.probability
        first_edge.setdefault(dep.source, dep)
    for source, total in totals.items():
        if total > 1 + 1e-9:
            parts = " + ".join(f"{d.probability:g} ({d.target})"
                               for d in dag.dependencies if d.source == source)
            yield diagnostic(
                "AIS206", f"transition probabilities leaving {source} add up to {total:g} > 1: "
                f"{parts}", "they are the shares of requests that go on to each successor; "
                "scale them so their sum is at most 1", first_edge[source].loc("probability"))
    if dag.dependencies:
        used = {d.source for d in dag.dependencies} | {d.target for d in dag.dependencies}
        for i, name in enumerate(dag.components):
            if name not in used:
                yield diagnostic(
                    "AIS204", f"component '{name}' appears in no dependency",
                    "connect it with a [source, target, probability] dependency, or remove "
                    "it from System.components", dag.loc(f"components.{i}"))
    for owner in dag.alternative_components:
        if owner not in known:
            yield diagnostic("AIS203", f"alternative_components names '{owner}', which is not "
                             "in System.components", suggest(owner, known),
                             dag.loc("alternative_components"))


def _find_cycle(dag: Dag) -> list[str] | None:
    known = set(dag.components)
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for succ in dag.successors(node):
            if succ not in known:
                continue
            if colour.get(succ) == 1:
                return stack[stack.index(succ):] + [succ]
            if succ not in colour:
                found = visit(succ)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for component in dag.components:
        if component not in colour:
            found = visit(component)
            if found:
                return found
    return None


@check("dag")
def dag_shape(app: LoadedApplication) -> Iterator[Diagnostic]:
    dag = app.dag
    cycle = _find_cycle(dag)
    if cycle:
        closing = dag.edge(cycle[-2], cycle[-1])
        yield diagnostic(
            "AIS201", "the dependencies form a cycle: " + " -> ".join(cycle),
            "an application is a directed acyclic graph; remove or reverse one of these edges",
            closing.loc() if closing else dag.loc("dependencies"))
        return
    known = set(dag.components)
    if any(d.source not in known or d.target not in known for d in dag.dependencies):
        return  # a misspelt name (AIS203) would make a spurious second source
    has_incoming = {d.target for d in dag.dependencies}
    sources = [c for c in dag.components if c not in has_incoming]
    if len(sources) > 1:
        yield diagnostic(
            "AIS202", f"the DAG has {len(sources)} source components ({', '.join(sources)}); "
            "exactly one is required", "requests enter the application at one component: add "
            "a front component that feeds the others, or connect them",
            dag.loc("dependencies") or dag.loc("components"))
