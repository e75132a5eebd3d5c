"""Read the SPACE4AI-D system JSON (the format of the 80 published instances) into a ``System``.

Both spellings of the network key (``computationallayers`` in the C++ benchmark files,
``computationalLayers`` in the Python tool) and systems with several source components are
accepted. Bad files raise ``InvalidInput`` with diagnostics that point at the offending line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import MappingProxyType

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.errors import InvalidInput
from compiler.load import files
from compiler.load.schema import validate_document
from compiler.load.yamlpos import YamlDocument, parse_yaml
from compiler.placement.system import (
    Component,
    Deployment,
    Domain,
    Layer,
    Option,
    Partition,
    PathConstraint,
    ResourceType,
    System,
    Tier,
)

SCHEMA = "space4ai_system"


def load_system(path: str | os.PathLike[str], *, arrival_rate: float | None = None) -> System:
    """Load a system JSON file; ``arrival_rate`` overrides its ``Lambda`` (as ``-L`` does)."""
    file = os.fspath(path)
    text, problem = files.read_given_text(file)  # a regular, capped UTF-8 file
    if text is None:
        raise InvalidInput([problem])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = Location(file, exc.lineno, exc.colno)
        raise InvalidInput([diagnostic("AIS002", f"invalid JSON: {exc.msg}",
                                       "fix the JSON syntax", where)]) from None
    except ValueError as exc:  # an integer of 4300+ digits, past Python's conversion limit
        raise InvalidInput([diagnostic("AIS110", f"a number in {file} is far beyond any sensible "
                                       f"value: {exc}", "write every number within its range "
                                       "(`aisprint schema space4ai_system`)",
                                       Location(file, 1, 1))]) from None
    except RecursionError:
        raise InvalidInput([diagnostic("AIS002", "the JSON is nested too deeply",
                                       "flatten the structure", Location(file, 1, 1))]) from None
    return system_from_json(data, file=file, text=text, arrival_rate=arrival_rate)


def _located(file: str, text: str | None, data) -> YamlDocument:
    """Positions for diagnostics: JSON is YAML, so the YAML reader can tell lines. The values
    stay JSON's (YAML 1.1 reads 1e300 or NaN as text)."""
    if text is not None:
        doc, _ = parse_yaml(text.replace("\t", " "), file)
        if doc is not None:
            return YamlDocument(file, data, doc.value_positions, doc.key_positions)
    return YamlDocument(file, data, {}, {})


def system_from_json(data: dict, *, file: str = "<system>", text: str | None = None,
                     arrival_rate: float | None = None) -> System:
    doc = YamlDocument(file, data, {}, {})
    problems = validate_document(doc, SCHEMA)
    located: list[YamlDocument] = []  # parsed for positions only when something is wrong

    def positions() -> YamlDocument:
        if not located:
            located.append(_located(file, text, data))
        return located[0]

    if problems:
        raise InvalidInput(validate_document(positions(), SCHEMA))
    errors: list[Diagnostic] = []

    def fail(message: str, hint: str, path: tuple) -> None:
        errors.append(diagnostic("AIS100", message, hint, positions().loc(path)))

    resources: list[ResourceType] = []
    layers: list[Layer] = []
    for key, tier in (("EdgeResources", Tier.EDGE), ("CloudResources", Tier.CLOUD),
                      ("FaaSResources", Tier.FAAS)):
        for layer_name, entries in (data.get(key) or {}).items():
            names = []
            for res_name, spec in entries.items():
                if res_name == "transition_cost":
                    continue
                names.append(res_name)
                if tier is Tier.FAAS:
                    resources.append(ResourceType(
                        res_name, tier, layer_name, float(spec["cost"]), float(spec["memory"]),
                        idle_time=float(spec["idle_time_before_kill"]),
                        description=str(spec.get("description", ""))))
                else:
                    resources.append(ResourceType(
                        res_name, tier, layer_name, float(spec["cost"]), float(spec["memory"]),
                        number=int(spec["number"]), cores=float(spec.get("n_cores", 1)),
                        description=str(spec.get("description", ""))))
            layers.append(Layer(layer_name, tier, tuple(names),
                                float(entries.get("transition_cost", 0) or 0)
                                if tier is Tier.FAAS else 0.0))
    by_name = {r.name: r for r in resources}
    if len(by_name) != len(resources):
        fail("two resources have the same name", "resource names must be unique", ())

    components = []
    for comp_name, deployments in data["Components"].items():
        built = []
        for dep_name, parts in deployments.items():
            chain = _chain(parts)
            if chain is None:
                fail(f"the partitions of {comp_name}/{dep_name} do not form a chain",
                     "each partition's `next` names the following one; the last names the "
                     "successor components", ("Components", comp_name, dep_name))
                continue
            built.append(Deployment(dep_name, tuple(
                Partition(h, float(parts[h].get("early_exit_probability", 0) or 0),
                          tuple(parts[h].get("next", ())),
                          tuple(float(x) for x in parts[h].get("data_size", ())))
                for h in chain)))
        components.append(Component(comp_name, tuple(built)))
    known = {c.name for c in components}

    edges = []
    for source, spec in data["DirectedAcyclicGraph"].items():
        probabilities = spec.get("transition_probability") or []
        for i, target in enumerate(spec.get("next") or []):
            if target not in known or source not in known:
                fail(f"DAG edge {source} -> {target} names an unknown component",
                     "every DAG node needs an entry in Components",
                     ("DirectedAcyclicGraph", source))
                continue
            edges.append((source, target, float(probabilities[i]) if i < len(probabilities)
                          else 1.0))

    # canonical order: by source component, as Components lists them
    position = {c.name: i for i, c in enumerate(components)}
    edges.sort(key=lambda edge: position[edge[0]])

    options: dict[tuple[str, str], tuple[Option, ...]] = {}
    performance = data["Performance"]
    for comp_name, parts in data["CompatibilityMatrix"].items():
        for part_name, entries in parts.items():
            found = []
            for i, entry in enumerate(entries):
                res = entry["resource"]
                perf = performance.get(comp_name, {}).get(part_name, {}).get(res)
                where = ("CompatibilityMatrix", comp_name, part_name, i)
                if res not in by_name:
                    fail(f"{comp_name}/{part_name} is compatible with unknown resource {res}",
                         "declare it under EdgeResources, CloudResources or FaaSResources", where)
                    continue
                if perf is None:
                    fail(f"no Performance entry for {comp_name}/{part_name} on {res}",
                         "add its demand (QTedge/QTcloud) or demandWarm/demandCold (PACSLTK)",
                         where)
                    continue
                if by_name[res].is_faas:
                    found.append(Option(res, float(entry["memory"]), perf["model"],
                                        demand_warm=float(perf.get("demandWarm", 0)),
                                        demand_cold=float(perf.get("demandCold", 0))))
                else:
                    found.append(Option(res, float(entry["memory"]), perf["model"],
                                        demand=float(perf.get("demand", 0))))
            options[(comp_name, part_name)] = tuple(found)

    domains = tuple(
        Domain(name, frozenset(spec.get("computationallayers")
                                      or spec.get("computationalLayers") or ()),
                      float(spec["AccessDelay"]), float(spec["Bandwidth"]))
        for name, spec in data["NetworkTechnology"].items())
    local = {c: float(v["local_res_time"]) for c, v in (data.get("LocalConstraints") or {}).items()}
    global_ = tuple(PathConstraint(name, tuple(v["components"]), float(v["global_res_time"]))
                    for name, v in (data.get("GlobalConstraints") or {}).items())
    for name in list(local) + [c for g in global_ for c in g.path]:
        if name not in known:
            fail(f"a QoS constraint names unknown component {name}",
                 "constraints refer to components of the DAG", ("LocalConstraints",))
    if errors:
        raise InvalidInput(errors)
    system = System(
        name=Path(file).stem, components=tuple(components), edges=tuple(edges),
        resources=tuple(resources), layers=tuple(layers), domains=domains,
        options=MappingProxyType(options), local_constraints=MappingProxyType(local),
        global_constraints=global_,
        arrival_rate=float(arrival_rate if arrival_rate is not None else data.get("Lambda", 1)),
        time=float(data.get("Time", 1)))
    try:
        system.order  # noqa: B018 - raises on a cycle
    except ValueError:
        raise InvalidInput([diagnostic("AIS201", "the DAG of the system has a cycle",
                                       "a SPACE4AI system must be acyclic",
                                       Location(file))]) from None
    return system


def _chain(parts: dict) -> list[str] | None:
    """Partition names in chain order: the first is the one no other partition points to."""
    names = list(parts)
    pointed = {n for p in parts.values() for n in p.get("next", ()) if n in parts}
    starts = [n for n in names if n not in pointed]
    if len(starts) != 1:
        return None
    chain, current = [], starts[0]
    while current is not None:
        if current in chain:
            return None
        chain.append(current)
        following = [n for n in parts[current].get("next", ()) if n in parts]
        current = following[0] if following else None
    return chain if len(chain) == len(names) else None
