"""Emitters: one module per deployment target, each satisfying ``Emitter``, registered in
``EMITTERS``. An emitter is a pure function of the ``EmitContext`` (the application and its
deployment views): the same inputs give the same bytes, with no clock, network or randomness.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import yaml

from compiler.design.deployments import DeploymentView
from compiler.diagnostics import Diagnostic
from compiler.model import Application
from targets.check import CompiledTree


@dataclass(frozen=True)
class EmitContext:
    application: Application
    deployments: tuple[DeploymentView, ...]  # base, optimal_deployment, current_deployment
    candidate_resources: Mapping  # candidate_resources.yaml as written (copied into outputs)
    dag_text: bytes  # application_dag.yaml as written (the base deployment keeps it verbatim)
    feasible: bool = True  # whether the optimal placement meets every constraint
    # deployment1..N of the design space: layers chosen, no placement (DAG and QoS files only)
    candidates: tuple[DeploymentView, ...] = ()
    cuts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # designed partitions


class Emitter(Protocol):
    name: str

    def emit(self, context: EmitContext) -> Mapping[str, bytes]:
        """Relative path (POSIX) -> file content."""
        ...

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
        """What the consumers of this target's files in ``tree`` say of them (AIS906), and the
        checks that could not run for want of a tool (AIS907); run by ``compile --check``."""
        ...


def slug(text: str) -> str:
    """A DNS-safe name (lower case, '-' for anything else): clusters, services, buckets."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower().replace("_", "-")).strip("-")


class _PlainDumper(yaml.SafeDumper):
    """No anchors and aliases: every emitted file reads the same to any consumer."""

    def ignore_aliases(self, data) -> bool:
        return True


def dump_yaml(data) -> bytes:
    """The one YAML style of emitted files: block style, keys in the order given, UTF-8."""
    return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=100).encode()


def _registry() -> dict[str, Emitter]:
    # deferred: every target module imports EmitContext from this package, so they load
    # once it is defined
    from targets import ams, deployment_folders, docker, helm, oscar_fdl, scone, tosca

    return {"deployments": deployment_folders.EMITTER, "ams": ams.EMITTER, "tosca": tosca.EMITTER,
            "oscar_fdl": oscar_fdl.EMITTER, "helm": helm.EMITTER, "scone": scone.EMITTER,
            "docker": docker.EMITTER}


EMITTERS: dict[str, Emitter] = _registry()
