"""A client for the Infrastructure Manager's REST API (IM 2.x).

    client = IMClient("https://im.egi.eu/im", load_auth("~/.im/auth.dat"))
    url = client.create(Path("aisprint/deployments/base/im/app-layer1.yaml").read_text())
    state = client.wait(url, timeout=900)            # polls GET /infrastructures/<id>/state
    client.outputs(url); client.contmsg(url); client.destroy(url)

* Credentials come from an IM ``auth.dat`` (path given, or ``$IM_AUTH_FILE``) or from
  ``$IM_AUTH`` (the file's content); a file tracked by git is refused, and the header value
  never appears in a message or a log line. IM wants the lines joined by the two characters
  ``\\n`` and one of them to be ``type = InfrastructureManager``.
* Every template is validated with tosca-parser against IM's custom types before it is posted
  (IM 2.0 stops validating once it has loaded a stored infrastructure), then its ``${NAME}``
  references (secrets the emitters never write) are filled from the environment.
* Whatever IM answers (error messages, contextualisation logs) is scrubbed of credentials
  before it is shown or stored: the auth file's secrets, the values filled into templates,
  and anything shaped like a key, token or auth header (``compiler.secrets.scrub``).
* Connection errors and 5xx answers are retried with exponential backoff (``RetryPolicy``);
  4xx answers raise at once with IM's own message. Every failure is an ``IMError`` carrying a
  Diagnostic (codes AIS971–AIS985).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from compiler.diagnostics import Diagnostic, Location, diagnostic
from compiler.errors import InvalidInput
from compiler.secrets import auth_secrets, scrub
from targets.tosca_check import localise_imports, tosca_parser_problems

AUTH_FILE_ENV = "IM_AUTH_FILE"
AUTH_ENV = "IM_AUTH"
STATES = ("pending", "running", "configured", "unconfigured", "stopped", "off", "failed",
          "unknown", "deleting")
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class IMError(InvalidInput):
    """The IM (or what we were about to send it) is wrong; ``status`` is IM's HTTP status."""

    def __init__(self, code: str, message: str, hint: str = "", *, status: int | None = None,
                 location: Location | None = None):
        super().__init__([diagnostic(code, message, hint, location)])
        self.code = code
        self.status = status

    @property
    def diagnostic(self) -> Diagnostic:
        return self.diagnostics[0]

    def __str__(self) -> str:
        return f"{self.code}: {self.diagnostic.message}"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts for one request (1 = no retry) and the waits between them: backoff·2^k s,
    at most ``max_backoff``."""

    attempts: int = 4
    backoff: float = 2.0
    max_backoff: float = 30.0

    def delay(self, retry: int) -> float:
        return min(self.backoff * (2 ** retry), self.max_backoff)


@dataclass(frozen=True)
class InfrastructureState:
    """What ``GET /infrastructures/<id>/state`` says: the overall state and each VM's."""

    url: str
    state: str
    vm_states: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return infrastructure_id(self.url)

    @property
    def configured(self) -> bool:
        return self.state == "configured"

    @property
    def failed(self) -> bool:
        return self.state in ("failed", "unconfigured")


@dataclass(frozen=True)
class Auth:
    """IM credentials. ``header`` is the Authorization value; it is not shown by repr."""

    header: str = field(repr=False)
    source: str = ""

    def cloud_types(self) -> tuple[str, ...]:
        return tuple(sorted({m.group(1) for m in re.finditer(
            r"(?:^|;|\\n)\s*type\s*=\s*([A-Za-z]+)", self.header)}))


def infrastructure_id(url_or_id: str) -> str:
    """The id of an infrastructure, from its URL (as IM returns it) or the id itself."""
    return url_or_id.rstrip("/").rsplit("/", 1)[-1]


def auth_header(text: str) -> str:
    """Auth-file content as IM's header: comment and blank lines dropped, the rest joined
    by the two characters ``\\n``."""
    lines = [line.strip() for line in text.replace("\\n", "\n").splitlines()]
    return "\\n".join(line for line in lines if line and not line.startswith("#"))


def _tracked_by_git(path: Path) -> bool:
    try:
        done = subprocess.run(["git", "-C", str(path.parent), "ls-files", "--error-unmatch",
                               path.name], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def load_auth(path: str | os.PathLike[str] | None = None,
              environ: Mapping[str, str] | None = None) -> Auth:
    """Credentials from ``path``, else ``$IM_AUTH_FILE``, else ``$IM_AUTH`` (the content).

    ``${NAME}`` references inside the file are filled from the environment, so an auth file
    can itself hold no secret."""
    environ = os.environ if environ is None else environ
    source = path or environ.get(AUTH_FILE_ENV)
    if source:
        file = Path(source).expanduser()
        where = Location(str(file))
        try:
            text = file.read_text()
        except OSError as exc:
            raise IMError("AIS971", f"cannot read the IM auth file {file}: {exc.strerror}",
                          f"pass --im_auth PATH or set {AUTH_FILE_ENV}", location=where) from None
        if _tracked_by_git(file):
            raise IMError("AIS973", f"the IM auth file {file} is committed to a git repository",
                          "credentials never belong in a repository: move the file out of it "
                          f"(git rm --cached), or put its content in ${AUTH_ENV}", location=where)
        label = str(file)
    elif environ.get(AUTH_ENV):
        text, where, label = environ[AUTH_ENV], None, f"${AUTH_ENV}"
    else:
        raise IMError("AIS971", "no IM credentials were given",
                      f"pass --im_auth PATH (an IM auth.dat), or set {AUTH_FILE_ENV} to its path "
                      f"or {AUTH_ENV} to its content")
    text = fill_references(text, environ, what=label)
    header = auth_header(text)
    if not any(re.search(r"(?:^|;)\s*type\s*=\s*InfrastructureManager\s*(?:;|$)", line)
               for line in header.split("\\n")):
        raise IMError("AIS972", f"the IM credentials in {label} have no "
                      "`type = InfrastructureManager` line",
                      "add a line `type = InfrastructureManager; username = USER; password = PASS`"
                      " (IM rejects requests without one)", location=where)
    return Auth(header, label)


def fill_references(text: str, environ: Mapping[str, str] | None = None, *,
                    what: str = "the template") -> str:
    """Replace every ``${NAME}`` with the environment's value; all missing names in one error."""
    environ = os.environ if environ is None else environ
    missing = sorted({name for name in REFERENCE.findall(text) if name not in environ})
    if missing:
        raise IMError("AIS975", f"{what} references {len(missing)} variable(s) that are not "
                      f"set: {', '.join(missing)}",
                      "export them where you deploy (they hold secrets and endpoints the "
                      "repository only names)")
    return REFERENCE.sub(lambda m: environ[m.group(1)], text)


def _fill(value, environ: Mapping[str, str]):
    if isinstance(value, str):
        return REFERENCE.sub(lambda m: environ[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, environ) for v in value]
    return value


class IMClient:
    """IM's REST API: create, update, state (and wait), outputs, contmsg, destroy."""

    def __init__(self, url: str, auth: Auth, *, custom_types: Path | None,
                 local_imports: bool = False, retry: RetryPolicy = RetryPolicy(),
                 timeout: float = 60.0, verify_tls: bool = True,
                 environ: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.url = url.rstrip("/")
        self._auth = auth
        self.custom_types = custom_types
        self.local_imports = local_imports
        self.retry = retry
        self.timeout = timeout
        self.verify_tls = verify_tls
        self.environ = os.environ if environ is None else environ
        self._sleep = sleep
        self._session = requests.Session()
        # every credential this client sends: redacted from whatever IM says back
        self._sent: set[str] = set(auth_secrets(auth.header))

    def __repr__(self) -> str:
        return f"IMClient({self.url!r}, auth from {self._auth.source or 'memory'})"

    # -- requests -------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, body: str | None = None,
                 params: dict | None = None) -> requests.Response:
        headers = {"Authorization": self._auth.header, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "text/yaml"
        url = f"{self.url}{path}"
        what = f"{method} {path}"
        for attempt in range(max(1, self.retry.attempts)):
            last = attempt + 1 >= max(1, self.retry.attempts)
            try:
                response = self._session.request(method, url, data=body, params=params,
                                                  headers=headers, timeout=self.timeout,
                                                  verify=self.verify_tls)
            except requests.RequestException as exc:
                if last:
                    raise IMError("AIS976", f"the IM at {self.url} is unreachable ({what}): "
                                  f"{type(exc).__name__} after {attempt + 1} attempt(s)",
                                  "check --im_url and that the IM is running") from None
            else:
                if response.status_code < 400:
                    return response
                message = self._scrub(_im_message(response))
                if response.status_code < 500:
                    raise IMError("AIS977", f"the IM rejected {what} with HTTP "
                                  f"{response.status_code}: {message}", _hint_for(response),
                                  status=response.status_code)
                if last:
                    raise IMError("AIS976", f"the IM failed {what} with HTTP "
                                  f"{response.status_code} after {attempt + 1} attempt(s): "
                                  f"{message}", "the IM reports an internal error: see its log",
                                  status=response.status_code)
            self._sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _scrub(self, text: str) -> str:
        return scrub(text, self._sent)

    def _path(self, infrastructure: str, suffix: str = "") -> str:
        return f"/infrastructures/{infrastructure_id(infrastructure)}{suffix}"

    def _prepare(self, template: str, source: str) -> str:
        where = Location(source) if source else None
        if self.custom_types is None:
            raise IMError("AIS974", f"cannot validate {source or 'the template'}: IM's "
                          "custom_types.yaml was not found",
                          "pass --tosca-types PATH or set AISPRINT_TOSCA_TYPES", location=where)
        problems = tosca_parser_problems(template, self.custom_types)
        if problems:
            raise IMError("AIS974", f"tosca-parser rejects {source or 'the template'}: "
                          + "; ".join(problems[:5]),
                          "fix the template (or recompile it) before deploying", location=where)
        if self.local_imports:  # an IM on this machine reads them from disk: no network
            template = localise_imports(template, self.custom_types)
        # filled in the parsed values, so a secret with YAML syntax in it stays one string
        fill_references(template, self.environ, what=source or "the template")  # all missing
        self._sent.update(self.environ[name] for name in REFERENCE.findall(template))
        return yaml.safe_dump(_fill(yaml.safe_load(template), self.environ), sort_keys=False)

    # -- operations -----------------------------------------------------------------------
    def create(self, template: str, *, asynchronous: bool = True, source: str = "") -> str:
        """Post a TOSCA template; the new infrastructure's URL. ``asynchronous`` returns at
        once (``?async=1``), else when IM has launched every VM."""
        body = self._prepare(template, source)
        response = self._request("POST", "/infrastructures", body=body,
                                 params={"async": 1} if asynchronous else None)
        return self._scrub(_uri(response))

    def update(self, infrastructure: str, template: str, *, source: str = "") -> None:
        """Post a modified template to an infrastructure (adds, resizes, removes nodes)."""
        body = self._prepare(template, source)
        self._request("POST", self._path(infrastructure), body=body)

    def state(self, infrastructure: str) -> InfrastructureState:
        data = self._request("GET", self._path(infrastructure, "/state")).json()["state"]
        vms = tuple(sorted((str(k), str(v)) for k, v in (data.get("vm_states") or {}).items()))
        return InfrastructureState(self._full(infrastructure), str(data["state"]), vms)

    def wait(self, infrastructure: str, *, until: tuple[str, ...] = ("configured",),
             timeout: float = 900.0, interval: float = 10.0) -> InfrastructureState:
        """Poll the state until it is one of ``until``, or failed/unconfigured (returned),
        or ``timeout`` seconds pass (AIS978)."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.state(infrastructure)
            if current.state in until or current.failed:
                return current
            if time.monotonic() + interval > deadline:
                raise IMError("AIS978", f"infrastructure {current.id} is still "
                              f"{current.state} after {timeout:g} s",
                              "wait longer (--timeout) or look at `toscarizer outputs` / the "
                              "IM's contextualisation log")
            self._sleep(interval)

    def outputs(self, infrastructure: str) -> dict:
        return dict(self._request("GET", self._path(infrastructure, "/outputs"))
                    .json().get("outputs") or {})

    def contmsg(self, infrastructure: str) -> str:
        response = self._request("GET", self._path(infrastructure, "/contmsg"))
        try:
            return self._scrub(str(response.json().get("contmsg", "")))
        except ValueError:
            return self._scrub(response.text)

    def destroy(self, infrastructure: str) -> None:
        self._request("DELETE", self._path(infrastructure))

    def list(self) -> tuple[str, ...]:
        data = self._request("GET", "/infrastructures").json()
        return tuple(item["uri"] for item in data.get("uri-list") or ())

    def _full(self, infrastructure: str) -> str:
        return f"{self.url}/infrastructures/{infrastructure_id(infrastructure)}"


def _uri(response: requests.Response) -> str:
    try:
        return str(response.json()["uri"]).strip()
    except (ValueError, KeyError, TypeError):
        return response.text.strip()


def _im_message(response: requests.Response) -> str:
    try:
        data = response.json()
        message = data.get("message") if isinstance(data, dict) else None
    except ValueError:
        message = None
    text = (message or response.text or response.reason or "").strip()
    return text if len(text) <= 2000 else text[:2000] + " …"


def _hint_for(response: requests.Response) -> str:
    if response.status_code == 401:
        return ("check the credentials: the auth file needs a `type = InfrastructureManager` "
                "line and a line for each cloud the template uses")
    if response.status_code == 404:
        return "the infrastructure does not exist (any more) on this IM: check --im_url"
    return "fix what IM's message says, then run the command again"
