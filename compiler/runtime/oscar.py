"""Apply an emitted OSCAR FDL to its clusters, idempotently, through ``oscar-python``.

    result = apply_fdl(Path("aisprint/deployments/current_deployment/oscar/fdl.yaml"),
                       {"mask-detection-layer3": "https://mask-detection-layer3.example.org"},
                       owner="mask_detection")
    print(result.summary())        # "1 created, 0 updated, 0 deleted, 2 unchanged"

For every cluster the FDL names (and every cluster given an endpoint), the services the cluster
lists (``GET /system/services``) are compared with the desired ones and only what differs is
called: ``create_service`` (new), ``update_service`` (changed in the repository, or drifted on
the cluster), ``remove_service`` (ours, no longer in the FDL). Creates and updates run before
deletes, so a service moving between clusters is never absent.

What "ours" and "changed" mean: every service applied gets the labels
``aisprint.io/managed-by: aisprint``, ``aisprint.io/application: <owner>`` (when an owner is
given) and ``aisprint.io/spec``: a digest of its definition *as committed* (``${VAR}``
references unresolved, script content included). A service of the same name that another tool
made (IM's OSCAR connector deploys the TOSCA's functions) is adopted with one update; services
that are not ours are never deleted. A service is changed when that digest differs
or when a non-secret field the FDL sets (image, cpu, memory, script, environment variables,
inputs, outputs …) differs from what the cluster reports; storage credentials and
``environment.secrets`` are never compared (clusters may hide them), so rotating a secret needs
``force=True``.

Secrets never come from the repository: ``${VAR}`` references in the FDL are filled from the
environment, and each cluster's credentials are ``OSCAR_USER_<CLUSTER>`` (default ``oscar``) with
``OSCAR_PASSWORD_<CLUSTER>`` (the names IM's TOSCA inputs use), or ``OSCAR_TOKEN_<CLUSTER>``
(OIDC); ``<CLUSTER>`` is the cluster id upper-cased with ``_`` for other characters. Endpoints
are given (from IM's outputs) or read from ``OSCAR_ENDPOINT_<CLUSTER>``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from compiler.diagnostics import Location, diagnostic
from compiler.errors import InvalidInput
from compiler.secrets import scrub

MANAGED_BY = "aisprint.io/managed-by"
APPLICATION = "aisprint.io/application"
SPEC = "aisprint.io/spec"
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# never compared with what a cluster lists: credentials it may hide, and our own labels
# (compared through the digest)
_NOT_COMPARED = ("storage_providers", "labels", "clusters")


class OscarError(InvalidInput):
    """An FDL cannot be applied, or an OSCAR cluster refused or could not be reached."""


def _fail(code: str, message: str, hint: str = "", file: str = "") -> OscarError:
    return OscarError([diagnostic(code, message, hint, Location(file) if file else None)])


def env_name(prefix: str, cluster: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Z0-9]+', '_', cluster.upper()).strip('_')}"


@dataclass(frozen=True)
class OscarCredentials:
    """Basic auth (user, password) or an OIDC bearer token for one cluster."""

    user: str = "oscar"
    password: str = ""
    token: str = ""
    verify_ssl: bool = True

    def __repr__(self) -> str:  # never print a secret
        return f"OscarCredentials(user={self.user!r}, verify_ssl={self.verify_ssl})"

    def client_options(self, cluster: str, endpoint: str) -> dict[str, Any]:
        options: dict[str, Any] = {"cluster_id": cluster, "endpoint": endpoint.rstrip("/"),
                                   "ssl": self.verify_ssl}
        if self.token:
            options["oidc_token"] = self.token
        else:
            options.update(user=self.user, password=self.password)
        return options


def credentials_from_env(cluster: str, environ: Mapping[str, str] | None = None
                         ) -> OscarCredentials:
    env = os.environ if environ is None else environ
    verify = env.get(env_name("OSCAR_SSL_VERIFY", cluster), "true").lower() not in (
        "0", "false", "no")
    token = env.get(env_name("OSCAR_TOKEN", cluster), "")
    password = env.get(env_name("OSCAR_PASSWORD", cluster), "")
    if not token and not password:
        raise _fail("AIS994", f"no credentials for OSCAR cluster {cluster!r}",
                    f"set {env_name('OSCAR_PASSWORD', cluster)} (and "
                    f"{env_name('OSCAR_USER', cluster)} when the user is not 'oscar') or "
                    f"{env_name('OSCAR_TOKEN', cluster)}")
    return OscarCredentials(env.get(env_name("OSCAR_USER", cluster), "oscar"), password, token,
                            verify)


# --------------------------------------------------------------------------- desired state

@dataclass(frozen=True)
class DesiredService:
    cluster: str
    name: str
    definition: str  # JSON (sorted keys) of the service as committed, script content inlined
    digest: str

    def resolved(self, environ: Mapping[str, str], owner: str) -> dict[str, Any]:
        """The definition to send: references filled in, our labels added."""
        service = _fill(json.loads(self.definition), environ)
        labels = dict(service.get("labels") or {})
        labels.update({MANAGED_BY: "aisprint", SPEC: self.digest})
        if owner:
            labels[APPLICATION] = _label_value(owner)
        service["labels"] = labels
        return service


def _label_value(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-_.")[:63]


def _fill(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return REFERENCE.sub(lambda m: environ[m.group(1)], value)
    if isinstance(value, list):
        return [_fill(v, environ) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, environ) for k, v in value.items()}
    return value


def _references(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(REFERENCE.findall(value))
    if isinstance(value, list):
        return set().union(*map(_references, value)) if value else set()
    if isinstance(value, dict):
        return set().union(*map(_references, value.values())) if value else set()
    return set()


def desired_services(fdl: Mapping[str, Any], base_dir: Path, *, file: str = "",
                     read_script: Callable[[str], str] | None = None
                     ) -> tuple[DesiredService, ...]:
    """The services an FDL asks for, in its order; scripts are read relative to ``base_dir``
    (the FDL's folder), as oscar-python and oscar-cli do, or by ``read_script`` (given the
    script path as written; it raises OSError when there is none) when the FDL is not a file,
    e.g. a commit of the deployment repository."""
    try:
        entries = fdl["functions"]["oscar"]
        if not isinstance(entries, list):
            raise TypeError("functions.oscar is not a list")
    except (KeyError, TypeError) as exc:
        raise _fail("AIS992", f"not an OSCAR FDL ({exc})",
                    "an FDL is `functions: {oscar: [{<cluster>: {name, image, script, …}}]}`",
                    file) from None
    shared_providers = fdl.get("storage_providers") or {}
    services: list[DesiredService] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise _fail("AIS992", f"functions.oscar[{index}] is not a {{cluster: service}} "
                        "mapping with one key", "", file)
        ((cluster, service),) = entry.items()
        if not isinstance(service, Mapping) or not service.get("name") or \
                not service.get("image"):
            raise _fail("AIS992", f"functions.oscar[{index}] ({cluster}) has no name or image",
                        "every service needs name, image and script", file)
        service = copy.deepcopy(dict(service))
        name = str(service["name"])
        if (cluster, name) in seen:
            raise _fail("AIS992", f"service {name!r} is defined twice on cluster {cluster!r}",
                        "rename one of them", file)
        seen.add((cluster, name))
        script = service.get("script")
        if not script:
            raise _fail("AIS992", f"service {name!r} has no script", "", file)
        path = Path(script) if Path(script).is_absolute() else base_dir / script
        try:
            service["script"] = read_script(str(script)) if read_script else \
                path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail("AIS992", f"the script of service {name!r} cannot be read: {exc}",
                        "scripts are paths relative to the FDL file", file) from None
        if "cpu" in service:
            service["cpu"] = f"{service['cpu']:g}" if isinstance(service["cpu"], int | float) \
                else str(service["cpu"])
        if shared_providers:
            merged = copy.deepcopy(dict(shared_providers))
            for kind, providers in (service.get("storage_providers") or {}).items():
                merged.setdefault(kind, {}).update(providers)
            service["storage_providers"] = merged
        definition = json.dumps(service, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(definition.encode()).hexdigest()[:32]
        services.append(DesiredService(str(cluster), name, definition, digest))
    return tuple(services)


def load_fdl(path: Path) -> tuple[DesiredService, ...]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise _fail("AIS992", f"cannot read the FDL: {exc}", "", str(path)) from None
    return desired_services(data or {}, Path(path).parent, file=str(path))


# --------------------------------------------------------------------------- the diff

@dataclass(frozen=True)
class ServiceAction:
    cluster: str
    service: str
    action: str  # "create" | "update" | "delete" | "unchanged"
    reason: str

    @property
    def mutating(self) -> bool:
        return self.action != "unchanged"


@dataclass(frozen=True)
class OscarApplyResult:
    actions: tuple[ServiceAction, ...]
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return any(a.mutating for a in self.actions)

    def count(self, action: str) -> int:
        return sum(a.action == action for a in self.actions)

    def summary(self) -> str:
        verb = "would be " if self.dry_run else ""
        return (f"{self.count('create')} {verb}created, {self.count('update')} {verb}updated, "
                f"{self.count('delete')} {verb}deleted, {self.count('unchanged')} unchanged")

    def to_json(self) -> dict:
        return {"dry_run": self.dry_run, "changed": self.changed,
                "actions": [{"cluster": a.cluster, "service": a.service, "action": a.action,
                             "reason": a.reason} for a in self.actions]}


def _covers(want: Any, have: Any) -> bool:
    """``have`` holds everything ``want`` says (a cluster may add defaults of its own)."""
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(_covers(v, have.get(k))
                                                 for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(
            _covers(w, h) for w, h in zip(want, have, strict=True))
    return want == have


def _drift(desired: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Non-secret fields the FDL sets whose value on the cluster differs."""
    fields = []
    for key, want in sorted(desired.items()):
        if key in _NOT_COMPARED:
            continue
        have = actual.get(key)
        if key == "environment" and isinstance(want, Mapping):
            want = {k: v for k, v in want.items() if k != "secrets"}
        if key == "cpu" and have is not None:
            try:
                if float(have) == float(want):
                    continue
            except (TypeError, ValueError):
                pass
        if not _covers(want, have):
            fields.append(key)
    return fields


def plan_cluster(cluster: str, desired: list[DesiredService], listed: list[Mapping[str, Any]],
                 owner: str, environ: Mapping[str, str], force: bool = False
                 ) -> list[tuple[ServiceAction, dict[str, Any] | None]]:
    """Pure: what to do on one cluster, given what it lists."""
    actual = {str(s.get("name")): s for s in listed if isinstance(s, Mapping)}
    steps: list[tuple[ServiceAction, dict[str, Any] | None]] = []
    wanted = set()
    for d in desired:
        wanted.add(d.name)
        body = d.resolved(environ, owner)
        have = actual.get(d.name)
        if have is None:
            steps.append((ServiceAction(cluster, d.name, "create", "new service"), body))
            continue
        labels = have.get("labels") or {}
        drift = _drift(body, have)
        if force:
            reason = "forced"
        elif labels.get(MANAGED_BY) != "aisprint":
            # e.g. deployed by IM's OSCAR connector from the TOSCA: from now on it is ours
            reason = "adopted: it was created by another tool"
        elif labels.get(SPEC) != d.digest:
            reason = "definition changed"
        elif drift:
            reason = "drift on the cluster: " + ", ".join(drift)
        else:
            steps.append((ServiceAction(cluster, d.name, "unchanged", "up to date"), None))
            continue
        steps.append((ServiceAction(cluster, d.name, "update", reason), body))
    for name, have in sorted(actual.items()):
        labels = have.get("labels") or {}
        ours = labels.get(MANAGED_BY) == "aisprint" and (
            not owner or labels.get(APPLICATION) == _label_value(owner))
        if name not in wanted and ours:
            steps.append((ServiceAction(cluster, name, "delete", "not in the FDL"), None))
    return steps


# --------------------------------------------------------------------------- the edge

def _client(options: Mapping[str, Any]) -> Any:
    from oscar_python.client import Client

    return Client(dict(options))


def _call(cluster: str, what: str, fn: Callable[[], Any], sent: frozenset[str] = frozenset()
          ) -> Any:
    """``fn()``, its failures as diagnostics; what the cluster says is scrubbed of the
    credentials ``sent`` (and of anything shaped like one) before it is shown."""
    try:
        return fn()
    except requests.HTTPError as exc:
        reply = exc.response
        text = scrub((reply.text or "").strip(), sent)[:300] if reply is not None else ""
        status = reply.status_code if reply is not None else "?"
        hint = ("check OSCAR_USER_/OSCAR_PASSWORD_/OSCAR_TOKEN_ for this cluster"
                if status in (401, 403) else "")
        raise _fail("AIS996", f"OSCAR cluster {cluster!r} refused {what}: HTTP {status} {text}",
                    hint) from None
    except requests.RequestException as exc:
        raise _fail("AIS995", f"OSCAR cluster {cluster!r} cannot be reached ({what}): "
                    f"{scrub(str(exc), sent)}",
                    f"check its endpoint ({env_name('OSCAR_ENDPOINT', cluster)} or IM's "
                    "outputs) and that the cluster is up") from None
    except ValueError as exc:  # oscar-python's own checks (exists / does not exist)
        raise _fail("AIS996", f"OSCAR cluster {cluster!r}: {what}: {scrub(str(exc), sent)}",
                    "the cluster changed while applying; run again") from None


def apply_fdl(fdl: Path | Mapping[str, Any],
              cluster_endpoints: Mapping[str, str] | None = None,
              credentials: Mapping[str, OscarCredentials] | None = None, *,
              base_dir: Path | None = None, owner: str = "",
              environ: Mapping[str, str] | None = None, dry_run: bool = False,
              force: bool = False,
              client_factory: Callable[[Mapping[str, Any]], Any] = _client) -> OscarApplyResult:
    """Make the clusters run what the FDL says; call only what is needed.

    ``fdl`` is the path of an emitted ``oscar/fdl.yaml`` (or its loaded content with
    ``base_dir``, the folder its script paths are relative to). Clusters given in
    ``cluster_endpoints`` but absent from the FDL are cleaned of our services."""
    if isinstance(fdl, Mapping):
        desired = desired_services(fdl, Path(base_dir or "."))
    else:
        desired = load_fdl(Path(fdl))
    return apply_services(desired, cluster_endpoints, credentials, owner=owner,
                          environ=environ, dry_run=dry_run, force=force,
                          client_factory=client_factory)


def apply_services(desired: tuple[DesiredService, ...],
                   cluster_endpoints: Mapping[str, str] | None = None,
                   credentials: Mapping[str, OscarCredentials] | None = None, *,
                   owner: str = "", environ: Mapping[str, str] | None = None,
                   dry_run: bool = False, force: bool = False,
                   client_factory: Callable[[Mapping[str, Any]], Any] = _client
                   ) -> OscarApplyResult:
    """``apply_fdl`` for services already read (``desired_services``)."""
    env = os.environ if environ is None else environ
    endpoints = dict(cluster_endpoints or {})
    clusters = sorted({d.cluster for d in desired} | set(endpoints))
    for cluster in clusters:
        if cluster not in endpoints:
            from_env = env.get(env_name("OSCAR_ENDPOINT", cluster))
            if not from_env:
                raise _fail("AIS993", f"no endpoint for OSCAR cluster {cluster!r}",
                            f"pass it from IM's outputs or set "
                            f"{env_name('OSCAR_ENDPOINT', cluster)}")
            endpoints[cluster] = from_env
    if not dry_run:
        missing = sorted(set().union(*(_references(json.loads(d.definition))
                                       for d in desired)) - set(env)) if desired else []
        if missing:
            raise _fail("AIS994", f"the FDL refers to variables that are not set: "
                        f"{', '.join(missing)}", "export them before applying (secrets are "
                        "never written in the repository)")
    fill_env = env if not dry_run else _Placeholders(env)
    creds = {c: (credentials or {}).get(c) or credentials_from_env(c, env) for c in clusters}
    clients = {c: client_factory(creds[c].client_options(c, endpoints[c])) for c in clusters}
    # what we send (passwords, tokens, filled-in variables) never comes back in a message
    sent = frozenset({s for c in clusters for s in (creds[c].password, creds[c].token) if s}
                     | {env[n] for d in desired for n in _references(json.loads(d.definition))
                        if n in env})

    plans: list[tuple[ServiceAction, dict[str, Any] | None]] = []
    for cluster in clusters:
        reply = _call(cluster, "listing services", clients[cluster].list_services, sent)
        try:
            listed = reply.json() or []
        except ValueError:
            raise _fail("AIS996", f"OSCAR cluster {cluster!r} listed services as something "
                        f"not JSON: {scrub(reply.text, sent)[:200]!r}") from None
        plans += plan_cluster(cluster, [d for d in desired if d.cluster == cluster], listed,
                              owner, fill_env, force)
    if not dry_run:
        # make before break: creates and updates on every cluster first, then deletes
        for action, body in plans:
            client = clients[action.cluster]
            if action.action == "create":
                _call(action.cluster, f"creating {action.service}",
                      lambda c=client, b=body: c.create_service(b), sent)
            elif action.action == "update":
                _call(action.cluster, f"updating {action.service}",
                      lambda c=client, a=action, b=body: c.update_service(a.service, b), sent)
        for action, _ in plans:
            if action.action == "delete":
                _call(action.cluster, f"deleting {action.service}",
                      lambda c=clients[action.cluster], a=action: c.remove_service(a.service),
                      sent)
    return OscarApplyResult(tuple(a for a, _ in plans), dry_run)


class _Placeholders(dict):
    """For a dry run: unset references stay as they are written."""

    def __init__(self, environ: Mapping[str, str]):
        super().__init__(environ)

    def __missing__(self, key: str) -> str:
        return "${" + key + "}"


__all__ = ["DesiredService", "OscarApplyResult", "OscarCredentials", "OscarError",
           "ServiceAction", "apply_fdl", "apply_services", "credentials_from_env",
           "desired_services", "env_name", "load_fdl", "plan_cluster"]
