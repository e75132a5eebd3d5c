"""InfluxDB as a metrics store: 1.x (HTTP API, InfluxQL) and 2.x (token/org/bucket, Flux over
``/api/v2/query``, line protocol over ``/api/v2/write``), behind ``MetricsSource``."""

from __future__ import annotations

import csv
import io
import json
import time as _time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from compiler.runtime.metrics.ams import Summarizing
from compiler.runtime.metrics.points import (
    DEFAULT_DATABASE,
    MEASUREMENT,
    ExecutionTimePoint,
    fail,
    line_protocol,
    nanoseconds,
    point_from_record,
)
from compiler.secrets import scrub

# --------------------------------------------------------------------------- HTTP plumbing

class _Http:
    def __init__(self, url: str, what: str, timeout: float, retries: int):
        self.url = url.rstrip("/")
        self.what = what
        self.timeout = timeout
        self.retries = retries
        self.session = requests.Session()
        self.sent: set[str] = set()  # credentials sent: never shown in what the server says

    def scrub(self, text: str) -> str:
        return scrub(text, self.sent)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        delay = 0.2
        for attempt in range(self.retries + 1):
            try:
                reply = self.session.request(method, self.url + path, timeout=self.timeout,
                                             **kwargs)
            except requests.RequestException as exc:
                if attempt < self.retries:
                    _time.sleep(delay)
                    delay *= 2
                    continue
                raise fail("AIS987", f"{self.what} at {scrub(self.url)} cannot be reached: "
                            f"{self.scrub(str(exc))}",
                            "check the URL (INFLUX_URL) and that the server runs") from None
            if reply.status_code >= 500 and attempt < self.retries:
                _time.sleep(delay)
                delay *= 2
                continue
            if reply.status_code >= 400:
                raise fail("AIS988", f"{self.what} refused {method} {path.split('?')[0]}: "
                            f"HTTP {reply.status_code}: {self.scrub(_server_message(reply))}",
                            "check the database/bucket name and the credentials "
                            "(INFLUX_USER/INFLUX_PASSWORD or INFLUX_TOKEN)")
            return reply
        raise AssertionError("unreachable")


def _server_message(reply: requests.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        return reply.text.strip()[:500]
    if isinstance(body, Mapping):
        return str(body.get("error") or body.get("message") or body)[:500]
    return str(body)[:500]


# --------------------------------------------------------------------------- InfluxDB 1.x

def _influxql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def influxql_select(start: float, end: float, components: Sequence[str] = ()) -> str:
    query = (f'SELECT * FROM "{MEASUREMENT}" WHERE time > {nanoseconds(start)} '
             f"AND time <= {nanoseconds(end)}")
    if components:
        query += " AND (" + " OR ".join(f'"component_name" = {_influxql_string(c)}'
                                        for c in sorted(set(components))) + ")"
    return query


class InfluxV1Source(Summarizing):
    """InfluxDB 1.x through its HTTP API: ``/write`` (line protocol) and ``/query`` (InfluxQL)."""

    def __init__(self, url: str, database: str = DEFAULT_DATABASE, username: str = "",
                 password: str = "", *, timeout: float = 10.0, retries: int = 2):
        self.database = database
        self.http = _Http(url, "InfluxDB", timeout, retries)
        if username:
            self.http.session.auth = (username, password)
            self.http.sent.add(password)

    def ensure_database(self) -> None:
        self.http.request("POST", "/query",
                          data={"q": f'CREATE DATABASE "{self.database}"'})

    def write_points(self, points: Iterable[ExecutionTimePoint]) -> int:
        points = list(points)
        if points:
            self.http.request("POST", "/write", params={"db": self.database, "precision": "ns"},
                              data=line_protocol(points).encode())
        return len(points)

    def execution_times(self, start: float, end: float,
                        components: Sequence[str] = ()) -> tuple[ExecutionTimePoint, ...]:
        reply = self.http.request(
            "GET", "/query", params={"db": self.database, "epoch": "ns", "chunked": "true",
                                     "chunk_size": "10000",
                                     "q": influxql_select(start, end, components)})
        points = []
        for line in reply.text.splitlines():
            if not line.strip():
                continue
            try:
                body = json.loads(line)
            except ValueError:
                raise fail("AIS989", f"InfluxDB answered with something not JSON: "
                            f"{self.http.scrub(line)[:200]!r}") from None
            for result in body.get("results", []):
                if "error" in result:
                    raise fail("AIS988", "InfluxDB refused the query: "
                                f"{self.http.scrub(str(result['error']))}",
                                f"does the database {self.database!r} exist?")
                for series in result.get("series", []):
                    columns = series["columns"]
                    for values in series["values"]:
                        points.append(point_from_record(dict(zip(columns, values, strict=True))))
        points.sort(key=lambda p: (p.time, p.component_name, p.session_id))
        return tuple(points)


# --------------------------------------------------------------------------- InfluxDB 2.x

def _rfc3339(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def _flux_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def flux_select(bucket: str, start: float, end: float, components: Sequence[str] = ()) -> str:
    # Flux's range is start-inclusive and stop-exclusive; the store's contract is
    # start < t <= end, so both bounds move by one nanosecond
    lines = [f"from(bucket: {_flux_string(bucket)})",
             f"  |> range(start: {_rfc3339(nanoseconds(start) + 1)}, "
             f"stop: {_rfc3339(nanoseconds(end) + 1)})",
             f"  |> filter(fn: (r) => r._measurement == {_flux_string(MEASUREMENT)})"]
    if components:
        cond = " or ".join(f"r.component_name == {_flux_string(c)}"
                           for c in sorted(set(components)))
        lines.append(f"  |> filter(fn: (r) => {cond})")
    lines += ['  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
              "  |> group()",
              '  |> sort(columns: ["_time"])']
    return "\n".join(lines) + "\n"


def parse_annotated_csv(text: str) -> list[dict[str, str]]:
    """Rows of InfluxDB 2's (annotated) CSV: tables separated by blank lines, each with its
    own header, annotation rows starting with ``#``."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for record in csv.reader(io.StringIO(text)):
        if not record or all(not cell for cell in record):
            header = None  # a blank line ends a table
            continue
        if record[0].startswith("#"):
            continue
        if header is None:
            header = record
            continue
        rows.append(dict(zip(header, record, strict=False)))
    return rows


class InfluxV2Source(Summarizing):
    """InfluxDB 2.x: ``/api/v2/write`` (line protocol) and ``/api/v2/query`` (Flux, CSV out)."""

    def __init__(self, url: str, org: str, bucket: str, token: str, *, timeout: float = 10.0,
                 retries: int = 2):
        self.org, self.bucket = org, bucket
        self.http = _Http(url, "InfluxDB", timeout, retries)
        self.http.session.headers["Authorization"] = f"Token {token}"
        self.http.sent.add(token)

    def write_points(self, points: Iterable[ExecutionTimePoint]) -> int:
        points = list(points)
        if points:
            self.http.request("POST", "/api/v2/write",
                              params={"org": self.org, "bucket": self.bucket, "precision": "ns"},
                              headers={"Content-Type": "text/plain; charset=utf-8"},
                              data=line_protocol(points).encode())
        return len(points)

    def execution_times(self, start: float, end: float,
                        components: Sequence[str] = ()) -> tuple[ExecutionTimePoint, ...]:
        reply = self.http.request(
            "POST", "/api/v2/query", params={"org": self.org},
            headers={"Content-Type": "application/vnd.flux", "Accept": "application/csv"},
            data=flux_select(self.bucket, start, end, components).encode())
        try:
            rows = parse_annotated_csv(reply.text)
            points = [point_from_record(r) for r in rows
                      if r.get("_measurement", MEASUREMENT) == MEASUREMENT]
        except (KeyError, ValueError) as exc:
            raise fail("AIS989", "InfluxDB's CSV answer cannot be read "
                        f"({self.http.scrub(repr(exc))}): {self.http.scrub(reply.text)[:200]!r}"
                        ) from None
        points.sort(key=lambda p: (p.time, p.component_name, p.session_id))
        return tuple(points)
