"""A loopback STAND-IN for the two InfluxDB 2.x endpoints the metrics client uses.

No InfluxDB 2 server can be installed here (Debian ships 1.6, PyPI and npm only clients), so
this small HTTP server plays ``POST /api/v2/write`` and ``POST /api/v2/query`` — and is
strict about what a real server checks: the ``Authorization: Token …`` header, ``org`` and
``bucket`` parameters, line protocol, and a Flux query of the one shape the client sends
(``from |> range |> filter(_measurement) [|> filter(component_name)] |> pivot |> group |>
sort``), answered as InfluxDB 2 answers a pivoted query: CSV with a header and a leading
empty column, RFC 3339 times. It understands nothing else of Flux and says so (HTTP 400).
Every request is recorded for the tests to look at.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str


@dataclass
class InfluxDB2StandIn:
    token: str
    org: str
    buckets: set[str]
    points: list[dict] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> InfluxDB2StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                standin.requests.append(Recorded("POST", parts.path, query,
                                                 dict(self.headers.items()), body))
                status, ctype, text = standin.handle(parts.path, query, self.headers, body)
                payload = text.encode()
                self.send_response(status)
                if payload:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ behaviour
    def handle(self, path, query, headers, body) -> tuple[int, str, str]:
        if headers.get("Authorization") != f"Token {self.token}":
            return _error(401, "unauthorized", "unauthorized access")
        if query.get("org") != self.org:
            return _error(404, "not found", f'organization name "{query.get("org")}" not found')
        if path == "/api/v2/write":
            bucket = query.get("bucket")
            if bucket not in self.buckets:
                return _error(404, "not found", f'bucket "{bucket}" not found')
            if query.get("precision", "ns") != "ns":
                return _error(400, "invalid", "this stand-in takes precision=ns only")
            try:
                self.points.extend(dict(_parse_line(line), bucket=bucket)
                                   for line in body.splitlines() if line.strip())
            except ValueError as exc:
                return _error(400, "invalid", f"unable to parse line protocol: {exc}")
            return 204, "", ""
        if path == "/api/v2/query":
            if not headers.get("Content-Type", "").startswith("application/vnd.flux"):
                return _error(400, "invalid", "this stand-in takes raw Flux bodies only")
            try:
                rows = self._run_flux(body)
            except ValueError as exc:
                return _error(400, "invalid", f"compilation failed: {exc}")
            return 200, "text/csv; charset=utf-8", _csv(rows)
        return _error(404, "not found", "path not found")

    def _run_flux(self, flux: str) -> list[dict]:
        m = re.fullmatch(
            r'from\(bucket: "(?P<bucket>[^"]+)"\)\n'
            r"  \|> range\(start: (?P<start>\S+), stop: (?P<stop>\S+)\)\n"
            r'  \|> filter\(fn: \(r\) => r\._measurement == "(?P<m>[^"]+)"\)\n'
            r"(?:  \|> filter\(fn: \(r\) => (?P<comps>[^\n]+)\)\n)?"
            r'  \|> pivot\(rowKey: \["_time"\], columnKey: \["_field"\], '
            r'valueColumn: "_value"\)\n'
            r"  \|> group\(\)\n"
            r'  \|> sort\(columns: \["_time"\]\)\n', flux)
        if not m:
            raise ValueError("unsupported query shape")
        if m["bucket"] not in self.buckets:
            raise ValueError(f'bucket "{m["bucket"]}" not found')
        start, stop = _parse_time(m["start"]), _parse_time(m["stop"])
        wanted = None
        if m["comps"]:
            wanted = set(re.findall(r'r\.component_name == "([^"]*)"', m["comps"]))
            if not wanted:
                raise ValueError("unsupported filter")
        rows = [p for p in self.points
                if p["bucket"] == m["bucket"] and p["measurement"] == m["m"]
                and start <= p["time"] < stop  # Flux: start inclusive, stop exclusive
                and (wanted is None or p["tags"].get("component_name") in wanted)]
        return sorted(rows, key=lambda p: p["time"])

    @property
    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/api/v2/write"]

    @property
    def queries(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/api/v2/query"]


def _error(status: int, code: str, message: str) -> tuple[int, str, str]:
    return status, "application/json", json.dumps({"code": code, "message": message})


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` except where it is backslash-escaped (escapes kept)."""
    return re.split(r"(?<!\\)" + re.escape(sep), text)


def _unescape(text: str) -> str:
    return re.sub(r"\\([,= \\])", r"\1", text)


def _parse_line(line: str) -> dict:
    head, fields, stamp = _split(line, " ")
    measurement, *tag_parts = _split(head, ",")
    tags = {}
    for part in tag_parts:
        key, value = _split(part, "=")
        tags[_unescape(key)] = _unescape(value)
    values = {}
    for item in fields.split(","):
        key, value = item.split("=", 1)
        if value.endswith("i"):
            raise ValueError(f"integer field {key} (the client writes floats)")
        values[key] = float(value)
    return {"measurement": _unescape(measurement), "tags": tags, "fields": values,
            "time": int(stamp)}


def _parse_time(text: str) -> int:
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z", text)
    if not m:
        raise ValueError(f"not an RFC 3339 time: {text}")
    seconds = int(datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())
    return seconds * 1_000_000_000 + int((m[2] or "0").ljust(9, "0"))


def _rfc3339(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z".replace(".000000000Z", "Z")


def _csv(rows: list[dict]) -> str:
    tags = sorted({t for r in rows for t in r["tags"]})
    fields = sorted({f for r in rows for f in r["fields"]})
    header = ["", "result", "table", "_start", "_stop", "_time", "_measurement", *tags, *fields]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow(["", "_result", "0", "", "", _rfc3339(r["time"]), r["measurement"],
                         *(r["tags"].get(t, "") for t in tags),
                         *(repr(r["fields"][f]) if f in r["fields"] else "" for f in fields)])
    out.write("\r\n")
    return out.getvalue()
