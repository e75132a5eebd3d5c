"""Deploy a deployment's TOSCA templates through IM, in dependency order, and keep the list of
infrastructures in ``infras.yaml`` next to them (TOSCARIZER's file and format:
``{<template>: [<infrastructure URL>, <state>, <contmsg or ''>]}``, keys sorted).

Order: a template whose services write into another template's cluster (a ``minio.<cluster>``
or ``s3.<cluster>`` storage provider) is deployed after that cluster is configured — sinks
first, as TOSCARIZER does — and is not deployed at all when that cluster failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from compiler.runtime.im.client import IMClient, IMError
from compiler.write import write_atomically

INFRAS_FILE = "infras.yaml"


@dataclass(frozen=True)
class Deployed:
    """One template's infrastructure as recorded in infras.yaml."""

    name: str
    url: str
    state: str
    message: str = ""


def template_files(folder: Path) -> dict[str, Path]:
    """The TOSCA templates of an ``im/`` folder by name (file stem), infras.yaml excluded."""
    return {p.stem: p for p in sorted(folder.glob("*.yaml")) if p.name != INFRAS_FILE}


def dependencies(templates: dict[str, str]) -> dict[str, set[str]]:
    """For each template, the other templates whose clusters its services write into."""
    deps: dict[str, set[str]] = {}
    for name, text in templates.items():
        data = yaml.safe_load(text) or {}
        nodes = (data.get("topology_template") or {}).get("node_templates") or {}
        targets: set[str] = set()
        for node in nodes.values():
            providers = (node.get("properties") or {}).get("storage_providers") or {}
            for kind in ("minio", "s3"):
                targets |= set(providers.get(kind) or {})
        deps[name] = {t for t in targets if t in templates and t != name}
    return deps


def deploy_order(templates: dict[str, str]) -> list[str]:
    """Templates ordered so that every template comes after those it writes into."""
    deps = dependencies(templates)
    order: list[str] = []
    while len(order) < len(deps):
        ready = sorted(n for n, d in deps.items() if n not in order and d <= set(order))
        if not ready:  # a cycle between layers: no order satisfies it, keep the names' order
            ready = sorted(n for n in deps if n not in order)
        order.append(ready[0])
    return order


def read_infras(path: Path) -> dict[str, Deployed]:
    if not path.is_file():
        raise IMError("AIS981", f"no infrastructure list at {path}",
                      "deploy first (`toscarizer deploy`), or give the folder it was written to")
    data = yaml.safe_load(path.read_text()) or {}
    return {name: Deployed(name, *(list(entry) + ["", "", ""])[:3])
            for name, entry in sorted(data.items())}


def write_infras(path: Path, deployed: dict[str, Deployed]) -> None:
    data = {d.name: [d.url, d.state, d.message] for d in deployed.values()}
    write_atomically(path, yaml.safe_dump(data, sort_keys=True, allow_unicode=True))


def deploy(client: IMClient, files: dict[str, Path], infras: Path, *, timeout: float = 900.0,
           interval: float = 10.0, progress: Callable[[str], None] = lambda _: None,
           ) -> dict[str, Deployed]:
    """Create one infrastructure per template, in dependency order, waiting for each to be
    configured; infras.yaml is rewritten after every step (nothing is lost if interrupted)."""
    texts = {name: path.read_text() for name, path in files.items()}
    deps = dependencies(texts)
    done: dict[str, Deployed] = read_infras(infras) if infras.is_file() else {}
    for name in deploy_order(texts):
        previous = done.get(name)
        if previous and previous.url.startswith("http") and previous.state == "configured":
            progress(f"{name}: already deployed ({previous.url})")
            continue
        failed = sorted(d for d in deps[name] if done.get(d) and done[d].state != "configured")
        if failed:
            done[name] = Deployed(name, "", "failed", f"not deployed: {', '.join(failed)} failed")
            write_infras(infras, done)
            continue
        progress(f"{name}: creating")
        url = client.create(texts[name], source=str(files[name]))
        done[name] = Deployed(name, url, "pending")
        write_infras(infras, done)
        try:
            state = client.wait(url, timeout=timeout, interval=interval)
        except IMError as exc:
            done[name] = Deployed(name, url, "timeout", exc.diagnostic.message)
        else:
            message = client.contmsg(url)[-2000:] if state.failed else ""
            done[name] = Deployed(name, url, state.state, message)
        progress(f"{name}: {done[name].state} ({url})")
        write_infras(infras, done)
    return done


def destroy(client_for: Callable[[str], IMClient], infras: Path,
            progress: Callable[[str], None] = lambda _: None) -> dict[str, str]:
    """Destroy every listed infrastructure; infras.yaml keeps only those that could not be
    destroyed, and is removed when none is left. Returns name → error for the failures."""
    entries = read_infras(infras)
    errors: dict[str, str] = {}
    for name, entry in entries.items():
        if not entry.url.startswith("http"):
            continue
        try:
            client_for(entry.url).destroy(entry.url)
            progress(f"{name}: destroyed ({entry.url})")
        except IMError as exc:
            if exc.status == 404:
                progress(f"{name}: already gone ({entry.url})")
                continue
            errors[name] = exc.diagnostic.message
    remaining = {n: e for n, e in entries.items() if n in errors}
    if remaining:
        write_infras(infras, remaining)
    else:
        infras.unlink()
    return errors
