"""A recording OSCAR *stand-in* (no OSCAR server can run here: it needs Kubernetes).

It answers the part of OSCAR's REST API that IM's OSCAR connector and oscar-python use —
``/system/services`` (POST create, GET list/one, PUT update, DELETE) — keeps the services in
memory, and records every request (method, path, Authorization, JSON body) for tests to assert
on. Loopback only, stopped by the fixture that starts it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    authorization: str
    body: object


@dataclass
class OscarStub:
    """The stand-in's state: services by name, and every request in order."""

    services: dict[str, dict] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, method: str, prefix: str = "/system/services") -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]


def _handler(stub: OscarStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _reply(self, status: int, body: object = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> object:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            with stub.lock:
                stub.requests.append(Recorded(self.command, self.path,
                                              self.headers.get("Authorization", ""), body))
            return body

        def _name(self) -> str:
            return self.path.rstrip("/").removeprefix("/system/services").strip("/")

        def do_POST(self) -> None:  # noqa: N802
            body = self._record()
            if self.path.rstrip("/") != "/system/services" or not isinstance(body, dict):
                return self._reply(400, {"message": "expected a service definition"})
            with stub.lock:
                if body.get("name") in stub.services:
                    return self._reply(409, {"message": "service already exists"})
                stub.services[body["name"]] = body
            self._reply(201)

        def do_PUT(self) -> None:  # noqa: N802
            body = self._record()
            with stub.lock:
                name = (body or {}).get("name") if isinstance(body, dict) else None
                name = self._name() or name
                if name not in stub.services:
                    return self._reply(404, {"message": "service not found"})
                stub.services[name] = body
            self._reply(204)

        def do_GET(self) -> None:  # noqa: N802
            self._record()
            name = self._name()
            with stub.lock:
                if not name:
                    return self._reply(200, list(stub.services.values()))
                if name not in stub.services:
                    return self._reply(404, {"message": "service not found"})
                return self._reply(200, stub.services[name])

        def do_DELETE(self) -> None:  # noqa: N802
            self._record()
            with stub.lock:
                if stub.services.pop(self._name(), None) is None:
                    return self._reply(404, {"message": "service not found"})
            self._reply(204)

    return Handler


def serve(stub: OscarStub) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
