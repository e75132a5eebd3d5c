"""Where metrics live: settings from a YAML file without secrets, overridden by the
environment (``INFLUX_URL``, ``INFLUX_TOKEN`` — the names AMS's Telegraf configuration uses —
``INFLUX_VERSION``, ``INFLUX_DB``, ``INFLUX_USER``, ``INFLUX_PASSWORD``, ``INFLUX_ORG``,
``INFLUX_BUCKET``); secrets are read from the environment only when a store is opened."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.runtime.metrics.ams import MetricsSource
from compiler.runtime.metrics.embedded import EmbeddedStore
from compiler.runtime.metrics.influxdb import InfluxV1Source, InfluxV2Source
from compiler.runtime.metrics.points import DEFAULT_DATABASE, DEFAULT_ORG, SECRET_KEYS, fail


@dataclass(frozen=True)
class MetricsConfig:
    """Where metrics live. Secrets are never part of it: they are read from the environment
    (``INFLUX_PASSWORD``, ``INFLUX_TOKEN``) when the source is opened."""

    backend: str = "embedded"  # "influxdb1" | "influxdb2" | "embedded"
    url: str = ""
    database: str = DEFAULT_DATABASE
    username: str = ""
    org: str = DEFAULT_ORG
    bucket: str = ""
    store: str = ""  # embedded: the SQLite file (default <state_dir>/metrics.sqlite)
    source: str = field(default="", compare=False)  # where the settings came from


_FILE_KEYS = {"backend", "url", "version", "database", "username", "org", "bucket", "store"}


def load_config(file: Path | None = None, environ: Mapping[str, str] | None = None,
                app_name: str = "") -> MetricsConfig:
    """Settings from a YAML file (``metrics:`` mapping, optional), overridden by the
    environment. Without a URL anywhere, the embedded store is used."""
    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    source = "environment"
    if file is not None:
        try:
            data = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise fail("AIS986", f"cannot read the metrics configuration: {exc}", "",
                        str(file)) from None
        section = data.get("metrics", data) if isinstance(data, Mapping) else None
        if not isinstance(section, Mapping):
            raise fail("AIS986", "the metrics configuration is not a mapping",
                        "write `metrics: {url: …, version: 1, database: …}`", str(file))
        secrets = sorted(k for k in section if any(s in str(k).lower() for s in SECRET_KEYS))
        if secrets:
            raise fail("AIS986", f"the metrics configuration holds secrets ({', '.join(secrets)})",
                        "remove them from the file; set INFLUX_PASSWORD or INFLUX_TOKEN in the "
                        "environment instead", str(file))
        unknown = sorted(set(map(str, section)) - _FILE_KEYS)
        if unknown:
            raise fail("AIS986", f"unknown metrics settings: {', '.join(unknown)}",
                        f"known settings: {', '.join(sorted(_FILE_KEYS))}", str(file))
        settings = dict(section)
        source = str(file)
    for key, var in (("url", "INFLUX_URL"), ("version", "INFLUX_VERSION"),
                     ("database", "INFLUX_DB"), ("username", "INFLUX_USER"),
                     ("org", "INFLUX_ORG"), ("bucket", "INFLUX_BUCKET")):
        if env.get(var):
            settings[key] = env[var]
    backend = str(settings.pop("backend", "") or "")
    version = str(settings.pop("version", "") or "")
    if not backend:
        if not settings.get("url"):
            backend = "embedded"
        elif version:
            backend = {"1": "influxdb1", "2": "influxdb2"}.get(version.split(".")[0], "")
            if not backend:
                raise fail("AIS986", f"unknown InfluxDB version {version!r}",
                            "INFLUX_VERSION is 1 (InfluxQL) or 2 (Flux)")
        else:
            backend = "influxdb2" if env.get("INFLUX_TOKEN") else "influxdb1"
    if backend not in ("influxdb1", "influxdb2", "embedded"):
        raise fail("AIS986", f"unknown metrics backend {backend!r}",
                    "backend is influxdb1, influxdb2 or embedded")
    if backend != "embedded" and not settings.get("url"):
        raise fail("AIS986", f"the {backend} backend needs a URL", "set INFLUX_URL")
    if backend == "influxdb2" and not settings.get("bucket"):
        if not app_name:
            raise fail("AIS986", "InfluxDB 2 needs a bucket", "set INFLUX_BUCKET")
        settings["bucket"] = f"{re.sub(r'[^a-z0-9]+', '-', app_name.lower()).strip('-')}-bucket"
    return MetricsConfig(backend=backend, **{k: str(v) for k, v in settings.items()},
                         source=source)


def open_source(config: MetricsConfig, *, state_dir: Path | None = None,
                environ: Mapping[str, str] | None = None) -> MetricsSource:
    """The store ``config`` names, with secrets from the environment."""
    env = os.environ if environ is None else environ
    if config.backend == "influxdb1":
        return InfluxV1Source(config.url, config.database, config.username,
                              env.get("INFLUX_PASSWORD", ""))
    if config.backend == "influxdb2":
        token = env.get("INFLUX_TOKEN", "")
        if not token:
            raise fail("AIS986", "InfluxDB 2 needs a token", "set INFLUX_TOKEN")
        return InfluxV2Source(config.url, config.org, config.bucket, token)
    store = Path(config.store) if config.store else \
        Path(state_dir or ".aisprint") / "metrics.sqlite"
    return EmbeddedStore(store)
