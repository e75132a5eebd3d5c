"""The deployment folders themselves: each deployment's ``application_dag.yaml`` and, for the
optimal and current deployments, ``production_deployment.yaml`` (the seed's formats, §1.8).

The base deployment keeps the application's DAG byte for byte; the others, ``deployment1..N``
of the design space included, get the DAG rewritten over their units (a partitioned component
becomes its chain of partitions). Both are checked against their JSON Schemas.
"""

from __future__ import annotations

from compiler.diagnostics import Diagnostic
from compiler.layout import (
    BASE_DEPLOYMENT,
    CURRENT_DEPLOYMENT,
    OPTIMAL_DEPLOYMENT,
    PRODUCTION,
    deployment,
)
from compiler.placement.production import ProductionRow, partition_key, production_document
from targets import EmitContext, dump_yaml
from targets.check import CompiledTree, schema_problems

WITH_PRODUCTION = (OPTIMAL_DEPLOYMENT, CURRENT_DEPLOYMENT)
SCHEMAS = {"application_dag.yaml": "application_dag", PRODUCTION: "production_deployment"}


def production_rows(units) -> list[ProductionRow]:
    return [ProductionRow(partition_key(u.entry.key, u.name), u.name, u.layer, u.container.key,
                          u.container, u.resource) for u in units]


def replicas_of(units) -> dict[str, int]:
    return {u.resource: u.replicas for u in units if u.replicas}


class DeploymentFoldersEmitter:
    name = "deployments"

    def emit(self, context: EmitContext) -> dict[str, bytes]:
        app = context.application
        files: dict[str, bytes] = {}
        for view in (*context.deployments, *context.candidates):
            base = deployment(view.name)
            if view.name == BASE_DEPLOYMENT:
                files[f"{base}/application_dag.yaml"] = context.dag_text
            else:
                files[f"{base}/application_dag.yaml"] = dump_yaml({"System": {
                    "name": app.name,
                    "components": [u.name for u in view.units],
                    "dependencies": [[a, b, p] for a, b, p in view.dependencies]}})
            if view.name in WITH_PRODUCTION:
                files[f"{base}/{PRODUCTION}"] = dump_yaml(production_document(
                    production_rows(view.units),
                    candidate_resources=dict(context.candidate_resources),
                    replicas=replicas_of(view.units), feasible=context.feasible,
                    deployment_name=view.name))
        return files

    def check(self, tree: CompiledTree) -> tuple[Diagnostic, ...]:
        return tuple(problem for path, data in sorted(tree.files.items())
                     if path.rsplit("/", 1)[-1] in SCHEMAS
                     for problem in schema_problems(path, data, SCHEMAS[path.rsplit("/", 1)[-1]]))


EMITTER = DeploymentFoldersEmitter()
