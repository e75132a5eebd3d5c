"""Secrets never leave (issue #14).

Distinct canary secrets are planted in every input that can hold one — physical_nodes.yaml
(front-end PEM key, worker keys, MinIO, OSCAR, InfluxDB and AWS credentials), the variables
the templates reference, the IM auth file, the OSCAR and InfluxDB credentials and a git
remote's token — the user opts in to literals, and every command that reads them runs for
real: validate (text, json, github), compile --out and --repo (and --push), plan (text, json,
markdown, --comments-dir, --save, then compile --plan), toscarizer tosca, toscarizer deploy
against an IM stand-in that echoes the request (headers and body) in its error and in its
contextualisation log, and the OSCAR and InfluxDB clients against a server that echoes the
auth header. Then everything they left is scanned — every file, every git object, every
captured output and error — for every canary, plain or base64-encoded. Without the opt-in,
a literal is exit 1 with file:line and the fix.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from compiler.cli.main import app as aisprint_app
from compiler.cli.main import run
from compiler.cli.toscarizer import app as toscarizer_app
from compiler.console.diagnostics import render_text
from compiler.errors import InvalidInput
from compiler.secrets import REDACTED, auth_secrets, credential_shape, scrub
from tests.conftest import copy_example, shared_path

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# Canaries: distinct, unlike anything the tool writes on its own, and drawn afresh on every
# run, so no credential-looking value is committed and none can pre-exist in an output.


def _canary(stem: str) -> str:
    return f"cnry{stem}{secrets.token_hex(4)}"


def _aws_key_id() -> str:
    return "AKIA" + secrets.token_hex(8).upper()  # the shape of an AWS access key id


FE_KEY = _canary("FrontEndKey")
WN1_KEY = _canary("WorkerOneKey")
WN2_KEY = _canary("WorkerTwoKey")
MINIO_ACCESS = _aws_key_id()
MINIO_SECRET = _canary("MinioSecret")
OSCAR_PASSWORD = _canary("OscarPassword")
INFLUX_TOKEN = _canary("InfluxToken")
AWS_ACCESS = _aws_key_id()
AWS_SECRET = _canary("AwsSecretKey")
IM_PASSWORD = _canary("ImPassword")
IM_OSCAR_TOKEN = _canary("ImOscarToken")
RUN_OSCAR_PASSWORD = _canary("RunOscarPass")
RUN_INFLUX_TOKEN = _canary("RunInfluxTok")
RUN_INFLUX_PASSWORD = _canary("RunInfluxPwd")
GIT_TOKEN = "ghp_" + _canary("GitRemoteToken") + secrets.token_hex(8)  # a GitHub token's shape
INPUT_CANARIES = (FE_KEY, WN1_KEY, WN2_KEY, MINIO_ACCESS, MINIO_SECRET, OSCAR_PASSWORD,
                  INFLUX_TOKEN, AWS_ACCESS, AWS_SECRET)
RUNTIME_CANARIES = (IM_PASSWORD, IM_OSCAR_TOKEN, RUN_OSCAR_PASSWORD, RUN_INFLUX_TOKEN,
                    RUN_INFLUX_PASSWORD, GIT_TOKEN)


def pem(body: str) -> str:
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"


PHYSICAL_NODES = f"""\
ComputationalLayers:
  computationalLayer1:
    number: 1
    Resources:
      resource1:
        name: JetsonNano
        minio:
          endpoint: https://minio.cabinets.city.example.org
          access_key: {MINIO_ACCESS}
          secret_key: {MINIO_SECRET}
        oscar:
          name: oscar-cabinets
          password: {OSCAR_PASSWORD}
        influx:
          token: {INFLUX_TOKEN}
        aws:
          access_key: {AWS_ACCESS}
          secret_key: {AWS_SECRET}
  computationalLayer2:
    number: 2
    Resources:
      resource1:
        name: EdgeXeon
        fe_node:
          public_ip: 198.51.100.20
          private_ip: 10.20.0.1
          ssh_user: ops
          ssh_key: {json.dumps(pem(FE_KEY))}
        wns:
          - {{private_ip: 10.20.0.2, ssh_user: ops, ssh_key: "{WN1_KEY}"}}
          - {{private_ip: 10.20.0.3, ssh_user: ops, ssh_key: "${{DISTRICT_SSH_KEY}}"}}
          - {{private_ip: 10.20.0.4, ssh_user: ops, ssh_key: "${{DISTRICT_SSH_KEY}}"}}
"""
# (line of the value, field) of every literal above: the diagnostics must point there
LITERAL_LINES = {9: "access_key", 10: "secret_key", 13: "password", 15: "token",
                 17: "access_key", 18: "secret_key", 28: "ssh_key", 30: "ssh_key"}


def forms(secret: str) -> list[bytes]:
    """The secret as bytes, and the base64 characters it becomes at each of the three
    alignments (only the groups made of the secret's bytes alone)."""
    raw = secret.encode()
    out = [raw]
    for pad in range(3):
        data = b"\0" * pad + raw
        encoded = base64.b64encode(data)
        start = 4 if pad else 0
        stop = (len(data) // 3) * 4
        if stop - start >= 8:
            out.append(encoded[start:stop])
    return out


def leaks(blob: bytes, canaries) -> list[str]:
    return [c for c in canaries if any(f in blob for f in forms(c))]


# --------------------------------------------------------------------------- echo server

class Echo:
    """A loopback HTTP server that answers with what it was sent (method, path, every
    header, the body) — the worst a server can do with credentials. ``mode`` picks the
    answers: 'reject' (401 for everything), 'failed-infrastructure' (IM: accept the POST,
    report it failed, and echo the request in the contextualisation message)."""

    def __init__(self) -> None:
        self.mode = "reject"
        self.received: list[str] = []  # the server's side: it gets the secrets, legitimately
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode(errors="replace") if length else ""
                request = (f"{self.command} {self.path}\n{self.headers}\n{body}")
                echo.received.append(request)
                if echo.mode == "failed-infrastructure" and self.command == "POST":
                    reply = 200, {"uri": f"{echo.url}/infrastructures/inf1"}
                elif echo.mode == "failed-infrastructure" and self.path.endswith("/state"):
                    reply = 200, {"state": {"state": "failed", "vm_states": {"0": "failed"}}}
                elif echo.mode == "failed-infrastructure" and self.path.endswith("/contmsg"):
                    reply = 200, {"contmsg": "Contextualization failed. Request was:\n"
                                  + "\n".join(echo.received)}
                else:
                    reply = 401, {"message": f"Error: bad request {request!r}",
                                  "headers": dict(self.headers)}
                status, payload = reply
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="x"')
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def echo():
    server = Echo()
    yield server
    server.stop()


# --------------------------------------------------------------------------- helpers

@pytest.fixture
def canary_app(tmp_path) -> Path:
    app = copy_example("smart_city", tmp_path / "src", models=False)
    (app / "common_config" / "physical_nodes.yaml").write_text(PHYSICAL_NODES)
    return app


class Session:
    """Runs commands in-process and keeps everything they printed."""

    def __init__(self, capsys) -> None:
        self.capsys = capsys
        self.printed: list[str] = []

    def __call__(self, *argv: str, prog: str = "aisprint") -> tuple[int, str]:
        cli = toscarizer_app if prog == "toscarizer" else aisprint_app
        self.capsys.readouterr()
        code = run(cli, list(argv), prog=prog)
        out = self.capsys.readouterr()
        self.printed += [out.out, out.err]
        return code, out.out + out.err

    def failure(self, error: InvalidInput) -> str:
        """An error raised by a library call, as the CLI would print it."""
        text = str(error) + "\n" + render_text(error.diagnostics)
        self.printed.append(text)
        return text


def git_objects(repo: Path) -> bytes:
    return subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch"],
                          capture_output=True, check=True).stdout


# --------------------------------------------------------------------------- the tests

def test_a_literal_credential_is_an_error_with_file_line_and_fix(canary_app, tmp_path,
                                                                  capsys, monkeypatch):
    monkeypatch.delenv("AISPRINT_ALLOW_LITERAL_SECRETS", raising=False)
    cli = Session(capsys)
    code, text = cli("validate", str(canary_app))
    assert code == 1
    pn = canary_app / "common_config" / "physical_nodes.yaml"
    for line, field in LITERAL_LINES.items():
        assert re.search(rf"{re.escape(str(pn))}:{line}:\d+: error AIS602: .*'{field}'", text), \
            (line, field, text)
    assert "write ${AISPRINT_EDGEXEON_FE_NODE_SSH_KEY} here and export " \
           "AISPRINT_EDGEXEON_FE_NODE_SSH_KEY" in text
    assert "${AISPRINT_EDGEXEON_WNS_1_SSH_KEY}" in text
    assert "a private key (PEM) is written in 'ssh_key'" in text
    assert "AISPRINT_ALLOW_LITERAL_SECRETS=1" in text  # the opt-in is named
    for fmt in ("json", "github"):
        code, out = cli("validate", str(canary_app), "-o", fmt)
        assert code == 1 and out.count("AIS602") >= len(LITERAL_LINES)
    code, _ = cli("compile", str(canary_app), "--out", str(tmp_path / "out"))
    assert code == 1 and not (tmp_path / "out").exists()
    printed = "\n".join(cli.printed).encode()
    assert leaks(printed, INPUT_CANARIES) == []
    assert REDACTED.encode() in printed  # the source line was shown, scrubbed


def test_shapes_of_credentials_are_errors_even_with_the_opt_in(canary_app, capsys, monkeypatch):
    monkeypatch.setenv("AISPRINT_ALLOW_LITERAL_SECRETS", "1")
    pn = canary_app / "common_config" / "physical_nodes.yaml"
    pn.write_text(pn.read_text().replace("https://minio.cabinets",
                                         f"https://admin:{MINIO_SECRET}@minio.cabinets"))
    (canary_app / "src" / "camera-ingest" / "keys.py").write_text(
        f'KEY = """{pem(FE_KEY)}"""\n')
    dag = canary_app / "common_config" / "application_dag.yaml"  # copied as written
    dag.write_text(dag.read_text() + f"# push with {GIT_TOKEN}\n")
    cli = Session(capsys)
    code, text = cli("validate", str(canary_app))
    assert code == 1
    assert "error AIS603: a URL with a password in it is written in 'endpoint'" in text
    assert re.search(r"src/camera-ingest/keys\.py:1:1: error AIS604: a private key \(PEM\)",
                     text), text
    lines = dag.read_text().count("\n")
    assert f"application_dag.yaml:{lines}:1: error AIS603: a GitHub token is written in a " \
           "comment" in text
    assert "warning AIS601" in text  # the literals in credential fields: allowed
    assert leaks("\n".join(cli.printed).encode(), INPUT_CANARIES + (GIT_TOKEN,)) == []


def test_secrets_never_leave(canary_app, tmp_path, capsys, monkeypatch, echo):
    custom_types = shared_path("tosca-types", "custom_types.yaml")
    monkeypatch.setenv("AISPRINT_ALLOW_LITERAL_SECRETS", "1")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    cli = Session(capsys)
    app, out, deploy = canary_app, tmp_path / "out", tmp_path / "deploy"

    # validate: allowed, with warnings that name the reference and not the value
    code, text = cli("validate", str(app))
    assert code == 0 and text.count("warning AIS601") == len(LITERAL_LINES), text
    for fmt in ("json", "github"):
        assert cli("validate", str(app), "-o", fmt)[0] == 0

    # compile: a folder, a repository, a push to a remote whose URL holds a token
    assert cli("compile", str(app), "--out", str(out))[0] == 0
    layer2 = (out / "aisprint/deployments/base/im/smart-city-layer2.yaml").read_text()
    assert "token: ${AISPRINT_EDGEXEON_FE_NODE_SSH_KEY}" in layer2
    assert "token: ${AISPRINT_EDGEXEON_WNS_1_SSH_KEY}" in layer2
    assert "token: ${DISTRICT_SSH_KEY}" in layer2  # the user's reference, as written
    remote = f"{echo.url.replace('http://', f'http://bot:{GIT_TOKEN}@')}/deploy.git"
    code, text = cli("compile", str(app), "--repo", str(deploy), "--push", remote)
    assert code == 1 and "AIS947" in text, text  # committed, but the remote refused
    assert any(f"bot:{GIT_TOKEN}" in r or "Authorization" in r for r in echo.received)

    # plan a change that adds a literal, every rendering; then write exactly that plan
    pn = app / "common_config" / "physical_nodes.yaml"
    pn.write_text(pn.read_text().replace('ssh_key: "${DISTRICT_SSH_KEY}"}\n',
                                         f'ssh_key: "{WN2_KEY}"}}\n', 1))
    saved, comments = tmp_path / "plan.json", tmp_path / "comments"
    code, text = cli("plan", str(app), "--repo", str(deploy), "-o", "json",
                     "--save", str(saved), "--comments-dir", str(comments))
    assert code == 0 and "AISPRINT_EDGEXEON_WNS_2_SSH_KEY" in text  # the change is visible
    for fmt in ("markdown", "text"):
        assert cli("plan", str(app), "--repo", str(deploy), "-o", fmt)[0] == 0
    assert list(comments.iterdir())
    assert cli("compile", str(app), "--repo", str(deploy), "--plan", str(saved))[0] == 0

    # toscarizer writes into the application folder
    assert cli("tosca", "--application_dir", str(app), "--base", prog="toscarizer")[0] == 0

    # toscarizer deploy: IM rejects the request, echoing its headers and body
    folder = app / "aisprint/deployments/base/im"
    fdl = out / "aisprint/deployments/base/oscar/fdl.yaml"
    names = sorted({n for f in [*folder.glob("*.yaml"), fdl]
                    for n in REFERENCE.findall(f.read_text())})
    filled = {name: f"cnryVar{i:02d}{name[-6:].replace('_', 'x')}Fill"
              for i, name in enumerate(names)}
    filled["AISPRINT_EDGEXEON_FE_NODE_SSH_KEY"] = pem("cnryFilledFrontEndKeyB3")
    for name, value in filled.items():
        monkeypatch.setenv(name, value)
    auth = tmp_path / "auth.dat"  # outside any repository
    auth.write_text(f"id = oscar; type = OSCAR; host = {echo.url}; username = u; "
                    f"token = {IM_OSCAR_TOKEN}\n"
                    f"type = InfrastructureManager; username = tester; password = {IM_PASSWORD}\n")
    common = ["--im_url", echo.url, "--im_auth", str(auth), "--tosca-types", str(custom_types),
              "--local-imports", "--poll", "0.05", "--timeout", "5"]
    code, text = cli("deploy", "--tosca_file", str(folder / "smart-city-layer2.yaml"), *common,
                     prog="toscarizer")
    assert code == 1 and "AIS977" in text and "HTTP 401" in text, text
    assert REDACTED in text
    # ... and when the infrastructure fails, its contextualisation log echoes the request
    echo.mode = "failed-infrastructure"
    code, text = cli("deploy", "--application_dir", str(app), "--base", *common,
                     prog="toscarizer")
    assert code == 1 and "AIS979" in text, text
    assert (folder / "infras.yaml").is_file()  # keeps the (scrubbed) message

    # the server really was sent every secret the scan looks for
    sent = "\n".join(echo.received)
    assert IM_PASSWORD in sent and "cnryFilledFrontEndKeyB3" in sent

    # OSCAR: a cluster that refuses, echoing the Basic auth header
    from compiler.runtime.oscar import OscarError, apply_fdl

    clusters = sorted({c for s in yaml.safe_load(fdl.read_text())["functions"]["oscar"]
                       for c in s})
    env = {**filled, **{f"OSCAR_PASSWORD_{c.upper().replace('-', '_')}": RUN_OSCAR_PASSWORD
                        for c in clusters}}
    with pytest.raises(OscarError) as refused:
        apply_fdl(fdl, {c: echo.url for c in clusters}, environ=env)
    assert "AIS996" in cli.failure(refused.value)
    assert any("Authorization: Basic" in r for r in echo.received)

    # InfluxDB 2.x (token) and 1.x (password) that refuse, echoing the header
    from compiler.runtime.metrics.influxdb import InfluxV1Source, InfluxV2Source

    echo.mode = "reject"
    for source in (InfluxV2Source(echo.url, "org", "bucket", RUN_INFLUX_TOKEN, retries=0),
                   InfluxV1Source(echo.url, "db", "u", RUN_INFLUX_PASSWORD, retries=0)):
        with pytest.raises(InvalidInput) as influx_refused:
            source.execution_times(0, 1)
        assert "AIS988" in cli.failure(influx_refused.value)
    assert any(RUN_INFLUX_TOKEN in r for r in echo.received)

    # ---- the scan: every canary, plain or base64, anywhere
    everything = [INPUT_CANARIES, RUNTIME_CANARIES, tuple(filled.values()),
                  ("cnryFilledFrontEndKeyB3",)]
    canaries = tuple(c for group in everything for c in group)
    inputs = {pn, auth}
    found: dict[str, list[str]] = {}
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and not path.is_symlink() and path not in inputs:
            for c in leaks(path.read_bytes(), canaries):
                found.setdefault(c, []).append(str(path.relative_to(tmp_path)))
    for c in leaks(git_objects(deploy), canaries):
        found.setdefault(c, []).append("a git object of the deployment repository")
    for i, text in enumerate(cli.printed):
        for c in leaks(text.encode(), canaries):
            found.setdefault(c, []).append(f"printed output #{i}")
    assert found == {}
    # the scan looked at what was written: the trees, the commits, the plan, the comments
    assert (deploy / "aisprint/manifest.json").is_file() and saved.is_file()
    assert len(git_objects(deploy)) > 100_000


# --------------------------------------------------------------------------- the scrubber

def test_scrub_redacts_known_values_and_credential_shapes():
    header = (f"id = im; type = InfrastructureManager; username = me; password = {IM_PASSWORD}"
              f"\\nid = os; type = OpenStack; host = https://keystone:5000; username = me; "
              f"password = pw2x; tenant = t")
    assert auth_secrets(header) == (IM_PASSWORD, "pw2x")
    echoed = (f"Error: {{'Authorization': '{header}', 'Accept': 'application/json'}} "
              f"at https://bot:{GIT_TOKEN}@git.example.org/x.git "
              f"ssh_key: {json.dumps(pem(FE_KEY))} token=abc12 Bearer eyJhbGciOi.x.y "
              f"{base64.b64encode(IM_PASSWORD.encode()).decode()} AKIAIOSFODNN7EXAMPLE")
    clean = scrub(echoed, auth_secrets(header))
    for secret in (IM_PASSWORD, "pw2x", GIT_TOKEN, FE_KEY, "abc12", "eyJhbGciOi",
                   "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in clean, (secret, clean)
    assert leaks(clean.encode(), (IM_PASSWORD,)) == []
    assert "'Accept': 'application/json'" in clean and "git.example.org/x.git" in clean
    # references and ordinary text stay readable
    assert scrub("ssh_key: ${EDGE_KEY} for layer 2") == "ssh_key: ${EDGE_KEY} for layer 2"
    assert credential_shape("name: camera-ingest") is None
