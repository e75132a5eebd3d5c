"""Secrets never leave: recognise literal credentials in inputs, name the references that
replace them, and scrub credentials out of any text a server sends back.

Three users:

* the validator (``compiler.validate.credentials``) asks ``credential_field`` / ``credential_shape``
  whether an input value is a credential written in clear, and ``variable_name`` for the
  ``${VAR}`` the fix should write;
* the emitters (``targets/``) call ``reference`` on every input value that may hold a
  credential: a ``${VAR}`` stays, anything else becomes ``${<derived name>}`` — the same name
  the validator's hint gives — so a literal never reaches an artifact, even when the user
  opted in to literals (``AISPRINT_ALLOW_LITERAL_SECRETS=1``) for a local test;
* the runtime edges (IM, OSCAR, InfluxDB, git push) pass every message that came from a
  server through ``scrub`` with the credentials they actually sent, before it becomes a
  diagnostic, a log line or a file.

Pure functions of their arguments (``literals_allowed`` reads the environment it is given).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

ALLOW_ENV = "AISPRINT_ALLOW_LITERAL_SECRETS"
REDACTED = "[REDACTED]"

# Field names whose value is a credential (physical_nodes.yaml's ssh_key, password, token,
# access_key, secret_key; anything similar in a file a future schema adds).
_CREDENTIAL_FIELD = re.compile(
    r"(ssh_key|private_key|secret|password|passwd|passphrase|token|access_key|api_key|apikey|"
    r"credential)", re.IGNORECASE)
_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")

# Credential shapes that mean a secret wherever they appear: (pattern, what it is, literal
# markers one of which it contains — a cheap test first, as sources and models can be large).
_SHAPES: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"), "a private key (PEM)",
     ("PRIVATE KEY",)),
    (re.compile(r"PuTTY-User-Key-File-\d+:"), "a private key (PuTTY)", ("PuTTY-User-Key",)),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
     "an AWS access key id", ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA")),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "a GitHub token",
     ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"), "a GitHub token", ("github_pat_",)),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), "a GitLab token", ("glpat-",)),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), "a Slack token", ("xox",)),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:(?!\$\{)[^/\s@'\"]+@", re.IGNORECASE),
     "a URL with a password in it", ("://",)),
)
_PUBLIC_KEY = re.compile(r"^\s*(ssh-(rsa|ed25519|dss)|ecdsa-sha2-\S+|sk-\S+)\s+AAAA")

# -- what the scrubber redacts ------------------------------------------------------------
_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY"
    r"( BLOCK)?-----|\Z)", re.DOTALL)
# An auth header's whole value: IM's (lines joined by the two characters \n), Basic, Bearer.
_AUTH_HEADER = re.compile(
    r"(?P<key>\b(?:proxy-)?authorization|\bx-auth-token|\bprivate-token|\bx-api-key|"
    r"\bcookie|\bset-cookie)(?P<sep>['\"]?\s*[:=]\s*['\"]?)(?P<value>[^'\"\r\n]+)",
    re.IGNORECASE)
_SCHEMES = re.compile(r"\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=:-]{6,}")
# key = value / key: value / "key": "value" / ?key=value, the value up to a separator
_KEY_VALUE = re.compile(
    r"(?P<key>\b[A-Za-z0-9_.-]*(?:password|passwd|passphrase|token|secret|secret_key|"
    r"access_key|api_key|apikey|private_key|ssh_key|credential|client_secret)"
    r"[A-Za-z0-9_.-]*)(?P<sep>['\"]?\s*[:=]\s*['\"]?)(?P<value>(?!\$\{|\[REDACTED)[^\s'\",;&\\)}\]]+)",
    re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:)(?P<pw>[^/\s@'\"]+)@",
                           re.IGNORECASE)
# the least length of a known secret value that is redacted wherever it appears (shorter
# ones would redact ordinary words; they are still redacted in key = value form)
MIN_KNOWN_LENGTH = 4


def literals_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the user opted in to literal credentials (a local test): ``$ALLOW_ENV`` set to
    1/true/yes. They are then warnings instead of errors; artifacts still carry references."""
    env = os.environ if environ is None else environ
    return env.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


def is_reference(value: object) -> bool:
    """``${VAR}``: a value to be filled from the environment at apply time."""
    return isinstance(value, str) and bool(_REFERENCE.match(value.strip()))


def credential_field(key: object) -> bool:
    """Whether a field of that name holds a credential."""
    return isinstance(key, str) and bool(_CREDENTIAL_FIELD.search(key)) \
        and not key.lower().endswith(("_type", "_user", "_username", "_url", "_file"))


def find_credential(text: str) -> tuple[str, str] | None:
    """The first credential shape in ``text``: (what it is, the matched text), or None."""
    for pattern, what, markers in _SHAPES:
        if any(m in text for m in markers):
            found = pattern.search(text)
            if found:
                return what, found.group(0)
    return None


def credential_shape(text: str) -> str | None:
    """What credential ``text`` contains (``"a private key (PEM)"``, …), or None."""
    found = find_credential(text)
    return found[0] if found else None


def describe_literal(key: str, value: str) -> str:
    """What a literal in a credential field is, without showing any of it."""
    if _PUBLIC_KEY.match(value) and "key" in key.lower():
        return "an SSH public key (where a private key is expected)"
    return credential_shape(value) or "a literal value"


def variable_name(*parts: object) -> str:
    """The environment variable a credential at ``parts`` is read from:
    ``AISPRINT_<PARTS>`` in upper case, list indices counted from 1."""
    words = [str(p + 1) if isinstance(p, int) else str(p) for p in parts]
    name = re.sub(r"[^A-Z0-9]+", "_", "_".join(words).upper()).strip("_")
    return "AISPRINT_" + name


def reference(value: object, *parts: object) -> str:
    """What an emitter writes for an input credential: the user's ``${VAR}`` as written, or
    ``${AISPRINT_<PARTS>}`` for a literal (never the literal itself)."""
    if is_reference(value):
        return str(value).strip()
    return "${" + variable_name(*parts) + "}"


def physical_reference(resource: str, value: object, *field: object) -> str:
    """``reference`` for a credential of physical_nodes.yaml: named after the resource (names
    are unique across candidate_resources.yaml) and the field's path under it."""
    return reference(value, resource, *field)


# -- scrubbing ----------------------------------------------------------------------------

def scrub(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential it may hold redacted: the ``extra_secrets`` (the values
    actually sent: auth-file passwords, tokens, filled-in variables) wherever they appear,
    private keys, auth headers and ``password = …``-like pairs, URL passwords and token shapes.
    For any text that came from a server before it is printed, logged or stored."""
    if not text:
        return text
    for secret in sorted({s for s in extra_secrets if s and len(s) >= MIN_KNOWN_LENGTH},
                         key=len, reverse=True):
        text = text.replace(secret, REDACTED)
        # servers echo JSON and URL-encoded forms too
        for form in (secret.replace("\\", "\\\\").replace('"', '\\"'),
                     secret.replace("\n", "\\n"), _quote(secret), _base64(secret)):
            if form != secret:
                text = text.replace(form, REDACTED)
    text = _PEM_BLOCK.sub("[REDACTED PRIVATE KEY]", text)
    text = _AUTH_HEADER.sub(lambda m: m["key"] + m["sep"] + REDACTED, text)
    text = _SCHEMES.sub(lambda m: m[1] + " " + REDACTED, text)
    text = _KEY_VALUE.sub(lambda m: m["key"] + m["sep"] + REDACTED, text)
    text = _URL_PASSWORD.sub(lambda m: m["head"] + REDACTED + "@", text)
    for pattern, _what, _markers in _SHAPES[2:-1]:  # token shapes (keys, URLs: above)
        text = pattern.sub(REDACTED, text)
    return text


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _quote(text: str) -> str:
    return quote(text, safe="")


_AUTH_PUBLIC_KEYS = frozenset({
    "id", "type", "host", "username", "tenant", "domain", "auth_version", "service_region",
    "service_name", "base_url", "region", "project", "project_id", "tenant_id",
    "subscription_id", "vo", "namespace", "api_version", "image_url", "auth_url"})


def auth_secrets(header: str) -> tuple[str, ...]:
    """The secret values of an IM auth header (``key = value`` pairs separated by ``;`` on
    lines joined by ``\\n``): every value but ids, types, hosts and user names."""
    values = []
    for line in header.replace("\\n", "\n").splitlines():
        for pair in line.split(";"):
            key, sep, value = pair.partition("=")
            value = value.strip().strip("'\"")
            if sep and value and key.strip().lower() not in _AUTH_PUBLIC_KEYS:
                values.append(value)
                values.append(value.replace("\\n", "\n"))  # keys written with \n escapes
    return tuple(dict.fromkeys(values))


__all__ = ["ALLOW_ENV", "MIN_KNOWN_LENGTH", "REDACTED", "auth_secrets", "credential_field",
           "credential_shape", "describe_literal", "find_credential", "is_reference",
           "literals_allowed", "physical_reference", "reference", "scrub", "variable_name"]
