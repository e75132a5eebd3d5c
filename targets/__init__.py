"""Emitters: one module per deployment target, each satisfying ``Emitter``, registered in
``EMITTERS``. An emitter is a pure function of the ``EmitContext`` (the application and its
deployment views): the same inputs give the same bytes, with no clock, network or randomness.

``emit_tree`` is the whole compiled tree: every emitter of the registry in order (the design
tree first), then its final step, ``FINAL`` (the manifest), over what they all wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import yaml

from compiler.design.deployments import DeploymentView
from compiler.diagnostics import Diagnostic
from compiler.manifest import PlacementRecord
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
    inputs: Mapping[str, bytes] = field(default_factory=dict)  # the application's files, read
    placement: PlacementRecord | None = None  # how it was placed (a compile's, for the manifest)


class Emitter(Protocol):
    name: str

    def emit(self, context: EmitContext) -> Mapping[str, bytes]:
        """Relative path (POSIX) -> file content."""
        ...

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
        """What the consumers of this target's files in ``tree`` say of them (AIS906), and the
        checks that could not run for want of a tool (AIS907); run by ``compile --check``."""
        ...


class FinalEmitter(Protocol):
    """The registry's last step: it emits from the files every other emitter wrote (the
    manifest lists each artifact with its digest), so ``emit_tree`` runs it once they all
    have, whatever ``targets`` selected."""

    name: str

    def emit_over(self, context: EmitContext, artifacts: Mapping[str, bytes]
                  ) -> Mapping[str, bytes]:
        ...

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
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
    from targets import ams, deployment_folders, designs, docker, helm, oscar_fdl, scone, tosca

    return {"designs": designs.EMITTER, "deployments": deployment_folders.EMITTER,
            "ams": ams.EMITTER, "tosca": tosca.EMITTER, "oscar_fdl": oscar_fdl.EMITTER,
            "helm": helm.EMITTER, "scone": scone.EMITTER, "docker": docker.EMITTER}


def _final() -> FinalEmitter:
    # deferred: the manifest's module imports EmitContext from this package, as the others
    from targets import manifest

    return manifest.EMITTER


EMITTERS: dict[str, Emitter] = _registry()
FINAL: FinalEmitter = _final()
ALWAYS = ("designs",)  # emitted whatever ``targets`` selects: the other targets build from it


def emit_tree(context: EmitContext, targets: tuple[str, ...] | None = None, *,
              final: bool = True) -> dict[str, bytes]:
    """Every file of the compiled tree for ``context`` (``targets``: only these emitters of
    the registry, and those it always runs), sorted by path, the final step's included
    unless ``final`` is False (a part of a tree, whose manifest is made elsewhere)."""
    artifacts: dict[str, bytes] = {}
    for name, emitter in EMITTERS.items():
        if targets is None or name in targets or name in ALWAYS:
            for path, data in emitter.emit(context).items():
                if artifacts.get(path, data) != data:
                    raise RuntimeError(f"two emitters write different {path}")
                artifacts[path] = data
    if final:
        artifacts.update(FINAL.emit_over(context, artifacts))
    return dict(sorted(artifacts.items()))
