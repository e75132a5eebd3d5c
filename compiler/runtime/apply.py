"""Make the infrastructure hold one commit of the deployment repository: the IM templates
(``im/*.yaml``) through the Infrastructure Manager, then the OSCAR services (``oscar/fdl.yaml``)
on their clusters.

Both steps compare the commit with what IM and the clusters report, not only with what was
recorded, so drift (an infrastructure IM lost or failed, a service deleted or edited on its
cluster) is repaired, and they call only what differs. What was applied is recorded in the
reconciler's ``state`` mapping, saved (``save()``) after every call that changes something:

* ``state["infrastructures"]``: ``{template: {url, sha256[, oscar_endpoint]}}``;
* ``state["pending"]``: a create posted but not yet recorded (a process killed in between
  adopts the new infrastructure at the next cycle instead of posting it again);
* ``state["oscar"]``: ``{cluster: {endpoint, services: {name: spec digest}}}`` of the clusters
  holding our services, the endpoint recorded before they are touched (so a cluster that
  leaves the FDL is still cleaned), the services once the cluster holds them.

Each step appends what it did to ``actions`` as it goes, so a failure still reports the steps
done before it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import posixpath
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path

import yaml

from compiler.layout import APPLIED_DEPLOYMENT
from compiler.runtime.im import IMError
from compiler.runtime.oscar import apply_services, desired_services, env_name

CURRENT = APPLIED_DEPLOYMENT
Save = Callable[[], None]


def matches(name: str, patterns: tuple[str, ...]) -> bool:
    return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)


# ------------------------------------------------------------------------------ IM


def templates_of(tree: Mapping[str, bytes], patterns: tuple[str, ...] = (),
                 deployment: str = CURRENT) -> dict[str, bytes]:
    """The IM templates of a deployment by name (file stem), those matching ``patterns``."""
    folder = f"{deployment}/im/"
    found = {p[len(folder):-5]: data for p, data in sorted(tree.items())
             if p.startswith(folder) and p.endswith(".yaml") and "/" not in p[len(folder):]
             and not p.endswith("/infras.yaml")}
    return {name: data for name, data in found.items() if matches(name, patterns)}


def apply_templates(im, templates: Mapping[str, bytes], state: MutableMapping, save: Save,
                    actions: list[str], *, timeout: float, interval: float) -> None:
    """Make IM hold exactly ``templates``."""
    infras: dict = state.setdefault("infrastructures", {})
    pending = state.get("pending")
    if pending:  # a create was posted by a cycle that died before recording its answer
        known = set(pending.get("known", ()))
        recorded = {i["url"] for i in infras.values()}
        new = [u for u in im.list() if u not in known and u not in recorded]
        if len(new) == 1:
            infras[pending["template"]] = {"url": new[0], "sha256": pending["sha256"]}
            actions.append(f"adopted {pending['template']} ({new[0].rsplit('/', 1)[-1]})")
        state.pop("pending")
        save()

    def create(name: str, text: str, digest: str) -> None:
        state["pending"] = {"template": name, "sha256": digest, "known": sorted(im.list())}
        save()
        infras[name] = {"url": im.create(text, source=name), "sha256": digest}
        state.pop("pending")
        save()
        im.wait(infras[name]["url"], timeout=timeout, interval=interval)

    for name in sorted(set(infras) - set(templates)):
        try:
            im.destroy(infras[name]["url"])
        except IMError as error:
            if error.status != 404:
                raise
        del infras[name]
        save()
        actions.append(f"destroyed {name}")
    for name, data in templates.items():
        text, digest = data.decode(), hashlib.sha256(data).hexdigest()
        record = infras.get(name)
        if record is not None:
            try:
                current = im.state(record["url"])
            except IMError as error:
                if error.status != 404:
                    raise
                current = None
            if current is None or current.failed:
                del infras[name]  # drift: IM lost it, or it failed; make it again
                save()
                actions.append(f"drift: {name} was {'gone' if current is None else current.state}")
                record = None
        if record is None:
            create(name, text, digest)
            actions.append(f"created {name}")
        elif record["sha256"] != digest:
            try:
                im.update(record["url"], text, source=name)
            except IMError as error:
                # IM 2.0 refuses some updates of services-only infrastructures (it re-creates
                # the services it already has); replacing the infrastructure converges
                if error.status != 400:
                    raise
                im.destroy(record["url"])
                del infras[name]
                save()
                create(name, text, digest)
                actions.append(f"replaced {name}")
                continue
            record["sha256"] = digest
            record.pop("oscar_endpoint", None)
            save()
            im.wait(record["url"], timeout=timeout, interval=interval)
            actions.append(f"updated {name}")


# ------------------------------------------------------------------------------ OSCAR


def services_of(tree: Mapping[str, bytes], patterns: tuple[str, ...] = (),
                deployment: str = CURRENT) -> tuple:
    """The OSCAR services the deployment's FDL asks for, on the clusters matching
    ``patterns``; scripts are read from the same commit."""
    path = f"{deployment}/oscar/fdl.yaml"
    if path not in tree:
        return ()
    folder = posixpath.dirname(path)

    def read(script: str) -> str:
        key = posixpath.normpath(posixpath.join(folder, script))
        if key not in tree:
            raise OSError(f"{key} is not in the commit")
        return tree[key].decode("utf-8")

    fdl = yaml.safe_load(tree[path]) or {}
    if not (fdl.get("functions") or {}).get("oscar"):
        return ()  # every component of this deployment runs elsewhere (e.g. Lambda)
    return tuple(s for s in desired_services(fdl, Path(folder), file=path, read_script=read)
                 if matches(s.cluster, patterns))


def owner_of(tree: Mapping[str, bytes], deployment: str = CURRENT) -> str:
    """The application's name: the services labelled with it are ours to delete."""
    dag = yaml.safe_load(tree.get(f"{deployment}/application_dag.yaml", b"")) or {}
    return str((dag.get("System") or {}).get("name") or "")


def _endpoint_from_im(im, state: MutableMapping, cluster: str, save: Save) -> str | None:
    """The ``oscar_endpoint`` output of the infrastructure that made ``cluster`` (cached)."""
    record = (state.get("infrastructures") or {}).get(cluster)
    if im is None or record is None:
        return None
    if "oscar_endpoint" not in record:
        record["oscar_endpoint"] = str(im.outputs(record["url"]).get("oscar_endpoint") or "")
        save()
    return record["oscar_endpoint"] or None


def apply_oscar(tree: Mapping[str, bytes], state: MutableMapping, save: Save,
                actions: list[str], *, patterns: tuple[str, ...] = (),
                environ: Mapping[str, str], im=None) -> None:
    """Make the OSCAR clusters run the commit's FDL. Endpoints: ``$OSCAR_ENDPOINT_<CLUSTER>``,
    else the ``oscar_endpoint`` output of the IM infrastructure of the same name; credentials
    from the environment (``oscar.credentials_from_env``)."""
    desired = services_of(tree, patterns)
    clusters: dict = state.setdefault("oscar", {})
    for cluster in sorted({s.cluster for s in desired}):
        endpoint = environ.get(env_name("OSCAR_ENDPOINT", cluster)) or \
            _endpoint_from_im(im, state, cluster, save)
        if endpoint and clusters.get(cluster, {}).get("endpoint") != endpoint:
            clusters[cluster] = {"endpoint": endpoint, "services": {}}
            save()
    if not desired and not clusters:
        return
    result = apply_services(desired, {c: r["endpoint"] for c, r in clusters.items()},
                            owner=owner_of(tree), environ=environ)
    for action in result.actions:
        if action.mutating:
            reason = f" ({action.reason})" if action.action == "update" else ""
            actions.append(f"oscar: {action.action}d {action.service} on {action.cluster}"
                           f"{reason}")
    applied = {cluster: {"endpoint": record["endpoint"],
                         "services": {s.name: s.digest for s in desired if s.cluster == cluster}}
               for cluster, record in clusters.items()
               if any(s.cluster == cluster for s in desired)}
    if applied != clusters:  # clusters that left the FDL are cleaned: no longer ours to watch
        state["oscar"] = applied
        save()
