"""The embedded metrics store: a SQLite file in the local runner's state folder, for when no
InfluxDB is configured."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from compiler.runtime.metrics.ams import Summarizing
from compiler.runtime.metrics.points import (
    FIELDS,
    MEASUREMENT,
    TAGS,
    ExecutionTimePoint,
    fail,
    point_from_record,
)

_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {MEASUREMENT} (
  time REAL NOT NULL,
  {", ".join(f"{t} TEXT NOT NULL" for t in TAGS)},
  {", ".join(f"{f} REAL NOT NULL" for f in FIELDS)});
CREATE INDEX IF NOT EXISTS {MEASUREMENT}_time ON {MEASUREMENT} (time);"""


class EmbeddedStore(Summarizing):
    """A SQLite file (one table ``execution_time``) in the local runner's state folder; safe
    for several writer processes."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise fail("AIS991", f"the embedded metrics store cannot be opened: {exc}",
                        "check the state folder is writable", str(self.path)) from None

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def write_points(self, points: Iterable[ExecutionTimePoint]) -> int:
        columns = ("time", *TAGS, *FIELDS)
        rows = [(p.time, *(getattr(p, t) for t in TAGS), *(p.fields()[f] for f in FIELDS))
                for p in points]
        try:
            with self._connect() as db:
                db.executemany(f"INSERT INTO {MEASUREMENT} ({', '.join(columns)}) VALUES "
                               f"({', '.join('?' * len(columns))})", rows)
        except sqlite3.Error as exc:
            raise fail("AIS991", f"cannot write to the embedded metrics store: {exc}", "",
                        str(self.path)) from None
        return len(rows)

    def execution_times(self, start: float, end: float,
                        components: Sequence[str] = ()) -> tuple[ExecutionTimePoint, ...]:
        query = f"SELECT * FROM {MEASUREMENT} WHERE time > ? AND time <= ?"
        args: list[Any] = [start, end]
        if components:
            query += f" AND component_name IN ({', '.join('?' * len(set(components)))})"
            args += sorted(set(components))
        query += " ORDER BY time, component_name, session_id"
        try:
            with self._connect() as db:
                db.row_factory = sqlite3.Row
                rows = db.execute(query, args).fetchall()
        except sqlite3.Error as exc:
            raise fail("AIS991", f"cannot read the embedded metrics store: {exc}", "",
                        str(self.path)) from None
        return tuple(point_from_record(dict(r)) for r in rows)
