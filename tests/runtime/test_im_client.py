"""The IM client over real HTTP against a scripted loopback server: retries and backoff on
connection errors and 5xx, IM's message on 4xx, polling, credentials and references."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from compiler.runtime.im import (
    Auth,
    IMClient,
    IMError,
    RetryPolicy,
    auth_header,
    fill_references,
    load_auth,
)
from compiler.runtime.loopback import free_port

AUTH_TEXT = ("# local test IM\n"
             "id = oscar1; type = OSCAR; host = http://127.0.0.1:1; username = u; password = "
             "${OSCAR_PASS}\n"
             "type = InfrastructureManager; username = im; password = hunter2\n")
TEMPLATE = """tosca_definitions_version: tosca_simple_yaml_1_0
imports:
- grycap_custom_types: https://raw.githubusercontent.com/grycap/tosca/main/custom_types.yaml
topology_template:
  node_templates:
    oscar_service_a:
      type: tosca.nodes.aisprint.FaaS.Function
      properties:
        name: a
        image: a:latest
        script: /opt/a/script.sh
        memory: 512Mi
        env_variables: {KEY: '${SERVICE_KEY}', OTHER: 'x-${SERVICE_KEY}'}
"""


class Scripted:
    """A loopback HTTP server answering from a list of (status, JSON body); records requests."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.seen: list[tuple[str, str, dict, str]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                scripted.seen.append((self.command, self.path, dict(self.headers), body))
                status, payload = scripted.answers.pop(0) if scripted.answers else (500, {})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PUT = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted():
    servers = []

    def make(*answers):
        servers.append(Scripted(answers))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def client(url, sleeps, custom_types=None, **kw):
    auth = load_auth(environ={"IM_AUTH": AUTH_TEXT, "OSCAR_PASS": "pw"})
    return IMClient(url, auth, custom_types=custom_types, retry=RetryPolicy(4, 0.01, 0.03),
                    sleep=sleeps.append, environ={"SERVICE_KEY": "k3y: '\"#"}, **kw)


STATE = {"state": {"state": "configured", "vm_states": {"0": "configured"}}}


def test_5xx_is_retried_with_exponential_backoff_then_succeeds(scripted):
    server, sleeps = scripted((503, {"message": "busy"}), (502, {}), (200, STATE)), []
    state = client(server.url, sleeps).state("abc")
    assert state.state == "configured" and state.vm_states == (("0", "configured"),)
    assert state.id == "abc" and state.url == f"{server.url}/infrastructures/abc"
    assert [s[1] for s in server.seen] == ["/infrastructures/abc/state"] * 3
    assert sleeps == [0.01, 0.02]  # backoff 0.01 * 2^k


def test_5xx_every_time_gives_up_after_the_attempts(scripted):
    server, sleeps = scripted(*[(500, {"message": "db down", "code": 500})] * 6), []
    with pytest.raises(IMError) as err:
        client(server.url, sleeps).destroy("abc")
    assert err.value.code == "AIS976" and err.value.status == 500
    assert "db down" in err.value.diagnostic.message
    assert len(server.seen) == 4 and sleeps == [0.01, 0.02, 0.03]  # capped at max_backoff


def test_4xx_fails_at_once_with_ims_message(scripted):
    answer = (400, {"message": "Error Getting Inf. prop: bad id", "code": 400})
    server, sleeps = scripted(answer), []
    with pytest.raises(IMError) as err:
        client(server.url, sleeps).outputs("http://elsewhere/infrastructures/abc")
    assert err.value.code == "AIS977" and err.value.status == 400
    assert "Error Getting Inf. prop: bad id" in str(err.value)
    assert len(server.seen) == 1 and sleeps == []
    # the id of a URL is used against this client's IM, never the URL's host
    assert server.seen[0][1] == "/infrastructures/abc/outputs"


def test_connection_refused_is_retried_then_reported():
    sleeps = []
    with pytest.raises(IMError) as err:
        client(f"http://127.0.0.1:{free_port()}", sleeps).state("abc")
    assert err.value.code == "AIS976" and "unreachable" in err.value.diagnostic.message
    assert sleeps == [0.01, 0.02, 0.03]


def test_auth_header_joins_lines_with_backslash_n_and_is_never_shown(scripted):
    server, sleeps = scripted((200, {"outputs": {"url": "x"}})), []
    im = client(server.url, sleeps)
    assert im.outputs("abc") == {"url": "x"}
    header = server.seen[0][2]["Authorization"]
    assert header == ("id = oscar1; type = OSCAR; host = http://127.0.0.1:1; username = u; "
                      "password = pw\\ntype = InfrastructureManager; username = im; "
                      "password = hunter2")
    assert "hunter2" not in repr(im) and "hunter2" not in repr(load_auth(
        environ={"IM_AUTH": AUTH_TEXT, "OSCAR_PASS": "pw"}))
    assert Auth(header).cloud_types() == ("InfrastructureManager", "OSCAR")


def test_create_validates_fills_references_and_returns_the_uri(scripted, custom_types):
    uri = "http://127.0.0.1:9/infrastructures/new-id"
    server, sleeps = scripted((200, {"uri": uri})), []
    assert client(server.url, sleeps, custom_types).create(TEMPLATE) == uri
    method, path, headers, body = server.seen[0]
    assert (method, path) == ("POST", "/infrastructures?async=1")
    assert headers["Content-Type"] == "text/yaml"
    import yaml

    env = yaml.safe_load(body)["topology_template"]["node_templates"]["oscar_service_a"][
        "properties"]["env_variables"]
    assert env == {"KEY": "k3y: '\"#", "OTHER": "x-k3y: '\"#"}


def test_an_invalid_template_is_never_posted(scripted, custom_types):
    server, sleeps = scripted((200, {"uri": "x"})), []
    bad = TEMPLATE.replace("memory: 512Mi", "memory: 512Mi\n        colour: blue")
    with pytest.raises(IMError) as err:
        client(server.url, sleeps, custom_types).create(bad, source="layer1.yaml")
    assert err.value.code == "AIS974" and "colour" in err.value.diagnostic.message
    assert err.value.diagnostic.location.file == "layer1.yaml"
    assert server.seen == []


def test_wait_polls_until_configured_and_times_out(scripted):
    pending = {"state": {"state": "pending", "vm_states": {}}}
    server, sleeps = scripted((200, pending), (200, pending), (200, STATE)), []
    assert client(server.url, sleeps).wait("abc", timeout=5, interval=0.01).configured
    assert len(server.seen) == 3 and sleeps == [0.01, 0.01]
    server = scripted(*[(200, pending)] * 50)
    with pytest.raises(IMError) as err:
        client(server.url, []).wait("abc", timeout=0.05, interval=0.01)
    assert err.value.code == "AIS978" and "still pending" in err.value.diagnostic.message


def test_credentials_need_an_im_line_and_every_reference(tmp_path):
    with pytest.raises(IMError) as err:
        load_auth(environ={"IM_AUTH": "id = d; type = Dummy"})
    assert err.value.code == "AIS972"
    with pytest.raises(IMError) as err:
        load_auth(environ={})
    assert err.value.code == "AIS971"
    with pytest.raises(IMError) as err:
        load_auth(environ={"IM_AUTH": AUTH_TEXT})
    assert err.value.code == "AIS975" and "OSCAR_PASS" in err.value.diagnostic.message
    with pytest.raises(IMError) as err:
        fill_references("a: ${B}\nc: ${A}\n", {})
    assert "A, B" in err.value.diagnostic.message
    assert auth_header("a = 1\n\n# note\nb = 2\n") == "a = 1\\nb = 2"


def test_an_auth_file_committed_to_git_is_refused(tmp_path):
    auth = tmp_path / "auth.dat"
    auth.write_text("type = InfrastructureManager; username = u; password = p\n")
    assert load_auth(auth).header.startswith("type = InfrastructureManager")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "auth.dat"], check=True)
    with pytest.raises(IMError) as err:
        load_auth(auth)
    assert err.value.code == "AIS973"
    with pytest.raises(IMError) as err:
        load_auth(environ={"IM_AUTH_FILE": str(tmp_path / "missing.dat")})
    assert err.value.code == "AIS971" and "missing.dat" in err.value.diagnostic.message
