"""Generate a large, valid AI-SPRINT application for benchmarks.

    python benchmarks/generate_app.py OUT_DIR [--components 50] [--seed 1]

The resources are those of examples/smart_city (five layers in five network domains); the DAG
is random but has one source, branches and joins; every component gets annotated sources,
candidate deployments on two or three layers, loose local limits and a few global paths, and
performance models. The result validates, places and compiles.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RESOURCES = REPO / "examples" / "smart_city" / "common_config" / "candidate_resources.yaml"
LAYERS = {1: ["JetsonNano"], 2: ["EdgeXeon"], 3: ["VM-m5large", "VM-c5xlarge"],
          4: ["VM-g4dn"], 5: ["Lambda-512MB", "Lambda-1GB", "Lambda-3GB"]}
SPEED = {"JetsonNano": 4.0, "EdgeXeon": 1.0, "VM-m5large": 1.3, "VM-c5xlarge": 0.8,
         "VM-g4dn": 0.4}


def generate(out: Path, components: int, seed: int) -> Path:
    rng = random.Random(seed)
    names = [f"c{i:02d}" for i in range(1, components + 1)]
    edges: dict[tuple[str, str], float] = {}
    for i in range(1, components):
        for parent in rng.sample(names[:i], k=min(i, rng.choice([1, 1, 2]))):
            edges[(parent, names[i])] = 1.0
    outgoing: dict[str, list] = {}
    for (a, b) in edges:
        outgoing.setdefault(a, []).append(b)
    for a, targets in outgoing.items():
        weights = [rng.uniform(0.3, 1) for _ in targets]
        total = sum(weights)
        for b, w in zip(targets, weights, strict=True):
            # floored, so that the rounded shares never add up to more than 1
            edges[(a, b)] = math.floor(w / total * 1000) / 1000 if len(targets) > 1 else 1.0
    if out.exists():
        shutil.rmtree(out)
    (out / "common_config").mkdir(parents=True)
    (out / "oscarp").mkdir()
    shutil.copy(RESOURCES, out / "common_config" / "candidate_resources.yaml")
    dag = {"System": {"name": f"generated_{components}", "components": names,
                      "dependencies": [[a, b, p] for (a, b), p in edges.items()]}}
    (out / "common_config" / "application_dag.yaml").write_text(yaml.safe_dump(dag))
    deployments, performance, sizes = {}, {}, {}
    for i, name in enumerate(names, 1):
        first = min(5, 1 + (i * 4) // components)  # early components near the edge
        layers = sorted({first, min(5, first + 1), rng.choice([3, 5])})
        resources = [r for layer in layers for r in LAYERS[layer]]
        demand = rng.uniform(0.005, 0.06)
        deployments[f"component{i}"] = {
            "name": name, "candidateExecutionLayers": layers,
            "Containers": {"container1": {
                "image": "", "memorySize": 512, "computingUnits": 0.5,
                "trustedExecution": False, "networkProtection": False,
                "fileSystemProtection": False, "GPURequirement": False,
                "candidateExecutionResources": resources}}}
        performance[name] = {name: {
            r: ({"model": "PACSLTK", "demandWarm": round(demand * 1.2, 4),
                 "demandCold": round(demand * 1.2 + 1.5, 4)} if r.startswith("Lambda")
                else {"model": "QTedge" if r in ("JetsonNano", "EdgeXeon") else "QTcloud",
                      "demand": round(demand * SPEED[r], 4)})
            for r in resources}}
        sizes[name] = round(rng.uniform(0.001, 0.3), 3)
        parents = [a for (a, b) in edges if b == name]
        decorators = [f'@component_name(name="{name}")']
        if i % 7 == 0 and parents:
            decorators.append(f'@exec_time(local_time_thr=5, global_time_thr=12, '
                              f'prev_components=["{parents[0]}"])')
        else:
            decorators.append("@exec_time(local_time_thr=5)")
        if i == 1:
            decorators.append("@expected_throughput(rate=1)")
        source = out / "src" / name
        source.mkdir(parents=True)
        (source / "main.py").write_text(
            "from aisprint.annotations import component_name, exec_time, "
            "expected_throughput\n\n\n" + "\n".join(decorators)
            + "\ndef main(args):\n    return args\n")
    (out / "common_config" / "candidate_deployments.yaml").write_text(
        yaml.safe_dump({"Components": deployments}, sort_keys=False))
    (out / "oscarp" / "performance_models.json").write_text(json.dumps(performance, indent=1))
    (out / "oscarp" / "components_data_size.yaml").write_text(yaml.safe_dump(sizes))
    physical = REPO / "examples" / "smart_city" / "common_config" / "physical_nodes.yaml"
    shutil.copy(physical, out / "common_config" / "physical_nodes.yaml")
    return out


def benchmark_apps(root: Path, components: int) -> dict[str, Path]:
    """The two applications the compile and plan benchmarks time, written under ``root``: a
    copy of examples/mask_detection with its models prepared from ../shared/models, and a
    generated one of ``components`` components."""
    mask = root / "mask_detection"
    shutil.copytree(REPO / "examples" / "mask_detection", mask,
                    ignore=shutil.ignore_patterns("*.onnx", "aisprint"))
    models = REPO.parent / "shared" / "models"
    subprocess.run([sys.executable, str(mask / "prepare_models.py")], check=True,
                   capture_output=True, env={**os.environ, "AISPRINT_MODELS_DIR": str(models)})
    return {"mask_detection": mask,
            "generated": generate(root / "generated", components, seed=1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(generate(args.out, args.components, args.seed))


if __name__ == "__main__":
    main()
